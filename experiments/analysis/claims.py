"""The paper's claims as data (CLAIMS, at the end): each claim's text, where the paper makes
it, which results it reads and its judge, a small pure function from that table to a verdict.
A new experiment adds its claims there, and its committed record (results/summaries/) to
RECORDS; scripts/claims_report.py reads the records and writes the report.

Every judge speaks one vocabulary (RULE, VERDICTS): PASS, FAIL, TOO SMALL TO TELL where the
seeds cannot separate the two sides, NOT RUN where a record it needs is missing (FAIL as soon
as a part that did run fails), NOT JUDGED where the source states no testable outcome.
"""

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, NamedTuple

import pandas as pd

from experiments.results import mean_ci

PASS, FAIL, NOT_RUN, NOT_JUDGED = "PASS", "FAIL", "NOT RUN", "NOT JUDGED"
TOO_SMALL = "TOO SMALL TO TELL"  # a comparison the rule cannot separate either way (issue 13)
RULE = (
    "A is ahead of B when the 95% Student-t confidence intervals of their means over seeds do "
    "not overlap and A's is higher (for steps to near-optimal: lower). A seed's value is what "
    "the claim measures: for an online run its final performance, the mean greedy score over "
    "the last 10% of evaluations (a seed whose parameters diverged counts with what its "
    "greedy play scores); offline, the fraction of evaluation cells whose greedy action is "
    "optimal; for Figure 4, a model's prediction. An interval needs two seeds, so a cell "
    "with fewer is never ahead."
)
VERDICTS = {  # when a claim gets each verdict: the report states them once, at its top
    PASS: "the claim's side is ahead where the claim needs it: at each cell it names, at one "
    "cell at least (\"at some level\"), at more than half of the cells (\"at most levels\") "
    "or at more cells than the other side (\"generally\"). A claim on Figure 1's outcomes "
    "passes when every agent's outcome is the predicted one (an agent succeeds when in no "
    "evaluation cell most seeds pick a wrong greedy action).",
    FAIL: "the other side is ahead where the claim needs its own: at a cell the claim names, "
    "or, for a claim about some or most cells, at least as often as the claim's side; or an "
    "outcome in Figure 1's grid world is not the predicted one.",
    TOO_SMALL: "neither: where the claim needs a separation the intervals overlap, so these "
    "seeds and steps cannot tell the two sides apart. The paper's claims and the newer ones "
    "are judged alike.",
    NOT_RUN: "a record the claim needs is not committed, or holds no cell the claim is about; "
    "the row names the command that makes it.",
    NOT_JUDGED: "the source states no testable outcome; the measured numbers are shown.",
}
SCALES = ("paper", "cpu")  # a tree holding runs of several scales is judged on the largest
NAMES = {
    "er": "ER",
    "simple_model": "simple",
    "perfect_model": "perfect",
    "gaussian_latent": "Gaussian",
    "categorical_latent": "categorical",
    "deepmdp": "DeepMDP",
    "procmaze": "ProcMaze",
    "buttongrid": "ButtonGrid",
    "panflute": "PanFlute",
    "opengrid": "OpenGrid",
}

# Figure 1 (paper section 2): does the agent succeed at this coverage level of the offline
# grid world?
PAPER_PREDICTION = {
    ("dqn", "all_evaluation"): True,
    ("model_1step", "all_evaluation"): True,
    ("model_10step", "all_evaluation"): True,
    ("dqn", "path_to_goal"): False,
    ("model_1step", "path_to_goal"): True,
    ("model_10step", "path_to_goal"): True,
    ("dqn", "single_cell"): False,
    ("model_1step", "single_cell"): False,
    ("model_10step", "single_cell"): True,
    ("dqn", "no_evaluation"): False,
    ("model_1step", "no_evaluation"): False,
    ("model_10step", "no_evaluation"): False,
}


class Verdict(NamedTuple):
    claim: str
    source: str
    scale: str
    measured: str
    verdict: str


def largest_scale(finals: pd.DataFrame) -> pd.DataFrame:
    """Only the runs of the largest scale present: seeds of different budgets never pool."""
    if finals.empty:
        return finals
    present = [s for s in SCALES if s in set(finals["scale"])]
    return finals[finals["scale"] == present[0]] if present else finals


def cell_stats(finals: pd.DataFrame, extra=()) -> pd.DataFrame:
    """Per (env, regime, complexity, agent[, extra]): mean, 95% CI half-width and number of
    seeds of the final score, diverged seeds included (scored by their greedy play)."""
    keys = ["env", "regime", "complexity", "agent", *extra]
    columns = [*keys, "mean", "ci95", "n", "scale"]
    if finals.empty or not set(keys) <= set(finals.columns):
        return pd.DataFrame(columns=columns)
    rows = []
    for values, group in finals.groupby(keys, sort=True):
        mean, half = mean_ci(group["final_score"])
        rows.append((*values, mean, half, len(group), group["scale"].iloc[0]))
    return pd.DataFrame(rows, columns=columns)


def beats(a, b) -> bool:
    """The rule of RULE, on two rows with `mean` and `ci95`."""
    if a is None or b is None or not (math.isfinite(a["ci95"]) and math.isfinite(b["ci95"])):
        return False
    return a["mean"] - a["ci95"] > b["mean"] + b["ci95"]


def versus(a, b) -> str:
    """a against b by the rule: "ahead", "behind" or "too small to tell"."""
    return "ahead" if beats(a, b) else ("behind" if beats(b, a) else "too small to tell")


def judged(a, b) -> str:
    """The claim "a beats b" by the rule: PASS, FAIL or TOO SMALL TO TELL."""
    return {"ahead": PASS, "behind": FAIL}.get(versus(a, b), TOO_SMALL)


def _row(stats: pd.DataFrame, **where):
    mask = pd.Series(True, index=stats.index)
    for column, value in where.items():
        mask &= stats[column] == value
    return None if not mask.any() else stats[mask].iloc[0]


def _show(row) -> str:
    return f"{NAMES.get(row['agent'], row['agent'])} {row['mean']:.3g} ± {row['ci95']:.2g}"


def scale_of(table: pd.DataFrame) -> str:
    """The scales a claim's table was measured at, or '-' when nothing ran."""
    if table.empty or "scale" not in table:
        return "-"
    return ", ".join(sorted(set(table["scale"])))


def common_levels(stats: pd.DataFrame, env: str, regime: str, agents) -> list:
    """The complexities at which every one of `agents` ran on (env, regime), ascending."""
    runs = stats[(stats["env"] == env) & (stats["regime"] == regime)]
    sets = [set(runs.loc[runs["agent"] == a, "complexity"]) for a in agents]
    return sorted(set.intersection(*sets)) if sets else []


def _combine(parts: list[str], missing: list[str]) -> str:
    """A claim about every part (verdicts): FAIL as soon as one part fails, NOT RUN where a
    part is missing, PASS where all pass, else TOO SMALL TO TELL."""
    if FAIL in parts:
        return FAIL
    if missing or not parts:
        return NOT_RUN
    return PASS if set(parts) == {PASS} else TOO_SMALL


