"""The rule every claim is judged by: the verdicts (RULE, VERDICTS), what a claim is and what
it reads, the statistics of a cell of runs, and `compare`, the one judge of "A is ahead of
B" over several cells, whose `over` argument (OVER) is the every / any / hardest-level /
most / generally choice each claim states in its text."""

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import pandas as pd

from experiments.results import estimate

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


# ----------------------------------------------------------------------------- what a claim is


class Verdict(NamedTuple):
    claim: str
    source: str
    scale: str
    measured: str
    verdict: str


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


class Record(NamedTuple):
    """A table a claim reads, as committed in results/summaries/<name>.csv (made by
    `python scripts/readme_tables.py summarize <name> results/<tree>`)."""

    name: str  # results/summaries/<name>.csv
    runs: str  # the command that makes its runs
    page: str  # the page of docs/ that shows its figure (relative to docs/)


def record(name: str, runs: str, page: str) -> Record:
    return Record(name, f"mbgen {runs}", page)


# ----------------------------------------------------------------------------- cells of runs


def largest_scale(finals: pd.DataFrame) -> pd.DataFrame:
    """Only the runs of the largest scale present: seeds of different budgets never pool."""
    if finals.empty:
        return finals
    present = [s for s in SCALES if s in set(finals["scale"])]
    return finals[finals["scale"] == present[0]] if present else finals


def pooled(seeds: pd.DataFrame, keys, value: str = "final_score") -> pd.DataFrame:
    """Per `keys` of a table of seeds: the mean, 95% CI half-width and number of seeds of
    `value`, and the scale they ran at."""
    keys = list(keys)
    columns = [*keys, "mean", "ci95", "n", "scale"]
    if seeds.empty or not {*keys, value} <= set(seeds.columns):
        return pd.DataFrame(columns=columns)
    rows = []
    for values, group in seeds.groupby(keys, sort=True):
        scale = group["scale"].iloc[0] if "scale" in group else None
        rows.append((*values, *estimate(group[value]), scale))
    return pd.DataFrame(rows, columns=columns)


def cell_stats(finals: pd.DataFrame, extra=()) -> pd.DataFrame:
    """Per (env, regime, complexity, agent[, extra]): mean, 95% CI half-width and number of
    seeds of the final score, diverged seeds included (scored by their greedy play)."""
    return pooled(finals, ["env", "regime", "complexity", "agent", *extra])


def scale_of(table: pd.DataFrame) -> str:
    """The scales a claim's table was measured at, or '-' when nothing ran."""
    if table.empty or "scale" not in table:
        return "-"
    return ", ".join(sorted(set(table["scale"])))


def find_row(stats: pd.DataFrame, **where):
    """The first row of `stats` holding every value of `where`, or None."""
    mask = pd.Series(True, index=stats.index)
    for column, value in where.items():
        mask &= stats[column] == value
    return None if not mask.any() else stats[mask].iloc[0]


def named(column: str, value) -> str:
    """A value of a column as the report writes it: agents (and an arm that is an agent) and
    environments by their registered display names."""
    # The registries import JAX: the claims, which read tables, import them only to name.
    if column in ("agent", "arm"):
        import agents

        return agents.DISPLAY.get(value, str(value))
    if column == "env":
        import envs

        return envs.display(value) if value in envs.REGISTRY else str(value)
    if column == "total_steps":
        return f"({value // 1000:g}k steps)" if value else ""
    if column == "agent.rollout_length":
        return f"{value}-step"
    return str(value)


def show(row, side: str = "agent") -> str:
    return f"{named(side, row[side])} {row['mean']:.3g} ± {row['ci95']:.2g}"


# ----------------------------------------------------------------------------- the rule


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


def negated(row) -> dict:
    """A row whose lower value is the better one, as one whose higher value is."""
    return {"mean": -row["mean"], "ci95": row["ci95"]}


def combine(parts: list[str], missing: list[str]) -> str:
    """A claim about every part (verdicts): FAIL as soon as one part fails, NOT RUN where a
    part is missing, PASS where all pass, else TOO SMALL TO TELL."""
    if FAIL in parts:
        return FAIL
    if missing or not parts:
        return NOT_RUN
    return PASS if set(parts) == {PASS} else TOO_SMALL


# ----------------------------------------------------------------------------- one comparison

EVERY, HARDEST, ANY, MOST, GENERALLY = "every", "hardest", "any", "most", "generally"
OVER = {  # compare's `over`: where the claim's side must be ahead (its text says which)
    EVERY: "at every cell run with both sides",
    HARDEST: "at the most complex level run with both sides, of each environment",
    ANY: "at one cell at least",
    MOST: "at more than half of the cells",
    GENERALLY: "at more cells than the other side",
}
SETTLED = {EVERY: FAIL, HARDEST: FAIL, ANY: PASS}  # verdicts that a missing part cannot change


class Either(tuple):
    """A side that is one of several agents (or arms): ahead where one of them is, behind
    where the other side is ahead of all of them that ran. A plain tuple is each of them:
    ahead where all are, behind where one is."""


def either(*names) -> Either:
    return Either(names)


