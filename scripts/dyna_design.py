"""Issue 14's figures: each Dyna design arm's final score (mean and 95% t interval over
seeds) per level, from results/summaries/<summary>.csv, with the paper's arm of each agent
as a dashed reference line.

    python scripts/dyna_design.py            # -> results/figures/dyna_design_cpu.png
    python scripts/dyna_design.py --summary dyna_expectation \
        --out results/figures/dyna_expectation_cpu.png
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import readme_tables as tables  # noqa: E402

import envs  # noqa: E402
from experiments import results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--summary", default="dyna_design", choices=["dyna_design", "dyna_expectation"]
    )
    parser.add_argument("--out", default="results/figures/dyna_design_cpu.png")
    args = parser.parse_args()
    summary = tables.read_summary(args.summary)
    cell = tables.cells(summary, ["env", "complexity", "arm"], ["final_score"])
    levels = sorted({(e, c) for e, c in zip(cell["env"], cell["complexity"])})
    arms = [a for a in tables.DYNA_ARMS if a in set(cell["arm"])]
    figure, axes = plt.subplots(1, len(levels), figsize=(6 * len(levels), 0.45 * len(arms) + 1.2),
                                squeeze=False)  # fmt: skip
    for ax, (env, size) in zip(axes[0], levels):
        at = cell[(cell["env"] == env) & (cell["complexity"] == size)].set_index("arm")
        for y, arm in enumerate(arms):
            if arm not in at.index:
                continue
            label, base = tables.DYNA_ARMS[arm]
            colour = "#1b9e77" if arm.startswith("er") else (
                "#d95f02" if arm.startswith("simple") else "#7570b3")  # fmt: skip
            row = at.loc[arm]
            ax.errorbar(row["final_score_mean"], y, xerr=row["final_score_ci95"], fmt="o",
                        color=colour, capsize=3)  # fmt: skip
            if base is None:
                ax.axvline(row["final_score_mean"], color=colour, ls="--", lw=0.8, alpha=0.6)
        random = summary[(summary["env"] == env) & (summary["complexity"] == size)]
        ax.axvline(random["random_policy_score"].iloc[0], color="grey", ls=":", lw=1)
        ax.set_yticks(range(len(arms)), [tables.DYNA_ARMS[a][0] for a in arms], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("final greedy score (mean, 95% t CI over seeds)")
        ax.set_title(f"{envs.display(env)} {size} (dotted: uniform random policy)", fontsize=9)
    figure.tight_layout()
    results.write_figure(figure, Path(args.out))  # the one atomic figure writer
    print(args.out)


if __name__ == "__main__":
    main()
