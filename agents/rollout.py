"""Imagined experience: the rollouts every model-based agent feeds the DQN learner.

One function serves the simple model, the latent models and the perfect model; they differ
only in what a rollout state is (an observation, a latent sample, an environment state) and
in the transition function that advances it.
"""

from typing import Any, Callable

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
) -> dqn.Batch:
    """Roll `length` steps from a batch of start states, acting softmax on the current Q.

    `features(x)` is the Q-network input of a batch of rollout states; `transition(key, x,
    action) -> (x_next, reward, continuation)` advances them. In an episodic environment each
    transition is weighted by the product of the continuation probabilities before it (so a
    true terminal zeroes the rest of a perfect-model rollout); in a continuing one by 1.
    Returns length x batch transitions, flattened.
    """

    def step(carry, key):
        x, x_features, weight = carry
        act_key, model_key = jax.random.split(key)
        action = q.act(learner, x_features, act_key, greedy=False)
        x_next, reward, continuation = transition(model_key, x, action)
        next_features = features(x_next)
        batch = dqn.Batch(x_features, action, reward, continuation, next_features, weight)
        if episodic:
            weight = weight * continuation
        return (x_next, next_features, weight), batch

    start_features = features(start)
    weight = jnp.ones(start_features.shape[0], jnp.float32)
    _, batches = jax.lax.scan(step, (start, start_features, weight), jax.random.split(key, length))
    return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), batches)
