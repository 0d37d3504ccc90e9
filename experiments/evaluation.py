"""Greedy evaluation (SPEC section 1): 32 runs of 100 steps from fresh resets.

Episodic environments score the return of the first episode (rewards up to and including
its terminal step, so ProcMaze scores lie in [-100, -1]); continuing ones the mean reward
per step.
"""

import jax
import jax.numpy as jnp

from agents.base import Agent, Transition
from envs.core import auto_reset


def evaluate_policy(
    env, policy, key: jax.Array, num_runs: int = 32, num_steps: int = 100
) -> jax.Array:
    """Mean score of `policy(obs, key) -> action` over `num_runs` fresh runs."""

    def run(key):
        reset_key, steps_key = jax.random.split(key)
        env_state, obs = env.reset(reset_key)

        def step(carry, key):
            env_state, obs, total, done = carry
            act_key, env_key = jax.random.split(key)
            env_state, obs, reward, terminal = env.step(env_key, env_state, policy(obs, act_key))
            total = total + jnp.where(done, 0.0, reward)
            return (env_state, obs, total, done | terminal), None

        carry = (env_state, obs, jnp.float32(0), jnp.bool_(False))
        (_, _, total, _), _ = jax.lax.scan(step, carry, jax.random.split(steps_key, num_steps))
        return total if env.episodic else total / num_steps

    return jax.vmap(run)(jax.random.split(key, num_runs)).mean()


def evaluate(
    env, agent: Agent, agent_state, key: jax.Array, num_runs: int = 32, num_steps: int = 100
) -> jax.Array:
    """The agent's greedy policy, scored as above."""
    return evaluate_policy(
        env, lambda obs, k: agent.act(agent_state, obs, k, True), key, num_runs, num_steps
    )


def random_policy_score(env, key: jax.Array, num_runs: int = 1024, num_steps: int = 100) -> float:
    """The uniform random policy under the same protocol: the floor a learner must clear."""

    def policy(obs, key):
        return jax.random.randint(key, (), 0, env.num_actions)

    return float(jax.jit(lambda k: evaluate_policy(env, policy, k, num_runs, num_steps))(key))


def random_transitions(
    env, key: jax.Array, num_envs: int = 64, num_steps: int = 16, policy=None
) -> Transition:
    """Fresh transitions of the true environment from new resets (with auto-reset), under
    `policy(key, t) -> action` (t: the step within the run) or a uniform random one: the
    held-out data a learned model is checked against."""
    if policy is None:

        def policy(key, t):
            return jax.random.randint(key, (), 0, env.num_actions)

    def run(key):
        reset_key, steps_key = jax.random.split(key)
        env_state, obs = env.reset(reset_key)

        def step(carry, inputs):
            env_state, obs = carry
            key, t = inputs
            act_key, env_key, reset_key = jax.random.split(key, 3)
            action = policy(act_key, t)
            next_state, next_obs, reward, terminal = env.step(env_key, env_state, action)
            transition = Transition(obs, action, reward, terminal, next_obs, env_state)
            return auto_reset(env, reset_key, terminal, next_state, next_obs), transition

        _, transitions = jax.lax.scan(
            step, (env_state, obs), (jax.random.split(steps_key, num_steps), jnp.arange(num_steps))
        )
        return transitions

    transitions = jax.vmap(run)(jax.random.split(key, num_envs))
    return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), transitions)
