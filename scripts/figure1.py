"""Figure 1 of the paper from the tables of an offline grid-world run (experiment=fig1).

    python scripts/figure1.py results/fig1/fig1-cpu                       # -> <run>/figure1.png
    python scripts/figure1.py results/fig1/fig1-cpu -o results/figures/figure1_cpu.png

Reads action_counts.parquet and outcomes.parquet only; nothing is trained.
"""

import argparse
from pathlib import Path

import pandas as pd

from experiments import results
from experiments.analysis import figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run directory of mbgen experiment=fig1")
    parser.add_argument("-o", "--output", type=Path, help="PNG to write (default: in run_dir)")
    parser.add_argument("--title", help="figure title (default: the run directory's name)")
    args = parser.parse_args()
    counts = pd.read_parquet(args.run_dir / "action_counts.parquet")
    outcomes = pd.read_parquet(args.run_dir / "outcomes.parquet")
    seeds = int(counts["num_seeds"].max())
    title = args.title if args.title is not None else f"{args.run_dir.name}: {seeds} seeds"
    figure = figures.figure1(counts, outcomes, title)
    output = args.output or args.run_dir / "figure1.png"
    results.write_figure(figure, output)
    figures.close(figure)
    print(f"wrote {output} ({output.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
