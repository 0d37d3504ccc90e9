"""The host side of a run: compile once, advance one evaluation interval at a time, show
progress, and collect the metrics as a tidy table."""

import sys
import time
from pathlib import Path
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from agents import dqn
from experiments import checkpoint, saved_models
from experiments.online import Regime, make_train


def member_keys(seed: int, num_seeds: int) -> jax.Array:
    """Seed i of a run is fold_in(key(seed), i): the same i gets the same key in every
    setting of a grid search (common random numbers)."""
    base = jax.random.key(seed)
    return jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.arange(num_seeds))


class Program(NamedTuple):
    """A run compiled for a batch of `width` members: the jitted batched `init` and the
    compiled `interval` (one evaluation interval of every member)."""

    init: Callable
    interval: Callable
    width: int


# Members vmapped together on a CPU. In one wide vmap the activations of a Q update
# (members x 320 x 200 floats per layer) outgrow the cache and per-member throughput falls
# (ProcMaze-4, 330 members: ER 78-81%, simple model 63% of its rate at 30); in blocks of 30
# run one after another in the same program it stays at 107% and 101% (scripts/benchmark.py).
CPU_BLOCK = 30


def default_block() -> int:
    """Members per vmapped block: CPU_BLOCK on a CPU; an accelerator takes the whole width."""
    return CPU_BLOCK if jax.default_backend() == "cpu" else 0


def compile_program(env, agent, regime: Regime, width: int, block: int | None = None) -> Program:
    """One compiled program for `width` members. They are vmapped in blocks of `block` (None:
    `default_block()`; 0: all at once) that `lax.map` runs in sequence. Blocking changes
    the schedule, not the arithmetic of a member."""
    init, run_interval = make_train(env, agent, regime)
    init = jax.jit(jax.vmap(init))
    hyper = dqn.Hyper(jnp.ones(width), jnp.ones(width))
    runner = jax.eval_shape(init, member_keys(0, width), hyper)  # shapes only, no memory
    block = default_block() if block is None else block
    if 0 < block < width:

        def batched(runner, t):
            return jax.lax.map(lambda member: run_interval(member, t), runner, batch_size=block)

    else:
        batched = jax.vmap(run_interval, in_axes=(0, None))
    interval = jax.jit(batched, donate_argnums=0)
    return Program(init, interval.lower(runner, jnp.int32(0)).compile(), width)


def memory_bytes(program: Program) -> int:
    """Device memory one interval call needs, from XLA's compiled memory analysis."""
    m = program.interval.memory_analysis()
    used = m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes
    return used - m.alias_size_in_bytes


def run_online(
    env,
    agent,
    regime: Regime,
    hyper: dqn.Hyper,
    keys: jax.Array,
    progress: bool = True,
    description: str = "",
    checkpoint_path: Path | None = None,
    checkpoint_every: int = 0,
    fingerprint: str = "",
    program: Program | None = None,
    save_at: tuple[int, ...] = (),
    run_dir: Path | None = None,
    model_file: Path | None = None,
) -> pd.DataFrame:
    """Train len(keys) members in one batched program; one row per member x evaluation.

    With a checkpoint path, the run state is saved every `checkpoint_every` intervals and a
    run that finds a checkpoint of the same configuration (`fingerprint`) resumes from it.
    A `program` compiled earlier for this width is reused. At each env step in `save_at`
    (multiples of the evaluation interval) the agent states without their replay buffers
    are written to `run_dir`/models/step_<t>.npz (experiments/saved_models.py); with a
    `model_file` (one of those), every member starts from the model saved there.
    """
    if program is None:
        start = time.perf_counter()
        program = compile_program(env, agent, regime, len(keys))
        if progress:
            print(f"compiled in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    runner = program.init(keys, hyper)
    if model_file is not None:
        runner = runner._replace(agent=saved_models.load_model(model_file, runner.agent))
    first, done = 0, pd.DataFrame()
    if checkpoint_path is not None:
        resumed = checkpoint.load(checkpoint_path, runner, fingerprint)
        if resumed is not None:
            runner, first, done = resumed
            if progress:
                step = first * regime.eval_interval
                print(f"resuming from {checkpoint_path} at step {step}", file=sys.stderr)
    compiled = program.interval

    num_intervals = -(-regime.total_steps // regime.eval_interval)
    columns: dict[str, list] = {}
    bar = tqdm(
        total=num_intervals * regime.eval_interval,
        unit="step",
        disable=not progress,
        desc=description,
        file=sys.stderr,
        unit_scale=True,
        initial=first * regime.eval_interval,
    )
    for i in range(first, num_intervals):
        runner, metrics = compiled(runner, jnp.int32(i * regime.eval_interval))
        metrics = jax.device_get(metrics)
        columns.setdefault("member", []).append(np.arange(len(keys)))
        columns.setdefault("step", []).append(np.full(len(keys), (i + 1) * regime.eval_interval))
        for name, value in metrics.items():
            columns.setdefault(name, []).append(np.asarray(value))
        step = (i + 1) * regime.eval_interval
        if step in save_at:
            saved_models.save_agent_state(saved_models.path_for(run_dir, step), runner.agent, step)
        bar.update(regime.eval_interval)
        bar.set_postfix(
            score=f"{np.nanmean(np.where(metrics['diverged'], np.nan, metrics['score'])):.3g}"
        )
        if checkpoint_path is not None and checkpoint_every and (i + 1) % checkpoint_every == 0:
            checkpoint.save(checkpoint_path, runner, i + 1, _table(done, columns), fingerprint)
    bar.close()
    return _table(done, columns)


def _table(done: pd.DataFrame, columns: dict) -> pd.DataFrame:
    new = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    return pd.concat([done, new], ignore_index=True) if len(done) else new