def _counted(ahead: int, behind: int, total: int, most: bool = True) -> str:
    """A claim about most of `total` cells: PASS where its side is ahead at more than half
    of them (with `most` false, "generally": at more cells than the other side is), FAIL
    where the other side is ahead at as many cells or more, else TOO SMALL TO TELL."""
    if (2 * ahead > total) if most else ahead > behind:
        return PASS
    return FAIL if behind and behind >= ahead else TOO_SMALL


def beat_at_hardest(stats, envs, regime, winners, loser) -> tuple[str, str]:
    """Each of `winners` beats `loser` at the most complex level run (by all of them) of
    each environment in `envs`."""
    parts, shown, missing = [], [], []
    for env in envs:
        levels = common_levels(stats, env, regime, [*winners, loser])
        if not levels:
            missing.append(NAMES.get(env, env))
            continue
        at = dict(env=env, regime=regime, complexity=levels[-1])
        lose = _row(stats, agent=loser, **at)
        for winner in winners:
            win = _row(stats, agent=winner, **at)
            parts.append(judged(win, lose))
            shown.append(f"{NAMES[env]} {levels[-1]}: {_show(win)} vs {_show(lose)}")
    shown += [f"{env}: not run" for env in missing]
    return _combine(parts, missing), "; ".join(shown)


def gaussian_generally_poor(stats, envs=("procmaze", "buttongrid"), regime="high_data"):
    """The Gaussian latent is beaten by the simple model or the categorical latent at most
    (more than half) of the levels of `envs` run; ahead of every rival run beside it, it
    counts against the claim."""
    beaten = ahead = total = 0
    for env in envs:
        for size in common_levels(stats, env, regime, ["gaussian_latent"]):
            at = dict(env=env, regime=regime, complexity=size)
            gaussian = _row(stats, agent="gaussian_latent", **at)
            rivals = [_row(stats, agent=a, **at) for a in ("simple_model", "categorical_latent")]
            if all(r is None for r in rivals):
                continue
            total += 1
            beaten += any(beats(r, gaussian) for r in rivals)
            ahead += all(beats(gaussian, r) for r in rivals if r is not None)
    if not total:
        return NOT_RUN, "no Gaussian latent runs beside the simple or categorical model"
    shown = f"Gaussian beaten at {beaten}, ahead at {ahead}, of {total} levels"
    return _counted(beaten, ahead, total), shown


# The paper sees learned models ahead of the perfect model only "in some of the harder problem
# instances" of PanFlute: from its tuning level (7 pipes) up. Smaller levels cannot test it.
HARD_PANFLUTE = 7


def learned_beats_perfect_on_hard_panflute(stats) -> tuple[str, str]:
    """The simple model or the Gaussian latent beats the perfect model at some PanFlute level
    of at least 7 pipes, in either regime (FAIL where the perfect model is ahead of one and
    no learned model is ahead anywhere)."""
    found, total, behind = [], 0, False
    for regime in sorted(set(stats["regime"])):
        levels = [
            size
            for size in common_levels(stats, "panflute", regime, ["perfect_model"])
            if _row(stats, env="panflute", regime=regime, complexity=size, agent="simple_model")
            is not None
            or _row(stats, env="panflute", regime=regime, complexity=size, agent="gaussian_latent")
            is not None
        ]
        hard = [s for s in levels if s >= HARD_PANFLUTE]
        for size in hard:
            total += 1
            at = dict(env="panflute", regime=regime, complexity=size)
            perfect = _row(stats, agent="perfect_model", **at)
            for agent in ("simple_model", "gaussian_latent"):
                row = _row(stats, agent=agent, **at)
                behind = behind or beats(perfect, row)
                if beats(row, perfect):
                    found.append(f"{regime} {size}: {_show(row)} vs {_show(perfect)}")
    if not total:
        return NOT_RUN, (
            f"no PanFlute runs of {HARD_PANFLUTE} or more pipes with the perfect "
            "model beside a learned model"
        )
    if found:
        return PASS, "; ".join(found)
    shown = f"no learned model ahead of the perfect model at the {total} hard levels run"
    return (FAIL if behind else TOO_SMALL), shown


def ten_step_beats_one_step(stats: pd.DataFrame) -> tuple[str, str]:
    """Over the (agent, env, level, regime) cells run with both rollout lengths, 10-step
    rollouts are ahead (by the rule) in more cells than 1-step rollouts are."""
    length = "agent.rollout_length"
    keys = ["agent", "env", "regime", "complexity"]
    ten_wins = one_wins = total = 0
    for _, cell in stats.groupby(keys) if length in stats else ():
        ten, one = _row(cell, **{length: 10}), _row(cell, **{length: 1})
        if ten is None or one is None:
            continue
        total += 1
        ten_wins += beats(ten, one)
        one_wins += beats(one, ten)
    if not total:
        return NOT_RUN, "no cell run with both rollout lengths"
    verdict = _counted(ten_wins, one_wins, total, most=False)
    return verdict, f"10-step ahead in {ten_wins}, 1-step ahead in {one_wins}, of {total} cells"


def shown_at_hardest(stats: pd.DataFrame) -> tuple[str, str]:
    """No verdict: every agent's final score at the most complex level of each (env, regime)."""
    if stats.empty:
        return NOT_RUN, "no runs"
    shown = []
    for (env, regime), runs in stats.groupby(["env", "regime"]):
        size = runs["complexity"].max()
        at = runs[runs["complexity"] == size]
        scores = ", ".join(_show(r) for _, r in at.iterrows())
        shown.append(f"{NAMES.get(env, env)} {size} ({regime}): {scores}")
    return NOT_JUDGED, "; ".join(shown)


def er_ahead_on_opengrid(stats: pd.DataFrame) -> tuple[str, str]:
    """ER beats the simple model at most (more than half) of the OpenGrid (size, regime)
    cells run."""
    wins = losses = total = 0
    for regime in sorted(set(stats["regime"])):
        for size in common_levels(stats, "opengrid", regime, ["er", "simple_model"]):
            at = dict(env="opengrid", regime=regime, complexity=size)
            er, simple = _row(stats, agent="er", **at), _row(stats, agent="simple_model", **at)
            total += 1
            wins += beats(er, simple)
            losses += beats(simple, er)
    if not total:
        return NOT_RUN, "no OpenGrid runs of ER beside the simple model"
    shown = f"ER ahead at {wins}, the simple model at {losses}, of {total} sizes"
    return _counted(wins, losses, total), shown


def _bin_stats(bins: pd.DataFrame, agent: str, quantity: str, ends: int):
    """Mean and 95% CI over members of one agent's prediction in one bin, or None."""
    rows = bins[
        (bins["agent"] == agent) & (bins["quantity"] == quantity) & (bins["active_ends"] == ends)
    ]
    if rows.empty:
        return None
    mean, half = mean_ci(rows["predicted"])
    return {"agent": agent, "mean": mean, "ci95": half}


