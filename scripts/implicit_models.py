"""Issue 39's offline table and figure from the runs of `experiment=implicit`: per agent,
coverage and seed, the fraction of the 12 evaluation cells whose greedy action is optimal
and the run's outcome by Figure 1's rule (a majority of seeds wrong in some cell fails).

    python scripts/implicit_models.py results/implicit   # -> results/implicit/implicit.parquet
                                                         #    and results/figures/implicit_cpu.png
    python scripts/readme_tables.py summarize implicit results/implicit

Reads each finished run's q_values and outcomes tables; trains nothing.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from experiments import results  # noqa: E402
from experiments.offline.report import AGENT_DISPLAY  # noqa: E402

AGENTS = ("dqn", "model_10step", "implicit_1step", "implicit_10step")  # the figure's order
COLUMNS = ["agent", "coverage", "member", "fraction_optimal", "succeeded",
           "worst_fraction_optimal", "scale"]  # fmt: skip


def run_rows(run_dir):
    config = yaml.safe_load((run_dir / results.CONFIG).read_text())
    seeds = results.seed_fractions(run_dir, ["succeeded", "worst_fraction_optimal"])
    return seeds.assign(scale=config["scale"]["name"])[COLUMNS]


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


if __name__ == "__main__":
    results.seed_study_main(__doc__.splitlines()[0], "implicit", run_rows, COLUMNS,
                            ["agent", "coverage"], figure)  # fmt: skip
