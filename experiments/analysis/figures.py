"""Figures drawn from result tables only: pandas in, matplotlib out. Nothing here trains."""

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator, NullLocator  # noqa: E402

import agents  # noqa: E402
import envs  # noqa: E402
from experiments.offline import report  # noqa: E402
from experiments.results import mean_ci  # noqa: E402


def _mean_ci_by(table: pd.DataFrame, by, value: str) -> pd.DataFrame:
    """Mean of `value` over members at each `by`, with its 95% t half-width."""
    if table.empty:  # e.g. no seed reached near-optimal at any frozen step
        return pd.DataFrame(columns=["mean", "half"], dtype=float)
    stats = table.groupby(by)[value].apply(lambda v: pd.Series(mean_ci(v), ["mean", "half"]))
    return stats.unstack()


def curve_with_ci(metrics: pd.DataFrame, ax, label=None, value="score", **style):
    """Mean over all members at each evaluation step, with its 95% t CI. A diverged member
    counts with what its greedy play (argmax of NaN Q-values) scores (experiments/results.py)."""
    stats = _mean_ci_by(metrics, "step", value)
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
    """Each seed's greedy score as a thin line, and their mean with the 95% t interval of
    the mean as a band: the band is where the mean lies, not where the seeds lie."""
    figure, ax = plt.subplots(figsize=(5, 3.8))
    num = metrics["member"].nunique()
    diverged = int(metrics.groupby("member")["diverged"].any().sum())
    note = f" ({diverged} diverged, scored as they play)" if diverged else ""
    line = curve_with_ci(metrics, ax, label=f"mean of {num} seeds; band: its 95% interval{note}")
    for i, (_, seed) in enumerate(metrics.groupby("member")):
        label = "each seed" if i == 0 else None
        ax.plot(seed["step"], seed["score"], color=line.get_color(), alpha=0.45, linewidth=0.7,
                label=label)
    if baseline is not None:
        ax.axhline(
            baseline, color="grey", linestyle="--", linewidth=1, label="uniform random policy"
        )
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.set_title("\n".join(textwrap.wrap(title, 60)), fontsize=9)
    # Below the axes, where it hides no seed's line.
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def close(figure) -> None:
    plt.close(figure)


COLOURS = {  # each agent's colour, in the paper's order: figures and tables list agents so
    "er": "tab:blue",
    "simple_model": "tab:orange",
    "perfect_model": "tab:green",
    "gaussian_latent": "tab:red",
    "categorical_latent": "tab:purple",
    "dyna_mix": "tab:brown",
    "deepmdp": "tab:olive",
}


def agent_order(names) -> list:
    """`names` in the paper's order (COLOURS), any other after them, alphabetically."""
    return _ordered(names, list(COLOURS))


def _line(by: str, name) -> tuple[str, str | None]:
    """The legend label and colour of the line of `name`, a value of column `by`: an agent by
    its registered display name and its colour (matplotlib's next one if it has none)."""
    if by != "agent":
        return str(name), None
    return agents.display(name), COLOURS.get(name)


def _ordered(values, order):
    values = list(values)
    return [v for v in order if v in values] + sorted(v for v in values if v not in order)


