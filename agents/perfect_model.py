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

from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from agents import dqn, dyna, priority, register, replay
from agents.base import Agent
from agents.rollout import rollout
from envs import checks


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
    search_control: str = "policy",
    prioritized: Optional[priority.Prioritized] = None,
) -> dyna.Source:
    """`num_rollouts` replayed environment states rolled forward `rollout_length` steps. The
    starts are drawn with the first key of split(key), as ER draws its batch with its key;
    by priority, as agents.dyna.imagined draws them, when `prioritized` is active."""
    checks.one_of("agent.search_control", search_control, dyna.SEARCH_CONTROL)
    observe = jax.vmap(env.observe)
    prioritize = priority.active(prioritized)

    def draw(state, key):
        sample_key, rollout_key = jax.random.split(key)
        state, index, weight = dyna.draw_slots(state, sample_key, num_rollouts, prioritized)
        start = replay.take(state.replay, index)
        batch = rollout(
            rollout_key,
            q,
            state.learner,
            start.state,
            observe,
            true_transition(env),
            rollout_length,
            env.episodic,
            first_action=start.action if search_control == "replayed" else None,
        )
        if prioritize:
            batch = batch._replace(weight=batch.weight * jnp.tile(weight, rollout_length))
        return state, batch, {}

    return dyna.Source(
        rollout_length * num_rollouts,
        draw,
        draws=num_rollouts if prioritize else 0,
        after_learn=dyna.reprioritize(prioritized, dyna.first_step_errors(num_rollouts)),
    )


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
    prioritized = priority.settings(priority_exponent, importance_exponent)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    rollouts = true_rollouts(env, q, rollout_length, num_rollouts, search_control, prioritized)
    return dyna.agent(env, q, [rollouts], capacity=capacity, memory=environment_states(env))
