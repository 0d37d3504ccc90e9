"""Planning at decision time (MPC with random shooting; Nagabandi et al. 2018, and PETS's
planner with the simplest optimizer), an agent beyond the paper.

It learns exactly as the simple-model agent does: its simple model trains on 32 replayed
transitions per update and its Q-network on the model's 320 imagined transitions
(agents.dyna.imagined). Only acting differs: from the current observation it rolls
`num_sequences` sequences of `horizon` uniformly random actions through the model (sampled
bits, as rollouts are) and scores each by its imagined discounted return plus the
Q-network's value at its end,

    score = r_0 + g c_0 (r_1 + g c_1 (... + g c_{H-1} max_a Q(x_H, a)))

(g the discount, c_t the predicted probability of continuing: the TD target's form). The
greedy policy (evaluation) takes the first action of the best sequence. Behaving, it draws a
sequence with probability softmax(score / temperature), the same tuned temperature that the
other agents' softmax over Q-values uses, and takes its first action: scores and Q-values are
both discounted returns, so exploration stays comparable (with horizon -> 0 this is the
simple-model agent's softmax over Q, up to which actions the random sequences cover).

Its cost per env step is num_sequences x horizon model steps plus num_sequences Q-values,
for acting and for every greedy evaluation step (scripts/benchmark.py).
"""

import jax
import jax.numpy as jnp

from agents import dqn, register
from agents.base import Agent
from agents.simple_model import simple_model_agent
from envs import checks

PLANNERS = ("random_shooting",)  # mctx's tree search is not built (docs/studies/model-families.md)


def random_shooting(num_sequences: int, horizon: int, num_actions: int):
    """planner(q, model) -> act(state, obs, key, greedy), for agents.dyna.agent. The score
    multiplies by the continuation as the TD target does, in every environment."""

    def planner(q: dqn.DQN, model):
        def act(state, obs, key, greedy):
            params = state.model.params
            sequence_key, start_key, roll_key, pick_key = jax.random.split(key, 4)
            actions = jax.random.randint(
                sequence_key, (horizon, num_sequences), 0, num_actions, jnp.int32
            )
            x = model.start(params, start_key, jnp.broadcast_to(obs, (num_sequences, *obs.shape)))

            def step(carry, inputs):
                x, value, scale = carry
                action, key = inputs
                x, reward, continuation, *_ = model.transition(params, key, x, action)
                return (x, value + scale * reward, scale * q.discount * continuation), None

            ones = jnp.ones(num_sequences, jnp.float32)
            (x, value, scale), _ = jax.lax.scan(
                step, (x, 0.0 * ones, ones), (actions, jax.random.split(roll_key, horizon))
            )
            score = value + scale * q.q_values(state.learner, x).max(axis=-1)
            if greedy:
                best = jnp.argmax(score)
            else:
                best = jax.random.categorical(pick_key, score / state.learner.hyper.temperature)
            return actions[0, best]

        return act

    return planner


@register("mpc", "MPC")
def make_mpc(env, *, planner: str, num_sequences: int, horizon: int, **settings) -> Agent:
    """The simple-model agent (all its settings) acting by planning with its model."""
    checks.one_of("agent.planner", planner, PLANNERS)
    checks.positive_int("agent.num_sequences", num_sequences)
    checks.positive_int("agent.horizon", horizon)
    plan = random_shooting(num_sequences, horizon, env.num_actions)
    return simple_model_agent(env, planner=plan, **settings)