def compare(
    table: pd.DataFrame, winner, loser, over: str, *, side: str = "agent",
    cells=("env", "complexity"), at: dict | None = None, from_level: int | None = None,
    value: str | None = None, lower: bool = False,
) -> tuple[str, str]:
    """The claim "`winner` is ahead of `loser`", values of the `side` column, judged at each
    cell (a combination of the `cells` columns) where both ran and decided `over` the cells
    (OVER): every, hardest (every cell at the largest complexity of its environment), any,
    most or generally (the last two count the cells each side is ahead at).

    `at` keeps the rows with those values ({column: value}); a tuple of values names each one
    the claim is about (a column of `cells`): one without a cell makes the claim NOT RUN
    unless a cell already settled it (a FAIL of every or hardest, a PASS of any).
    `from_level` keeps the complexities from it up. The rows are cell_stats, or with `value`
    the seeds' values of that column, pooled per cell and side. With `lower`, the lower
    value is ahead. A tuple `winner` is each of them, an Either one of them."""
    if over not in OVER:
        raise ValueError(f"over must be one of {', '.join(OVER)}; got {over!r}")
    rows = _kept(table, at or {}, from_level)
    if value is not None:
        rows = pooled(rows, [*cells, side], value)
    found = _cells(rows, winner, loser, side, list(cells), lower)
    if over == HARDEST:
        found = _at_hardest(found)
    ahead = sum(c["outcome"] == "ahead" for c in found)
    behind = sum(c["outcome"] == "behind" for c in found)
    missing = [named(column, v) for column, values in (at or {}).items()
               if isinstance(values, tuple) for v in values
               if not any(c["key"].get(column) == v for c in found)]  # fmt: skip
    shown = [line for c in found for line in c["shown"]]
    sides = _side_name(side, winner), _side_name(side, loser)
    if over in (MOST, GENERALLY) and found:
        shown = [f"{sides[0]} ahead in {ahead}, {sides[1]} ahead in {behind}, "
                 f"of {len(found)} cells"]  # fmt: skip
    shown += [f"{m}: not run" for m in missing]
    if not found:
        levels = f" from level {from_level}" if from_level is not None else ""
        return NOT_RUN, "; ".join(shown) or f"no cell{levels} with both {sides[0]} and {sides[1]}"
    verdict = _decided(over, ahead, behind, len(found))
    if missing and verdict != SETTLED.get(over):
        verdict = NOT_RUN
    return verdict, "; ".join(shown)


def _kept(table: pd.DataFrame, at: dict, from_level: int | None) -> pd.DataFrame:
    if table.empty or not set(at) <= set(table.columns):
        return table.iloc[:0]
    mask = pd.Series(True, index=table.index)
    for column, values in at.items():
        mask &= table[column].isin(values if isinstance(values, tuple) else (values,))
    if from_level is not None:
        mask &= table["complexity"] >= from_level
    return table[mask]


def _cells(rows, winner, loser, side: str, cells: list, lower: bool) -> list[dict]:
    """Each cell where the loser and the winner (each of a tuple, one of an Either) ran:
    its key, the winner's outcome and one line per winner shown."""
    if rows.empty or not {*cells, side} <= set(rows.columns):
        return []
    winners = list(winner) if isinstance(winner, tuple) else [winner]
    found = []
    for key, cell in rows.groupby(cells, sort=True):
        key = dict(zip(cells, key if isinstance(key, tuple) else (key,)))
        lose = _one(cell, side, loser, key)
        ran = [w for w in (_one(cell, side, name, key) for name in winners) if w is not None]
        if lose is None or not ran or (len(ran) < len(winners) and not isinstance(winner, Either)):
            continue
        words = [_versus(w, lose, lower) for w in ran]
        where = " ".join(filter(None, (named(c, v) for c, v in key.items())))
        shown = [f"{where}: {show(w, side)} vs {show(lose, side)} "
                 f"({_who(w, lose, word, side)})" for w, word in zip(ran, words)]  # fmt: skip
        outcome = _outcome(words, one_of=isinstance(winner, Either))
        found.append({"key": key, "outcome": outcome, "shown": shown})
    return found


def _outcome(words: list[str], one_of: bool) -> str:
    """A side's outcome in a cell from its members' words: one of them is ahead where one is
    and behind where all are; each of them is behind where one is and ahead where all are."""
    first, all_of = ("ahead", "behind") if one_of else ("behind", "ahead")
    return first if first in words else all_of if set(words) == {all_of} else "even"


def _side_name(side: str, names) -> str:
    if not isinstance(names, tuple):
        return named(side, names)
    return (" or " if isinstance(names, Either) else " and ").join(named(side, n) for n in names)


def _one(cell: pd.DataFrame, side: str, name, key: dict):
    """The row of `name` in a cell; two would be two cells `cells` does not tell apart."""
    rows = cell[cell[side] == name]
    if len(rows) > 1:
        raise ValueError(f"{len(rows)} rows of {side}={name} at {key}: name the column that "
                         "tells them apart in `cells`")  # fmt: skip
    return None if rows.empty else rows.iloc[0]


def _versus(a, b, lower: bool) -> str:
    return versus(negated(a), negated(b)) if lower else versus(a, b)


def _who(a, b, word: str, side: str) -> str:
    """Which of the two is ahead, by name, or "too small to tell"."""
    if word == "too small to tell":
        return word
    return f"{named(side, (a if word == 'ahead' else b)[side])} ahead"


def _at_hardest(found: list[dict]) -> list[dict]:
    """The cells at the largest complexity judged of each combination of the other keys
    (of each environment, say)."""

    def others(cell: dict) -> tuple:
        return tuple((k, v) for k, v in cell["key"].items() if k != "complexity")

    hardest = {}
    for c in found:
        hardest[others(c)] = max(hardest.get(others(c), -math.inf), c["key"]["complexity"])
    return [c for c in found if c["key"]["complexity"] == hardest[others(c)]]


def _decided(over: str, ahead: int, behind: int, total: int) -> str:
    """The verdict of `over` from the cells the claim's side is ahead and behind at."""
    if over in (EVERY, HARDEST):
        return FAIL if behind else PASS if ahead == total else TOO_SMALL
    needed = {ANY: ahead >= 1, MOST: 2 * ahead > total, GENERALLY: ahead > behind}[over]
    if needed:
        return PASS
    return FAIL if behind and behind >= ahead else TOO_SMALL
