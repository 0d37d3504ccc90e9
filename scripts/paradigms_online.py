"""Issue 13's online figure: each agent's final score (mean and 95% t interval over seeds)
on plain, GPS and distractor ProcMaze, from results/summaries/paradigms_online.csv (made by
`python scripts/readme_tables.py summarize paradigms_online results/paradigms_online`).

    python scripts/paradigms_online.py     # -> results/figures/paradigms_online_cpu.png
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

COLOURS = {"er": "#1b9e77", "simple_model": "#d95f02", "deepmdp": "#e7298a",
           "categorical_latent": "#66a61e", "perfect_model": "#7570b3"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/figures/paradigms_online_cpu.png")
    args = parser.parse_args()
    summary = tables.read_summary("paradigms_online")
    cell = tables.cells(summary, ["complexity", "arm", "agent"], ["final_score"])
    levels = sorted(set(cell["complexity"]))
    mazes = [m for m in tables.MAZES if m in set(cell["arm"])]
    agents = tables.agents_in(cell)
    figure, axes = plt.subplots(len(levels), 1, figsize=(7, 1.2 + 0.9 * len(mazes) * len(levels)),
                                squeeze=False)  # fmt: skip
    for ax, size in zip(axes[:, 0], levels):
        for y, maze in enumerate(mazes):
            for k, agent in enumerate(agents):
                at = cell[(cell["complexity"] == size) & (cell["arm"] == maze)
                          & (cell["agent"] == agent)]  # fmt: skip
                if at.empty:
                    continue
                row = at.iloc[0]
                label = tables.agent_named(agent) if y == 0 else None
                ax.errorbar(row["final_score_mean"], y + (k - (len(agents) - 1) / 2) * 0.15,
                            xerr=row["final_score_ci95"], fmt="o", color=COLOURS.get(agent),
                            capsize=3, label=label)  # fmt: skip
        random = summary[summary["complexity"] == size]["random_policy_score"].iloc[0]
        ax.axvline(random, color="grey", ls=":", lw=1)
        ax.set_yticks(range(len(mazes)), [tables.MAZES[m] for m in mazes])
        ax.invert_yaxis()
        ax.set_xlabel("final greedy score (mean, 95% t CI over seeds)")
        ax.set_title(f"{envs.display('procmaze')} {size} (dotted: uniform random policy)",
                     fontsize=9)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    results.write_figure(figure, Path(args.out))  # the one atomic figure writer
    print(args.out)


if __name__ == "__main__":
    main()