def smoothed_reward(bins: pd.DataFrame, agents=("simple_model", "gaussian_latent")):
    """Figure 4 left: each model predicts a reward at n-1 active ends (truth 0) that is
    above 0 and above its prediction at 0 active ends, by the rule."""
    if bins.empty:
        return NOT_RUN, "no binned predictions (scripts/figure4.py smoothing)"
    n = int(bins["num_pipes"].iloc[0])
    parts, shown, missing = [], [], []
    for agent in agents:
        near, none = _bin_stats(bins, agent, "reward", n - 1), _bin_stats(bins, agent, "reward", 0)
        if near is None or none is None:
            missing.append(NAMES.get(agent, agent))
            continue
        zero = {"mean": 0.0, "ci95": 0.0}
        parts.append(_combine([judged(near, none), judged(near, zero)], []))
        shown.append(
            f"{NAMES[agent]}: {n - 1} ends {near['mean']:.3g} ± {near['ci95']:.2g}, "
            f"0 ends {none['mean']:.3g} ± {none['ci95']:.2g}"
        )
    shown += [f"{agent}: not run" for agent in missing]
    return _combine(parts, missing), "; ".join(shown)


def gaussian_smooths_dynamics(bins: pd.DataFrame):
    """Figure 4 left: at n-1 active ends next, the Gaussian latent's probability that all
    ends are active next beats the simple model's (the truth is 0)."""
    if bins.empty:
        return NOT_RUN, "no binned predictions (scripts/figure4.py smoothing)"
    n = int(bins["num_pipes"].iloc[0])
    gaussian = _bin_stats(bins, "gaussian_latent", "all_ends_next", n - 1)
    simple = _bin_stats(bins, "simple_model", "all_ends_next", n - 1)
    if gaussian is None or simple is None:
        return NOT_RUN, "needs both the Gaussian latent and the simple model"
    shown = f"P(all next) at {n - 1} ends next: {_show(gaussian)} vs {_show(simple)}"
    return judged(gaussian, simple), shown


def intermediate_model_best(frozen: pd.DataFrame, budget: int | None = None):
    """Figure 4 right: the steps a fresh Q-network needs to reach near-optimal (a seed that
    never does counts as the budget, by default the table's) are fewer, by the rule, for
    the best model frozen at an intermediate step than for the first and the last frozen
    step (FAIL where the first or the last is ahead of it)."""
    if frozen.empty:
        return NOT_RUN, "no frozen-model runs (scripts/figure4.py frozen)"
    budget = int(frozen["budget"].iloc[0]) if budget is None else budget
    steps = frozen.assign(steps=frozen["first_step"].fillna(budget))
    rows = {}
    for step, group in steps.groupby("frozen_step"):
        mean, half = mean_ci(group["steps"])
        never = int((~group["reached"].astype(bool)).sum())
        rows[step] = {"mean": mean, "ci95": half, "never": never}
    shown = "; ".join(
        f"{int(k):,}: {r['mean']:,.0f} ± {r['ci95']:,.0f} ({r['never']} never)"
        for k, r in sorted(rows.items())
    )
    order = sorted(rows)
    if len(order) < 3:
        return NOT_RUN, f"needs three or more frozen steps; {shown}"
    best = min(order[1:-1], key=lambda k: rows[k]["mean"])
    # Fewer steps is better: the best is ahead of an end when its interval lies below.
    parts = [judged(_negated(rows[best]), _negated(rows[end])) for end in (order[0], order[-1])]
    return _combine(parts, []), f"steps to near-optimal by frozen step: {shown}"


def _negated(row: dict) -> dict:
    return {"mean": -row["mean"], "ci95": row["ci95"]}


def smoothing_decreases(frozen: pd.DataFrame, ends: int | None = None):
    """Figure 4 right: the predicted reward at `ends` active ends (by default the table's
    probe) of the last frozen model is below that of the first, by the rule."""
    if frozen.empty:
        return NOT_RUN, "no frozen-model runs (scripts/figure4.py frozen)"
    ends = int(frozen["probe_ends"].iloc[0]) if ends is None else ends
    steps = sorted(frozen["frozen_step"].unique())
    if len(steps) < 2:
        return NOT_RUN, "needs two or more frozen steps"
    rows = {}
    for step in (steps[0], steps[-1]):
        mean, half = mean_ci(frozen.loc[frozen["frozen_step"] == step, "predicted"].dropna())
        rows[step] = {"mean": mean, "ci95": half}
    first, last = rows[steps[0]], rows[steps[-1]]
    shown = (
        f"predicted reward at {ends} ends: frozen at {int(steps[0]):,} {first['mean']:.3g} ± "
        f"{first['ci95']:.2g}, at {int(steps[-1]):,} {last['mean']:.3g} ± {last['ci95']:.2g}"
    )
    return judged(first, last), shown


def figure1_prediction(
    outcomes: pd.DataFrame, coverage: str, predicted: dict | None = None
) -> tuple[str, str]:
    """Every agent's outcome at `coverage` matches the paper's prediction; `predicted` maps
    agent to True (succeeds) or False (fails), by default PAPER_PREDICTION's."""
    if predicted is None:
        predicted = {a: s for (a, c), s in PAPER_PREDICTION.items() if c == coverage}
    rows = outcomes[outcomes["coverage"] == coverage] if not outcomes.empty else outcomes
    parts, shown, missing = [], [], []
    for agent, succeeds in predicted.items():
        row = _row(rows, agent=agent) if not rows.empty else None
        if row is None:
            missing.append(agent)
            continue
        parts.append(PASS if bool(row["succeeded"]) == succeeds else FAIL)
        worst = f" (worst cell {row['worst_fraction_optimal']:.0%} optimal)"
        shown.append(f"{agent} {'succeeds' if row['succeeded'] else 'fails'}{worst}")
    shown += [f"{agent}: not run" for agent in missing]
    return _combine(parts, missing), "; ".join(shown)


def ahead_at_some_level(stats, env: str, winner: str, loser: str, regime="high_data"):
    """`winner` beats `loser` at some level of `env` run by both: PASS; else `loser` beats
    `winner` at some level: FAIL; else TOO SMALL TO TELL. Each level is shown as ahead,
    behind, or too small to tell (neither interval above the other)."""
    levels = common_levels(stats, env, regime, [winner, loser])
    if not levels:
        return NOT_RUN, f"no {NAMES.get(env, env)} runs of {winner} beside {loser}"
    shown, won, lost = [], False, False
    for size in levels:
        at = dict(env=env, regime=regime, complexity=size)
        w, lo = _row(stats, agent=winner, **at), _row(stats, agent=loser, **at)
        outcome = versus(w, lo)
        won, lost = won or outcome == "ahead", lost or outcome == "behind"
        shown.append(f"{NAMES[env]} {size}: {_show(w)} vs {_show(lo)} ({outcome})")
    return (PASS if won else FAIL if lost else TOO_SMALL), "; ".join(shown)


