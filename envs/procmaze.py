"""ProcMaze: a freshly carved maze every episode; reach the goal (SPEC section 1).

Two variants, as settings whose defaults leave the environment as it was (issue 13; the
three paradigms of Gelada and Buckman):

- `gps=true` appends 4 bits (up, left, down, right): the first move of the shortest path from
  the agent to the goal, unique because the carved maze is a tree (all off on the goal). The
  policy becomes simpler than the dynamics: "follow the lit bit".
- `distractors=D` appends D bits that neither reward nor the maze's dynamics depend on, of
  `distractor_kind` "iid" (fresh fair coins every step: a factored model predicts them
  exactly as coins, so it is the control) or "counter" (a D-bit binary register, random at
  reset, incremented every step: deterministic, but the carry is hard for an MLP to predict).

Their random numbers come from `fold_in(key, 1)` of the keys reset and step already receive,
so the maze, the agent and the goal are the same with and without distractors.
"""

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
from envs.variants import DISTRACTOR_KINDS, goal_distances, gps_bits, increment


class ProcMazeState(NamedTuple):
    agent: jax.Array  # (2,) int32 (row, col)
    goal: jax.Array  # (2,) int32
    walls: jax.Array  # (n, n) bool
    # Only with the variants (None otherwise, so the default state is today's):
    distance: jax.Array | None = None  # (n, n) int32 steps to the goal (gps); walls: BIG
    distractor: jax.Array | None = None  # (D,) bool, the distractor bits (distractors > 0)


def open_neighbour_counts(opened: jax.Array) -> jax.Array:
    """For every cell, how many of its on-grid four-neighbours are opened."""
    padded = jnp.pad(opened, 1).astype(jnp.int32)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


@dataclass(frozen=True)
class ProcMaze:
    name: ClassVar[str] = "procmaze"
    display: ClassVar[str] = "ProcMaze"  # how figures and tables name it
    complexity_key: ClassVar[str] = "grid_size"  # the setting the paper scales
    complexity_label: ClassVar[str] = "grid size"  # its axis label
    episodic: ClassVar[bool] = True

    grid_size: int = 4
    spontaneous: bool = True
    gps: bool = False  # append the first move of the shortest path to the goal
    distractors: int = 0  # append this many task-irrelevant bits
    distractor_kind: str = "iid"  # DISTRACTOR_KINDS

    def __post_init__(self):
        checks.integer_at_least("env.grid_size", self.grid_size, 2)
        checks.boolean("env.spontaneous", self.spontaneous)
        checks.boolean("env.gps", self.gps)
        checks.integer_at_least("env.distractors", self.distractors, 0)
        checks.one_of("env.distractor_kind", self.distractor_kind, DISTRACTOR_KINDS)

    @property
    def num_actions(self) -> int:
        return len(GRID_MOVES)

    @property
    def obs_size(self) -> int:
        return 4 * self.grid_size**2 + 4 * self.gps + self.distractors

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
        if self.gps:
            state = state._replace(distance=goal_distances(walls, state.goal))
        if self.distractors:
            bits = jax.random.bernoulli(jax.random.fold_in(key, 1), 0.5, (self.distractors,))
            state = state._replace(distractor=bits)
        return state, self.observe(state)

    def next_distractor(self, key: jax.Array, bits: jax.Array) -> jax.Array:
        if self.distractor_kind == "counter":
            return increment(bits)
        return jax.random.bernoulli(jax.random.fold_in(key, 1), 0.5, (self.distractors,))

    def step(self, key: jax.Array, state: ProcMazeState, action: jax.Array):
        n = self.grid_size
        # The episode ends on the step that starts on the goal, so the goal is observed once.
        terminal = (state.agent == state.goal).all()
        target = grid_target(state.agent, action, n, n)
        agent = jnp.where(state.walls[target[0], target[1]], state.agent, target)
        agent = jnp.where(bernoulli(key, self.spontaneous_probability), state.goal, agent)
        state = state._replace(agent=agent)
        if self.distractors:
            state = state._replace(distractor=self.next_distractor(key, state.distractor))
        return state, self.observe(state), jnp.float32(-1.0), terminal

    def observe(self, state: ProcMazeState) -> jax.Array:
        n = self.grid_size
        channels = [
            cell_mask(state.agent, n, n),
            cell_mask(state.goal, n, n),
            state.walls,
            ~state.walls,
        ]
        obs = jnp.stack(channels, axis=-1).reshape(-1)
        extra = []
        if self.gps:
            extra.append(gps_bits(state.distance, state.agent))
        if self.distractors:
            extra.append(state.distractor)
        return jnp.concatenate([obs, *extra]) if extra else obs

    def render(self, state: ProcMazeState) -> str:
        """'#' wall, '.' open, 'A' agent, 'G' goal, '*' agent on the goal."""
        picture = np.where(np.asarray(state.walls), "#", ".")
        agent, goal = tuple(np.asarray(state.agent)), tuple(np.asarray(state.goal))
        picture[goal] = "G"
        picture[agent] = "*" if agent == goal else "A"
        return "\n".join("".join(row) for row in picture)
