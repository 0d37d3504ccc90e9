"""ER-DQN: the Q-network trains on 320 transitions replayed from the buffer."""

from typing import NamedTuple

import jax.numpy as jnp

from agents import dqn, register, replay
from agents.base import Agent, check_settings, real_batch, store, stored_example, unstore
from agents.replay import Replay


class ERState(NamedTuple):
    learner: dqn.Learner
    replay: Replay


@register("er")
def make_er(
    env,
    *,
    batch_size: int = 320,
    capacity: int = 100_000,
    hidden: tuple = dqn.HIDDEN,
    discount: float = dqn.DISCOUNT,
) -> Agent:
    check_settings(batch_size=batch_size, capacity=capacity, hidden=hidden)
    q = dqn.DQN(dqn.mlp(env.num_actions, tuple(hidden)), discount)

    def init(key, hyper):
        return ERState(
            q.init(key, jnp.zeros(env.obs_size), hyper),
            replay.init(stored_example(env.obs_size), capacity),
        )

    def act(state, obs, key, greedy):
        return q.act(state.learner, obs, key, greedy)

    def observe(state, transition):
        return state._replace(replay=replay.add(state.replay, store(transition)))

    def update(state, key):
        sampled = unstore(replay.sample(state.replay, key, batch_size), env.obs_size)
        learner, loss = q.learn(state.learner, real_batch(sampled))
        return state._replace(learner=learner), {"td_loss": loss}

    return Agent(init, act, observe, update)
