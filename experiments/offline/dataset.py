"""The data of the offline grid world: each coverage level's dataset as a replay buffer (so
that the one sampler, agents/replay.py's `sample`, draws from it) and the evaluation-layout
cells and transitions the agents and the model are probed on."""

import jax
import jax.numpy as jnp
import numpy as np

from agents.replay import Replay
from envs import gridworld as gw

# The largest dataset: the basic set plus all of both evaluation layouts.
CAPACITY = 280 + 2 * 6 * gw.NUM_ACTIONS


def as_replay(data: gw.Transitions, capacity: int = CAPACITY) -> Replay:
    """`data` as a full replay buffer of `capacity` rows: padded with zeros, so that one
    compiled program serves every coverage level; sampling reaches only the `size` real rows."""
    size = len(data.action)
    if size > capacity:
        raise ValueError(f"a dataset of {size} transitions does not fit {capacity} rows.")
    rows = jax.tree.map(
        lambda x: jnp.asarray(
            np.concatenate([x, np.zeros((capacity - size, *x.shape[1:]), x.dtype)])
        ),
        data,
    )
    return Replay(gw.Transitions(*rows), jnp.int32(size), jnp.int32(size % capacity))


def evaluation_observations() -> np.ndarray:
    """(2 layouts, 6 cells, 36): the agent on each open non-goal cell of E1 and E2, in the
    order of `gw.open_cells`."""
    return np.stack([gw.cell_observations(w) for w in gw.evaluation_layouts().values()])


def evaluation_transitions() -> gw.Transitions:
    """Every (cell, action) of both evaluation layouts, layout-major, in `all_pairs` order."""
    layouts = gw.evaluation_layouts().values()
    return gw.concatenate([gw.transitions(w, gw.all_pairs(w)) for w in layouts])
