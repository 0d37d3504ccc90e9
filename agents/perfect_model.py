"""The perfect model (paper section 4, SPEC section 2): "the ground truth environment
dynamics instead of a learned model, but ... otherwise the same as the simple-model agent".

The replay buffer keeps the environment STATES real actions were taken in; each update rolls
32 of them forward 10 steps with the true `env.step` (its random events included). The
Q-network sees `env.observe(state)`; the TD target uses the true terminal flag, and the
rollout's product of continuations gives every step after a true terminal weight 0.
"""

import jax
import jax.numpy as jnp

from agents import dqn, dyna, register, replay
from agents.base import Agent
from agents.rollout import rollout


def true_transition(env):
    """The rollout's transition function for a batch of environment states."""

    def transition(key, states, actions):
        keys = jax.random.split(key, actions.shape[0])
        states, _, reward, terminal = jax.vmap(env.step)(keys, states, actions)
        return states, reward, 1.0 - terminal.astype(jnp.float32)

    return transition


def true_rollouts(env, q: dqn.DQN, rollout_length: int, num_rollouts: int) -> dyna.Source:
    """`num_rollouts` replayed environment states rolled forward `rollout_length` steps."""
    observe = jax.vmap(env.observe)

    def draw(state, key):
        sample_key, rollout_key = jax.random.split(key)
        start = replay.sample(state.replay, sample_key, num_rollouts)
        batch = rollout(
            rollout_key,
            q,
            state.learner,
            start,
            observe,
            true_transition(env),
            rollout_length,
            env.episodic,
        )
        return state, batch, {}

    return dyna.Source(rollout_length * num_rollouts, draw)


def environment_states(env) -> replay.Memory:
    """The buffer keeps the state each real action was taken in."""
    shapes = jax.eval_shape(env.reset, jax.random.key(0))[0]
    example = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    return replay.Memory(example, lambda transition: transition.state)


@register("perfect_model")
def make_perfect_model(
    env, *, rollout_length: int, num_rollouts: int, capacity: int, hidden, discount: float
) -> Agent:
    dyna.check_rollouts(rollout_length, num_rollouts)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    rollouts = true_rollouts(env, q, rollout_length, num_rollouts)
    return dyna.agent(env, q, [rollouts], capacity=capacity, memory=environment_states(env))
