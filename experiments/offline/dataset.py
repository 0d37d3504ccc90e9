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


# The numpy streams of a variant's distractor bits (gw.Variant): one per kind of data.
DATASET_STREAM, PROBE_STREAM, EVALUATION_STREAM = range(3)


def training_set(coverage: str, variant: gw.Variant = gw.Variant()) -> gw.Transitions:
    """The dataset of `coverage` with the variant's bits (none by default)."""
    plain = gw.dataset(coverage)
    return variant.transitions(plain, DATASET_STREAM) if variant != gw.Variant() else plain


def evaluation_observations(variant: gw.Variant = gw.Variant()) -> np.ndarray:
    """(2 layouts, 6 cells, obs size): the agent on each open non-goal cell of E1 and E2, in
    the order of `gw.open_cells`, with the variant's bits."""
    plain = np.concatenate([gw.cell_observations(w) for w in gw.evaluation_layouts().values()])
    if variant != gw.Variant():
        plain = variant.observations(plain, PROBE_STREAM)
    return plain.reshape(len(gw.evaluation_layouts()), -1, plain.shape[-1])


def evaluation_transitions(variant: gw.Variant = gw.Variant()) -> gw.Transitions:
    """Every (cell, action) of both evaluation layouts, layout-major, in `all_pairs` order,
    with the variant's bits."""
    layouts = gw.evaluation_layouts().values()
    plain = gw.concatenate([gw.transitions(w, gw.all_pairs(w)) for w in layouts])
    return variant.transitions(plain, EVALUATION_STREAM) if variant != gw.Variant() else plain
