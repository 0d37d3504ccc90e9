"""Issue 13's offline table and figure from the runs of `experiment=paradigms`: per case
(learner x variant), agent, coverage and seed, the fraction of the 12 evaluation cells whose
greedy action is optimal, the run's success by Figure 1's rule, and |Q_replay - Q_model|.

    python scripts/paradigms.py results/paradigms   # -> results/paradigms/paradigms.parquet
                                                    #    and results/figures/paradigms_cpu.png
    python scripts/readme_tables.py summarize paradigms results/paradigms

Reads each finished run's config.yaml, q_values, outcomes and q_gaps tables; trains nothing.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from experiments import results  # noqa: E402
from experiments.cli import fail  # noqa: E402
from experiments.offline import report  # noqa: E402

ORDER = ("network", "linear", "tabular", "network_gps", "linear_gps", "network_iid8",
         "network_counter8", "linear_iid8", "linear_counter8")  # fmt: skip
COLUMNS = ["case", "learner", "gps", "distractors", "distractor_kind", "agent", "coverage",
           "member", "fraction_optimal", "succeeded", "max_abs_q_gap", "q_steps",
           "scale"]  # fmt: skip


def run_rows(run_dir: Path) -> pd.DataFrame:
    config = yaml.safe_load((run_dir / results.CONFIG).read_text())
    if not config.get("arm"):
        fail(f"{run_dir} is no case of the study: its config.yaml names no arm (paradigm=...).")
    offline = config["offline"]
    seeds = results.seed_fractions(run_dir, ["succeeded"])
    gaps_path = run_dir / "q_gaps.parquet"
    if gaps_path.exists():
        gaps = pd.read_parquet(gaps_path)
        seeds = seeds.merge(gaps, on=["agent", "coverage", "member"], how="left")
    else:
        seeds["max_abs_q_gap"] = float("nan")
    return seeds.assign(
        case=config["arm"],  # configs/paradigm/<case>.yaml
        learner=offline.get("learner", "network"),
        gps=bool(offline.get("gps", False)),
        distractors=int(offline.get("distractors", 0)),
        distractor_kind=offline.get("distractor_kind", "iid"),
        q_steps=int(config["scale"]["q_steps"]),
        scale=config["scale"]["name"],
    )[COLUMNS]


def figure(seeds: pd.DataFrame, title: str):
    """Mean fraction of evaluation cells optimal (95% CI over seeds) per case and agent,
    one panel per coverage."""
    coverages = ["path_to_goal", "single_cell"]  # the levels the predictions are about
    present = set(seeds["case"])
    cases = [c for c in ORDER if c in present] + sorted(present - set(ORDER))
    size = (5.5 * len(coverages), 0.45 * len(cases) + 1.5)
    fig, axes = plt.subplots(1, len(coverages), figsize=size, sharey=True, squeeze=False)
    agents = [a for a in report.AGENT_DISPLAY if a in set(seeds["agent"])]
    height = 0.8 / len(agents)
    for ax, coverage in zip(axes[0], coverages):
        for k, agent in enumerate(agents):
            rows = seeds[(seeds["coverage"] == coverage) & (seeds["agent"] == agent)]
            stats = [results.mean_ci(rows[rows["case"] == c]["fraction_optimal"]) for c in cases]
            ax.barh([i + (k - (len(agents) - 1) / 2) * height for i in range(len(cases))],
                    [m for m, _ in stats], height, xerr=[0 if pd.isna(h) else h for _, h in stats],
                    label=report.AGENT_DISPLAY[agent], capsize=2)  # fmt: skip
        ax.set_yticks(range(len(cases)), cases)
        ax.set_xlim(0, 1)
        ax.axvline(0.5, color="grey", lw=0.5, ls=":")
        ax.set_xlabel("evaluation cells with an optimal greedy action (fraction, per seed)")
        ax.set_title(coverage)
    axes[0][0].invert_yaxis()  # ORDER top-down (once: the panels share the y axis)
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    results.seed_study_main(__doc__.splitlines()[0], "paradigms", run_rows, COLUMNS,
                            ["case", "agent", "coverage"], figure)  # fmt: skip
