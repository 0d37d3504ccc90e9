"""The offline 3x3 grid world of Section 2 / Figure 1 (SPEC section 1): its step and datasets.

The goal is fixed at (0, 0) and walls are fixed within an episode. The observation is four
blocks of 9 row-major bits: agent cell, goal cell, wall present, wall absent. An episode
ends when the agent ENTERS the goal, so no transition starts on the goal (or on a wall).

The datasets are the basic set (every one-wall layout) plus, per coverage level, some data
from the two evaluation layouts, whose single corridor to the goal the agent has to find.
`Variant` appends GPS or distractor bits to every observation (issue 13).
"""

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs import checks, variants
from envs.core import GRID_MOVES, cell_mask, grid_target
from envs.variants import DISTRACTOR_KINDS

SIZE = 3
GOAL = (0, 0)
COVERAGES = ("all_evaluation", "path_to_goal", "single_cell", "no_evaluation")
NUM_ACTIONS = len(GRID_MOVES)
OBS_SIZE = 4 * SIZE * SIZE


class GridWorldState(NamedTuple):
    agent: jax.Array  # (2,) int32 (row, col)
    walls: jax.Array  # (3, 3) bool


class Transitions(NamedTuple):
    """A dataset of transitions as numpy arrays, one row per transition."""

    obs: np.ndarray  # (N, 36) bool
    action: np.ndarray  # (N,) int32
    reward: np.ndarray  # (N,) float32
    terminal: np.ndarray  # (N,) bool
    next_obs: np.ndarray  # (N, 36) bool


def observe(state: GridWorldState) -> jax.Array:
    blocks = [
        cell_mask(state.agent, SIZE, SIZE),
        cell_mask(jnp.array(GOAL), SIZE, SIZE),
        state.walls,
        ~state.walls,
    ]
    return jnp.concatenate([block.reshape(-1) for block in blocks])


def step(state: GridWorldState, action: jax.Array):
    """Deterministic: -1 per step; terminal on the transition that enters the goal."""
    target = grid_target(state.agent, action, SIZE, SIZE)
    agent = jnp.where(state.walls[target[0], target[1]], state.agent, target)
    state = state._replace(agent=agent)
    terminal = (agent == jnp.array(GOAL)).all()
    return state, observe(state), jnp.float32(-1.0), terminal


_step_many = jax.jit(jax.vmap(step))
_observe_many = jax.jit(jax.vmap(observe))


def walls_at(*cells: tuple[int, int]) -> np.ndarray:
    walls = np.zeros((SIZE, SIZE), bool)
    for cell in cells:
        walls[cell] = True
    return walls


def basic_layouts() -> list[np.ndarray]:
    """One wall on each of the 8 non-goal cells, row-major order."""
    cells = [(r, c) for r in range(SIZE) for c in range(SIZE) if (r, c) != GOAL]
    return [walls_at(cell) for cell in cells]


def evaluation_layouts() -> dict[str, np.ndarray]:
    """E1 and E2 (E1 transposed), each leaving a single corridor to the goal."""
    return {"E1": walls_at((1, 0), (1, 1)), "E2": walls_at((0, 1), (1, 1))}


def far_cell(walls: np.ndarray) -> tuple[int, int]:
    """The open cell farthest from the goal along the corridor: (2,0) in E1, (0,2) in E2."""
    distances = shortest_distances(walls)
    return max(distances, key=distances.get)


def open_cells(walls: np.ndarray) -> list[tuple[int, int]]:
    """The cells a transition may start from: open and not the goal, row-major order."""
    return [(r, c) for r in range(SIZE) for c in range(SIZE) if not walls[r, c] and (r, c) != GOAL]


def states_at(walls: np.ndarray, cells: list[tuple[int, int]]) -> GridWorldState:
    """A batch of states: the agent on each of `cells` in one layout."""
    agents = jnp.array(cells, jnp.int32).reshape(-1, 2)
    return GridWorldState(agents, jnp.broadcast_to(jnp.asarray(walls), (len(cells), SIZE, SIZE)))


