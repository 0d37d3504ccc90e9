"""OpenGrid: an empty grid with the goal fixed bottom-right (SPEC section 1, Appendix C).

The control without factored structure: the observation is the agent's one-hot cell only,
so nothing learned in one cell says anything about another.
"""

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs import checks
from envs.core import (
    GRID_MOVES,
    bernoulli,
    cell_mask,
    grid_target,
    random_cell,
)


class OpenGridState(NamedTuple):
    agent: jax.Array  # (2,) int32 (row, col)


@dataclass(frozen=True)
class OpenGrid:
    name: ClassVar[str] = "opengrid"
    display: ClassVar[str] = "OpenGrid"  # how figures and tables name it
    complexity_key: ClassVar[str] = "grid_size"  # the setting the paper scales
    complexity_label: ClassVar[str] = "grid size"  # its axis label
    episodic: ClassVar[bool] = True

    grid_size: int = 4
    spontaneous: bool = True

    def __post_init__(self):
        checks.integer_at_least("env.grid_size", self.grid_size, 2)
        checks.boolean("env.spontaneous", self.spontaneous)

    @property
    def num_actions(self) -> int:
        return len(GRID_MOVES)

    @property
    def obs_size(self) -> int:
        return self.grid_size**2

    @property
    def spontaneous_probability(self) -> float:
        return 0.1 / self.grid_size if self.spontaneous else 0.0

    @property
    def goal(self) -> jax.Array:
        return jnp.full(2, self.grid_size - 1, jnp.int32)

    def reset(self, key: jax.Array):
        n = self.grid_size
        state = OpenGridState(agent=random_cell(key, jnp.ones((n, n), bool)))
        return state, self.observe(state)

    def step(self, key: jax.Array, state: OpenGridState, action: jax.Array):
        n = self.grid_size
        # As in ProcMaze: the step that starts on the goal is the terminal one.
        terminal = (state.agent == self.goal).all()
        agent = grid_target(state.agent, action, n, n)
        agent = jnp.where(bernoulli(key, self.spontaneous_probability), self.goal, agent)
        state = OpenGridState(agent=agent)
        return state, self.observe(state), jnp.float32(-1.0), terminal

    def observe(self, state: OpenGridState) -> jax.Array:
        return cell_mask(state.agent, self.grid_size, self.grid_size).reshape(-1)

    def render(self, state: OpenGridState) -> str:
        """'.' empty, 'A' agent, 'G' goal, '*' agent on the goal."""
        n = self.grid_size
        picture = np.full((n, n), ".")
        picture[n - 1, n - 1] = "G"
        agent = tuple(np.asarray(state.agent))
        picture[agent] = "*" if agent == (n - 1, n - 1) else "A"
        return "\n".join("".join(row) for row in picture)
