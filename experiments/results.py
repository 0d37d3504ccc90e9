"""Results on disk: tidy tables pandas reads, a small summary, written atomically.

A seed whose parameters became non-finite has *diverged*. It is scored, not dropped: the
loop keeps evaluating its greedy policy, whose argmax over NaN Q-values picks the first
NaN action (as the authors' network does), so its score is what that play really earns,
usually a poor one. Summaries and confidence intervals are over all seeds, with the number that
diverged beside them; dropping them would let a setting rank on its few survivors.
JSON files hold null where a number is undefined (a CI of one seed), never NaN.
"""

import contextlib
import fcntl
import json
import math
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.stats

METRICS = "metrics.parquet"
SUMMARY = "summary.json"  # its presence marks a finished run
CONFIG = "config.yaml"
FINAL_FRACTION = 0.1  # final performance: the mean of the last 10% of evaluations


def t_quantile(dof: int) -> float:
    """The two-sided 95% quantile of Student's t with `dof` degrees of freedom."""
    return float(scipy.stats.t.ppf(0.975, dof))


class Estimate(NamedTuple):
    """The mean of the finite values given, the half-width of its 95% t confidence interval
    (NaN for n < 2), and n, the number of values averaged: a non-finite one is left out of
    all three."""

    mean: float
    half: float
    n: int


def estimate(values) -> Estimate:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    if n < 2:
        return Estimate(float(values.mean()), math.nan, n)
    sem = values.std(ddof=1) / math.sqrt(n)
    return Estimate(float(values.mean()), float(t_quantile(n - 1) * sem), n)


def mean_ci(values) -> tuple[float, float]:
    """`estimate`'s mean and half-width, for where n is not shown."""
    mean, half, _ = estimate(values)
    return mean, half


def final_performance(metrics: pd.DataFrame, by=("member",)) -> pd.DataFrame:
    """Per member: the mean score over the last 10% of evaluations, whether it diverged,
    and the first evaluation step at which it was seen diverged (NaN if never)."""
    by = list(by)

    def final(group):
        steps = np.sort(group["step"].unique())
        last = steps[-max(1, math.ceil(FINAL_FRACTION * len(steps))) :]
        tail = group[group["step"].isin(last)]
        flagged = group.loc[group["diverged"].astype(bool), "step"]
        return pd.Series(
            {
                "final_score": tail["score"].mean(),
                "diverged": not flagged.empty,
                "diverged_at": flagged.min() if not flagged.empty else math.nan,
            }
        )

    return metrics.groupby(by).apply(final, include_groups=False).reset_index()


def summarize(metrics: pd.DataFrame) -> dict:
    finals = final_performance(metrics)
    mean, half, n = estimate(finals["final_score"])
    at = finals["diverged_at"].dropna()
    return {
        "final_score_mean": mean,
        "final_score_ci95": half,
        "num_seeds": n,
        "num_diverged": int(finals["diverged"].sum()),
        "diverged_by_step": int(at.max()) if len(at) else None,
        "final_score_per_seed": finals["final_score"].tolist(),
        "diverged_at_per_seed": [None if math.isnan(x) else int(x) for x in finals["diverged_at"]],
        "definition": "mean greedy score over the last 10% of evaluations, per seed; "
        "mean and 95% Student-t CI over all seeds, a diverged one scored by what its greedy "
        "policy (argmax over NaN Q-values) does",
    }


def describe(summary: dict) -> str:
    """A summary (or a row of grid_search.rank_settings) in words for the console, saying
    how many seeds diverged and by when."""
    n, diverged = summary["num_seeds"], summary["num_diverged"]
    mean, half = summary["final_score_mean"], summary["final_score_ci95"]
    score = f"{mean:.4g} ± {half:.2g} (95% CI over {n} seeds)"
    if not math.isfinite(half):
        score = f"{mean:.4g} (one seed, no CI)"
    if not diverged:
        return f"final score {score}"
    when = f"parameters became non-finite by step {int(summary['diverged_by_step'])}"
    if diverged == n:
        seeds = "the only seed" if n == 1 else f"all {n} seeds"
        return (
            f"{seeds} diverged ({when}); their greedy play (argmax of NaN Q-values) scores {score}"
        )
    return (
        f"final score {score}; {diverged} of the {n} seeds diverged ({when}) and count with "
        "what their greedy play (argmax of NaN Q-values) scores"
    )


_UMASK = os.umask(0)
os.umask(_UMASK)


