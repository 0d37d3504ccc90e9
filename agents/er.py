"""ER-DQN, the model-free baseline (paper section 4): "Our model-free approach draws
transitions randomly from an ER buffer for training", 320 of them each update; beyond the
paper, prioritized replay draws them in proportion to |TD error|^priority_exponent."""

from agents import dqn, dyna, priority, register
from agents.base import Agent
from envs import checks


@register("er", "ER")
def make_er(
    env,
    *,
    batch_size: int,
    capacity: int,
    hidden,
    discount: float,
    priority_exponent: float,
    importance_exponent: float,
) -> Agent:
    checks.positive_int("agent.batch_size", batch_size)
    buffer = priority.buffer(priority_exponent, importance_exponent)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    return dyna.agent(env, q, [dyna.replayed(env, batch_size)], capacity=capacity, buffer=buffer)
