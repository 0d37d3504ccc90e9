"""Prioritized replay (Schaul et al. 2016), the neural form of prioritized sweeping, as a
replay variant (agents.replay.Buffer): draw transition i with probability
P(i) = p_i / sum_j p_j where p_i = (|delta_i| + EPSILON)^alpha is its last TD error's
magnitude raised to the priority exponent alpha; a new transition enters at the largest
priority given so far, so it is drawn soon. The importance weights w_i = (N P(i))^-beta,
divided by the largest weight of the batch, undo the bias of the non-uniform draw when
beta = 1 (beta is fixed, not annealed). The buffer's `sample` gives the items, their slots
and weights; `set_priorities(slots, TD errors)` gives the drawn slots their new priorities
(agents.dyna: a start's is the TD error of the first transition replayed or imagined from it).

The priorities are one float32 per buffer slot in the buffer's record (the packed
transitions are untouched) and a draw inverts their cumulative sum (searchsorted): exact, a
pure function that vmaps over seeds, and O(capacity) per draw, which at the paper's capacity
of 100000 is small beside a Q update of 320 transitions through a 200x200x200 network. A
sum-tree would make the draw O(log capacity) but needs a loop of scatter-adds per update
under vmap.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents import replay
from envs import checks

EPSILON = 1e-6  # so that a transition with TD error 0 can still be drawn


class Priorities(NamedTuple):
    value: jax.Array  # (capacity,) p_i = (|delta_i| + EPSILON)^alpha; 0 in an empty slot
    maximum: jax.Array  # the largest p_i given so far: a new transition's priority


def init(capacity: int) -> Priorities:
    return Priorities(jnp.zeros(capacity, jnp.float32), jnp.ones((), jnp.float32))


def add(priorities: Priorities, cursor: jax.Array) -> Priorities:
    """The transition being written at `cursor` gets the largest priority so far."""
    return priorities._replace(value=priorities.value.at[cursor].set(priorities.maximum))


def sample(
    priorities: Priorities, size: jax.Array, key: jax.Array, n: int, importance: float
) -> tuple[jax.Array, jax.Array]:
    """`n` slots drawn with replacement with probability P(i), and their importance weights
    (N P(i))^-importance / max over the batch (N = `size`, the filled slots)."""
    cumulative = jnp.cumsum(priorities.value)
    total = cumulative[-1]
    u = jax.random.uniform(key, (n,)) * total
    index = jnp.clip(jnp.searchsorted(cumulative, u, side="right"), 0, size - 1)
    p = priorities.value[index] / total
    weight = (size * p) ** -importance
    return index, weight / weight.max()


def update(
    priorities: Priorities, index: jax.Array, td_error: jax.Array, exponent: float
) -> Priorities:
    """Slots `index` get p = (|td_error| + EPSILON)^exponent (one error per slot; a slot
    given twice keeps one of its two errors)."""
    p = (jnp.abs(td_error) + EPSILON) ** exponent
    return priorities._replace(
        value=priorities.value.at[index].set(p),
        maximum=jnp.maximum(priorities.maximum, p.max()),
    )


def prioritized(exponent: float, importance: float) -> replay.Buffer:
    """The prioritized buffer of priority exponent alpha and importance exponent beta."""

    def start(example, capacity: int) -> replay.Replay:
        return replay.init(example, capacity)._replace(priorities=init(capacity))

    def keep(kept: replay.Replay, item) -> replay.Replay:
        return replay.add(kept._replace(priorities=add(kept.priorities, kept.cursor)), item)

    def draw(kept: replay.Replay, key: jax.Array, n: int) -> replay.Sample:
        index, weight = sample(kept.priorities, kept.size, key, n, importance)
        return replay.Sample(replay.take(kept, index), index, weight)

    def set_priorities(kept: replay.Replay, index: jax.Array, td_error: jax.Array):
        return kept._replace(priorities=update(kept.priorities, index, td_error, exponent))

    return replay.Buffer(start, keep, draw, set_priorities, prioritized=True)


def buffer(priority_exponent: float, importance_exponent: float) -> replay.Buffer:
    """An agent's buffer from its settings: uniform (`agent.priority_exponent` 0, the
    default and the paper's), else prioritized (`agent.importance_exponent` is beta)."""
    checks.number_at_least("agent.priority_exponent", priority_exponent, 0)
    checks.number_in("agent.importance_exponent", importance_exponent, 0, 1)
    if priority_exponent == 0:
        return replay.UNIFORM
    return prioritized(float(priority_exponent), float(importance_exponent))
