"""An implicit, value-equivalent model (MuZero's, Schrittwieser et al. 2020; beyond the paper,
issue 39): the kind of model the paper's discussion warns about, trained only on what the
task needs (rewards, continuations and values), never to predict observations or latents.

Three functions, as in MuZero:

- representation h(obs) -> z, a latent of `latent_size` features, RMS-normalized as the
  DeepMDP's (agents/deepmdp.py `normalize`: features of scale 1 for the Q-network);
- dynamics g(z, a) -> (z', reward, continuation logit): a next-latent network and reward and
  continuation heads on (z, a), each its own MLP like the other models' heads;
- prediction f(z) -> value.

Training unrolls the model k steps (agent.model_horizon, default 5) from the representation
of a stored run's first observation, feeding the run's stored actions: z_0 = h(o_0),
z_{t+1} = g(z_t, a_t). Per valid step t of the run (agents.dyna.trajectory_mask), the
reward head is scored against r_t (a unit-Gaussian NLL) and the continuation head against
1 - terminal_t (Bernoulli NLL); the value f(z_t) of every latent z_0 .. z_k is scored
(unit-Gaussian NLL) against the return from the real observation it stands for:

    Y_t = r_t + g r_{t+1} + ... + g^(L-t) r_L + g^(L+1-t) sg(f(h(o'_L))) (1 - terminal_L),

L the run's last valid step, g the agent's discount: an n-step return of observed rewards to
the end of the stored run (n = L + 1 - t), bootstrapped with the stop-gradient value of the
later REAL observation o'_L under the current parameters (no target network). The latent
z_{L+1} after the last valid step gets Y = sg(f(h(o'_L))), masked when o'_L is terminal.
All weights 1; the mean over valid transitions. With k = 1 (one stored transition, as the
offline grid's dataset holds) this is reward + continuation + a one-step TD value target on
z_0 + the value of g(z_0, a_0) against sg(f(h(o'))): the last term alone trains the dynamics.

What f learns is therefore the value of the policy that collected the replayed data (n-step
returns of the buffer's actions), MuZero's value target without its policy head: the agents
keep one DQN learner, whose Q reads latents, for the policy (agents/search.py uses its
softmax as the search's prior). Nothing ties z to the observation beyond what rewards,
continuations and these values demand: a model that collapses two states with the same
rewards and values to one latent loses nothing on its loss, which is the paper's concern.

Two agents share the model and its learning (agents.dyna.model_agent: 32 runs per model
step, Q on 10 x 32 latent rollouts, as the other model agents): `implicit_model` acts on
Q(h(obs)) as the latent agents do, `muzero` acts and evaluates by Gumbel MuZero's tree
search through the model (agents/search.py).
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn, dyna, models, register, search
from agents.base import Agent
from agents.deepmdp import normalize
from agents.models import bernoulli_nll, gaussian_nll, with_action
from envs import checks


class ImplicitParams(NamedTuple):
    representation: dict  # h
    dynamics: dict  # g's next latent
    reward: dict  # g's reward head
    continuation: dict  # g's continuation head
    value: dict  # f


def value_targets(rewards, terminal, valid, bootstrap, discount: float):
    """The value targets Y_0 .. Y_k of a batch of runs (axes (batch, k)) and their masks
    (batch, k + 1), from each step's reward, terminal flag, validity and `bootstrap` value
    of its real next observation (already stop-gradient and zeroed on terminals). Y_{t+1}
    continues the return from step t + 1 when that step is valid, else it is step t's
    bootstrap; Y_t = r_t + discount Y_{t+1}."""
    later = bootstrap[:, -1]  # Y_k
    targets = [later]
    current = rewards[:, -1] + discount * later  # Y_{k-1}, if step k - 1 is valid
    for t in reversed(range(rewards.shape[1] - 1)):
        later = jnp.where(valid[:, t + 1] > 0, current, bootstrap[:, t])  # Y_{t+1}
        targets.insert(0, later)
        current = rewards[:, t] + discount * later
    targets.insert(0, current)
    continues = 1.0 - terminal.astype(jnp.float32)
    masks = jnp.concatenate([valid[:, :1], valid * continues], axis=1)
    return jnp.stack(targets, axis=1), masks


class ImplicitModel(NamedTuple):
    obs_size: int
    num_actions: int
    hidden: tuple
    latent_size: int
    discount: float  # of the value targets: the agent's

    def networks(self) -> ImplicitParams:
        mlp = functools.partial(dqn.mlp, hidden=self.hidden)
        return ImplicitParams(mlp(self.latent_size), mlp(self.latent_size), mlp(1), mlp(1), mlp(1))

    def init(self, key) -> ImplicitParams:
        z = jnp.zeros(self.latent_size)
        z_action = jnp.zeros(self.latent_size + self.num_actions)
        examples = ImplicitParams(jnp.zeros(self.obs_size), z_action, z_action, z_action, z)
        keys = jax.random.split(key, len(examples))
        return ImplicitParams(
            *(net.init(k, x) for net, k, x in zip(self.networks(), keys, examples))
        )

    def represent(self, params: ImplicitParams, obs):
        """h(obs): the latent of an observation."""
        return normalize(self.networks().representation.apply(params.representation, obs))

    def dynamics(self, params: ImplicitParams, z, action):
        """g(z, a): (next latent, reward mean, continuation logit)."""
        x = with_action(z, action, self.num_actions)
        nets = self.networks()
        return (
            normalize(nets.dynamics.apply(params.dynamics, x)),
            nets.reward.apply(params.reward, x)[..., 0],
            nets.continuation.apply(params.continuation, x)[..., 0],
        )

    def value(self, params: ImplicitParams, z):
        """f(z): the value of a latent."""
        return self.networks().value.apply(params.value, z)[..., 0]

    def start(self, params: ImplicitParams, key, obs):
        del key  # deterministic
        return self.represent(params, obs)

    def sequence_loss(self, params: ImplicitParams, key, data) -> jax.Array:
        """The k-step loss of the module docstring; `data` is (transitions, valid) with axes
        (batch, k) (agents.replay.sample_sequences, agents.dyna.trajectory_mask). The only
        use of an observation after o_0 is the bootstrap value of the last valid o'."""
        del key
        runs, valid = data
        continues = 1.0 - runs.terminal.astype(jnp.float32)
        bootstrap = jax.lax.stop_gradient(
            self.value(params, self.represent(params, runs.next_obs)) * continues
        )
        targets, value_masks = value_targets(
            runs.reward, runs.terminal, valid, bootstrap, self.discount
        )
        z = self.represent(params, runs.obs[:, 0])
        total = value_masks[:, 0] * gaussian_nll(self.value(params, z), targets[:, 0])
        for t in range(valid.shape[1]):
            z, reward, continuation = self.dynamics(params, z, runs.action[:, t])
            step = (
                gaussian_nll(reward, runs.reward[:, t])
                + bernoulli_nll(continuation, continues[:, t])
            )
            value = gaussian_nll(self.value(params, z), targets[:, t + 1])
            total = total + valid[:, t] * step + value_masks[:, t + 1] * value
        return jnp.sum(total) / jnp.maximum(valid.sum(), 1)

    def loss(self, params: ImplicitParams, key, transitions) -> jax.Array:
        """`sequence_loss` on runs of one transition (k = 1)."""
        runs = jax.tree.map(lambda x: x[:, None], transitions)
        return self.sequence_loss(params, key, (runs, jnp.ones_like(runs.reward)))

    def transition(self, params: ImplicitParams, key, z, action):
        """One imagined step in latent space: the next latent, the predicted mean reward and
        the predicted probability of continuing."""
        del key
        z_next, reward, continuation = self.dynamics(params, z, action)
        return z_next, reward, jax.nn.sigmoid(continuation)

    def predict(self, params: ImplicitParams, key, transitions):
        """For the model metrics: no next observation (none is modelled), the reward and the
        continuation logit of each real transition."""
        _, reward, continuation = self.dynamics(
            params, self.start(params, key, transitions.obs), transitions.action
        )
        return None, reward, continuation

    def learned_model(self) -> models.LearnedModel:
        return models.LearnedModel(
            self.init,
            self.loss,
            self.start,
            self.transition,
            self.predict,
            self.latent_size,
            sequence_loss=self.sequence_loss,
        )


def implicit_model(env, hidden: tuple, *, latent_size: int, discount: float):
    model = ImplicitModel(env.obs_size, env.num_actions, hidden, latent_size, discount)
    return model.learned_model()


@register("implicit_model", "implicit model")
def make_implicit(env, *, latent_size: int, **settings) -> Agent:
    """Q learns only on the implicit model's latent rollouts (agents.dyna.model_agent's
    settings; the model's value targets use the agent's discount)."""
    checks.positive_int("agent.latent_size", latent_size)
    make_model = functools.partial(
        implicit_model, latent_size=latent_size, discount=settings["discount"]
    )
    return dyna.model_agent(env, make_model, **settings)


@register("muzero", "implicit + MCTS")
def make_muzero(env, *, num_simulations: int, **settings) -> Agent:
    """The implicit-model agent (all its settings), acting and evaluated by Gumbel MuZero's
    search through its model (agents/search.py)."""
    checks.positive_int("agent.num_simulations", num_simulations)
    return make_implicit(env, planner=search.gumbel_muzero(num_simulations), **settings)
