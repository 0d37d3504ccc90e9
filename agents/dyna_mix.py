"""Dyna-mix, an agent beyond the paper between ER and the simple model: of the 320
transitions of each Q update, a fraction `real_fraction` are replayed real transitions and
the rest are simple-model rollouts, made exactly as the simple-model agent makes them.

Rollouts come whole, so the imagined share is rounded to the nearest whole number of
rollouts of `rollout_length` steps (half up, at most 320 // rollout_length of them) and the
real share is the rest, keeping the batch at exactly 320: with length 10, real_fraction 0.5
gives 16 rollouts + 160 real transitions, 0.3 gives round(22.4) = 22 rollouts + 100 real.

The ends are the two agents it mixes: real_fraction 1 keeps and trains no model and makes
ER's update; 0 makes the simple model's; with the same state and key, bit for bit.
"""

import math

import jax
import jax.numpy as jnp

from agents import dqn, models, register, replay
from agents.base import Agent, check_settings, real_batch, stored_example, unstore
from agents.models import Q_BATCH_SIZE, ModelState
from agents.simple_model import simple_model_agent


def split_budget(real_fraction: float, rollout_length: int) -> tuple[int, int]:
    """(real transitions, imagined rollouts) of one Q update."""
    num_rollouts = min(
        math.floor((1 - real_fraction) * Q_BATCH_SIZE / rollout_length + 0.5),
        Q_BATCH_SIZE // rollout_length,
    )
    return Q_BATCH_SIZE - num_rollouts * rollout_length, num_rollouts


@register("dyna_mix")
def make_dyna_mix(
    env,
    *,
    real_fraction: float = 0.5,
    rollout_length: int = 10,
    model_batch_size: int = 32,
    model_step_size: float = models.MODEL_STEP_SIZE,
    capacity: int = 100_000,
    hidden: tuple = dqn.HIDDEN,
    discount: float = dqn.DISCOUNT,
) -> Agent:
    if isinstance(real_fraction, bool) or not 0 <= real_fraction <= 1:
        raise ValueError(
            f"agent.real_fraction must be a number from 0 to 1; got {real_fraction!r}."
        )
    check_settings(
        rollout_length=rollout_length,
        model_batch_size=model_batch_size,
        model_step_size=model_step_size,
        capacity=capacity,
        hidden=hidden,
    )
    if not 1 <= rollout_length <= Q_BATCH_SIZE:
        raise ValueError(
            f"agent.rollout_length must be from 1 to {Q_BATCH_SIZE}; got {rollout_length!r}."
        )
    num_real, num_rollouts = split_budget(real_fraction, rollout_length)
    simple = simple_model_agent(
        env,
        rollout_length=rollout_length,
        num_rollouts=num_rollouts,
        model_batch_size=model_batch_size,
        model_step_size=model_step_size,
        capacity=capacity,
        hidden=hidden,
        discount=discount,
    )
    q = simple.q

    def init(key, hyper):
        if num_rollouts == 0:  # ER: no model to keep
            return ModelState(
                q.init(key, jnp.zeros(env.obs_size), hyper),
                replay.init(stored_example(env.obs_size), capacity),
                None,
            )
        return simple.init(key, hyper)

    def act(state, obs, key, greedy):
        if num_rollouts == 0:
            return q.act(state.learner, obs, key, greedy)
        return simple.act(state, obs, key, greedy)

    def update(state, key):
        # A part that is absent consumes no key, so the ends replay ER and the simple model.
        if num_rollouts == 0:
            real_key, model_key = key, None
        elif num_real == 0:
            real_key, model_key = None, key
        else:
            real_key, model_key = jax.random.split(key)

        parts, metrics = [], {}
        if num_real:
            sampled = unstore(replay.sample(state.replay, real_key, num_real), env.obs_size)
            parts.append(real_batch(sampled))
        if num_rollouts:
            trained, imagined, metrics["model_loss"] = simple.imagine(state, model_key)
            state = state._replace(model=trained)
            parts.append(imagined)
        batch = jax.tree.map(lambda *xs: jnp.concatenate(xs), *parts)
        learner, metrics["td_loss"] = q.learn(state.learner, batch)
        return state._replace(learner=learner), metrics

    return Agent(init, act, simple.observe, update, simple.predict if num_rollouts else None)
