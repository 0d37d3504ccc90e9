"""PanFlute: n pipes of lengths 1..n; reward when every pipe-end is lit at once (SPEC section 1).

The cells of all pipes live in one flat bool vector, which is also the observation: pipe 0
first, and within pipe i (i + 1 cells) index 0 is the first (bottom) cell that the action
lights and index i the last (end) cell. Optimal play lights the pipes longest-first, one per
step (actions n-1, n-2, ..., 0), so that all ends are lit together n - 1 steps later.
"""

import functools
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs import checks
from envs.core import bernoulli


class PanFluteState(NamedTuple):
    cells: jax.Array  # (n(n+1)/2,) bool, the observation layout


@functools.cache
def pipe_layout(num_pipes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per flat cell: its pipe, whether it is a first cell, whether it is an end cell."""
    pipe = np.concatenate([np.full(i + 1, i) for i in range(num_pipes)])
    position = np.concatenate([np.arange(i + 1) for i in range(num_pipes)])
    return pipe, position == 0, position == pipe


@dataclass(frozen=True)
class PanFlute:
    name: ClassVar[str] = "panflute"
    display: ClassVar[str] = "PanFlute"  # how figures and tables name it
    complexity_key: ClassVar[str] = "num_pipes"  # the setting the paper scales
    complexity_label: ClassVar[str] = "pipes"  # its axis label
    episodic: ClassVar[bool] = False

    num_pipes: int = 7
    spontaneous: bool = True

    def __post_init__(self):
        checks.positive_int("env.num_pipes", self.num_pipes)
        checks.boolean("env.spontaneous", self.spontaneous)

    @property
    def num_actions(self) -> int:
        return self.num_pipes

    @property
    def obs_size(self) -> int:
        return self.num_pipes * (self.num_pipes + 1) // 2

    @property
    def spontaneous_probability(self) -> float:
        return 1.0 / self.num_pipes**2 if self.spontaneous else 0.0

    def reset(self, key: jax.Array):
        state = PanFluteState(cells=jnp.zeros(self.obs_size, bool))
        return state, self.observe(state)

    def step(self, key: jax.Array, state: PanFluteState, action: jax.Array):
        pipe, first, end = pipe_layout(self.num_pipes)
        reward = state.cells[end].all().astype(jnp.float32)
        # Shifting the flat vector by one moves every cell one place towards its pipe's end;
        # whatever crosses a pipe boundary (an end value) is overwritten by that first cell.
        shifted = jnp.roll(state.cells, 1)
        cells = jnp.where(first, pipe == action, shifted)
        cells = cells | (end & bernoulli(key, self.spontaneous_probability))
        state = PanFluteState(cells=cells)
        return state, self.observe(state), reward, jnp.bool_(False)

    def observe(self, state: PanFluteState) -> jax.Array:
        return state.cells

    def render(self, state: PanFluteState) -> str:
        """One line per pipe, first cell on the left: '#' lit, '.' dark, ']' marks the end."""
        cells = np.asarray(state.cells)
        pipe, _, _ = pipe_layout(self.num_pipes)
        lines = (
            f"pipe {i}: " + "".join("#" if c else "." for c in cells[pipe == i]) + "]"
            for i in range(self.num_pipes)
        )
        return "\n".join(lines)
