"""Figure 4 from saved models and results: model smoothing on PanFlute.

python scripts/figure4.py smoothing results/fig4_smoothing   # left: binned predictions
python scripts/figure4.py frozen results/fig4_frozen         # right: Q on frozen models

Each writes its figure and the tidy table behind it into the results directory.
"""

import argparse
from pathlib import Path

from experiments import results
from experiments.analysis import figures, smoothing
from experiments.cli import fail


def left(args) -> None:
    bins = smoothing.smoothing_table(args.root, step=args.step, num_steps=args.steps)
    if bins.empty:
        fail(f"no run under {args.root} saved models at step {args.step} (save_at).")
    scale = ", ".join(sorted(bins["scale"].unique()))
    title = args.title or (
        f"{int(bins['num_pipes'].iloc[0])}-pipe PanFlute, models at {args.step:,} steps "
        f"({scale} scale, 95% t CI over seeds)"
    )
    figure = figures.figure4_smoothing(bins, title)
    out = args.out or args.root / "figure4_left.png"
    results.write_figure(figure, out)
    results.write_table(bins, out.with_suffix(".parquet"))
    print(f"wrote {out} and {out.with_suffix('.parquet')}")


def right(args) -> None:
    metrics = results.load_runs(args.root)
    if metrics.empty or "agent.frozen" not in metrics or not metrics["agent.frozen"].any():
        fail(f"no finished frozen-model runs under {args.root} (experiment=fig4_frozen).")
    table = smoothing.frozen_table(metrics, args.ends, num_steps=args.steps)
    title = args.title or (
        f"{table['num_pipes'].iloc[0]}-pipe PanFlute, Q trained on frozen simple models "
        f"({table['scale'].iloc[0]} scale)"
    )
    figure = figures.figure4_frozen(table, title)
    out = args.out or args.root / "figure4_right.png"
    results.write_figure(figure, out)
    results.write_table(table, out.with_suffix(".parquet"))
    print(f"wrote {out} and {out.with_suffix('.parquet')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("panel", choices=["smoothing", "frozen"])
    parser.add_argument("root", type=Path, help="the experiment's results directory")
    parser.add_argument("--out", type=Path, default=None, help="PNG path")
    parser.add_argument("--step", type=int, default=10_000, help="smoothing: the saved step")
    parser.add_argument(
        "--ends", type=int, default=None, help="frozen: active ends to probe (default 2n/3)"
    )
    parser.add_argument(
        "--steps", type=int, default=1000, help="policy steps per each of 64 data runs"
    )
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    (left if args.panel == "smoothing" else right)(args)


if __name__ == "__main__":
    main()
