"""Figure 3 from results: final greedy score against complexity, per environment and regime.

python scripts/figure3.py results/fig3 --out results/figures/figure3.png
"""

import argparse
from pathlib import Path

from experiments import figures, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a results directory tree (e.g. results/fig3)")
    parser.add_argument(
        "--out", type=Path, default=None, help="PNG path (default: ROOT/figure3.png)"
    )
    parser.add_argument("--by", default="agent", help="column that makes the lines")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    metrics = results.load_runs(args.root)
    if metrics.empty:
        raise SystemExit(f"error: no finished runs under {args.root}.")
    finals = results.final_table(metrics)
    scale = ", ".join(sorted(metrics["scale"].unique()))
    title = args.title or f"final performance ({scale} scale, 95% t CI over seeds)"
    figure = figures.final_vs_complexity(finals, title, by=args.by)
    out = args.out or args.root / "figure3.png"
    results.write_figure(figure, out)
    results.write_table(finals, out.with_suffix(".parquet"))
    print(f"wrote {out} and {out.with_suffix('.parquet')} ({len(finals)} seeds)")


if __name__ == "__main__":
    main()
