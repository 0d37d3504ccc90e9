"""The suite's environments behind gymnax's `Environment` API (the optional `gymnax` extra).

    from envs.gymnax_env import make
    env, params = make("ProcMaze-4")
    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(key, state, action, params)

`step` is gymnax's own: it splits the key into a step key and a reset key, runs the suite
env's `step` with the first, and auto-resets with the second when the episode ends (a
terminal step, or `params.max_steps_in_episode` steps: 100 by default, the suite's
evaluation horizon, which also cuts the continuing environments into episodes). gymnax 1.0
returns `terminated` and `truncated` separately; the observation after an episode's end is
in `info["final_observation"]`. Observations are the suite's bits as float32.
"""

from typing import Any

import jax.numpy as jnp

import envs

try:
    from flax import struct
    from gymnax.environments import environment, spaces
except ImportError as error:  # an optional extra
    raise ImportError(
        "envs.gymnax_env needs gymnax; install it with pip install -e '.[gymnax]'."
    ) from error

HORIZON = 100  # the suite's evaluation episodes are capped at 100 steps
REGISTERED = tuple(f"{env.display}-<{env.complexity_key}>" for env in envs.REGISTRY.values())


@struct.dataclass
class State(environment.EnvState):
    env_state: Any  # the suite env's state; `time` (steps this episode) is gymnax's


class GymnaxEnv(environment.Environment):
    """One suite environment (a frozen settings dataclass) as a gymnax Environment."""

    def __init__(self, env):
        super().__init__()
        self.env = env

    # Equal settings are the same environment, so jitted functions are not recompiled.
    def __eq__(self, other):
        return isinstance(other, GymnaxEnv) and self.env == other.env

    def __hash__(self):
        return hash(self.env)

    @property
    def default_params(self) -> environment.EnvParams:
        return environment.EnvParams(max_steps_in_episode=HORIZON)

    def step_env(self, key, state: State, action, params):
        env_state, obs, reward, terminal = self.env.step(key, state.env_state, action)
        state = State(time=state.time + 1, env_state=env_state)
        return obs.astype(jnp.float32), state, reward, terminal, {}

    def reset_env(self, key, params):
        env_state, obs = self.env.reset(key)
        return obs.astype(jnp.float32), State(time=jnp.int32(0), env_state=env_state)

    @property
    def name(self) -> str:
        return f"{self.env.display}-{envs.complexity(self.env)}"

    @property
    def num_actions(self) -> int:
        return self.env.num_actions

    def action_space(self, params=None) -> spaces.Discrete:
        return spaces.Discrete(self.env.num_actions)

    def observation_space(self, params=None) -> spaces.Box:
        return spaces.Box(0.0, 1.0, (self.env.obs_size,), jnp.float32)


def make(name: str, **settings) -> tuple[GymnaxEnv, environment.EnvParams]:
    """`make("ProcMaze-4")` -> (env, default params), as `gymnax.make` does; `settings` are
    the suite env's other settings, e.g. `make("PanFlute-7", spontaneous=False)`."""
    family, _, size = name.partition("-")
    by_display = {env.display: key for key, env in envs.REGISTRY.items()}
    if family not in by_display or not size.isdigit():
        raise ValueError(f"env name must be one of {', '.join(REGISTERED)}; got {name!r}.")
    suite_name = by_display[family]
    settings = {envs.REGISTRY[suite_name].complexity_key: int(size), **settings}
    env = GymnaxEnv(envs.make(suite_name, **settings))
    return env, env.default_params


__all__ = ["REGISTERED", "GymnaxEnv", "State", "make"]