def final_vs_complexity(finals: pd.DataFrame, title: str = "", by: str = "agent"):
    """Figure 3: final greedy score against complexity; a row per regime, a panel per
    environment, a line per agent (or per value of `by`); 95% t CIs over all seeds
    (diverged ones scored by their greedy play); the number of diverged seeds is written
    beside a point that has any."""
    regimes = _ordered(finals["regime"].unique(), ["high_data", "low_data"])
    names = _ordered(finals["env"].unique(), list(envs.NAMES))
    figure, axes = plt.subplots(
        len(regimes), len(names), squeeze=False, figsize=(3.6 * len(names), 2.9 * len(regimes))
    )
    for row, regime in zip(axes, regimes, strict=True):
        for ax, env in zip(row, names, strict=True):
            data = finals[(finals["regime"] == regime) & (finals["env"] == env)]
            for name in agent_order(data[by].unique()):
                group = data[data[by] == name]
                stats = []
                for size, at in group.groupby("complexity"):
                    mean, half = mean_ci(at["final_score"])
                    stats.append((size, mean, half, int(at["diverged"].sum())))
                sizes, means, halves, diverged = map(np.array, zip(*stats, strict=True))
                label, colour = _line(by, name)
                ax.errorbar(
                    sizes,
                    means,
                    yerr=np.nan_to_num(halves),
                    label=label,
                    color=colour,
                    marker="o",
                    markersize=3,
                    capsize=2,
                    linewidth=1.2,
                )
                for x, y, d in zip(sizes, means, diverged, strict=True):
                    if d:
                        ax.annotate(
                            f"{d}✗",
                            (x, y),
                            fontsize=6,
                            color=colour,
                            xytext=(3, 3),
                            textcoords="offset points",
                        )
            if "random_policy_score" in data:
                floor = data.groupby("complexity")["random_policy_score"].mean()
                ax.plot(
                    floor.index,
                    floor.values,
                    color="grey",
                    linestyle="--",
                    linewidth=1,
                    label="uniform random",
                )
            ax.set_title(f"{envs.display(env)} ({regime.replace('_', ' ')})", fontsize=9)
            ax.set_xlabel(envs.complexity_label(env), fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel("final greedy score", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def sensitivity_heatmap(grid: pd.DataFrame, title: str = ""):
    """Appendix G: final performance over the step size x temperature grid; the best
    setting outlined in red."""
    table = grid.pivot_table(index="step_size", columns="temperature", values="final_score_mean")
    figure, ax = plt.subplots(
        figsize=(max(4.5, 1.8 + 0.55 * table.shape[1]), max(3.2, 1.4 + 0.42 * table.shape[0]))
    )
    image = ax.imshow(table.values, origin="lower", aspect="auto", cmap="viridis")
    low, high = np.nanmin(table.values), np.nanmax(table.values)
    for (row, column), value in np.ndenumerate(table.values):
        light = (value - low) > 0.6 * (high - low)  # viridis is light at the top
        ax.text(
            column,
            row,
            f"{value:.3g}",
            ha="center",
            va="center",
            fontsize=6,
            color="black" if light else "white",
        )
    ax.set_xticks(range(table.shape[1]), [f"{t:g}" for t in table.columns], fontsize=7, rotation=45)
    ax.set_yticks(range(table.shape[0]), [f"{s:.3g}" for s in table.index], fontsize=7)
    ax.set_xlabel("softmax temperature")
    ax.set_ylabel("Q step size")
    best = grid.iloc[0]
    column = list(table.columns).index(best["temperature"])
    row = list(table.index).index(best["step_size"])
    outline = plt.Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red", lw=2)
    ax.add_patch(outline)
    figure.colorbar(image, ax=ax, label="final greedy score")
    ax.set_title("\n".join(textwrap.wrap(title, 60)), fontsize=8)
    figure.tight_layout()
    return figure


def learning_curves(metrics: pd.DataFrame, title: str = "", by: str = "agent"):
    """Appendix H: greedy score against env steps, a panel per (env, complexity), a line
    per agent (mean and 95% CI over all seeds)."""
    cases = metrics[["env", "complexity"]].drop_duplicates().sort_values(["env", "complexity"])
    columns = min(4, len(cases))
    rows = -(-len(cases) // columns)
    figure, axes = plt.subplots(rows, columns, squeeze=False, figsize=(3.4 * columns, 2.6 * rows))
    for ax, (env, size) in zip(axes.flat, cases.itertuples(index=False), strict=False):
        data = metrics[(metrics["env"] == env) & (metrics["complexity"] == size)]
        for name in agent_order(data[by].unique()):
            label, colour = _line(by, name)
            for _, run in data[data[by] == name].groupby("run_dir"):
                curve_with_ci(run, ax, label=label, color=colour, linewidth=1)
                label = None
        ax.set_title(f"{envs.display(env)} {size}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(cases) :]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


# ----------------------------------------------------------------------------- Figure 1

# Plot offsets of the five grid actions (stay, up, left, down, right); y grows upwards.
_ARROWS = {1: (0, 1), 2: (-1, 0), 3: (0, -1), 4: (1, 0)}
_RIGHT, _WRONG, _GUIDE = "#4d9221", "#c51b7d", "#d9d9d9"  # PiYG: colour-blind safe


def _draw_layout(ax, walls, counts: pd.DataFrame, x0: float, goal=(0, 0)):
    """One 3x3 layout at x offset x0: walls, goal, and per open cell an arrow per action
    whose length is the fraction of seeds choosing it greedily (stay: a circle's radius);
    green when the action is optimal, red when not; cells failing the majority rule tinted."""
    from matplotlib.patches import Circle, Rectangle

    size = walls.shape[0]
    failing = counts.groupby(["row", "col"]).apply(
        lambda g: 2 * g.loc[~g["optimal"], "count"].sum() > g["num_seeds"].iloc[0],
        include_groups=False,
    )
    for r in range(size):
        for c in range(size):
            x, y = x0 + c, size - 1 - r
            if walls[r, c]:
                face = "#4d4d4d"
            elif (r, c) == goal:
                face = "#ffe08a"
            else:
                face = "#f6c9c9" if failing.get((r, c), False) else "white"
            ax.add_patch(Rectangle((x, y), 1, 1, facecolor=face, edgecolor="#999999", lw=0.6))
            if (r, c) == goal:
                ax.text(
                    x + 0.5,
                    y + 0.5,
                    "G",
                    ha="center",
                    va="center",
                    fontsize=9,
                    fontweight="bold",
                    color="#8a6d00",
                )
    ax.add_patch(Rectangle((x0, 0), size, size, fill=False, edgecolor="black", lw=1.2))
    for row in counts[counts["optimal"]].itertuples():  # a faint guide: the right answer
        cx, cy = x0 + row.col + 0.5, size - 1 - row.row + 0.5
        if row.action == 0:
            ax.add_patch(Circle((cx, cy), 0.23, fill=False, edgecolor=_GUIDE, lw=1.0))
            continue
        dx, dy = _ARROWS[row.action]
        ax.plot(
            [cx, cx + dx * 0.47],
            [cy, cy + dy * 0.47],
            color=_GUIDE,
            lw=3.2,
            solid_capstyle="butt",
            zorder=1,
        )
    for row in counts.itertuples():
        if row.fraction <= 0:
            continue
        cx, cy = x0 + row.col + 0.5, size - 1 - row.row + 0.5
        color = _RIGHT if row.optimal else _WRONG
        if row.action == 0:
            ax.add_patch(
                Circle(
                    (cx, cy),
                    0.2 * row.fraction + 0.03,
                    facecolor=color,
                    edgecolor="none",
                    alpha=0.9,
                )
            )
            continue
        dx, dy = _ARROWS[row.action]
        length = 0.47 * row.fraction
        ax.annotate(
            "",
            xy=(cx + dx * length, cy + dy * length),
            xytext=(cx, cy),
            arrowprops=dict(
                arrowstyle="-|>", color=color, lw=1.5, shrinkA=0, shrinkB=0, mutation_scale=6
            ),
            zorder=3,
        )


def figure1(counts: pd.DataFrame, outcomes: pd.DataFrame, title: str = ""):
    """Figure 1 (right): one panel per (agent, coverage level), each showing both evaluation
    layouts with the seeds' greedy actions, and whether the agent succeeds (no cell where a
    majority of seeds act wrongly) beside the paper's prediction."""
    from envs import gridworld

    layouts = gridworld.evaluation_layouts()
    agents = _ordered(counts["agent"].unique(), list(report.AGENT_DISPLAY))
    coverages = _ordered(counts["coverage"].unique(), list(report.COVERAGE_DISPLAY))
    figure, axes = plt.subplots(
        len(agents),
        len(coverages),
        squeeze=False,
        figsize=(2.75 * len(coverages) + 0.6, 1.8 * len(agents) + 1.1),
    )
    result = outcomes.set_index(["agent", "coverage"])
    for i, agent in enumerate(agents):
        for j, coverage in enumerate(coverages):
            ax = axes[i, j]
            panel = counts[(counts["agent"] == agent) & (counts["coverage"] == coverage)]
            for k, (name, walls) in enumerate(layouts.items()):
                x0 = k * (walls.shape[1] + 0.7)
                _draw_layout(ax, walls, panel[panel["layout"] == name], x0)
                if i == len(agents) - 1:
                    ax.text(
                        x0 + 1.5, -0.25, name, ha="center", va="top", fontsize=8, color="#555555"
                    )
            ax.set_xlim(-0.1, 6.8)
            ax.set_ylim(-0.1, 3.1)
            ax.set_aspect("equal")
            ax.axis("off")
            if (agent, coverage) in result.index:
                row = result.loc[(agent, coverage)]
                ok = bool(row["succeeded"])
                label = "succeeds" if ok else "fails"
                paper = row["paper_prediction"]
                agree = (
                    ""
                    if paper is None or pd.isna(paper)
                    else ("  (paper: " + ("succeeds" if paper else "fails") + ")")
                )
                ax.set_title(label + agree, fontsize=8.5, color=_RIGHT if ok else _WRONG, pad=3)
            if i == 0:
                ax.annotate(
                    report.COVERAGE_DISPLAY.get(coverage, coverage),
                    (0.5, 1.0),
                    xycoords="axes fraction",
                    xytext=(0, 16),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=10.5,
                    fontweight="bold",
                )
            if j == 0:
                ax.annotate(
                    report.AGENT_DISPLAY.get(agent, agent),
                    (0.0, 0.5),
                    xycoords="axes fraction",
                    xytext=(-8, 0),
                    textcoords="offset points",
                    ha="right",
                    va="center",
                    rotation=90,
                    fontsize=9.5,
                    fontweight="bold",
                )
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], color=_RIGHT, marker=">", lw=1.5, markersize=4, label="optimal action"),
        Line2D([], [], color=_WRONG, marker=">", lw=1.5, markersize=4, label="wrong action"),
        Line2D([], [], color=_GUIDE, lw=3.2, label="the optimal action (guide)"),
        Patch(facecolor="#f6c9c9", edgecolor="#999999", label="most seeds wrong: fails"),
        Patch(facecolor="#4d4d4d", label="wall"),
        Patch(facecolor="#ffe08a", edgecolor="#999999", label="goal"),
    ]
    figure.legend(
        handles=handles,
        loc="lower center",
        ncol=6,
        fontsize=7.5,
        frameon=False,
        bbox_to_anchor=(0.5, 0.025),
        handlelength=1.8,
        columnspacing=1.2,
    )
    figure.text(
        0.5,
        0.008,
        "Arrow length (circle size for stay): the fraction of seeds whose "
        "greedy action it is. An agent fails a coverage level when, in some cell, "
        "most seeds choose a wrong action.",
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="#444444",
    )
    if title:
        figure.suptitle(title, fontsize=9.5)
    figure.tight_layout(rect=(0.02, 0.07, 1, 0.96 if title else 1))
    return figure


def figure4_smoothing(bins: pd.DataFrame, title: str = ""):
    """Figure 4 left: per agent, the mean prediction per bin of active pipe-ends (over
    members, 95% CI), against the truth. `bins` is experiments.analysis.smoothing.predictions'
    table with an `agent` column."""
    panels = (
        ("reward", "active pipe-ends now", "predicted reward"),
        ("all_ends_next", "active pipe-ends next", "predicted P(all pipe-ends active next)"),
    )
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (quantity, xlabel, ylabel) in zip(axes, panels):
        rows = bins[bins["quantity"] == quantity]
        truth = rows.groupby("active_ends")["truth"].mean()
        ax.plot(truth.index, truth.values, "k--", marker=".", label="truth")
        for agent, per_agent in rows.groupby("agent"):
            stats = _mean_ci_by(per_agent, "active_ends", "predicted")
            members = per_agent["member"].nunique()
            ax.errorbar(
                stats.index,
                stats["mean"],
                yerr=stats["half"].fillna(0.0),
                marker="o",
                markersize=3,
                capsize=2,
                label=f"{agent} ({members} seeds)",
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return figure


def figure4_frozen(table: pd.DataFrame, title: str = ""):
    """Figure 4 right from experiments.analysis.smoothing.frozen_table: per frozen step, the first
    step the fresh Q-network reaches 95% of the optimal reward rate (mean over the seeds
    that do, 95% CI; how many never do, out of how many, written above the budget line),
    and beside it the frozen model's predicted reward at the probed number of active ends."""
    budget, ends = int(table["budget"].iloc[0]), int(table["probe_ends"].iloc[0])
    figure, ax = plt.subplots(figsize=(5.5, 3.6))
    steps = sorted(table["frozen_step"].unique())
    reached = table[table["reached"]]
    stats = _mean_ci_by(reached, "frozen_step", "first_step").reindex(steps)
    orange, green = "tab:orange", "tab:green"
    ax.errorbar(
        steps, stats["mean"], yerr=stats["half"].fillna(0.0), color=orange, marker="o", capsize=3
    )
    ax.axhline(budget, color="black", linewidth=1)
    for step, group in table.groupby("frozen_step"):
        never = int((~group["reached"]).sum())
        if never:
            ax.annotate(
                f"{never}/{len(group)} never",
                (step, budget),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
                fontsize=7,
            )
    ax.set_xscale("log")
    ax.set_xticks(steps, [f"{step / 1000:g}k" for step in steps])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_ylim(0, budget * 1.15)
    ax.set_xlabel("model training steps before freezing")
    ax.set_ylabel(
        f"steps to 95% of optimal reward rate\n({table['member'].nunique()} seeds each)",
        color=orange,
    )
    right = ax.twinx()
    stats = _mean_ci_by(table, "frozen_step", "predicted").reindex(steps)
    right.errorbar(
        steps, stats["mean"], yerr=stats["half"].fillna(0.0), color=green, marker="s", capsize=3
    )
    right.set_ylabel(f"predicted reward at {ends} active ends", color=green)
    right.set_ylim(bottom=min(0.0, float(stats["mean"].min())))
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure
