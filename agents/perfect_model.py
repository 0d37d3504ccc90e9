"""The perfect model (paper section 4, SPEC section 2): "the ground truth environment
dynamics instead of a learned model, but ... otherwise the same as the simple-model agent".

The replay buffer keeps the environment STATES real actions were taken in, and the actions;
each update rolls 32 of them forward 10 steps with the true `env.step` (its random events
included), the first action chosen by the current policy or (search_control "replayed") the
one taken there, so that 1-step rollouts of replayed actions on a deterministic environment
are experience replay. The
Q-network sees `env.observe(state)`; the TD target uses the true terminal flag, and the
rollout's product of continuations gives every step after a true terminal weight 0.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn, dyna, priority, register, replay
from agents.base import Agent
from agents.rollout import rollout


def true_transition(env):
    """The rollout's transition function for a batch of environment states."""

    def transition(key, states, actions):
        keys = jax.random.split(key, actions.shape[0])
        states, _, reward, terminal = jax.vmap(env.step)(keys, states, actions)
        return states, reward, 1.0 - terminal.astype(jnp.float32)

    return transition


def true_rollouts(
    env,
    q: dqn.DQN,
    rollout_length: int,
    num_rollouts: int,
    search: dyna.SearchControl = dyna.SearchControl(),
) -> dyna.Source:
    """`num_rollouts` replayed environment states rolled forward `rollout_length` steps. The
    starts are drawn with the first key of split(key), as ER draws its batch with its key
    (uniformly, or by priority from a prioritized buffer, as agents.dyna.imagined draws
    them)."""
    observe = jax.vmap(env.observe)

    def draw(state, key, buffer):
        sample_key, rollout_key = jax.random.split(key)
        starts = buffer.sample(state.replay, sample_key, num_rollouts)
        batch = rollout(
            rollout_key,
            q,
            state.learner,
            starts.items.state,
            observe,
            true_transition(env),
            rollout_length,
            env.episodic,
            first_action=search.first_action(starts.items),
        )
        return state, dyna.part_from(starts, batch, {})

    return dyna.Source(rollout_length * num_rollouts, draw)


class Kept(NamedTuple):
    state: Any  # the environment state a real action was taken in
    action: jax.Array  # that action (replayed search control starts with it)


def environment_states(env) -> replay.Memory:
    """The buffer keeps the state each real action was taken in, and the action."""
    shapes = jax.eval_shape(env.reset, jax.random.key(0))[0]
    example = Kept(jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes), jnp.int32(0))
    return replay.Memory(
        example, lambda transition: Kept(transition.state, transition.action.astype(jnp.int32))
    )


@register("perfect_model", "perfect model")
def make_perfect_model(
    env,
    *,
    rollout_length: int,
    num_rollouts: int,
    capacity: int,
    hidden,
    discount: float,
    search_control: str,
    priority_exponent: float,
    importance_exponent: float,
) -> Agent:
    dyna.check_rollouts(rollout_length, num_rollouts)
    buffer = priority.buffer(priority_exponent, importance_exponent)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    search = dyna.search_control(search_control)
    rollouts = true_rollouts(env, q, rollout_length, num_rollouts, search)
    memory = environment_states(env)
    return dyna.agent(env, q, [rollouts], capacity=capacity, memory=memory, buffer=buffer)
