"""ProcMaze: a freshly carved maze every episode; reach the goal (SPEC section 1)."""

import math
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


class ProcMazeState(NamedTuple):
    agent: jax.Array  # (2,) int32 (row, col)
    goal: jax.Array  # (2,) int32
    walls: jax.Array  # (n, n) bool


def open_neighbour_counts(opened: jax.Array) -> jax.Array:
    """For every cell, how many of its on-grid four-neighbours are opened."""
    padded = jnp.pad(opened, 1).astype(jnp.int32)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


@dataclass(frozen=True)
class ProcMaze:
    name: ClassVar[str] = "procmaze"
    complexity_key: ClassVar[str] = "grid_size"  # the setting the paper scales
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
        return 4 * self.grid_size**2

    @property
    def spontaneous_probability(self) -> float:
        """A tenth of the inverse of the worst-case optimal solve time (0 when disabled)."""
        n = self.grid_size
        return 0.1 / ((n + 1) * math.ceil(n / 2) - n % 2) if self.spontaneous else 0.0

    def carve(self, key: jax.Array) -> jax.Array:
        """Randomized depth-first carve; returns the (n, n) wall mask.

        A cell is opened only when exactly one of its neighbours is already open, so each
        opening adds one cell and one edge: the open cells always form a tree. The stack
        holds distinct opened cells, so n*n slots suffice.
        """
        n = self.grid_size
        start_key, key = jax.random.split(key)
        start = random_cell(start_key, jnp.ones((n, n), bool))
        opened = cell_mask(start, n, n)
        stack = jnp.zeros((n * n, 2), jnp.int32).at[0].set(start)

        def expand(carry):
            key, opened, stack, size = carry
            key, choice_key = jax.random.split(key)
            cell = stack[size - 1]  # pop; it is pushed back below if it can expand
            neighbours = cell + GRID_MOVES[1:]
            on_grid = ((neighbours >= 0) & (neighbours < n)).all(axis=1)
            rows, cols = jnp.clip(neighbours, 0, n - 1).T
            counts = open_neighbour_counts(opened)
            expandable = on_grid & ~opened[rows, cols] & (counts[rows, cols] == 1)
            found = expandable.any()
            # Uniform choice among the expandable neighbours: argmax of masked uniforms.
            pick = jnp.argmax(jnp.where(expandable, jax.random.uniform(choice_key, (4,)), -1.0))
            chosen = jnp.stack([rows[pick], cols[pick]])
            opened = opened.at[chosen[0], chosen[1]].set(opened[chosen[0], chosen[1]] | found)
            # When nothing is found the write lands above the new top (or is dropped when
            # size == n*n), so it never matters.
            stack = stack.at[size].set(chosen, mode="drop")
            return key, opened, stack, size + jnp.where(found, 1, -1)

        _, opened, _, _ = jax.lax.while_loop(
            lambda carry: carry[3] > 0, expand, (key, opened, stack, jnp.int32(1))
        )
        return ~opened

    def reset(self, key: jax.Array):
        carve_key, agent_key, goal_key = jax.random.split(key, 3)
        walls = self.carve(carve_key)
        state = ProcMazeState(
            agent=random_cell(agent_key, ~walls), goal=random_cell(goal_key, ~walls), walls=walls
        )
        return state, self.observe(state)

    def step(self, key: jax.Array, state: ProcMazeState, action: jax.Array):
        n = self.grid_size
        # The episode ends on the step that starts on the goal, so the goal is observed once.
        terminal = (state.agent == state.goal).all()
        target = grid_target(state.agent, action, n, n)
        agent = jnp.where(state.walls[target[0], target[1]], state.agent, target)
        agent = jnp.where(bernoulli(key, self.spontaneous_probability), state.goal, agent)
        state = state._replace(agent=agent)
        return state, self.observe(state), jnp.float32(-1.0), terminal

    def observe(self, state: ProcMazeState) -> jax.Array:
        n = self.grid_size
        channels = [
            cell_mask(state.agent, n, n),
            cell_mask(state.goal, n, n),
            state.walls,
            ~state.walls,
        ]
        return jnp.stack(channels, axis=-1).reshape(-1)

    def render(self, state: ProcMazeState) -> str:
        """'#' wall, '.' open, 'A' agent, 'G' goal, '*' agent on the goal."""
        picture = np.where(np.asarray(state.walls), "#", ".")
        agent, goal = tuple(np.asarray(state.agent)), tuple(np.asarray(state.goal))
        picture[goal] = "G"
        picture[agent] = "*" if agent == goal else "A"
        return "\n".join("".join(row) for row in picture)
