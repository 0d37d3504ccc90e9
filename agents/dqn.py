"""The one DQN learner that every agent trains (paper section 4, SPEC section 2).

"All tested approaches use DQN for behavior learning, but vary in how training examples for
DQN are generated": the network, loss, optimizer, target copy, policies and the size of the
batch live here, once; where the batch comes from is agents/dyna.py's business.
"""

from typing import NamedTuple, Optional, Sequence

import haiku as hk
import jax
import jax.numpy as jnp
import optax

from agents import sampling
from envs import checks

DISCOUNT = 0.9  # the paper's, for every Q-network; the agents read theirs from their YAML
WEIGHT_DECAY = 1e-6
Q_BATCH_SIZE = 320  # transitions per Q update, real or imagined: the paper's controlled budget


class Hyper(NamedTuple):
    """The tuned hyperparameters. Traced arrays, so a grid search can vmap over them."""

    step_size: jax.Array
    temperature: jax.Array


class Batch(NamedTuple):
    """Transitions the Q-network trains on, real or imagined."""

    obs: jax.Array  # network input: an observation (bits) or a latent sample
    action: jax.Array
    reward: jax.Array
    continuation: jax.Array  # 1 - terminal (real), or a predicted probability (models)
    next_obs: jax.Array  # or (batch, M, ...): M sampled next observations, averaged in the target
    weight: jax.Array  # rollout weight times importance weight; 1 for uniform real transitions
    # The TD target when the source computes it (lambda-returns over a rollout: agents/dyna.py
    # Returns); None: the one-step target r + discount c max_a Q_target(next_obs, a)
    target: Optional[jax.Array] = None


def real_batch(transitions) -> Batch:
    """Real transitions (an agents.base.Transition batch) as Q-training data: continuation
    1 - terminal, weight 1."""
    continuation = 1.0 - transitions.terminal.astype(jnp.float32)
    return Batch(
        transitions.obs,
        transitions.action,
        transitions.reward,
        continuation,
        transitions.next_obs,
        jnp.ones_like(continuation),
    )


class Learner(NamedTuple):
    params: hk.Params
    target_params: hk.Params
    opt_state: optax.OptState
    hyper: Hyper


def mlp(output_size: int, hidden: Sequence[int]) -> hk.Transformed:
    """An ELU MLP on float features; bits are turned into floats only here."""

    def forward(x):
        return hk.nets.MLP([*hidden, output_size], activation=jax.nn.elu)(x.astype(jnp.float32))

    return hk.without_apply_rng(hk.transform(forward))


def adam(step_size) -> optax.GradientTransformation:
    """Adam (b1 .9, b2 .99, eps 1e-5 outside the root) with decoupled weight decay that is
    not scaled by the step size: x <- x - lr * m_hat / (sqrt(v_hat) + eps) - 1e-6 * x.
    (optax.adamw multiplies the decay by lr, a different optimizer.)"""
    return optax.chain(
        optax.scale_by_adam(b1=0.9, b2=0.99, eps=1e-5),
        optax.scale(step_size),
        optax.add_decayed_weights(WEIGHT_DECAY),
        optax.scale(-1.0),
    )


def adam_step(params, opt_state, grads, step_size):
    updates, opt_state = adam(step_size).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


class DQN(NamedTuple):
    """Static parts of the learner: the Q-network and the discount."""

    network: hk.Transformed
    discount: float = DISCOUNT

    def init(self, key: jax.Array, example_input: jax.Array, hyper: Hyper) -> Learner:
        params = self.network.init(key, example_input)
        opt_state = adam(hyper.step_size).init(params)
        return Learner(params, params, opt_state, hyper)

    def q_values(self, learner: Learner, obs: jax.Array) -> jax.Array:
        return self.network.apply(learner.params, obs)

    def act(self, learner: Learner, obs: jax.Array, key: jax.Array, greedy: bool) -> jax.Array:
        """Softmax over Q / temperature when behaving; argmax when evaluated."""
        q = self.q_values(learner, obs)
        if greedy:
            return jnp.argmax(q, axis=-1).astype(jnp.int32)
        return sampling.categorical(key, q / learner.hyper.temperature).astype(jnp.int32)

    def loss_and_errors(
        self, params: hk.Params, target_params: hk.Params, batch: Batch
    ) -> tuple[jax.Array, jax.Array]:
        """Weighted mean squared TD error (no Huber), and each transition's TD error; the
        target is one-step unless the batch brings its own (`Batch.target`). A `next_obs` with
        one more axis than `obs` holds M sampled next observations per transition: the
        target's next value is then their mean (an expected backup)."""
        q = self.network.apply(params, batch.obs)
        q_taken = jnp.take_along_axis(q, batch.action[:, None], axis=-1)[:, 0]
        target = batch.target
        if target is None:
            next_value = self.next_value(target_params, batch)
            target = batch.reward + self.discount * batch.continuation * next_value
        td_error = jax.lax.stop_gradient(target) - q_taken
        return jnp.mean(batch.weight * td_error**2), jax.lax.stop_gradient(td_error)

    def next_value(self, target_params: hk.Params, batch: Batch) -> jax.Array:
        """max_a Q_target(next_obs, a) of each transition (with M sampled next observations,
        their mean)."""
        next_value = self.network.apply(target_params, batch.next_obs).max(axis=-1)
        if batch.next_obs.ndim > batch.obs.ndim:
            next_value = next_value.mean(axis=1)
        return next_value

    def loss(self, params: hk.Params, target_params: hk.Params, batch: Batch) -> jax.Array:
        return self.loss_and_errors(params, target_params, batch)[0]

    def learn(self, learner: Learner, batch: Batch) -> tuple[Learner, jax.Array, jax.Array]:
        """One Adam step on the batch: (learner, loss, each transition's TD error before the
        step)."""
        (loss, td_error), grads = jax.value_and_grad(self.loss_and_errors, has_aux=True)(
            learner.params, learner.target_params, batch
        )
        params, opt_state = adam_step(
            learner.params, learner.opt_state, grads, learner.hyper.step_size
        )
        return learner._replace(params=params, opt_state=opt_state), loss, td_error


def q_learner(num_actions: int, hidden: Sequence[int], discount: float) -> DQN:
    """Every agent's learner: Q-values of every action from an ELU MLP of `hidden` widths.
    Its settings are the agent's (`agent.hidden`, `agent.discount`), so they are checked here."""
    checks.positive_ints("agent.hidden", hidden)
    checks.number_in("agent.discount", discount, 0, 1)
    return DQN(mlp(num_actions, tuple(hidden)), discount)


def updates_done(learner: Learner) -> jax.Array:
    """How many Q updates the learner has made (Adam's step count)."""
    return learner.opt_state[0].count


def sync_target(learner: Learner, step: jax.Array, frequency: int, branch=jax.lax.cond) -> Learner:
    """The target network's schedule, online and offline: after the `step`-th step (counted
    from 1), a copy of the Q-network when `step` is a multiple of `frequency`. `step` stays
    unbatched under vmap, so with `lax.cond` this is a real branch, not a select of every
    parameter (`branch` may be a select with cond's signature: experiments/online.py)."""
    return branch(
        step % frequency == 0,
        lambda learner: learner._replace(target_params=learner.params),
        lambda learner: learner,
        learner,
    )
