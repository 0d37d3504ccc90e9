"""The model-based families experiment (configs/experiment/model_families.yaml), from its
results tree only: the tables behind docs/studies/model-families.md and the claims, and its figure.

PYTHONPATH=. python scripts/model_families.py results/model_families
PYTHONPATH=. python scripts/model_families.py results/model_families \
    --figure results/figures/model_families_cpu.png

Writes into the tree: families.parquet (per run and seed: the arm, the level, the final
score, the mean score over the whole run), accuracy.parquet (per run, seed and step 1..10:
open-loop bit accuracy of the saved models along real random-policy trajectories,
experiments/analysis/multistep.py), smoothing.parquet (PanFlute runs: Figure 4 left's bins
of the saved models, experiments/analysis/smoothing.py; an ensemble predicts as its member
mean), and the figure.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import readme_tables as tables

import envs
from experiments import provenance, results
from experiments.analysis import claims, multistep, smoothing
from experiments.cli import fail


def finals(tree: Path) -> pd.DataFrame:
    metrics = results.load_runs(tree, report=lambda m: print(m, file=sys.stderr))
    if metrics.empty:
        return metrics
    table = claims.largest_scale(results.final_table(metrics, extra=["arm"]))
    whole = metrics.groupby(["run_dir", "member"])["score"].mean().rename("whole_run_score")
    table = table.merge(whole.reset_index(), on=["run_dir", "member"])
    table["run"] = [str(Path(d).relative_to(tree)) for d in table["run_dir"]]
    keep = ["arm", "env", "complexity", "member", "final_score", "whole_run_score",
            "random_policy_score", "scale", "run"]  # fmt: skip
    return table[[c for c in keep if c in table.columns]]


def last_step(tree: Path) -> int:
    steps = [int(p.stem.split("_")[1]) for p in tree.rglob("models/step_*.npz")]
    if not steps:
        fail(f"no saved models under {tree} (the experiment saves them at its last step).")
    return max(steps)


def smoothed(tree: Path, step: int) -> pd.DataFrame:
    tables = []
    for run_dir, config in provenance.finished_configs(tree):
        if config["env"]["name"] != "panflute" or config["arm"] == "er":  # ER: no model
            continue
        table = smoothing.smoothing_table(run_dir, step=step, num_envs=32, num_steps=500)
        if not table.empty:
            tables.append(table.assign(arm=config["arm"]))
    if not tables:
        return pd.DataFrame()
    table = pd.concat(tables, ignore_index=True)
    table["run_dir"] = [str(Path(d).relative_to(tree)) for d in table["run_dir"]]
    return table


def figure(scores: pd.DataFrame, acc: pd.DataFrame, out: Path) -> None:
    from experiments.analysis.figures import plt

    levels = sorted({(e, c) for e, c in zip(scores["env"], scores["complexity"])})
    fig, axes = plt.subplots(1, 2 * len(levels), figsize=(5 * len(levels), 3.4))
    arms = tables.arms_in(scores["arm"], tables.FAMILY_ARMS, "model_families")
    for i, (env, size) in enumerate(levels):
        ax = axes[2 * i]
        at = scores[(scores["env"] == env) & (scores["complexity"] == size)]
        for x, arm in enumerate(arms):
            values = at.loc[at["arm"] == arm, "final_score"]
            mean, half = results.mean_ci(values)
            ax.errorbar(x, mean, yerr=0 if not np.isfinite(half) else half, fmt="o", capsize=3)
            ax.plot(np.full(len(values), x + 0.15), values, ".", color="grey", markersize=3)
        ax.axhline(at["random_policy_score"].iloc[0], color="grey", linestyle="--", linewidth=1)
        labels = [tables.FAMILY_ARMS[a] for a in arms]
        ax.set_xticks(range(len(arms)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_title(f"{envs.display(env)} {size}: final greedy score (95% CI)", fontsize=8)
        ax.grid(alpha=0.3)
        ax = axes[2 * i + 1]
        level = f"{env}-{size}"
        for arm in arms:
            runs = acc[(acc["arm"] == arm) & (acc["level"] == level)]
            if runs.empty:
                continue
            stats = runs.groupby("step")["accuracy"].apply(
                lambda v: pd.Series(results.mean_ci(v), ["mean", "half"])).unstack()
            ax.errorbar(stats.index, stats["mean"], yerr=stats["half"].fillna(0), capsize=2,
                        label=tables.FAMILY_ARMS[arm], linewidth=1)
        ax.set_xlabel("open-loop step", fontsize=8)
        ax.set_title(f"{envs.display(env)} {size}: bit accuracy along 10 steps", fontsize=8)
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    results.write_figure(fig, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--figure", type=Path, default=None,
                        help="default: TREE/model_families.png")
    args = parser.parse_args()
    if not args.tree.is_dir():
        fail(f"tree must be an existing results directory; got {str(args.tree)!r}.")
    scores = finals(args.tree)
    if scores.empty:
        fail(f"no finished runs under {args.tree}.")
    step = last_step(args.tree)
    acc = multistep.accuracy_table(args.tree, step)
    bins = smoothed(args.tree, step)
    for name, table in (("families", scores), ("accuracy", acc), ("smoothing", bins)):
        path = args.tree / f"{name}.parquet"
        results.atomic_write(path, lambda tmp, t=table: t.to_parquet(tmp, index=False))
        print(f"wrote {path}: {len(table)} rows")
    out = args.figure or args.tree / "model_families.png"
    figure(scores, acc, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
