"""Prioritized sampling of a replay buffer (Schaul et al. 2016), the neural form of
prioritized sweeping: draw transition i with probability P(i) = p_i / sum_j p_j where
p_i = (|delta_i| + EPSILON)^alpha is its last TD error's magnitude raised to the priority
exponent alpha; a new transition enters at the largest priority given so far, so it is
drawn soon. The importance weights w_i = (N P(i))^-beta, divided by the largest weight of
the batch, undo the bias of the non-uniform draw when beta = 1 (beta is fixed, not annealed).

The priorities are one float32 per buffer slot beside the buffer (the packed transitions are
untouched) and a draw inverts their cumulative sum (searchsorted): exact, a pure function
that vmaps over seeds, and O(capacity) per draw, which at the paper's capacity of 100000 is
small beside a Q update of 320 transitions through a 200x200x200 network. A sum-tree would
make the draw O(log capacity) but needs a loop of scatter-adds per update under vmap.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from envs import checks

EPSILON = 1e-6  # so that a transition with TD error 0 can still be drawn


class Prioritized(NamedTuple):
    """The settings: alpha (`agent.priority_exponent`; 0 = uniform, the default, which keeps
    no priorities at all) and beta (`agent.importance_exponent`)."""

    exponent: float
    importance: float


def settings(priority_exponent: float, importance_exponent: float) -> Prioritized:
    checks.number_at_least("agent.priority_exponent", priority_exponent, 0)
    checks.number_in("agent.importance_exponent", importance_exponent, 0, 1)
    return Prioritized(float(priority_exponent), float(importance_exponent))


class Priorities(NamedTuple):
    value: jax.Array  # (capacity,) p_i = (|delta_i| + EPSILON)^alpha; 0 in an empty slot
    maximum: jax.Array  # the largest p_i given so far: a new transition's priority
    last: jax.Array  # (draws,) the slots of the latest draw, whose TD errors come next


def init(capacity: int, draws: int) -> Priorities:
    return Priorities(
        jnp.zeros(capacity, jnp.float32), jnp.ones((), jnp.float32), jnp.zeros(draws, jnp.int32)
    )


def add(priorities: Priorities, cursor: jax.Array) -> Priorities:
    """The transition being written at `cursor` gets the largest priority so far."""
    return priorities._replace(value=priorities.value.at[cursor].set(priorities.maximum))


def probabilities(priorities: Priorities) -> jax.Array:
    return priorities.value / priorities.value.sum()


def sample(
    priorities: Priorities, size: jax.Array, key: jax.Array, n: int, importance: float
) -> tuple[Priorities, jax.Array, jax.Array]:
    """`n` slots drawn with replacement with probability P(i), their importance weights
    (N P(i))^-importance / max over the batch (N = `size`, the filled slots), and the
    priorities with the draw remembered for `update`."""
    cumulative = jnp.cumsum(priorities.value)
    total = cumulative[-1]
    u = jax.random.uniform(key, (n,)) * total
    index = jnp.clip(jnp.searchsorted(cumulative, u, side="right"), 0, size - 1)
    p = priorities.value[index] / total
    weight = (size * p) ** -importance
    return priorities._replace(last=index.astype(jnp.int32)), index, weight / weight.max()


def update(priorities: Priorities, td_error: jax.Array, exponent: float) -> Priorities:
    """The slots of the latest draw get p = (|td_error| + EPSILON)^exponent (one error per
    drawn slot; a slot drawn twice keeps one of its two errors)."""
    p = (jnp.abs(td_error) + EPSILON) ** exponent
    return priorities._replace(
        value=priorities.value.at[priorities.last].set(p),
        maximum=jnp.maximum(priorities.maximum, p.max()),
    )


def active(prioritized) -> bool:
    """Whether sampling is prioritized: settings given with a positive exponent."""
    return prioritized is not None and prioritized.exponent > 0
