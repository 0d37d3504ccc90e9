"""ER-DQN, the model-free baseline (paper section 4): "Our model-free approach draws
transitions randomly from an ER buffer for training", 320 of them each update."""

from agents import dqn, dyna, register
from agents.base import Agent
from envs import checks


@register("er")
def make_er(env, *, batch_size: int, capacity: int, hidden, discount: float) -> Agent:
    checks.positive_int("agent.batch_size", batch_size)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    return dyna.agent(env, q, [dyna.replayed(env, batch_size)], capacity=capacity)
