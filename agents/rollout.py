"""Imagined experience: the rollouts every model-based agent feeds the DQN learner.

One function serves the simple model, the latent models and the perfect model; they differ
only in what a rollout state is (an observation, a latent sample, an environment state) and
in the transition function that advances it.
"""

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp

from agents import dqn


def rollout(
    key: jax.Array,
    q: dqn.DQN,
    learner: dqn.Learner,
    start: Any,
    features: Callable[[Any], jax.Array],
    transition: Callable[[jax.Array, Any, jax.Array], tuple[Any, jax.Array, jax.Array]],
    length: int,
    episodic: bool,
    first_action: Optional[jax.Array] = None,
    restarts: Optional[tuple[jax.Array, Any]] = None,
) -> dqn.Batch:
    """Roll `length` steps from a batch of start states, acting softmax on the current Q.

    `features(x)` is the Q-network input of a batch of rollout states; `transition(key, x,
    action) -> (x_next, reward, continuation)` advances them. In an episodic environment each
    transition is weighted by the product of the continuation probabilities before it (so a
    true terminal zeroes the rest of a perfect-model rollout); in a continuing one by 1.
    Returns length x batch transitions, flattened (step 0's batch first).

    Search control: the first action is the policy's, or with `first_action` given (Dyna-Q's
    "an action previously taken in it"), that action for each start; later steps act on Q.
    A transition may also return a fourth value, the Q-target inputs of several sampled
    next states (batch, M, features): the DQN target then averages over them (an expected
    backup) while the rollout goes on from `x_next`.

    `restarts` (branched rollouts of a scheduled length, agents.dyna.rollout_schedule):
    (flags of shape (length,), states of shape (length, batch, ...)); where step j's flag is
    set, every row starts afresh from states[j] with weight 1 before acting (flag 0 must be
    set: states[0] replaces `start`).
    """

    def step(carry, inputs):
        x, x_features, weight = carry
        if restarts is None:
            key, first = inputs
        else:
            key, first, restart, fresh = inputs
            x = jax.tree.map(lambda new, old: jnp.where(restart, new, old), fresh, x)
            x_features = jnp.where(restart, features(fresh), x_features)
            weight = jnp.where(restart, 1.0, weight)
        act_key, model_key = jax.random.split(key)
        action = q.act(learner, x_features, act_key, greedy=False)
        if first_action is not None:
            action = jnp.where(first, first_action, action)
        x_next, reward, continuation, *target = transition(model_key, x, action)
        next_features = features(x_next)
        target_features = target[0] if target else next_features
        batch = dqn.Batch(x_features, action, reward, continuation, target_features, weight)
        if episodic:
            weight = weight * continuation
        return (x_next, next_features, weight), batch

    start_features = features(start)
    weight = jnp.ones(start_features.shape[0], jnp.float32)
    inputs = (jax.random.split(key, length), jnp.arange(length) == 0)
    if restarts is not None:
        inputs = (*inputs, *restarts)
    _, batches = jax.lax.scan(step, (start, start_features, weight), inputs)
    return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), batches)


def lambda_returns(
    reward: jax.Array,
    continuation: jax.Array,
    next_value: jax.Array,
    discount: float,
    lam: float,
    length: int,
) -> jax.Array:
    """TD(lambda) targets along rollouts (Dreamer's lambda-returns in imagination), for
    `rollout`'s step-major transitions of `length` steps:

        G_t = r_t + discount c_t ((1 - lam) v_{t+1} + lam G_{t+1}),   G_{H-1} = r + discount c v_H

    with v_{t+1} = `next_value` of step t (max_a Q_target of its next state). lam = 0 is the
    one-step target; lam = 1 the rollout's discounted return bootstrapped at its end. The max
    makes it Peng's Q(lambda): traces are not cut at exploratory actions."""
    shape = (length, -1)
    r, c, v = (x.reshape(shape) for x in (reward, continuation, next_value))

    def back(later, step):
        r, c, v = step
        target = r + discount * c * ((1 - lam) * v + lam * later)
        return target, target

    _, targets = jax.lax.scan(back, v[-1], (r, c, v), reverse=True)
    return targets.reshape(-1)
