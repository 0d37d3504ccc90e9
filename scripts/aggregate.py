"""rliable statistics of a sweep across its tasks: IQM, mean, median and optimality gap
with stratified bootstrap 95% CIs, performance profiles, and P(agent > ER); per regime.

python scripts/aggregate.py results/fig3 [--out DIR] [--reps 2000]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from rliable import plot_utils  # noqa: E402

from experiments import results  # noqa: E402
from experiments.analysis import aggregate  # noqa: E402
from experiments.cli import fail  # noqa: E402


def markdown(estimates, improvement, scores) -> str:
    lines = [
        f"tasks: {', '.join(scores.tasks)}; 1 = "
        + ("the perfect model's mean" if scores.reference != "best" else "the best agent's mean")
        + ", 0 = the uniform random policy",
        "",
        "| agent | " + " | ".join(aggregate.METRICS) + " | P(agent > ER) |",
        "|---|" + "---|" * (len(aggregate.METRICS) + 1),
    ]
    for agent, rows in estimates.groupby("agent", sort=False):
        cells = [f"{r.estimate:.3f} [{r.low:.3f}, {r.high:.3f}]" for r in rows.itertuples()]
        better = improvement[improvement["agent"] == agent]
        cells.append(
            ""
            if better.empty
            else "{0.estimate:.2f} [{0.low:.2f}, {0.high:.2f}]".format(next(better.itertuples()))
        )
        lines.append(f"| {agent} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def draw(scores, estimates, improvement, out: Path, suffix: str) -> list[Path]:
    agents = list(scores.by_agent)
    names = list(aggregate.METRICS)
    table = estimates.set_index(["agent", "metric"])
    points = {a: np.array([table.loc[(a, m), "estimate"] for m in names]) for a in agents}
    bands = {
        a: np.array([[table.loc[(a, m), k] for m in names] for k in ("low", "high")])
        for a in agents
    }
    written = []
    figure, _ = plot_utils.plot_interval_estimates(
        points,
        bands,
        metric_names=names,
        algorithms=agents,
        xlabel="normalized score",
        row_height=max(0.45, 2.5 / len(agents)),  # rliable's rows leave no room for titles
        xlabel_y_coordinate=0.02,
    )
    figure.subplots_adjust(left=0.15, bottom=0.3, top=0.85)
    written.append(save(figure, out / f"aggregate{suffix}.png"))

    taus = np.linspace(0.0, 1.2, 61)
    profiles = aggregate.performance_profile(scores, taus)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    plot_utils.plot_performance_profiles(
        {a: p for a, (p, _) in profiles.items()},
        taus,
        performance_profile_cis={a: band for a, (_, band) in profiles.items()},
        ax=axis,
        xlabel=r"normalized score $\tau$",
    )
    axis.legend(agents, loc="lower left")
    figure.tight_layout()
    written.append(save(figure, out / f"performance_profile{suffix}.png"))

    if not improvement.empty:
        pairs = {f"{r.agent},{r.baseline}": [r.estimate] for r in improvement.itertuples()}
        cis = {
            f"{r.agent},{r.baseline}": np.array([[r.low], [r.high]])
            for r in improvement.itertuples()
        }
        axis = plot_utils.plot_probability_of_improvement(pairs, cis, figsize=(5, 3))
        axis.figure.tight_layout()
        written.append(save(axis.figure, out / f"probability_of_improvement{suffix}.png"))
    return written


def save(figure, path: Path) -> Path:
    results.write_figure(figure, path)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a results directory tree (e.g. results/fig3)")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: ROOT)")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples")
    args = parser.parse_args()
    if args.reps < 1:
        fail(f"--reps must be a positive integer; got {args.reps}.")
    metrics = results.load_runs(args.root)
    if metrics.empty:
        fail(f"no finished runs under {args.root}.")
    finals = results.final_table(metrics)
    out = args.out or args.root
    for regime, rows in finals.groupby("regime"):
        try:
            scores = aggregate.normalize(rows)
            estimates = aggregate.interval_estimates(scores, reps=args.reps)
            improvement = (
                aggregate.probability_of_improvement(scores, reps=args.reps)
                if aggregate.BASELINE_AGENT in scores.by_agent
                else estimates.iloc[:0]
            )
        except ValueError as error:
            fail(f"{regime}: {error}")
        suffix = f"_{regime}"
        estimates.assign(regime=regime, reference=scores.reference).pipe(
            results.write_table, out / f"aggregate{suffix}.parquet"
        )
        written = draw(scores, estimates, improvement, out, suffix)
        print(f"## {regime} (stratified bootstrap 95% CIs, {args.reps} resamples)\n")
        print(markdown(estimates, improvement, scores) + "\n")
        print("wrote " + ", ".join(str(p) for p in [out / f"aggregate{suffix}.parquet", *written]))


if __name__ == "__main__":
    main()
