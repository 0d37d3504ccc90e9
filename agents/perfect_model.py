"""The perfect model (paper section 4, SPEC section 2): the simple-model agent with the true
environment in place of a learned model.

The replay buffer keeps the environment STATES real actions were taken in; each update rolls
32 of them forward 10 steps with the true `env.step` (its random events included). The
Q-network sees `env.observe(state)`; the TD target uses the true terminal flag, and the
rollout's product of continuations gives every step after a true terminal weight 0.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn, models, register, replay
from agents.base import Agent, check_settings
from agents.replay import Replay
from agents.rollout import rollout


class PerfectModelState(NamedTuple):
    learner: dqn.Learner
    replay: Replay  # environment states


def true_transition(env):
    """The rollout's transition function for a batch of environment states."""

    def transition(key, states, actions):
        keys = jax.random.split(key, actions.shape[0])
        states, _, reward, terminal = jax.vmap(env.step)(keys, states, actions)
        return states, reward, 1.0 - terminal.astype(jnp.float32)

    return transition


@register("perfect_model")
def make_perfect_model(
    env,
    *,
    rollout_length: int = 10,
    num_rollouts: int = 32,
    capacity: int = 100_000,
    hidden: tuple = dqn.HIDDEN,
    discount: float = dqn.DISCOUNT,
) -> Agent:
    check_settings(
        rollout_length=rollout_length, num_rollouts=num_rollouts, capacity=capacity, hidden=hidden
    )
    models.check_rollout_budget(rollout_length, num_rollouts)
    q = dqn.DQN(dqn.mlp(env.num_actions, tuple(hidden)), discount)
    observe_states = jax.vmap(env.observe)

    def init(key, hyper):
        example = jax.tree.map(
            lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(env.reset, key)[0]
        )
        return PerfectModelState(
            q.init(key, jnp.zeros(env.obs_size), hyper), replay.init(example, capacity)
        )

    def act(state, obs, key, greedy):
        return q.act(state.learner, obs, key, greedy)

    def observe(state, transition):
        return state._replace(replay=replay.add(state.replay, transition.state))

    def update(state, key):
        sample_key, rollout_key = jax.random.split(key)
        start = replay.sample(state.replay, sample_key, num_rollouts)
        batch = rollout(
            rollout_key,
            q,
            state.learner,
            start,
            observe_states,
            true_transition(env),
            rollout_length,
            env.episodic,
        )
        learner, loss = q.learn(state.learner, batch)
        return state._replace(learner=learner), {"td_loss": loss}

    return Agent(init, act, observe, update)