def cell_observations(walls: np.ndarray) -> np.ndarray:
    """(len(open_cells), 36) observations of the agent on each open non-goal cell, in the
    order of `open_cells`: the inputs whose greedy actions the Figure 1 metric reads."""
    return np.asarray(_observe_many(states_at(walls, open_cells(walls))))


def transitions(walls: np.ndarray, pairs: list[tuple[tuple[int, int], int]]) -> Transitions:
    """The transitions of one layout from the given (start cell, action) pairs."""
    if not pairs:
        return empty_transitions()
    states = states_at(walls, [cell for cell, _ in pairs])
    actions = jnp.array([action for _, action in pairs], jnp.int32)
    _, next_obs, reward, terminal = _step_many(states, actions)
    return Transitions(
        obs=np.asarray(_observe_many(states)),
        action=np.asarray(actions),
        reward=np.asarray(reward),
        terminal=np.asarray(terminal),
        next_obs=np.asarray(next_obs),
    )


def empty_transitions() -> Transitions:
    return Transitions(
        obs=np.zeros((0, OBS_SIZE), bool),
        action=np.zeros(0, np.int32),
        reward=np.zeros(0, np.float32),
        terminal=np.zeros(0, bool),
        next_obs=np.zeros((0, OBS_SIZE), bool),
    )


def concatenate(parts: list[Transitions]) -> Transitions:
    return Transitions(*(np.concatenate(field) for field in zip(empty_transitions(), *parts)))


def all_pairs(walls: np.ndarray) -> list[tuple[tuple[int, int], int]]:
    return [(cell, action) for cell in open_cells(walls) for action in range(NUM_ACTIONS)]


def next_cells(walls: np.ndarray) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """The true dynamics as a table: start cell -> the cell each action leads to."""
    pairs = all_pairs(walls)
    landing = transitions(walls, pairs).next_obs[:, : SIZE * SIZE].argmax(axis=1)
    table = {cell: [] for cell in open_cells(walls)}
    for (cell, _), index in zip(pairs, landing):
        table[cell].append(divmod(int(index), SIZE))
    return table


def action_values(walls: np.ndarray, discount: float) -> dict[tuple[int, int], np.ndarray]:
    """Q*(cell, action) by value iteration on the true dynamics; entering the goal ends it.

    With discount 1 this is minus the shortest number of steps to the goal; with discount
    0.9 it is a monotone function of that number, so both pick the same actions.
    """
    table = next_cells(walls)
    values = {cell: 0.0 for cell in table} | {GOAL: 0.0}
    # Every cell reaches the goal within 8 steps, so 100 sweeps are far past convergence.
    for _ in range(100):
        q = {
            cell: np.array([-1.0 + discount * values[nxt] for nxt in targets])
            for cell, targets in table.items()
        }
        values = {cell: q[cell].max() for cell in table} | {GOAL: 0.0}
    return q


def optimal_actions(walls: np.ndarray, discount: float = 0.9) -> dict[tuple[int, int], frozenset]:
    """For each open non-goal cell, every action whose optimal value ties the best."""
    return {
        cell: frozenset(np.flatnonzero(np.isclose(q, q.max())).tolist())
        for cell, q in action_values(walls, discount).items()
    }


def shortest_distances(walls: np.ndarray) -> dict[tuple[int, int], int]:
    """Steps to the goal from each open non-goal cell (undiscounted value iteration)."""
    return {cell: round(-q.max()) for cell, q in action_values(walls, 1.0).items()}


def basic_set() -> Transitions:
    """Every (open non-goal cell, action) of every one-wall layout: 8 x 7 x 5 = 280."""
    return concatenate([transitions(walls, all_pairs(walls)) for walls in basic_layouts()])


def evaluation_set(coverage: str) -> Transitions:
    """The evaluation-layout transitions that the coverage level adds to the basic set."""
    if coverage not in COVERAGES:
        raise ValueError(f"coverage must be one of {', '.join(COVERAGES)}; got {coverage!r}.")
    parts = []
    for walls in evaluation_layouts().values():
        if coverage == "all_evaluation":
            pairs = all_pairs(walls)
        elif coverage == "path_to_goal":
            best = optimal_actions(walls)
            pairs = [(cell, action) for cell in open_cells(walls) for action in sorted(best[cell])]
        elif coverage == "single_cell":
            pairs = [(far_cell(walls), action) for action in range(NUM_ACTIONS)]
        else:
            pairs = []
        parts.append(transitions(walls, pairs))
    return concatenate(parts)


