"""Gelada and Buckman's three paradigms (issue 13): GPS bits (a), distractor bits (b) and
the equivalence of model-based and model-free learning with tabular or linear learners (c).

Offline (configs/experiment/paradigms.yaml), in Figure 1's grid world: the table
scripts/paradigms.py writes, one row per (case, agent, coverage, seed) with the fraction of
the 12 evaluation cells whose greedy action is optimal. Online, on ProcMaze itself
(configs/experiment/paradigms_online.yaml): the maze variant of a run is its study arm
(configs/maze/), the `arm` column."""

from functools import partial

import pandas as pd

from experiments.analysis.claims.rule import (
    ANY,
    FAIL,
    NOT_RUN,
    PASS,
    TOO_SMALL,
    Claim,
    Runs,
    Table,
    beats,
    compare,
    find_row,
    named,
    record,
    show,
    versus,
)
from experiments.results import estimate

PARADIGMS = Table("paradigms", "paradigms.parquet")
PARADIGMS_ONLINE = Runs("paradigms_online", extra=("arm",))


# ----------------------------------------------------------------------------- offline


def _paradigm_cell(table: pd.DataFrame, case: str, agent: str, coverage: str):
    """Mean, 95% CI and seeds of the fraction optimal of one (case, agent, coverage)."""
    if table.empty:
        return None
    rows = table[(table["case"] == case) & (table["agent"] == agent)
                 & (table["coverage"] == coverage)]  # fmt: skip
    if rows.empty:
        return None
    mean, ci, n = estimate(rows["fraction_optimal"])
    return {"agent": f"{case} {agent}", "mean": mean, "ci95": ci, "n": n,
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


# ----------------------------------------------------------------------------- online


def with_arm(stats: pd.DataFrame) -> pd.DataFrame:
    """`stats`, with an (empty) arm column where no run had one."""
    return stats if "arm" in stats else stats.assign(arm=pd.Series(dtype=str))


def lead_vanishes(stats, agent: str, maze: str, control: str | None = None):
    """Where `agent` beats ER on plain ProcMaze, it no longer does on `maze` (ER matches or
    beats it): PASS; it still does at every such level: FAIL; no lead on the plain maze to
    lose: TOO SMALL TO TELL. With a `control` maze (the same number of bits, but ones a
    factored model predicts exactly), the loss is the maze's own only if the lead survives
    on the control: where the control loses it too, TOO SMALL TO TELL."""
    stats = with_arm(stats)
    ran = stats[(stats["env"] == "procmaze") & (stats["arm"] == maze)]
    levels = sorted(set(ran["complexity"]))
    if not levels:
        return NOT_RUN, f"no {maze} ProcMaze runs"
    shown, kept, controlled, led = [], [], [], False
    for size in levels:
        at = dict(env="procmaze", complexity=size)
        level = f"{named('env', 'procmaze')} {size}"
        words = {}
        for m in dict.fromkeys(["plain", maze, *([control] if control else [])]):
            a = find_row(stats, agent=agent, arm=m, **at)
            er = find_row(stats, agent="er", arm=m, **at)
            if a is None or er is None:
                continue
            words[m] = versus(a, er)
            shown.append(f"{level} {m}: {show(a)} vs {show(er)} ({words[m]})")
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


def on_maze(stats: pd.DataFrame, maze: str, **comparison) -> tuple[str, str]:
    """`compare` on the high-data ProcMaze runs of one maze variant."""
    at = {"env": "procmaze", "regime": "high_data", "arm": maze}
    return compare(with_arm(stats), at=at, **comparison)


# ----------------------------------------------------------------------------- the claims

CLAIMS = (
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
        "(deepmdp) is ahead of the simple model at some ProcMaze level",
        "Gelada and Buckman",
        PARADIGMS_ONLINE,
        partial(on_maze, maze="counter16", winner="deepmdp", loser="simple_model", over=ANY),
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

RECORDS = {
    PARADIGMS: record("paradigms", "-m experiment=paradigms", "studies/paradigms.md"),
    PARADIGMS_ONLINE: record("paradigms_online", "-m experiment=paradigms_online",
                             "studies/paradigms.md"),
}  # fmt: skip
