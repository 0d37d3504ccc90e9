"""The host side of a run: compile once, then advance the compiled program one call at a time
(an evaluation interval online, a chunk of updates offline), calling hooks after each call.

`advance` is the one host loop; `run_online` is it over an online run's intervals, with the
metrics as a tidy table (one row per member x evaluation).

A hook is any callable `hook(step, state, metrics) -> None`, called after every call:
    step     the step count the call ended on (env steps online, updates offline);
    state    the state after the call (online: the batched Runner); read it before
             returning, since the next call donates its buffers;
    metrics  that call's metrics as host numpy arrays, leading axis the members.
experiments/hooks.py holds the ones a run uses: the progress bar, checkpoints, saved models
(`save_at`), and `on_interval(fn)`, which turns `fn(step, metrics)` into a hook (experiment
tracking). Hooks run in the order given.
"""

from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.sharding import PartitionSpec as P

from agents import dqn
from envs import checks
from experiments.errors import ConfigError
from experiments.online import BRANCHES, Runner, Speed, make_train
from experiments.settings import Regime

Hook = Callable[[int, Any, dict], None]


def member_keys(seed: int, num_seeds: int) -> jax.Array:
    """Seed i of a run is fold_in(key(seed), i): the same i gets the same key in every
    setting of a grid search (common random numbers)."""
    base = jax.random.key(seed)
    return jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.arange(num_seeds))


class Program(NamedTuple):
    """An online run compiled for a batch of `width` members: the jitted batched `init` and
    the compiled `interval` (one evaluation interval of every member) of `regime`. Both keep
    the members split over `devices` (leading axis)."""

    init: Callable
    interval: Callable
    width: int
    regime: Regime
    devices: int


# Members vmapped together on a CPU. A Q update's activations are members x 320 x 200 floats
# per layer (256 KB a member), and its backward pass keeps every layer's: in blocks of 3
# (768 KB a layer) they stay nearer a core's L2 cache (2 MiB a core on the Xeons measured,
# lscpu). Blocks of 5 were 1.1x faster than 15 on one Xeon (2026-12-03), and blocks of 3
# 1.08-1.14x faster than 5 on another (2026-12-05; ER, the simple model, the categorical
# latent; docs/speed.md). In one wide vmap of 330 members per-member throughput
# fell to 78-81% (ER) and 63% (simple model) of its rate at 30; blocks of 30 kept it there
# (smaller blocks not yet timed at 330).
CPU_BLOCK = 3

MEMBERS = "members"  # the mesh axis the members are split along


def default_block() -> int:
    """Members per vmapped block: CPU_BLOCK on a CPU; an accelerator takes the whole width."""
    return CPU_BLOCK if jax.default_backend() == "cpu" else 0


def member_devices(width: int, devices=None) -> list:
    """The devices `width` members are split over, evenly (leading axis). On accelerators
    every local device, and a width they do not divide is refused (ConfigError): padding it
    would put members nobody asked for into checkpoints, saved models and trackers, with
    shapes that depend on the machine. On a CPU, whose devices are its cores
    (experiments/cores.py), the most of them that divide `width`. How many members share a
    device can move the last bits of some matrix products, as the block size can
    (docs/speed.md); a given command on a given machine is deterministic."""
    devices = jax.devices() if devices is None else devices
    if devices[0].platform == "cpu":
        return devices[: max(d for d in range(1, len(devices) + 1) if width % d == 0)]
    if width % len(devices):
        raise ConfigError(
            f"{width} members do not split evenly over the {len(devices)} local devices; give "
            f"a multiple of {len(devices)} seeds (scale.num_seeds), or make visible a number "
            f"of devices that divides {width} (CUDA_VISIBLE_DEVICES)."
        )
    return devices


def speed_settings(settings) -> Speed:
    """The `speed` config group (configs/speed/) as a Speed, every value checked (ConfigError
    naming the key)."""
    settings = dict(settings or {})
    unknown = sorted(settings.keys() - set(Speed._fields))
    if unknown:
        raise ConfigError(
            f"speed.{unknown[0]} is not a setting; the settings of speed are "
            f"{', '.join(Speed._fields)}."
        )
    speed = Speed(**settings)
    try:
        checks.positive_int("speed.scan_unroll", speed.scan_unroll)
        checks.one_of("speed.branches", speed.branches, BRANCHES)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return speed


