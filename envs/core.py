"""What every environment shares: the interface, grid moves, and Bernoulli events.

An environment is a frozen dataclass of static settings (hashable, so it can be a static
argument of `jit`) with pure methods:

    reset(key) -> (state, obs)
    step(key, state, action) -> (state, obs, reward, terminal)
    observe(state) -> obs
    render(state) -> str

`obs` is a flat bool vector of length `obs_size`; `reward` a float32 scalar; `terminal` a
bool scalar. `state` is a NamedTuple of arrays. An environment never resets itself: the
loops in experiments/ call `auto_reset` after each step, and evaluate and batch there.
"""

from typing import ClassVar, Protocol

import jax
import jax.numpy as jnp

# Actions of the grid worlds: 0 = stay, 1 = up (row-1), 2 = left (col-1), 3 = down, 4 = right.
GRID_MOVES = jnp.array([[0, 0], [-1, 0], [0, -1], [1, 0], [0, 1]], dtype=jnp.int32)
GRID_ACTION_NAMES = ("stay", "up", "left", "down", "right")


class Environment(Protocol):
    name: ClassVar[str]
    display: ClassVar[str]  # how figures and tables name it: ProcMaze
    episodic: ClassVar[bool]
    complexity_key: ClassVar[str]  # the setting the paper scales: grid_size, num_pipes, ...
    complexity_label: ClassVar[str]  # that setting on an axis: grid size, pipes, ...

    @property
    def num_actions(self) -> int: ...

    @property
    def obs_size(self) -> int: ...

    def reset(self, key: jax.Array): ...

    def step(self, key: jax.Array, state, action: jax.Array): ...

    def observe(self, state) -> jax.Array: ...

    def render(self, state) -> str: ...


def grid_target(position: jax.Array, action: jax.Array, rows: int, cols: int) -> jax.Array:
    """The cell a grid action aims at; a move off the grid leaves the agent where it is."""
    target = position + GRID_MOVES[action]
    on_grid = (target >= 0).all() & (target[0] < rows) & (target[1] < cols)
    return jnp.where(on_grid, target, position)


def cell_mask(position: jax.Array, rows: int, cols: int) -> jax.Array:
    """A (rows, cols) bool picture that is true only at `position`."""
    return jnp.zeros((rows, cols), bool).at[position[0], position[1]].set(True)


def random_cell(key: jax.Array, allowed: jax.Array) -> jax.Array:
    """A (row, col) int32 position drawn uniformly among the true cells of `allowed`."""
    cols = allowed.shape[1]
    index = jax.random.categorical(key, jnp.where(allowed.reshape(-1), 0.0, -jnp.inf))
    return jnp.stack([index // cols, index % cols]).astype(jnp.int32)


def bernoulli(key: jax.Array, p: float) -> jax.Array:
    """A bool that is true with probability p; p == 0 is exactly never."""
    return jax.random.uniform(key) < p


def auto_reset(env, key: jax.Array, terminal: jax.Array, state, obs):
    """`(state, obs)` after a step, or a fresh reset from `key` where the step was terminal,
    so that a run goes on from the reset observation. The reset is computed either way (a
    branch would not batch) and `key` is spent on it even when unused."""
    fresh_state, fresh_obs = env.reset(key)
    state = jax.tree.map(lambda fresh, old: jnp.where(terminal, fresh, old), fresh_state, state)
    return state, jnp.where(terminal, fresh_obs, obs)