def markdown(verdicts: list[Verdict], sources: list[str]) -> str:
    """The report: the rule and the verdicts once, their counts, one row per claim, and
    where each record came from (`sources`, one line each)."""
    counts = pd.Series([v.verdict for v in verdicts], dtype=str).value_counts()
    lines = [
        "# The claims, measured",
        "",
        "Made by `python scripts/claims_report.py` from the records committed in "
        "results/summaries/; a test fails where this page differs from what they give.",
        "",
        f"**Rule.** {RULE}",
        "",
        *[f"- **{kind}**: {meaning}" for kind, meaning in VERDICTS.items()],
        "",
        f"**{len(verdicts)} claims:** " + ", ".join(f"{k} {counts.get(k, 0)}" for k in VERDICTS)
        + ". Each row names the scale of its record (seeds, steps, network widths, levels) and "
        "links the page that shows its figure; where each record came from is listed below "
        "the table.",
        "",
        "| claim | source | scale | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        cells = [c.replace("|", "/") for c in v]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "**Read from.**", ""]
    lines += [f"- {source}" for source in sources]
    return "\n".join(lines) + "\n"


# Issue 13 (Gelada and Buckman's three paradigms) in the offline grid world: the table
# scripts/paradigms.py writes, one row per (case, agent, coverage, seed) with the fraction of
# the 12 evaluation cells whose greedy action is optimal. A comparison is PASS or FAIL when
# the rule separates it, TOO SMALL TO TELL when it does not.


def _paradigm_cell(table: pd.DataFrame, case: str, agent: str, coverage: str):
    """Mean, 95% CI and seeds of the fraction optimal of one (case, agent, coverage)."""
    if table.empty:
        return None
    rows = table[(table["case"] == case) & (table["agent"] == agent)
                 & (table["coverage"] == coverage)]  # fmt: skip
    if rows.empty:
        return None
    mean, ci = mean_ci(rows["fraction_optimal"])
    return {"agent": f"{case} {agent}", "mean": mean, "ci95": ci, "n": len(rows),
            "succeeded": bool(rows["succeeded"].iloc[0])}  # fmt: skip


def _show_cell(cell) -> str:
    rule = "succeeds" if cell["succeeded"] else "fails"
    return f"{cell['agent']} {cell['mean']:.2f} ± {cell['ci95']:.2g} ({rule})"


def paradigm_better(
    table: pd.DataFrame, better: tuple, worse: tuple, control: tuple | None = None,
    control_holds: bool = False,
) -> tuple[str, str]:
    """(case, agent, coverage) `better` beats `worse` by the rule: PASS; the reverse: FAIL;
    neither: TOO SMALL TO TELL. `control` is shown beside them; with `control_holds` (the
    control changes the case as `worse` does but should not matter), `better` beating the
    control too makes it TOO SMALL TO TELL: the loss is not `worse`'s own."""
    a, b = _paradigm_cell(table, *better), _paradigm_cell(table, *worse)
    if a is None or b is None:
        missing = [" ".join(c) for c, x in ((better, a), (worse, b)) if x is None]
        return NOT_RUN, f"not run: {' and '.join(missing)}"
    shown = f"{_show_cell(a)} vs {_show_cell(b)}"
    c = _paradigm_cell(table, *control) if control is not None else None
    if c is not None:
        shown += f"; control {_show_cell(c)}"
    elif control_holds:  # the verdict needs the control: without it there is none
        return NOT_RUN, f"not run: {' '.join(control)} (the control)"
    if beats(a, b):
        if control_holds and beats(a, c):
            return TOO_SMALL, shown + " (the control lost as much)"
        return PASS, shown
    return (FAIL if beats(b, a) else TOO_SMALL), shown


def advantage_disappears(table: pd.DataFrame, learner: str) -> tuple[str, str]:
    """Parr 2008: with `learner`, no model agent beats DQN on Path-to-Goal or Single-Cell
    (FAIL if one does), where with networks one does (else nothing disappeared: TOO SMALL TO
    TELL). Shown with the largest |Q_replay - Q_model| over seeds."""
    parts, shown, network_advantage = [], [], False
    for coverage in ("path_to_goal", "single_cell"):
        dqn = _paradigm_cell(table, learner, "dqn", coverage)
        for agent in ("model_1step", "model_10step"):
            model = _paradigm_cell(table, learner, agent, coverage)
            net = _paradigm_cell(table, "network", agent, coverage)
            network_advantage |= beats(net, _paradigm_cell(table, "network", "dqn", coverage))
            if dqn is None or model is None:
                continue
            parts.append(not beats(model, dqn))
            rows = table[(table["case"] == learner) & (table["agent"] == agent)
                         & (table["coverage"] == coverage)]  # fmt: skip
            shown.append(f"{coverage} {agent} {model['mean']:.2f} vs dqn {dqn['mean']:.2f}, "
                         f"max |dQ| {rows['max_abs_q_gap'].max():.3g}")  # fmt: skip
    if not parts:
        return NOT_RUN, f"no {learner} runs"
    if not all(parts):
        return FAIL, "; ".join(shown)
    if not network_advantage:
        return TOO_SMALL, "; ".join(shown) + "; no network model agent beats DQN either"
    return PASS, "; ".join(shown)


# ----------------------------------------------------------------------------- the claims


@dataclass(frozen=True)
class Runs:
    """The finished online runs under results/<tree>, of the largest scale present, as
    cell_stats (split further by the `extra` config columns)."""

    tree: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A table an analysis script wrote into results/<tree>/ (scripts/figure4.py)."""

    tree: str
    file: str


@dataclass(frozen=True)
class RunTable:
    """A table that every run of an offline experiment writes (Figure 1's outcomes): the one
    of the largest scale, from results/<tree> first, without hyperparameter overrides."""

    tree: str
    file: str


class Claim(NamedTuple):
    text: str
    source: str  # where the paper makes it
    reads: Runs | Table | RunTable
    judge: Callable[[pd.DataFrame], tuple[str, str]]  # the table read -> (verdict, measured)

    def verdict(self, table: pd.DataFrame) -> Verdict:
        verdict, measured = self.judge(table)
        return Verdict(self.text, self.source, scale_of(table), measured, verdict)


FIG1 = RunTable("fig1", "outcomes.parquet")
FIG3 = Runs("fig3")
HARD_ENVS = ("procmaze", "buttongrid")
SMOOTHING = Table("fig4_smoothing", "figure4_left.parquet")
FROZEN = Table("fig4_frozen", "figure4_right.parquet")
PARADIGMS = Table("paradigms", "paradigms.parquet")


# ----------------------------------------------------------------------------- model families
# Beyond the paper (issue 15, configs/experiment/model_families.yaml): tables that
# scripts/model_families.py writes, one row per run and seed with the run's `arm`.

FAMILIES = Table("model_families", "families.parquet")
FAMILY_ACCURACY = Table("model_families", "accuracy.parquet")
FAMILY_SMOOTHING = Table("model_families", "smoothing.parquet")


def _arm_row(rows: pd.DataFrame, arm: str, value: str):
    values = rows.loc[rows["arm"] == arm, value]
    if values.empty:
        return None
    mean, half = mean_ci(values)
    return {"agent": arm, "mean": mean, "ci95": half}


def _ahead(a, b, lower: bool) -> bool:
    return beats(_negated(a), _negated(b)) if lower else beats(a, b)


def _compare(a, b, lower: bool) -> str:
    for first, second in ((a, b), (b, a)):
        if _ahead(first, second, lower):
            return f"{NAMES.get(first['agent'], first['agent'])} ahead"
    return "too small to tell"


def arm_beats_arm(table: pd.DataFrame, winner: str, loser: str, value: str = "final_score",
                  by=("env", "complexity"), lower: bool = False) -> tuple[str, str]:
    """`winner` beats `loser` on `value` (per seed) by the rule at some cell of `by` (with
    `lower`, a lower value is ahead); the measured text gives every cell's two intervals and
    which is ahead, if either: FAIL where `loser` is ahead somewhere and `winner` nowhere,
    TOO SMALL TO TELL where neither is ahead anywhere."""
    if table.empty or "arm" not in table:
        return NOT_RUN, "no runs"
    shown, wins, losses, cells = [], 0, 0, 0
    for key, rows in table.groupby(list(by)):
        a, b = _arm_row(rows, winner, value), _arm_row(rows, loser, value)
        if a is None or b is None:
            continue
        cells += 1
        wins += _ahead(a, b, lower)
        losses += _ahead(b, a, lower)
        name = " ".join(str(NAMES.get(k, k)) for k in (key if isinstance(key, tuple) else (key,)))
        shown.append(f"{name}: {_show(a)} vs {_show(b)} ({_compare(a, b, lower)})")
    if not cells:
        return NOT_RUN, f"no cell with both {winner} and {loser}"
    return (PASS if wins else FAIL if losses else TOO_SMALL), "; ".join(shown)


def accuracy_at_last_step(table: pd.DataFrame, winner: str, loser: str) -> tuple[str, str]:
    """Open-loop bit accuracy at the last step (10) of `winner`'s models beats `loser`'s
    at some level."""
    if table.empty or "step" not in table:
        return NOT_RUN, "no accuracy table"
    last = table[table["step"] == table["step"].max()]
    return arm_beats_arm(last, winner, loser, value="accuracy", by=("level",))


def ensemble_smooths_less(bins: pd.DataFrame) -> tuple[str, str]:
    """At n-1 active ends (truth 0) the ensemble's predicted reward (member mean) is below
    the single simple model's by the rule, on some PanFlute level run."""
    if bins.empty or "arm" not in bins:
        return NOT_RUN, "no smoothing table"
    rows = bins[bins["quantity"] == "reward"]
    below = rows[rows["active_ends"] == rows["num_pipes"] - 1]
    verdict, measured = arm_beats_arm(below, "ensemble", "simple_model", value="predicted",
                                      by=("num_pipes",), lower=True)
    return verdict, f"predicted reward at n-1 active ends by pipes: {measured}"


CLAIMS = (
    Claim(
        "All-Evaluation: DQN and both model agents succeed",
        "Figure 1",
        FIG1,
        partial(figure1_prediction, coverage="all_evaluation"),
    ),
    Claim(
        "Path-to-Goal: DQN fails, the 1-step and 10-step models succeed",
        "Figure 1",
        FIG1,
        partial(figure1_prediction, coverage="path_to_goal"),
    ),
    Claim(
        "Single-Cell: DQN and the 1-step model fail, the 10-step model succeeds",
        "Figure 1",
        FIG1,
        partial(figure1_prediction, coverage="single_cell"),
    ),
    Claim(
        "No-Evaluation: all three fail",
        "Figure 1",
        FIG1,
        partial(figure1_prediction, coverage="no_evaluation"),
    ),
    Claim(
        "High data: the simple model and the categorical latent beat ER at the most complex "
        "level of ProcMaze and ButtonGrid",
        "Figure 3",
        FIG3,
        partial(
            beat_at_hardest,
            envs=HARD_ENVS,
            regime="high_data",
            winners=["simple_model", "categorical_latent"],
            loser="er",
        ),
    ),
    Claim(
        "The Gaussian latent generally performs poorly (high data, ProcMaze and ButtonGrid: "
        "beaten by the simple or categorical model at most levels)",
        "Figure 3",
        FIG3,
        gaussian_generally_poor,
    ),
    Claim(
        "Low data: the simple model beats ER at the most complex level of ProcMaze and ButtonGrid",
        "Figure 3",
        FIG3,
        partial(
            beat_at_hardest, envs=HARD_ENVS, regime="low_data", winners=["simple_model"], loser="er"
        ),
    ),
    Claim(
        "PanFlute: the simple model or the Gaussian latent beats the perfect model at some "
        "hard level (7 or more pipes)",
        "Figure 3",
        FIG3,
        learned_beats_perfect_on_hard_panflute,
    ),
    Claim(
        "10-step rollouts are generally better than 1-step rollouts",
        "Appendix I",
        Runs("ablation_rollout", extra=("agent.rollout_length",)),
        ten_step_beats_one_step,
    ),
    Claim(
        "No spontaneous transitions: reported in Appendix I (the text states no outcome); "
        "measured numbers shown",
        "Appendix I",
        Runs("ablation_spontaneous"),
        shown_at_hardest,
    ),
    Claim(
        "OpenGrid (no factored structure): ER is ahead of the simple model",
        "Appendix C",
        Runs("appendix_c"),
        er_ahead_on_opengrid,
    ),
    Claim(
        "The models learn a smoother reward than the truth: more predicted reward at n-1 "
        "active ends than at none, where the truth is 0 for both",
        "Figure 4 left",
        SMOOTHING,
        smoothed_reward,
    ),
    Claim(
        "The Gaussian latent also smooths the dynamics: a higher probability than the simple "
        "model's that all ends are active next when only n-1 will be",
        "Figure 4 left",
        SMOOTHING,
        gaussian_smooths_dynamics,
    ),
    Claim(
        "A model trained for an intermediate time teaches a fresh Q-network fastest",
        "Figure 4 right",
        FROZEN,
        intermediate_model_best,
    ),
    Claim(
        "Smoothing decreases with model training (predicted reward at 6 of 9 active ends, or 2n/3)",
        "Figure 4 right",
        FROZEN,
        smoothing_decreases,
    ),
    Claim(
        "GPS bits (a): DQN on the Path-to-Goal data finds more of the evaluation cells' optimal "
        "moves with GPS bits than without (networks)",
        "Gelada and Buckman",
        PARADIGMS,
        partial(paradigm_better, better=("network_gps", "dqn", "path_to_goal"),
                worse=("network", "dqn", "path_to_goal"),
                control=("network_gps", "model_10step", "path_to_goal")),
    ),
    Claim(
        "Distractor bits (b): an 8-bit counter in the observation costs the 10-step model agent "
        "Path-to-Goal generalization (networks; 8 iid bits as the control)",
        "Gelada and Buckman",
        PARADIGMS,
        partial(paradigm_better, better=("network", "model_10step", "path_to_goal"),
                worse=("network_counter8", "model_10step", "path_to_goal"),
                control=("network_iid8", "model_10step", "path_to_goal"), control_holds=True),
    ),
    Claim(
        "Equivalence (c): with tabular learners the model agents' advantage over DQN on "
        "Path-to-Goal and Single-Cell disappears",
        "Parr 2008 via Gelada and Buckman",
        PARADIGMS,
        partial(advantage_disappears, learner="tabular"),
    ),
    Claim(
        "Equivalence (c): with linear learners the model agents' advantage over DQN on "
        "Path-to-Goal and Single-Cell disappears",
        "Parr 2008 via Gelada and Buckman",
        PARADIGMS,
        partial(advantage_disappears, learner="linear"),
    ),
)


# ----------------------------------------------------------------------------- issue 14
# The Dyna design choices (configs/experiment/dyna_design.yaml): the texts' predictions,
# judged on the arms of one experiment (the `dyna_arm` column) and on Figure 1's offline
# grid with replayed first actions (results/dyna_design_offline).

DYNA_DESIGN = Runs("dyna_design", extra=("dyna_arm",))
DYNA_OFFLINE = RunTable("dyna_design_offline", "outcomes.parquet")
# Expectation vs sample models by rollout length and dynamics (experiment=dyna_expectation).
DYNA_EXPECTATION = Runs("dyna_expectation", extra=("dyna_arm",))
STOCHASTIC = ("panflute", "buttongrid")  # spontaneous events; ProcMaze is deterministic


def arm_beats(
    stats: pd.DataFrame, winner: str, loser: str, envs: tuple[str, ...] = ()
) -> tuple[str, str]:
    """PASS where arm `winner` beats arm `loser` (RULE) at every level both ran (of `envs`
    only, if given); FAIL where `loser` beats `winner` at some level ("behind"); TOO SMALL
    TO TELL otherwise (intervals overlap); NOT RUN if never both."""
    if stats.empty or "dyna_arm" not in stats:
        return NOT_RUN, "not run"
    if envs:
        stats = stats[stats["env"].isin(envs)]
    parts, behind, shown = [], False, []
    for (env, size), at in stats.groupby(["env", "complexity"], sort=True):
        a, b = _row(at, dyna_arm=winner), _row(at, dyna_arm=loser)
        if a is None or b is None:
            continue
        word = versus(a, b)
        behind = behind or word == "behind"
        parts.append(word == "ahead")
        shown.append(
            f"{NAMES.get(env, env)} {size}: {winner} {a['mean']:.3g} ± {a['ci95']:.2g} vs "
            f"{loser} {b['mean']:.3g} ± {b['ci95']:.2g} ({word})"
        )
    if not parts:
        return NOT_RUN, f"{winner} and {loser} not both run"
    return (PASS if all(parts) else FAIL if behind else TOO_SMALL), "; ".join(shown)


CLAIMS = CLAIMS + (
    Claim(
        "Search control: with the first action replayed (Dyna-Q's 'an action previously "
        "taken in it'), the 1-step model fails on Path-to-Goal as DQN does: its advantage "
        "was imagining untaken actions",
        "Sutton & Barto 8.2",
        DYNA_OFFLINE,
        partial(figure1_prediction, coverage="path_to_goal",
                predicted={"model_1step_replayed": False}),
    ),  # fmt: skip
    Claim(
        "Search control: with replayed first actions both model agents still succeed on "
        "All-Evaluation (the data covers every action there)",
        "the Dyna design study",
        DYNA_OFFLINE,
        partial(figure1_prediction, coverage="all_evaluation",
                predicted={"model_1step_replayed": True, "model_10step_replayed": True}),
    ),  # fmt: skip
    Claim(
        "Search control on Single-Cell: with a replayed first action the 10-step model still "
        "succeeds (its later imagined actions are the policy's) and the 1-step model fails, "
        "as with the policy's first action in Figure 1",
        "the Dyna design study",
        DYNA_OFFLINE,
        partial(figure1_prediction, coverage="single_cell",
                predicted={"model_1step_replayed": False, "model_10step_replayed": True}),
    ),  # fmt: skip
    Claim(
        "Search control online: the simple model choosing its first imagined action by the "
        "policy is ahead of the same model replaying the taken action",
        "Sutton & Barto 8.2",
        DYNA_DESIGN,
        partial(arm_beats, winner="simple", loser="simple_replayed"),
    ),
    Claim(
        "A mean (expectation) model hurts where dynamics are stochastic: on PanFlute "
        "(spontaneous events) the sample model is ahead of the one rolling out bit means",
        "Sutton & Barto 8.5",
        DYNA_DESIGN,
        partial(arm_beats, winner="simple", loser="simple_mean"),
    ),
    Claim(
        "Expected backups: averaging the target over 4 sampled next observations is ahead "
        "of one sample where dynamics are stochastic",
        "Sutton & Barto 8.5",
        DYNA_DESIGN,
        partial(arm_beats, winner="simple_expected", loser="simple"),
    ),
    Claim(
        "A mean model hurts where dynamics are stochastic, with 10-step rollouts: on PanFlute "
        "and ButtonGrid the sample model is ahead of the one rolling out bit means",
        "Sutton & Barto 8.5",
        DYNA_EXPECTATION,
        partial(arm_beats, winner="simple", loser="simple_mean", envs=STOCHASTIC),
    ),
    Claim(
        "A mean model hurts where dynamics are stochastic, with 1-step rollouts: on PanFlute "
        "and ButtonGrid the 1-step sample model is ahead of the 1-step mean model",
        "Sutton & Barto 8.5",
        DYNA_EXPECTATION,
        partial(arm_beats, winner="simple_1step", loser="simple_mean_1step", envs=STOCHASTIC),
    ),
    Claim(
        "Expected backups with 1-step rollouts: on PanFlute and ButtonGrid averaging the "
        "target over 4 sampled next observations is ahead of one sample",
        "Sutton & Barto 8.5",
        DYNA_EXPECTATION,
        partial(arm_beats, winner="simple_expected_1step", loser="simple_1step", envs=STOCHASTIC),
    ),
    Claim(
        "Prioritized replay (alpha 0.6, beta 0.4) is ahead of uniform replay for ER",
        "Schaul et al. 2016",
        DYNA_DESIGN,
        partial(arm_beats, winner="er_prioritized", loser="er"),
    ),
    Claim(
        "Prioritized sweeping: prioritized rollout starts are ahead of uniform ones for the "
        "simple model",
        "Sutton & Barto 8.4",
        DYNA_DESIGN,
        partial(arm_beats, winner="simple_prioritized", loser="simple"),
    ),
)


# ----------------------------------------------------------------------------- issue 15
# The model-based families (configs/experiment/model_families.yaml).

CLAIMS = CLAIMS + (
    Claim(
        "Beyond the paper: planning at decision time (MPC, random shooting) with the simple "
        "model beats training Q on the same model's imagined data (the simple-model agent)",
        "seeds (MPC; PETS)",
        FAMILIES,
        partial(arm_beats_arm, winner="mpc", loser="simple_model"),
    ),
    Claim(
        "Beyond the paper: an ensemble of 5 simple models (trajectory sampling) beats one",
        "seeds (PETS, ME-TRPO)",
        FAMILIES,
        partial(arm_beats_arm, winner="ensemble", loser="simple_model"),
    ),
    Claim(
        "Beyond the paper: an ensemble smooths PanFlute's reward less than one simple model "
        "(predicted reward at n-1 active ends, truth 0)",
        "seeds (PETS) and Figure 4",
        FAMILY_SMOOTHING,
        ensemble_smooths_less,
    ),
    Claim(
        "Beyond the paper: training the model on its own 5-step predictions makes 10-step "
        "open-loop predictions more accurate",
        "seeds (SLBO)",
        FAMILY_ACCURACY,
        partial(accuracy_at_last_step, winner="slbo", loser="simple_model"),
    ),
    Claim(
        "Beyond the paper: training the model on its own 5-step predictions beats 1-step "
        "training (final score)",
        "seeds (SLBO)",
        FAMILIES,
        partial(arm_beats_arm, winner="slbo", loser="simple_model"),
    ),
    Claim(
        "Beyond the paper: branched rollouts growing from 1 to 10 steps beat fixed 10-step "
        "rollouts",
        "seeds (MBPO)",
        FAMILIES,
        partial(arm_beats_arm, winner="mbpo", loser="simple_model"),
    ),
)


# ----------------------------------------------------------------------------- issue 13, online
# The predictions on ProcMaze itself (configs/experiment/paradigms_online.yaml): the maze
# variant of a run is read from its env settings.

MAZE_COLUMNS = ("env.gps", "env.distractors", "env.distractor_kind")
PARADIGMS_ONLINE = Runs("paradigms_online", extra=MAZE_COLUMNS)


def maze_name(gps, distractors, kind) -> str:
    """plain, gps or <kind><count> (configs/maze/)."""
    if str(gps).lower() == "true":
        return "gps"
    return f"{kind}{int(distractors)}" if int(distractors) else "plain"


def with_maze(stats: pd.DataFrame) -> pd.DataFrame:
    if stats.empty or not set(MAZE_COLUMNS) <= set(stats.columns):
        return stats.assign(maze=pd.Series(dtype=str))
    return stats.assign(maze=[maze_name(*v) for v in stats[list(MAZE_COLUMNS)].to_numpy()])


def lead_vanishes(stats, agent: str, maze: str, control: str | None = None):
    """Where `agent` beats ER on plain ProcMaze, it no longer does on `maze` (ER matches or
    beats it): PASS; it still does at every such level: FAIL; no lead on the plain maze to
    lose: TOO SMALL TO TELL. With a `control` maze (the same number of bits, but ones a
    factored model predicts exactly), the loss is the maze's own only if the lead survives
    on the control: where the control loses it too, TOO SMALL TO TELL."""
    stats = with_maze(stats)
    ran = stats[(stats["env"] == "procmaze") & (stats["maze"] == maze)]
    levels = sorted(set(ran["complexity"]))
    if not levels:
        return NOT_RUN, f"no {maze} ProcMaze runs"
    shown, kept, controlled, led = [], [], [], False
    for size in levels:
        at = dict(env="procmaze", complexity=size)
        words = {}
        for m in dict.fromkeys(["plain", maze, *([control] if control else [])]):
            a, er = _row(stats, agent=agent, maze=m, **at), _row(stats, agent="er", maze=m, **at)
            if a is None or er is None:
                continue
            words[m] = versus(a, er)
            shown.append(f"ProcMaze {size} {m}: {_show(a)} vs {_show(er)} ({words[m]})")
        if words.get("plain") == "ahead" and maze in words:
            led = True
            kept.append(words[maze] == "ahead")
            controlled.append(control is None or words.get(control) == "ahead")
    if not led:
        return TOO_SMALL, "; ".join(shown) + f"; no lead of {agent} over ER on the plain maze"
    if all(kept):
        return FAIL, "; ".join(shown)
    if not any(c for c, k in zip(controlled, kept) if not k):
        return TOO_SMALL, "; ".join(shown) + f"; the lead is gone on the {control} control too"
    return PASS, "; ".join(shown)


def ahead_on_maze(stats, maze: str, winner: str, loser: str):
    """`winner` beats `loser` on `maze` at some ProcMaze level: PASS; the reverse: FAIL;
    else TOO SMALL TO TELL."""
    stats = with_maze(stats)
    stats = stats[stats["maze"] == maze]
    return ahead_at_some_level(stats, "procmaze", winner, loser)


CLAIMS = CLAIMS + (
    Claim(
        "GPS bits (a), online: the simple model's lead over ER on plain ProcMaze is gone with "
        "GPS bits (ER matches or beats it)",
        "Gelada and Buckman",
        PARADIGMS_ONLINE,
        partial(lead_vanishes, agent="simple_model", maze="gps"),
    ),
    Claim(
        "Distractors (b), online: the simple model's lead over ER on plain ProcMaze is gone "
        "with a 16-bit counter in the observation (16 iid bits: the control)",
        "Gelada and Buckman",
        PARADIGMS_ONLINE,
        partial(lead_vanishes, agent="simple_model", maze="counter16", control="iid16"),
    ),
    Claim(
        "Distractors (b), online: with a 16-bit counter, a model of what matters only "
        "(deepmdp) is ahead of the simple model",
        "Gelada and Buckman",
        PARADIGMS_ONLINE,
        partial(ahead_on_maze, maze="counter16", winner="deepmdp", loser="simple_model"),
    ),
    Claim(
        "Distractors (b), offline: with an 8-bit counter, the DeepMDP's 10-step rollouts find "
        "more Path-to-Goal optimal moves than the simple model's (networks)",
        "Gelada and Buckman",
        PARADIGMS,
        partial(paradigm_better, better=("network_counter8", "deepmdp_10step", "path_to_goal"),
                worse=("network_counter8", "model_10step", "path_to_goal"),
                control=("network", "deepmdp_10step", "path_to_goal")),
    ),
)


# ----------------------------------------------------------------------------- issue 13, deepmdp
# The DeepMDP agent beside ER and the simple model (configs/experiment/deepmdp_check.yaml).

CLAIMS = CLAIMS + (
    Claim(
        "Beyond the paper (Gelada and Buckman): where every observation bit matters (PanFlute), "
        "a DeepMDP needs more data than a model of the observations: the simple model beats "
        "deepmdp at some PanFlute level",
        "Gelada et al. 2019 (DeepMDP)",
        Runs("deepmdp_check"),
        partial(ahead_at_some_level, env="panflute", winner="simple_model", loser="deepmdp"),
    ),
    Claim(
        "Beyond the paper: the DeepMDP keeps a learned model's lead over ER: deepmdp beats ER "
        "at some PanFlute level",
        "Gelada et al. 2019 (DeepMDP)",
        Runs("deepmdp_check"),
        partial(ahead_at_some_level, env="panflute", winner="deepmdp", loser="er"),
    ),
)


# ----------------------------------------------------------------------------- issue 11, fidelity
# The suite's corrections (fidelity=fixed) against the public code's behaviour
# (fidelity=authors), per level (configs/experiment/fidelity.yaml).

FIDELITY = Runs("fidelity", extra=("fidelity.name", "total_steps"))
SETTINGS = ("fixed", "authors")


def _budgets(rows: pd.DataFrame) -> list[tuple]:
    """The (complexity, total steps) cells of `rows`, ascending: a level run at two budgets
    is two cells, never pooled."""
    steps = rows["total_steps"] if "total_steps" in rows else pd.Series(0, index=rows.index)
    return sorted(set(zip(rows["complexity"], steps)))


def _at(rows: pd.DataFrame, size, steps, **where):
    if "total_steps" in rows:
        where["total_steps"] = steps
    return _row(rows, complexity=size, **where)


def _level(env: str, size, steps) -> str:
    return f"{NAMES.get(env, env)} {size}" + (f" ({steps // 1000}k steps)" if steps else "")


def setting_changes(stats, agent: str, env: str, regime="high_data") -> tuple[str, str]:
    """`agent` under fidelity=authors against fidelity=fixed at each level (and budget) of
    `env` run with both: PASS where the two differ by the rule at some level (the switch
    changes the result), TOO SMALL TO TELL where they differ nowhere."""
    if "fidelity.name" not in stats:
        return NOT_RUN, "no fidelity runs"
    rows = stats[(stats["agent"] == agent) & (stats["env"] == env) & (stats["regime"] == regime)]
    cells = [c for c in _budgets(rows)
             if all(_at(rows, *c, **{"fidelity.name": n}) is not None for n in SETTINGS)]
    if not cells:
        return NOT_RUN, f"no {NAMES.get(env, env)} runs of {agent} under both fidelity settings"
    shown, differs = [], False
    for cell in cells:
        fixed, authors = (_at(rows, *cell, **{"fidelity.name": n}) for n in SETTINGS)
        outcome = versus(authors, fixed)
        differs = differs or outcome != "too small to tell"
        shown.append(f"{_level(env, *cell)}: fixed {fixed['mean']:.3g} ± {fixed['ci95']:.2g} "
                     f"vs authors {authors['mean']:.3g} ± {authors['ci95']:.2g} "
                     f"(authors {outcome})")
    return (PASS if differs else TOO_SMALL), "; ".join(shown)


def learned_beats_perfect_in_both(stats, regime="high_data") -> tuple[str, str]:
    """At every PanFlute level (and budget) of at least 7 pipes run, the simple model beats
    the perfect model under each fidelity setting (each against the perfect model of the
    same setting): PASS; FAIL where the perfect model is ahead under some setting; else
    TOO SMALL TO TELL."""
    if "fidelity.name" not in stats:
        return NOT_RUN, "no fidelity runs"
    rows = stats[(stats["env"] == "panflute") & (stats["regime"] == regime)
                 & (stats["complexity"] >= HARD_PANFLUTE)]
    shown, outcomes = [], []
    for cell in _budgets(rows):
        for name in SETTINGS:
            simple, perfect = (_at(rows, *cell, agent=a, **{"fidelity.name": name})
                               for a in ("simple_model", "perfect_model"))
            if simple is None or perfect is None:
                shown.append(f"{_level('panflute', *cell)} {name}: not run")
                outcomes.append(None)
                continue
            outcomes.append(versus(simple, perfect))
            shown.append(f"{_level('panflute', *cell)} {name}: {_show(simple)} vs "
                         f"{_show(perfect)} ({outcomes[-1]})")
    if not outcomes:
        return NOT_RUN, "no PanFlute runs of 7 or more pipes"
    if "behind" in outcomes:
        return FAIL, "; ".join(shown)
    if None in outcomes:
        return NOT_RUN, "; ".join(shown)
    return (PASS if set(outcomes) == {"ahead"} else TOO_SMALL), "; ".join(shown)


CLAIMS = CLAIMS + (
    Claim(
        "The public code's observation after a terminal step (fidelity=authors: the first "
        "stored transition of an episode starts in the old maze) changes ER's final score on "
        "ProcMaze",
        "the fidelity study",
        FIDELITY,
        partial(setting_changes, agent="er", env="procmaze"),
    ),
    Claim(
        "The public code's observation after a terminal step changes the simple model's final "
        "score on ProcMaze",
        "the fidelity study",
        FIDELITY,
        partial(setting_changes, agent="simple_model", env="procmaze"),
    ),
    Claim(
        "The public code's bit sampling (fidelity=authors: P(on) = clip(logit, 0, 1)) changes "
        "the simple model's final score on PanFlute",
        "the fidelity study",
        FIDELITY,
        partial(setting_changes, agent="simple_model", env="panflute"),
    ),
    Claim(
        "The paper's 'learned beats perfect' on PanFlute 7+ holds under both settings: the "
        "simple model beats the perfect model with fidelity=fixed and with fidelity=authors",
        "section 5 (Figure 3)",
        FIDELITY,
        learned_beats_perfect_in_both,
    ),
)


# ----------------------------------------------------------------------------- the records
# Each table a claim reads, as committed in results/summaries/<name>.csv (made by
# `python scripts/readme_tables.py summarize <name> results/<tree>`), with the command that
# makes its runs and the docs page that shows its figure (relative to docs/).


class Record(NamedTuple):
    name: str  # results/summaries/<name>.csv
    runs: str  # the command that makes its runs
    page: str  # the page of docs/ that shows its figure


def _record(name: str, runs: str, page: str) -> Record:
    return Record(name, f"mbgen {runs}", page)


RECORDS = {
    FIG1: _record("fig1", "experiment=fig1", "figures/figure1.md"),
    FIG3: _record("fig3", "-m experiment=fig3 scale=paper regime=high_data,low_data",
                  "figures/figure3.md"),
    Runs("ablation_rollout", extra=("agent.rollout_length",)): _record(
        "ablation_rollout", "-m experiment=ablation_rollout", "figures/appendix-i.md"),
    Runs("ablation_spontaneous"): _record(
        "ablation_spontaneous", "-m experiment=ablation_spontaneous", "figures/appendix-i.md"),
    Runs("appendix_c"): _record("appendix_c", "-m experiment=appendix_c",
                                "figures/appendix-c.md"),
    SMOOTHING: _record("fig4_left", "-m experiment=fig4_smoothing", "figures/figure4-left.md"),
    FROZEN: _record("fig4_right", "experiment=fig4_source && mbgen -m experiment=fig4_frozen",
                    "figures/figure4-right.md"),
    PARADIGMS: _record("paradigms", "-m experiment=paradigms", "studies/paradigms.md"),
    PARADIGMS_ONLINE: _record("paradigms_online", "-m experiment=paradigms_online",
                              "studies/paradigms.md"),
    DYNA_DESIGN: _record("dyna_design", "-m experiment=dyna_design", "studies/dyna-design.md"),
    DYNA_OFFLINE: _record(
        "dyna_design_offline", "experiment=fig1 'offline.agents=[model_1step_replayed,"
        "model_10step_replayed]' results_root=results/dyna_design_offline",
        "studies/dyna-design.md"),
    DYNA_EXPECTATION: _record("dyna_expectation", "-m experiment=dyna_expectation",
                              "studies/dyna-design.md"),
    FAMILIES: _record("model_families", "-m experiment=model_families",
                      "studies/model-families.md"),
    FAMILY_ACCURACY: _record("model_families_accuracy", "-m experiment=model_families",
                             "studies/model-families.md"),
    FAMILY_SMOOTHING: _record("model_families_smoothing", "-m experiment=model_families",
                              "studies/model-families.md"),
    Runs("deepmdp_check"): _record("deepmdp_check", "-m experiment=deepmdp_check",
                                   "studies/deepmdp.md"),
    FIDELITY: _record("fidelity", "-m experiment=fidelity", "studies/fidelity.md"),
}  # fmt: skip