def compile_program(
    env,
    agent,
    regime: Regime,
    width: int,
    block: int | None = None,
    compiler_options=None,
    speed: Speed = Speed(),
) -> Program:
    """One compiled program for `width` members, split evenly over the local devices (a mesh
    over `member_devices(width)`). Each device vmaps its share in blocks of `block`
    (None: `default_block()`; 0: all at once) that `lax.map` runs in sequence. Sharding and
    blocking change the schedule; the number of members vmapped together can move the last
    bits of a member's matrix products (the latent agents' at golden.py's sizes, ER's too
    at the paper's networks; docs/speed.md).
    `compiler_options` go to XLA for both programs (the tests skip its backend
    optimizations, since their runs are short and compiling is what costs). `speed` chooses
    how the interval's loop is built (experiments/online.py), never what it computes."""
    mesh = jax.sharding.Mesh(member_devices(width), (MEMBERS,))
    members = jax.sharding.NamedSharding(mesh, P(MEMBERS))
    init, run_interval = make_train(env, agent, regime, speed)
    init = jax.jit(jax.vmap(init), out_shardings=members, compiler_options=compiler_options)
    hyper = dqn.Hyper(jnp.ones(width), jnp.ones(width))
    runner = jax.eval_shape(init, member_keys(0, width), hyper)  # shapes only, no memory
    block = default_block() if block is None else block
    if 0 < block < width // mesh.size:

        def batched(runner, t):
            return jax.lax.map(lambda member: run_interval(member, t), runner, batch_size=block)

    else:
        batched = jax.vmap(run_interval, in_axes=(0, None))
    # Each device runs `batched` on its own members; t is the same everywhere. Members never
    # communicate, so there is nothing for shard_map's replication check to check (and it
    # would reject the loop's constant no-update metrics beside per-member ones).
    per_device = jax.shard_map(
        batched, mesh=mesh, in_specs=(P(MEMBERS), P()), out_specs=P(MEMBERS), check_vma=False
    )
    interval = jax.jit(per_device, out_shardings=members, donate_argnums=0)
    compiled = interval.lower(runner, jnp.int32(0)).compile(compiler_options)
    return Program(init, compiled, width, regime, mesh.size)


def memory_bytes(program: Program) -> int:
    """Memory one interval call needs on each device, from XLA's compiled memory analysis."""
    m = program.interval.memory_analysis()
    used = m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes
    return used - m.alias_size_in_bytes


def advance(
    program: Callable, state, starts: Sequence[int], length: int, *, hooks: Sequence[Hook] = ()
) -> tuple[Any, list[dict]]:
    """Call `program(state, t)` once for each start step t in `starts` (a call advances
    `length` steps) and every hook after each call. Returns the final state and the metrics
    of every call, on the host."""
    history = []
    for t in starts:
        state, metrics = program(state, jnp.int32(t))
        metrics = jax.device_get(metrics)
        history.append(metrics)
        for hook in hooks:
            hook(t + length, state, metrics)
    return state, history


def num_intervals(regime: Regime) -> int:
    return -(-regime.total_steps // regime.eval_interval)


def run_online(
    program: Program, runner: Runner, *, first: int = 0, hooks: Sequence[Hook] = ()
) -> pd.DataFrame:
    """Advance the members of `runner` (from `program.init`) through the evaluation intervals
    `first`, `first` + 1, ... of the regime; one row per member x evaluation."""
    interval = program.regime.eval_interval
    starts = range(first * interval, num_intervals(program.regime) * interval, interval)
    _, history = advance(program.interval, runner, starts, interval, hooks=hooks)
    return table([interval_rows(t + interval, m) for t, m in zip(starts, history)])


def interval_rows(step: int, metrics: dict) -> pd.DataFrame:
    """One evaluation's metrics (leading axis: members) as one row per member."""
    members = len(metrics["score"])
    columns = {"member": np.arange(members), "step": np.full(members, step)}
    return pd.DataFrame({**columns, **{name: np.asarray(v) for name, v in metrics.items()}})


def table(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
