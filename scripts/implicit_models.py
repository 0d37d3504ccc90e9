"""Issue 39's offline table and figure from the runs of `experiment=implicit`: per agent,
coverage and seed, the fraction of the 12 evaluation cells whose greedy action is optimal
and the run's outcome by Figure 1's rule (a majority of seeds wrong in some cell fails).

    python scripts/implicit_models.py results/implicit   # -> results/implicit/implicit.parquet
                                                         #    and results/figures/implicit_cpu.png
    python scripts/readme_tables.py summarize implicit results/implicit

Reads each finished run's q_values and outcomes tables; trains nothing.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from experiments import results  # noqa: E402
from experiments.offline.report import AGENT_DISPLAY  # noqa: E402

TABLE = "implicit.parquet"
AGENTS = ("dqn", "model_10step", "implicit_1step", "implicit_10step")  # the figure's order
COLUMNS = ["agent", "coverage", "member", "fraction_optimal", "succeeded",
           "worst_fraction_optimal", "scale"]  # fmt: skip


def run_rows(run_dir: Path) -> pd.DataFrame:
    config = yaml.safe_load((run_dir / results.CONFIG).read_text())
    q = pd.read_parquet(run_dir / "q_values.parquet")
    seeds = (
        q[q["greedy"]]  # one row per seed and cell: its greedy action
        .groupby(["agent", "coverage", "member"], as_index=False)["optimal"]
        .mean()
        .rename(columns={"optimal": "fraction_optimal"})
    )
    outcomes = pd.read_parquet(run_dir / "outcomes.parquet")
    outcomes = outcomes[["agent", "coverage", "succeeded", "worst_fraction_optimal"]]
    return seeds.merge(outcomes, on=["agent", "coverage"]).assign(
        scale=config["scale"]["name"]
    )[COLUMNS]


def table(tree: Path) -> pd.DataFrame:
    frames = [run_rows(path.parent) for path in sorted(tree.rglob("outcomes.parquet"))
              if results.is_finished(path.parent)]  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def figure(seeds: pd.DataFrame, title: str):
    """Mean fraction of evaluation cells optimal (95% CI over seeds) per agent, one panel per
    coverage, each bar marked with Figure 1's outcome."""
    coverages = list(dict.fromkeys(seeds["coverage"]))
    agents = [a for a in AGENTS if a in set(seeds["agent"])]
    fig, axes = plt.subplots(1, len(coverages), figsize=(5.5 * len(coverages), 3.2),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, coverage in zip(axes[0], coverages):
        for i, agent in enumerate(agents):
            rows = seeds[(seeds["coverage"] == coverage) & (seeds["agent"] == agent)]
            mean, half = results.mean_ci(rows["fraction_optimal"])
            ax.barh(i, mean, xerr=0 if pd.isna(half) else half, capsize=3,
                    color="tab:green" if rows["succeeded"].all() else "tab:red")  # fmt: skip
        ax.set_yticks(range(len(agents)), [AGENT_DISPLAY[a] for a in agents])
        ax.set_xlim(0, 1)
        ax.set_xlabel("evaluation cells with optimal greedy action")
        ax.set_title(f"{coverage} (green: succeeds, red: fails)", fontsize=9)
    axes[0][0].invert_yaxis()  # the first agent on top (once: the panels share the y axis)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path, help="the results tree of experiment=implicit")
    parser.add_argument(
        "-o", "--output", type=Path, help="PNG (default: results/figures/implicit_<scale>.png)"
    )
    args = parser.parse_args()
    fig = results.write_seed_study(table(args.tree), args.tree, TABLE, "implicit",
                                   ["agent", "coverage"], figure, args.output)
    plt.close(fig)


if __name__ == "__main__":
    main()
