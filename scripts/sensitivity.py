"""Appendix G from results: a step size x temperature heatmap of final performance for
every grid search found under a results directory.

    python scripts/sensitivity.py results/grid_search
"""

import argparse
from pathlib import Path

from experiments import results
from experiments.analysis import figures
from experiments.grid_search import rank_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a results tree holding grid-search runs")
    args = parser.parse_args()
    metrics = results.load_runs(args.root)
    if metrics.empty or "seed_index" not in metrics:
        raise SystemExit(f"error: no finished grid searches under {args.root}.")
    for run_dir, grid in metrics.groupby("run_dir"):
        ranked = rank_settings(grid)
        first = grid.iloc[0]
        title = (
            f"{first['agent']} on {first['env']} {first['complexity']} "
            f"({first['regime']}, {first['scale']} scale): final score (best outlined)"
        )
        figure = figures.sensitivity_heatmap(ranked, title)
        out = Path(run_dir) / "sensitivity.png"
        results.write_figure(figure, out)
        figures.close(figure)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
