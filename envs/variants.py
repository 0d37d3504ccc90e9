"""The bits the paradigm variants append to a grid observation, written once for the online
ProcMaze (envs/procmaze.py) and the offline 3x3 grid (envs/gridworld.py `Variant`):

- GPS: 4 bits (up, left, down, right), on for each move that goes one step nearer the goal
  along open cells; all off on the goal.
- A counter distractor: a little-endian binary register that the environment increments
  every step (deterministic, but the carry is hard for an MLP to predict).

Fair-coin ("iid") distractors need no code of their own: each environment draws them from
its own random stream.
"""

import jax
import jax.numpy as jnp

from envs.core import GRID_MOVES, cell_mask

DISTRACTOR_KINDS = ("iid", "counter")
BIG = 1 << 20  # the distance of a wall (or an unreached cell) while relaxing


def goal_distances(walls: jax.Array, goal: jax.Array) -> jax.Array:
    """Steps from every open cell to the goal along open cells: Bellman-Ford relaxation
    (each sweep takes the best neighbour + 1) until nothing changes; walls stay BIG."""
    n = walls.shape[0]
    start = jnp.where(cell_mask(goal, n, n), 0, BIG)

    def sweep(carry):
        distance, _ = carry
        padded = jnp.pad(distance, 1, constant_values=BIG)
        best = jnp.minimum(
            jnp.minimum(padded[:-2, 1:-1], padded[2:, 1:-1]),
            jnp.minimum(padded[1:-1, :-2], padded[1:-1, 2:]),
        )
        relaxed = jnp.where(walls, BIG, jnp.minimum(distance, best + 1))
        return relaxed, (relaxed != distance).any()

    distance, _ = jax.lax.while_loop(lambda c: c[1], sweep, (start, jnp.bool_(True)))
    return distance


def gps_bits(distance: jax.Array, agent: jax.Array) -> jax.Array:
    """(4,) bool: the moves up, left, down, right that go one step nearer the goal (in a
    tree-shaped maze exactly one off the goal); none on the goal."""
    n = distance.shape[0]
    targets = agent + GRID_MOVES[1:]
    on_grid = ((targets >= 0) & (targets < n)).all(axis=1)
    rows, cols = jnp.clip(targets, 0, n - 1).T
    here = distance[agent[0], agent[1]]
    return on_grid & (distance[rows, cols] == here - 1) & (here > 0)


def increment(bits: jax.Array) -> jax.Array:
    """A little-endian binary register plus one (wrapping): bit i flips when every bit below
    it is on."""
    below = jnp.cumprod(jnp.concatenate([jnp.ones(1, bool), bits[:-1]]).astype(jnp.int32))
    return bits ^ below.astype(bool)
