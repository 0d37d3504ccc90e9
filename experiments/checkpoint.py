"""Whole-run checkpoints: the batched runner state (parameters, optimizer, replay buffer,
environment states, keys) with the metrics so far and the next interval, written atomically.

A resumed run continues the same compiled program from the same state, so its final
metrics are bit-identical to an uninterrupted run.
"""

import io
import os
import sys
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


def write_npz(path: Path, keep: Path | None = None, **arrays) -> None:
    """np.savez to `path` atomically, on disk before it replaces the old file (moved to
    `keep` when given)."""

    def write(tmp):
        with open(tmp, "wb") as f:  # a file object: given a name, np.savez appends ".npz"
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())

    results.atomic_write(Path(path), write, keep)


def previous(path: Path) -> Path:
    """Where the checkpoint before the one at `path` stays until that one is whole."""
    path = Path(path)
    return path.with_name(f"{path.stem}.previous{path.suffix}")


def paths(path: Path) -> tuple[Path, Path]:
    """The checkpoint at `path` and the one before it, newest first."""
    return Path(path), previous(path)


def save(path: Path, runner, next_interval: int, metrics: pd.DataFrame, fingerprint: str):
    table = io.BytesIO()
    metrics.to_parquet(table, index=False)
    write_npz(
        path,
        keep=previous(path),
        next_interval=next_interval,
        fingerprint=fingerprint,
        metrics=np.frombuffer(table.getvalue(), np.uint8),
        **to_arrays(runner),
    )


def fingerprint(path: Path) -> str | None:
    """The configuration fingerprint a checkpoint was written with; None when there is no
    checkpoint at `path` or it cannot be read (load says so)."""
    try:
        with np.load(path) as saved:
            return str(saved["fingerprint"])
    except Exception:  # missing or damaged: anything np.load can raise
        return None


def load(path: Path, template, fingerprint: str, report=None):
    """(runner, next_interval, metrics) from the newest checkpoint at `path` that can be read
    (the one at `path`, else the one before it), shaped like `template`; None when there is
    none. A checkpoint that cannot be read is reported in one sentence, with where the run
    goes on from, and removed. A checkpoint of a different configuration is an error."""
    report = report or (lambda message: print(message, file=sys.stderr))
    candidates = [p for p in paths(path) if p.exists()]
    for i, candidate in enumerate(candidates):
        try:
            return _read(candidate, template, fingerprint)
        except MismatchError:
            raise
        except Exception as error:  # a damaged file: anything np.load or parquet can raise
            later = candidates[i + 1 :]
            then = f"resumes from {later[0]}" if later else "starts over from step 0"
            report(
                f"checkpoint {candidate} cannot be read ({_reason(error)}), so it is removed "
                f"and the run {then}."
            )
            candidate.unlink()
    return None


def _reason(error: Exception) -> str:
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _read(path: Path, template, fingerprint: str):
    with np.load(path) as saved:
        if str(saved["fingerprint"]) != fingerprint:
            raise MismatchError(
                f"{path} was written by a different configuration; "
                "remove it or choose another results directory."
            )
        metrics = pd.read_parquet(io.BytesIO(saved["metrics"].tobytes()))
        check_shapes(saved, template)
        runner = from_arrays(saved, template)
        return runner, int(saved["next_interval"]), metrics


def check_shapes(saved, template) -> None:
    """Every saved leaf has its template's shape (a damaged file may not)."""
    for i, like in enumerate(jax.tree.leaves(template)):
        data = jax.random.key_data(like) if _is_key(like) else like
        if saved[f"leaf{i}"].shape != data.shape:
            raise ValueError(f"leaf{i} has shape {saved[f'leaf{i}'].shape}, not {data.shape}")
