"""Whole-run checkpoints: the batched runner state (parameters, optimizer, replay buffer,
environment states, keys) with the metrics so far and the next interval, written atomically.

A resumed run continues the same compiled program from the same state, so its final
metrics are bit-identical to an uninterrupted run.
"""

import io
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from experiments import results

FILE = "checkpoint.npz"


class MismatchError(ValueError):
    pass


def _is_key(x) -> bool:
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def to_arrays(tree) -> dict[str, np.ndarray]:
    """A pytree's leaves as named host arrays (`leaf<i>`); PRNG keys as their raw data."""
    leaves = jax.tree.leaves(jax.device_get(tree))
    return {
        f"leaf{i}": np.asarray(jax.random.key_data(x)) if _is_key(x) else np.asarray(x)
        for i, x in enumerate(leaves)
    }


def from_arrays(saved, template):
    """The inverse of `to_arrays`: `saved[leaf<i>]` shaped and typed like `template`."""
    template_leaves, treedef = jax.tree.flatten(template)
    leaves = [
        jax.random.wrap_key_data(saved[f"leaf{i}"], impl=jax.random.key_impl(like))
        if _is_key(like)
        else jax.numpy.asarray(saved[f"leaf{i}"], like.dtype)
        for i, like in enumerate(template_leaves)
    ]
    return jax.tree.unflatten(treedef, leaves)


def write_npz(path: Path, **arrays) -> None:
    """np.savez to `path` atomically."""

    def write(tmp):
        with open(tmp, "wb") as f:  # a file object: given a name, np.savez appends ".npz"
            np.savez(f, **arrays)

    results.atomic_write(Path(path), write)


def save(path: Path, runner, next_interval: int, metrics: pd.DataFrame, fingerprint: str):
    table = io.BytesIO()
    metrics.to_parquet(table, index=False)
    write_npz(
        path,
        next_interval=next_interval,
        fingerprint=fingerprint,
        metrics=np.frombuffer(table.getvalue(), np.uint8),
        **to_arrays(runner),
    )


def fingerprint(path: Path) -> str | None:
    """The configuration fingerprint a checkpoint was written with, or None."""
    if not Path(path).exists():
        return None
    with np.load(path) as saved:
        return str(saved["fingerprint"])


def load(path: Path, template, fingerprint: str):
    """(runner, next_interval, metrics) from `path`, shaped like `template`; None when there
    is no checkpoint. A checkpoint of a different configuration is an error."""
    path = Path(path)
    if not path.exists():
        return None
    with np.load(path) as saved:
        if str(saved["fingerprint"]) != fingerprint:
            raise MismatchError(
                f"{path} was written by a different configuration; "
                "remove it or choose another results directory."
            )
        metrics = pd.read_parquet(io.BytesIO(saved["metrics"].tobytes()))
        runner = from_arrays(saved, template)
        return runner, int(saved["next_interval"]), metrics
