"""Greedy evaluation (experiments/evaluation.py) scores the argmax policy, not the softmax one
the agent behaves with: checked where the action changes the reward, so the two differ."""

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from fast import fast_jit
from toys import Clock, Metronome

import agents
from agents import dqn
from experiments.evaluation import evaluate

HOT = 1.0  # temperature: softmax on Q = (0, 1) takes action 1 with probability e / (1 + e)


@dataclass(frozen=True)
class Lever(Metronome):
    """Continuing: reward 1 for action 1, 0 for action 0, whatever the time."""

    name: ClassVar[str] = "lever"

    def step(self, key, state, action):
        reward = (action == 1).astype(jnp.float32)
        state = Clock(state.time + 1)
        return state, self.observe(state), reward, jnp.bool_(False)


def agent_preferring_action_1(env):
    """ER whose Q-network says (0, 1) for every observation: every weight 0, the output
    bias (0, 1). Its argmax is action 1; its softmax takes action 0 a quarter of the time."""
    agent = agents.make("er", env, batch_size=8, capacity=16, hidden=(4,))
    state = agent.init(jax.random.key(0), dqn.Hyper(jnp.float32(1e-3), jnp.float32(HOT)))
    params = jax.tree.map(jnp.zeros_like, state.learner.params)
    last = sorted(params)[-1]
    params[last]["b"] = jnp.array([0.0, 1.0])
    return agent, state._replace(learner=state.learner._replace(params=params))


def test_evaluation_scores_the_argmax_policy_not_the_softmax_one():
    env = Lever()
    agent, state = agent_preferring_action_1(env)
    score = fast_jit(lambda s, k: evaluate(env, agent, s, k))(state, jax.random.key(1))
    assert float(score) == 1.0  # action 1 on all 32 x 100 steps

    # The behaviour policy on the same agent scores e / (1 + e) = 0.731 per step (3,200
    # draws: standard error 0.008), so a softmax evaluation could not score 1.
    def softmax_score(key):
        obs = jnp.zeros((3200, env.obs_size), bool)
        actions = agent.act(state, obs, key, False)
        return jnp.mean(actions == 1)

    p = np.e / (1 + np.e)
    assert abs(float(softmax_score(jax.random.key(2))) - p) < 5 * np.sqrt(p * (1 - p) / 3200)
