"""Dyna-mix, an agent beyond the paper between ER and the simple model: of the 320
transitions of each Q update, a fraction `real_fraction` are replayed real transitions and
the rest are simple-model rollouts, made exactly as the simple-model agent makes them.

Rollouts come whole, so the imagined share is rounded to the nearest whole number of
rollouts of `rollout_length` steps (half up, at most 320 // rollout_length of them) and the
real share is the rest, keeping the batch at exactly 320: with length 10, real_fraction 0.5
gives 16 rollouts + 160 real transitions, 0.3 gives round(22.4) = 22 rollouts + 100 real.

With `rollout_schedule` (MBPO's branched rollouts of a growing length, agents.dyna) its
imagined share keeps its size: rollout_length is the schedule's max_length.

Its ends are the two agents it mixes: agents.dyna drops an empty part, so real_fraction 1
keeps no model and is ER, and 0 is the simple model, bit for bit.
"""

import math

from agents import dqn, dyna, register, replay
from agents.base import Agent
from agents.simple_model import simple_model
from envs import checks


def split_budget(real_fraction: float, rollout_length: int) -> tuple[int, int]:
    """(real transitions, imagined rollouts) of one Q update."""
    num_rollouts = min(
        math.floor((1 - real_fraction) * dqn.Q_BATCH_SIZE / rollout_length + 0.5),
        dqn.Q_BATCH_SIZE // rollout_length,
    )
    return dqn.Q_BATCH_SIZE - num_rollouts * rollout_length, num_rollouts


@register("dyna_mix", "dyna mix")
def make_dyna_mix(
    env,
    *,
    real_fraction: float,
    rollout_length: int,
    model_batch_size: int,
    model_step_size: float,
    bit_sampling: str,
    capacity: int,
    hidden,
    discount: float,
    rollout_schedule,
) -> Agent:
    checks.number_in("agent.real_fraction", real_fraction, 0, 1)
    checks.integer_in("agent.rollout_length", rollout_length, 1, dqn.Q_BATCH_SIZE)
    num_real, num_rollouts = split_budget(real_fraction, rollout_length)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    model = simple_model(env, tuple(hidden), bit_sampling)
    sizes = dict(rollout_length=rollout_length, num_rollouts=num_rollouts,
                 model_batch_size=model_batch_size)  # fmt: skip
    modes = dyna.modes_from(model, replay.UNIFORM, **sizes, rollout_schedule=rollout_schedule)
    rollouts = dyna.imagined(env, q, model, **sizes, model_step_size=model_step_size, modes=modes)
    return dyna.agent(env, q, [dyna.replayed(env, num_real), rollouts], capacity=capacity)
