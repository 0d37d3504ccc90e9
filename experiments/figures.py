"""Figures drawn from result tables only: pandas in, matplotlib out. Nothing here trains."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.results import mean_ci  # noqa: E402


def curve_with_ci(metrics: pd.DataFrame, ax, label=None, value="score", **style):
    """Mean over non-diverged members at each evaluation step, with its 95% t CI."""
    diverged = metrics.groupby("member")["diverged"].transform("any")
    kept = metrics[~diverged]
    stats = kept.groupby("step")[value].apply(lambda v: pd.Series(mean_ci(v), ["mean", "half"]))
    stats = stats.unstack()
    line = ax.plot(stats.index, stats["mean"], label=label, **style)[0]
    half = stats["half"].fillna(0.0)
    ax.fill_between(
        stats.index,
        stats["mean"] - half,
        stats["mean"] + half,
        color=line.get_color(),
        alpha=0.2,
        linewidth=0,
    )
    return line


def learning_curve(
    metrics: pd.DataFrame,
    title: str = "",
    ylabel: str = "greedy score",
    baseline: float | None = None,
):
    figure, ax = plt.subplots(figsize=(5, 3.2))
    num = metrics["member"].nunique()
    diverged = int(metrics.groupby("member")["diverged"].any().sum())
    note = f" ({diverged} diverged, excluded)" if diverged else ""
    curve_with_ci(metrics, ax, label=f"mean of {num - diverged} seeds, 95% CI{note}")
    if baseline is not None:
        ax.axhline(
            baseline, color="grey", linestyle="--", linewidth=1, label="uniform random policy"
        )
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def close(figure) -> None:
    plt.close(figure)
