"""Tiny hand-checkable environments for testing the loops."""

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax.numpy as jnp


class Clock(NamedTuple):
    time: jnp.ndarray


@dataclass(frozen=True)
class Countdown:
    """Episodic: reward -1 per step; terminal on the step that starts at time `length`-1.
    The observation is the time as one-hot bits."""

    length: int = 4
    name: ClassVar[str] = "countdown"
    episodic: ClassVar[bool] = True
    num_actions: ClassVar[int] = 2

    @property
    def obs_size(self):
        return 16

    @property
    def complexity(self):
        return self.length

    def observe(self, state):
        return jnp.arange(16) == state.time

    def reset(self, key):
        state = Clock(jnp.int32(0))
        return state, self.observe(state)

    def step(self, key, state, action):
        terminal = state.time == self.length - 1
        state = Clock(state.time + 1)
        return state, self.observe(state), jnp.float32(-1), terminal

    def render(self, state):
        return str(int(state.time))


@dataclass(frozen=True)
class Metronome(Countdown):
    """Continuing: reward 1 on every third step (times 2, 5, 8, ...), never terminal."""

    name: ClassVar[str] = "metronome"
    episodic: ClassVar[bool] = False

    def step(self, key, state, action):
        reward = jnp.where(state.time % 3 == 2, 1.0, 0.0).astype(jnp.float32)
        state = Clock(state.time + 1)
        return state, self.observe(state), reward, jnp.bool_(False)

    def observe(self, state):
        return jnp.arange(16) == state.time % 16
