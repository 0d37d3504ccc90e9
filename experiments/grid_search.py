"""The paper's step-size x temperature grid search (Appendix G) as ONE compiled program.

Every (step size, temperature, seed) triple is a member of one vmapped batch: the step size
and temperature are traced values in each member's learner state. When the whole grid
would not fit in memory it runs in chunks of equal width, all through the same compiled
program (the last chunk is padded with repeated members, whose rows are dropped).
"""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from agents import dqn
from experiments import results
from experiments.driver import compile_program, member_keys, memory_bytes, run_online
from experiments.hooks import online_progress
from experiments.settings import Grid


def device_memory() -> int:
    """Memory of one device: an accelerator's own limit, or on a CPU the host's memory
    shared by its local devices."""
    stats = jax.devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:  # accelerators report their own limit
        return stats["bytes_limit"]
    host = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return host // jax.local_device_count()


def chunk_width(env, agent, regime, grid: Grid, members: int, say) -> int:
    """The widest batch that fits the memory budget of each device, from XLA's estimates at 2
    and 4 members per device (memory grows linearly with them). It is a multiple of the
    number of devices, which split every batch evenly (experiments/driver.py)."""
    devices = jax.local_device_count()
    if grid.chunk_size:
        fits = max(1, grid.chunk_size // devices)
    else:
        small, large = (
            memory_bytes(compile_program(env, agent, regime, w * devices)) for w in (2, 4)
        )
        per_member = max(1, (large - small) // 2)
        fixed = small - 2 * per_member
        budget = grid.memory_budget_gb * 2**30 or 0.7 * device_memory()
        fits = max(1, int((budget - fixed) // per_member))
        say(
            f"memory estimate per device: {per_member / 2**20:.1f} MiB per member + "
            f"{fixed / 2**20:.0f} MiB; budget {budget / 2**30:.1f} GiB fits {fits} members "
            f"on each of {devices} device(s)"
        )
    return devices * min(fits, -(-members // devices))


def search(
    env, agent, regime, grid: Grid, num_seeds: int, seed: int, progress: bool = True
) -> pd.DataFrame:
    """Metrics of every member: one row per (setting, seed) x evaluation."""

    def say(text):
        if progress:
            print(text, file=sys.stderr)

    settings = grid.settings()
    members = [(lr, tau, s) for lr, tau in settings for s in range(num_seeds)]
    width = chunk_width(env, agent, regime, grid, len(members), say)
    program = compile_program(env, agent, regime, width)
    chunks = -(-len(members) // width)
    say(
        f"grid: {len(settings)} settings x {num_seeds} seeds = {len(members)} members in "
        f"{chunks} chunk(s) of {width}; XLA memory estimate "
        f"{memory_bytes(program) / 2**30:.2f} GiB per chunk"
    )

    keys = member_keys(seed, num_seeds)
    tables = []
    for c in range(chunks):
        chunk = members[c * width : (c + 1) * width]
        padded = chunk + [chunk[-1]] * (width - len(chunk))
        lr, tau, seed_index = (np.array(column) for column in zip(*padded, strict=True))
        hyper = dqn.Hyper(jnp.asarray(lr, jnp.float32), jnp.asarray(tau, jnp.float32))
        bar = online_progress(regime, f"chunk {c + 1}/{chunks}", progress)
        table = run_online(program, program.init(keys[seed_index], hyper), hooks=(bar,))
        table = table[table["member"] < len(chunk)]
        tables.append(
            table.assign(
                step_size=lr[table["member"]].astype(np.float32).astype(float),
                temperature=tau[table["member"]].astype(np.float32).astype(float),
                seed_index=seed_index[table["member"]],
                member=table["member"] + c * width,
            )
        )
    return pd.concat(tables, ignore_index=True)


def rank_settings(metrics: pd.DataFrame) -> pd.DataFrame:
    """Final performance per setting (mean and 95% CI over ALL its seeds), best first. A
    diverged seed counts with the score of its greedy policy (experiments/results.py), so a
    setting where most seeds diverge cannot rank first on its few survivors."""
    finals = results.final_performance(metrics, by=("step_size", "temperature", "member"))
    rows = []
    for (lr, tau), group in finals.groupby(["step_size", "temperature"]):
        mean, half, n = results.estimate(group["final_score"])
        rows.append(
            {
                "step_size": lr,
                "temperature": tau,
                "final_score_mean": mean,
                "final_score_ci95": half,
                "num_seeds": n,
                "num_diverged": int(group["diverged"].sum()),
                "diverged_by_step": group["diverged_at"].max(),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(
        "final_score_mean", ascending=False, na_position="last", ignore_index=True
    )


def tuned_yaml(agent: str, env: str, regime: str, best: pd.Series) -> str:
    """The best setting in the form `tuned_file=` reads."""
    return (
        f"# best setting by mean final performance (grid search)\n"
        f"{agent}:\n  {env}:\n    {regime}:\n"
        f"      step_size: {best['step_size']:.6g}\n"
        f"      temperature: {best['temperature']:.6g}\n"
    )
