"""Figure 3 from results: final greedy score against complexity, per environment and regime.

python scripts/figure3.py results/fig3 --out results/figures/figure3.png
"""

import argparse
from pathlib import Path

from experiments import results
from experiments.analysis import figures
from experiments.cli import fail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a results directory tree (e.g. results/fig3)")
    parser.add_argument(
        "--out", type=Path, default=None, help="PNG path (default: ROOT/figure3.png)"
    )
    parser.add_argument(
        "--by",
        default="agent",
        help="column(s) that make the lines, comma-separated config columns allowed "
        "(e.g. agent,agent.rollout_length for the rollout ablation)",
    )
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    metrics = results.load_runs(args.root)
    if metrics.empty:
        fail(f"no finished runs under {args.root}.")
    by = args.by.split(",")
    missing = [c for c in by if c not in metrics.columns]
    if missing:
        fail(f"--by names columns the runs do not have: {', '.join(missing)}.")
    finals = results.final_table(metrics, extra=by)
    if len(by) > 1:  # one line per combination of values
        finals["line"] = results.line_label(finals, by)
    scale = ", ".join(sorted(metrics["scale"].unique()))
    title = args.title or f"final performance ({scale} scale, 95% t CI over seeds)"
    line = by[0] if len(by) == 1 else "line"
    figure = figures.final_vs_complexity(finals, title, by=line)
    out = args.out or args.root / "figure3.png"
    results.write_figure(figure, out)
    results.write_table(finals, out.with_suffix(".parquet"))
    print(f"wrote {out} and {out.with_suffix('.parquet')} ({len(finals)} seeds)")


if __name__ == "__main__":
    main()