TEMPORARY = ".*.tmp"  # atomic_write's files while they are written


def atomic_write(path: Path, write, keep: Path | None = None) -> None:
    """`write(tmp)` to a temporary file beside `path`, then rename it over `path`: a crash
    leaves the old file or none, never half of one. With `keep`, the old file is moved there
    just before (a checkpoint keeps its predecessor until it is whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files owner-only; results are shared
        if keep is not None and path.exists():
            os.replace(path, keep)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def remove_strays(run_dir: Path) -> None:
    """The temporary files of a write that a killed run left; only the lock holder may call
    it, since another writer's would look the same."""
    for stray in Path(run_dir).glob(TEMPORARY):
        stray.unlink(missing_ok=True)


LOCK = ".lock"


class Busy(Exception):
    """Another process holds the folder's lock; its message is that process's id."""


@contextlib.contextmanager
def locked(run_dir: Path):
    """Holds `run_dir`'s lock while a run writes into it, so that a second run of the same
    command cannot write there at the same time (Busy). The lock is an flock, which the
    system releases when its process ends however it ends: a killed run leaves no stale
    lock, only a file that the next run reuses."""
    path = Path(run_dir) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise Busy(holder or "unknown") from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # before unlocking: a waiting run then sees the results
        os.close(fd)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    atomic_write(Path(path), lambda tmp: frame.to_parquet(tmp, index=False))


