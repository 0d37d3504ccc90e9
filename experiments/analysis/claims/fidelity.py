"""The suite's corrections (fidelity=fixed) against the public code's behaviour
(fidelity=authors), per level (issue 11, configs/experiment/fidelity.yaml)."""

from functools import partial

import pandas as pd

from experiments.analysis.claims.paper import HARD_PANFLUTE
from experiments.analysis.claims.rule import (
    EVERY,
    NOT_RUN,
    PASS,
    TOO_SMALL,
    Claim,
    Runs,
    compare,
    find_row,
    named,
    record,
    versus,
)

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
    return find_row(rows, complexity=size, **where)


def _level(env: str, size, steps) -> str:
    return " ".join(filter(None, (named("env", env), str(size), named("total_steps", steps))))


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
        return NOT_RUN, f"no {named('env', env)} runs of {agent} under both fidelity settings"
    shown, differs = [], False
    for cell in cells:
        fixed, authors = (_at(rows, *cell, **{"fidelity.name": n}) for n in SETTINGS)
        outcome = versus(authors, fixed)
        differs = differs or outcome != "too small to tell"
        shown.append(f"{_level(env, *cell)}: fixed {fixed['mean']:.3g} ± {fixed['ci95']:.2g} "
                     f"vs authors {authors['mean']:.3g} ± {authors['ci95']:.2g} "
                     f"(authors {outcome})")
    return (PASS if differs else TOO_SMALL), "; ".join(shown)


CLAIMS = (
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
        "simple model beats the perfect model at every level of 7 or more pipes run, with "
        "fidelity=fixed and with fidelity=authors",
        "section 5 (Figure 3)",
        FIDELITY,
        partial(compare, winner="simple_model", loser="perfect_model", over=EVERY,
                at={"env": "panflute", "regime": "high_data", "fidelity.name": SETTINGS},
                from_level=HARD_PANFLUTE,
                cells=("env", "complexity", "total_steps", "fidelity.name")),
    ),  # fmt: skip
)

RECORDS = {FIDELITY: record("fidelity", "-m experiment=fidelity", "studies/fidelity.md")}
