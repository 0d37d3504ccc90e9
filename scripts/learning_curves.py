"""Appendix H from results: learning curves per (environment, complexity), a line per agent.

python scripts/learning_curves.py results/fig3 --regime high_data
python scripts/learning_curves.py results/dream --by arm     # a line per study arm
"""

import argparse
from pathlib import Path

from experiments import results
from experiments.analysis import figures
from experiments.cli import fail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--regime", default="high_data")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--by", choices=["agent", "arm"], default="agent",
                        help="a line per agent, or per study arm (configs/family/, design/)")
    args = parser.parse_args()
    metrics = results.load_runs(args.root)
    if metrics.empty or args.regime not in set(metrics["regime"]):
        fail(f"no finished {args.regime} runs under {args.root}.")  # exit 2, as bad input
    metrics = metrics[metrics["regime"] == args.regime]
    if args.by not in metrics:
        fail(f"--by {args.by}: the runs under {args.root} name no {args.by}.")
    figure = figures.learning_curves(metrics, f"learning curves ({args.regime})", by=args.by)
    out = args.out or args.root / f"learning_curves_{args.regime}.png"
    results.write_figure(figure, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