def _json_ready(value):
    """`value` with every non-finite float (NaN, inf) as None: strict JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def write_json(data: dict, path: Path) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(_json_ready(data), f, indent=2, allow_nan=False)
            f.write("\n")

    atomic_write(Path(path), write)


def write_text(text: str, path: Path) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)

    atomic_write(Path(path), write)


def write_figure(figure, path: Path) -> None:
    path = Path(path)
    atomic_write(path, lambda tmp: figure.savefig(tmp, format=path.suffix[1:], dpi=100))


def seed_fractions(run_dir: Path, outcomes: list[str]) -> pd.DataFrame:
    """An offline run's seeds: per (agent, coverage, member) the fraction of the evaluation
    cells whose greedy action is optimal (q_values.parquet), with the run's `outcomes`
    columns of outcomes.parquet (Figure 1's rule, per agent and coverage)."""
    q = pd.read_parquet(Path(run_dir) / "q_values.parquet")
    seeds = (
        q[q["greedy"]]  # one row per seed and cell: its greedy action
        .groupby(["agent", "coverage", "member"], as_index=False)["optimal"]
        .mean()
        .rename(columns={"optimal": "fraction_optimal"})
    )
    table = pd.read_parquet(Path(run_dir) / "outcomes.parquet")
    return seeds.merge(table[["agent", "coverage", *outcomes]], on=["agent", "coverage"])


def seed_study(tree: Path, run_rows, columns: list[str]) -> pd.DataFrame:
    """`run_rows(run_dir)` of every finished offline run under `tree`, in one table."""
    frames = [run_rows(path.parent) for path in sorted(Path(tree).rglob("outcomes.parquet"))
              if is_finished(path.parent)]  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def seed_study_main(description: str, study: str, run_rows, columns: list[str], groups: list,
                    draw) -> None:  # fmt: skip
    """An offline study script's command line: `python scripts/<study>.py TREE [-o PNG]`
    writes TREE/<study>.parquet (seed_study) and the figure (write_seed_study)."""
    import argparse

    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("tree", type=Path, help=f"the results tree of experiment={study}")
    parser.add_argument("-o", "--output", type=Path,
                        help=f"PNG (default: results/figures/{study}_<scale>.png)")  # fmt: skip
    args = parser.parse_args()
    seeds = seed_study(args.tree, run_rows, columns)
    figure = write_seed_study(seeds, args.tree, f"{study}.parquet", study, groups, draw,
                              args.output)  # fmt: skip
    plt.close(figure)


def write_seed_study(seeds, tree: Path, table: str, study: str, groups: list, draw, output=None):
    """An offline study's per-seed table (tree/table) and its figure, `draw(seeds, title)`,
    at `output` (default results/figures/<study>_<scale>.png); the title names the scale and
    the fewest seeds of any `groups` cell. Returns the figure, for the caller to close."""
    tree = Path(tree)
    if seeds.empty:
        from experiments.cli import fail  # the scripts' one sentence and exit 2

        fail(f"no finished runs under {tree}")
    write_table(seeds, tree / table)
    scale = seeds["scale"].iloc[0]
    n = int(seeds.groupby(groups)["member"].nunique().min())
    figure = draw(seeds, f"experiment={study}, {scale} scale, {n} seeds")
    output = output or Path("results/figures") / f"{study}_{scale}.png"
    write_figure(figure, output)
    print(f"wrote {tree / table} ({len(seeds)} rows) and {output}")
    return figure


def is_finished(run_dir: Path) -> bool:
    return (Path(run_dir) / SUMMARY).exists()


def _flatten(node, prefix=""):
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        elif key != "hydra":
            yield name, value if not isinstance(value, list) else str(value)


FIDELITY_PRESETS = Path(__file__).resolve().parent.parent / "configs" / "fidelity"


def fidelity_label(fidelity: dict) -> str:
    """A run's fidelity setting as tables group it: the preset whose every switch it has
    (`fixed`, `authors`), else the switches it sets apart from `fixed`, joined by "+" (the
    parts of its run name), so a run with one switch set alone never pools with a preset."""
    import yaml  # PyYAML comes with Hydra

    presets = {p.stem: yaml.safe_load(p.read_text()) for p in FIDELITY_PRESETS.glob("*.yaml")}
    switches = {k: v for k, v in fidelity.items() if k != "name"}
    for name in ("fixed", "authors"):
        if all(presets[name].get(k) == v for k, v in switches.items()):
            return name
    return "+".join(str(v) for k, v in switches.items() if presets["fixed"].get(k) != v)


def load_runs(root, report=print) -> pd.DataFrame:
    """Every finished run below `root` as one tidy table: its metrics rows, with its
    configuration fields as columns (dotted names, e.g. `agent.rollout_length`) and
    `run_dir`. Unfinished or broken runs are skipped and reported, never fatal."""
    import yaml  # PyYAML comes with Hydra

    frames, skipped = [], []
    for config_path in sorted(Path(root).rglob(CONFIG)):
        run_dir = config_path.parent
        if not is_finished(run_dir) or not (run_dir / METRICS).exists():
            skipped.append(f"{run_dir} (unfinished)")
            continue
        try:
            metrics = pd.read_parquet(run_dir / METRICS)
            config = yaml.safe_load(config_path.read_text()) or {}
        except Exception as error:  # a damaged file must not stop the other runs
            skipped.append(f"{run_dir} ({type(error).__name__})")
            continue
        fields = {k: v for k, v in _flatten(config) if k not in metrics.columns}
        if isinstance(config.get("fidelity"), dict):
            fields["fidelity.name"] = fidelity_label(config["fidelity"])
        summary = json.loads((run_dir / SUMMARY).read_text())
        if "random_policy_score" in summary:
            fields["random_policy_score"] = summary["random_policy_score"]
        frames.append(metrics.assign(run_dir=str(run_dir), **fields))
    if skipped and report is not None:
        report(f"skipped {len(skipped)} run(s): " + "; ".join(skipped))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    table.attrs["skipped"] = skipped
    return table


RUN_COLUMNS = (
    "env",
    "complexity",
    "agent",
    "regime",
    "scale",
    "step_size",
    "temperature",
    "random_policy_score",
)


def final_table(metrics: pd.DataFrame, extra=()) -> pd.DataFrame:
    """One row per (run, member): its final score and whether it diverged, with the run's
    env, complexity, agent, regime, ... and the `extra` config columns (e.g.
    `agent.rollout_length`): the input of Figure 3 style plots."""
    keys = [c for c in ("run_dir", "member") if c in metrics.columns]
    finals = final_performance(metrics, by=keys)
    wanted = dict.fromkeys([*RUN_COLUMNS, *extra])
    run_level = [c for c in wanted if c in metrics.columns and c not in keys]
    firsts = metrics.groupby(keys, sort=False)[run_level].first().reset_index()
    return finals.merge(firsts, on=keys)


def line_label(table: pd.DataFrame, columns) -> pd.Series:
    """One label per row from several columns, e.g. `simple_model, rollout_length 1` for
    (agent, agent.rollout_length): lines of a figure split by more than the agent."""
    first, *rest = columns
    label = table[first].astype(str)
    for column in rest:  # a run without the setting (ER has no rollout length) omits it
        part = f", {column.rpartition('.')[2]} " + table[column].astype(str)
        label = label + part.where(table[column].notna(), "")
    return label
