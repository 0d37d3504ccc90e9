"""The simple model (paper sections 2 and 4, SPEC section 2).

Three separate MLPs on [observation, one-hot action] predict the reward (mean of a unit
Gaussian), whether the episode continues (a Bernoulli logit of NOT terminal) and every bit
of the next observation (independent Bernoulli logits). Each update trains them one step on
32 replayed transitions, then rolls the updated model out for 10 steps from those
transitions' observations; the Q-network learns from the 32 x 10 imagined transitions.

Beyond the paper, a sample model against an expectation model (Sutton and Barto, 8.5):
with next_obs "mean" the rollout's next observation is the vector of predicted bit
probabilities, not a sample of it; with target_samples M > 1 each TD target averages the
next value over M sampled next observations (an expected backup of the sample model), and
the rollout goes on from the first of them. An ensemble of simple models (ensemble_size,
agents/ensemble.py) and multi-step training (model_horizon, `sequence_loss`) are the other
settings beyond the paper; every default keeps the paper's agent.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn, dyna, ensemble, models, register
from agents.base import Agent
from agents.models import bernoulli_nll, gaussian_nll, with_action
from envs import checks


class SimpleModelParams(NamedTuple):
    reward: dict
    continuation: dict
    next_obs: dict


BIT_SAMPLING = ("sigmoid", "clipped_logit")
NEXT_OBS = ("sample", "mean")


class SimpleModel(NamedTuple):
    obs_size: int
    num_actions: int
    hidden: tuple
    bit_sampling: str = "sigmoid"  # or "clipped_logit", the public code's (fidelity group)
    next_obs: str = "sample"  # or "mean": the bit probabilities (an expectation model)
    target_samples: int = 1  # M sampled next observations per TD target
    # Imagined bits are drawn from sigmoid(logit / T): T > 1 adds noise to the dream so the
    # policy cannot exploit the model's confident errors (World Models); 1 is the paper's
    bit_temperature: float = 1.0

    def networks(self):
        return SimpleModelParams(
            dqn.mlp(1, self.hidden), dqn.mlp(1, self.hidden), dqn.mlp(self.obs_size, self.hidden)
        )

    def init(self, key) -> SimpleModelParams:
        example = jnp.zeros(self.obs_size + self.num_actions)
        keys = jax.random.split(key, 3)
        return SimpleModelParams(*(net.init(k, example) for net, k in zip(self.networks(), keys)))

    def predict(self, params: SimpleModelParams, obs, action):
        """(reward mean, continuation logit, next-observation logits) for (obs, action)."""
        x = with_action(obs, action, self.num_actions)
        reward, continuation, next_obs = (
            net.apply(p, x) for net, p in zip(self.networks(), params)
        )
        return reward[..., 0], continuation[..., 0], next_obs

    def losses(self, params: SimpleModelParams, obs, transitions):
        """Per transition: reward NLL + continuation NLL + next-observation NLL (summed over
        bits), the last masked to 0 on terminal transitions, whose next observation is not a
        successor; predicted from `obs` (the real one, or the model's own prediction in the
        multi-step loss). Also the next-observation logits."""
        reward, continuation, next_obs = self.predict(params, obs, transitions.action)
        continues = 1.0 - transitions.terminal.astype(jnp.float32)
        obs_nll = bernoulli_nll(next_obs, transitions.next_obs).sum(axis=-1)
        nll = (
            gaussian_nll(reward, transitions.reward)
            + bernoulli_nll(continuation, continues)
            + continues * obs_nll
        )
        return nll, next_obs

    def loss(self, params: SimpleModelParams, key, transitions) -> jax.Array:
        """The mean of `losses` over a batch of real transitions."""
        del key  # the simple model's loss is deterministic
        return jnp.mean(self.losses(params, transitions.obs, transitions)[0])

    def bit_probabilities(self, logits):
        """P(bit on) as the model samples it (the docstring of `transition`)."""
        return jax.nn.sigmoid(logits) if self.bit_sampling == "sigmoid" else logits

    def sample_bits(self, key, logits):
        return jax.random.bernoulli(key, self.bit_probabilities(logits))

    def sequence_loss(self, params: SimpleModelParams, key, data) -> jax.Array:
        """Multi-step model training (SLBO): `data` is (transitions, valid), each with axes
        (batch, k): k consecutive stored transitions and whether step j still belongs to
        the trajectory of step 0 (agents.replay.sample_sequences). Step 1 is predicted from
        the real observation, steps 2..k from the model's own SAMPLED bits of the step before
        (as a rollout feeds them; no gradient flows through a sample), each against the
        real stored step. The mean of `losses` over the valid steps: with k = 1 it is
        `loss`."""
        sequences, valid = data
        length = valid.shape[1]
        keys = jax.random.split(key, length)
        obs = sequences.obs[:, 0]
        total = jnp.zeros(())
        for j in range(length):
            step = jax.tree.map(lambda x: x[:, j], sequences)
            nll, logits = self.losses(params, obs, step)
            total = total + jnp.sum(valid[:, j] * nll)
            obs = self.sample_bits(keys[j], jax.lax.stop_gradient(logits))
        return total / jnp.maximum(valid.sum(), 1)

    def transition(self, params: SimpleModelParams, key, obs, action):
        """One imagined step: a Bernoulli sample of every next bit, the predicted mean reward
        and the predicted probability of continuing. A bit is on with probability
        sigmoid(logit / bit_temperature); with bit_sampling "clipped_logit", as the public
        code samples it (bernoulli(key, logit)), with probability clip(logit, 0, 1)."""
        reward, continuation, next_obs = self.predict(params, obs, action)
        if self.bit_temperature != 1.0:
            next_obs = next_obs / self.bit_temperature
        p = self.bit_probabilities(next_obs)
        if self.next_obs == "mean":
            return p.astype(jnp.float32), reward, jax.nn.sigmoid(continuation)
        if self.target_samples > 1:
            samples = jax.random.bernoulli(key, p, (self.target_samples, *p.shape))
            samples = jnp.moveaxis(samples, 0, -2)  # (batch, M, bits)
            return samples[..., 0, :], reward, jax.nn.sigmoid(continuation), samples
        return jax.random.bernoulli(key, p), reward, jax.nn.sigmoid(continuation)

    def start(self, params, key, obs):
        """Rollouts and acting use observations (as floats when rollouts carry means)."""
        del params, key
        return obs.astype(jnp.float32) if self.next_obs == "mean" else obs

    def learned_model(self) -> models.LearnedModel:
        def predict(params, key, transitions):
            del key
            reward, continuation, next_obs = self.predict(
                params, transitions.obs, transitions.action
            )
            return next_obs, reward, continuation

        return models.LearnedModel(
            init=self.init,
            loss=self.loss,
            start=self.start,
            transition=self.transition,
            predict=predict,
            features_size=self.obs_size,
            sequence_loss=self.sequence_loss,
        )


def simple_model(
    env,
    hidden: tuple,
    bit_sampling: str = "sigmoid",
    next_obs: str = "sample",
    target_samples: int = 1,
    bit_temperature: float = 1.0,
    ensemble_size: int = 1,
    ensemble_sampling: str = "step",
    disagreement_penalty: float = 0.0,
    exploration_bonus: float = 0.0,
    exploration_updates: int = 2500,
) -> models.LearnedModel:
    """The simple model, or an ensemble of `ensemble_size` of them (agents/ensemble.py)."""
    checks.one_of("agent.bit_sampling", bit_sampling, BIT_SAMPLING)
    checks.one_of("agent.next_obs", next_obs, NEXT_OBS)
    checks.positive_int("agent.target_samples", target_samples)
    checks.positive_number("agent.bit_temperature", bit_temperature)
    if bit_sampling == "clipped_logit" and bit_temperature != 1:
        raise ValueError(
            f"agent.bit_temperature must be 1 when agent.bit_sampling is clipped_logit (the "
            f"temperature scales a logit under a sigmoid); got {bit_temperature!r}."
        )
    if next_obs == "mean" and target_samples != 1:
        raise ValueError(
            f"agent.target_samples must be 1 when agent.next_obs is mean (the mean is not "
            f"sampled); got {target_samples!r}."
        )
    exploration = ensemble.Exploration(exploration_bonus, exploration_updates)
    ensemble.check(ensemble_size, ensemble_sampling, disagreement_penalty, exploration)
    member = SimpleModel(
        env.obs_size, env.num_actions, hidden, bit_sampling, next_obs, target_samples,
        float(bit_temperature),
    ).learned_model()
    if ensemble_size == 1:
        return member
    if (next_obs, target_samples) != ("sample", 1):
        # an ensemble step draws one member's sampled bits; expectations are not combined
        raise ValueError(
            f"agent.ensemble_size must be 1 when agent.next_obs is mean or agent.target_samples "
            f"is above 1 (the ensemble samples each step from one member); got {ensemble_size}."
        )
    return ensemble.ensemble(
        member, ensemble_size, ensemble_sampling, disagreement_penalty, exploration
    )


@register("simple_model", "simple model")
def simple_model_agent(
    env,
    *,
    bit_sampling: str,
    rollout_starts: str,
    next_obs: str,
    target_samples: int,
    bit_temperature: float,
    ensemble_size: int,
    ensemble_sampling: str,
    disagreement_penalty: float,
    exploration_bonus: float,
    exploration_updates: int,
    **settings,
) -> Agent:
    """Q learns only on the simple model's rollouts (agents.dyna.model_agent's settings).
    With rollout_starts "authors" the model trains on every rollout start, as the public
    script does with its one batch size (in the 1-step ablation, on 320). Beyond the paper,
    ensemble_size, model_horizon and rollout_schedule (defaults: the paper's agent), and the
    mpc agent (agents/mpc.py) is this agent with a decision-time `planner`."""
    checks.one_of("agent.rollout_starts", rollout_starts, dyna.ROLLOUT_STARTS)
    if rollout_starts == "authors":
        settings["model_batch_size"] = settings["num_rollouts"]
    make_model = functools.partial(
        simple_model,
        bit_sampling=bit_sampling,
        next_obs=next_obs,
        target_samples=target_samples,
        bit_temperature=bit_temperature,
        ensemble_size=ensemble_size,
        ensemble_sampling=ensemble_sampling,
        disagreement_penalty=disagreement_penalty,
        exploration_bonus=exploration_bonus,
        exploration_updates=exploration_updates,
    )
    return dyna.model_agent(env, make_model, **settings)
