"""Whole-run checkpoints: the batched runner state (parameters, optimizer, replay buffer,
environment states, keys) with the metrics so far and the next interval, written atomically.

A resumed run continues the same compiled program from the same state, so its final
metrics are bit-identical to an uninterrupted run.
"""

import io
import os
import tempfile
from pathlib import Path

import jax
import numpy as np
import pandas as pd

FILE = "checkpoint.npz"


class MismatchError(ValueError):
    pass


def _is_key(x) -> bool:
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def save(path: Path, runner, next_interval: int, metrics: pd.DataFrame, fingerprint: str):
    leaves = [
        np.asarray(jax.random.key_data(x)) if _is_key(x) else np.asarray(x)
        for x in jax.tree.leaves(jax.device_get(runner))
    ]
    table = io.BytesIO()
    metrics.to_parquet(table, index=False)
    arrays = {f"leaf{i}": leaf for i, leaf in enumerate(leaves)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez(
                f,
                next_interval=next_interval,
                fingerprint=fingerprint,
                metrics=np.frombuffer(table.getvalue(), np.uint8),
                **arrays,
            )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


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
        template_leaves, treedef = jax.tree.flatten(template)
        leaves = []
        for i, like in enumerate(template_leaves):
            value = saved[f"leaf{i}"]
            leaves.append(
                jax.random.wrap_key_data(value, impl=jax.random.key_impl(like))
                if _is_key(like)
                else jax.numpy.asarray(value, like.dtype)
            )
        metrics = pd.read_parquet(io.BytesIO(saved["metrics"].tobytes()))
        return jax.tree.unflatten(treedef, leaves), int(saved["next_interval"]), metrics