def dataset(coverage: str) -> Transitions:
    """The offline dataset of a coverage level: the basic set plus its evaluation data."""
    return concatenate([basic_set(), evaluation_set(coverage)])


# ----------------------------------------------------------------------------- variants
# Issue 13: the same variants as ProcMaze's (envs/procmaze.py), appended to every observation
# of the datasets and probes: GPS bits (the first moves of the shortest paths to the goal)
# and distractor bits (neither reward nor the grid's dynamics depend on them).


@dataclass(frozen=True)
class Variant:
    """What the offline experiment appends to each 36-bit observation (`offline.gps`,
    `offline.distractors`, `offline.distractor_kind`). The default appends nothing.

    gps: 4 bits (up, left, down, right), on for every move that starts a shortest path to the
    goal (a one-wall layout can have two; the evaluation corridors have one; none on the
    goal). distractors: D bits, "iid" (fresh fair coins in obs and next_obs) or "counter"
    (a D-bit register, random in obs and one more in next_obs). The distractor bits of a
    dataset and of the probes are drawn once, from `seed` (numpy), so every agent and
    learner sees the same data."""

    gps: bool = False
    distractors: int = 0
    distractor_kind: str = "iid"
    seed: int = 0

    def __post_init__(self):
        checks.boolean("offline.gps", self.gps)
        checks.integer_at_least("offline.distractors", self.distractors, 0)
        checks.one_of("offline.distractor_kind", self.distractor_kind, DISTRACTOR_KINDS)

    @property
    def obs_size(self) -> int:
        return OBS_SIZE + 4 * self.gps + self.distractors

    def gps_bits(self, obs: np.ndarray) -> np.ndarray:
        """(N, 4) GPS bits of (N, 36) plain observations (envs/variants.py, as ProcMaze's)."""
        return np.asarray(grid_gps_bits(jnp.asarray(obs, bool)))

    def distractor_bits(self, rng: np.random.Generator, count: int):
        """(now, next): two (count, D) bool arrays."""
        d = self.distractors
        if self.distractor_kind == "counter":
            value = rng.integers(0, 2**d, count, dtype=np.int64)
            as_bits = lambda v: ((v[:, None] >> np.arange(d)) & 1).astype(bool)  # noqa: E731
            now = as_bits(value)
            return now, np.asarray(jax.vmap(variants.increment)(jnp.asarray(now)))
        return rng.random((count, d)) < 0.5, rng.random((count, d)) < 0.5

    def observations(self, obs: np.ndarray, stream: int) -> np.ndarray:
        """Plain observations (probes) with the variant's bits appended."""
        now, _ = self.distractor_bits(np.random.default_rng([self.seed, stream]), len(obs))
        return np.concatenate([obs, *self._gps(obs), now], axis=1)

    def transitions(self, data: Transitions, stream: int) -> Transitions:
        """A plain dataset with the variant's bits appended to obs and next_obs."""
        rng = np.random.default_rng([self.seed, stream])
        now, after = self.distractor_bits(rng, len(data.action))
        return data._replace(
            obs=np.concatenate([data.obs, *self._gps(data.obs), now], axis=1),
            next_obs=np.concatenate([data.next_obs, *self._gps(data.next_obs), after], axis=1),
        )

    def _gps(self, obs):
        return [self.gps_bits(obs)] if self.gps else []


@jax.jit
@jax.vmap
def grid_gps_bits(obs: jax.Array) -> jax.Array:
    """The GPS bits of one plain 36-bit observation: the agent block and the wall block."""
    cells = SIZE * SIZE
    agent = jnp.array(divmod(jnp.argmax(obs[:cells]), SIZE))
    walls = obs[2 * cells : 3 * cells].reshape(SIZE, SIZE)
    return variants.gps_bits(variants.goal_distances(walls, jnp.array(GOAL)), agent)
