"""The tables of an offline run: what each phase measured, as rows (`Raw`), and the tidy
tables of a run directory derived from them (`tables`): the greedy action of every seed in
every evaluation cell, the paper's success rule per cell and per (agent, coverage), the
model's accuracy, and how each settled over training (the `_history` tables)."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from envs import gridworld as gw
from envs.core import GRID_ACTION_NAMES
from experiments.offline import dataset
from experiments.offline.prediction import PAPER_PREDICTION

LAYOUTS = tuple(gw.evaluation_layouts())  # ("E1", "E2")
# How Figure 1, the tables and the studies name the agents of training.AGENTS and the
# coverages of the dataset (envs/gridworld.py), in the paper's order.
AGENT_DISPLAY = {
    "dqn": "DQN on the dataset",
    "model_1step": "simple model, 1-step rollouts",
    "model_10step": "simple model, 10-step rollouts",
    "model_1step_replayed": "simple model, 1-step, replayed actions",
    "model_10step_replayed": "simple model, 10-step, replayed first action",
    "deepmdp_1step": "DeepMDP, 1-step rollouts",
    "deepmdp_10step": "DeepMDP, 10-step rollouts",
    "implicit_1step": "implicit model, 1-step rollouts",
    "implicit_10step": "implicit model, 10-step rollouts",
}
COVERAGE_DISPLAY = {
    "all_evaluation": "All-Evaluation",
    "path_to_goal": "Path-to-Goal",
    "single_cell": "Single-Cell",
    "no_evaluation": "No-Evaluation",
}
CELL = ["agent", "coverage", "layout", "row", "col"]


@dataclass
class Raw:
    """Everything a run measures, per seed, as rows by table name (`tables` derives the
    rest), and the seconds each phase took."""

    frames: dict = field(
        default_factory=lambda: {
            name: []
            for name in (
                "q_values",  # at the end of training
                "greedy_history",  # greedy actions at every chunk boundary
                "model_predictions",  # at the end of model training
                "model_history",  # model accuracy at every chunk boundary
                "losses",
            )
        }
    )
    seconds: dict = field(default_factory=dict)

    def add_model(self, coverage: str, metrics: dict, chunk: int, phase: str = "model") -> None:
        """A model phase's metrics, stacked over chunks: (chunks, seeds, ...). The next-cell
        predictions are the simple model's (a DeepMDP's phase has its loss only)."""
        self.frames["losses"].append(loss_rows(phase, coverage, metrics["loss"], chunk))
        if "next_cell" not in metrics:
            return
        history = prediction_rows(coverage, metrics, chunk)
        last = history["step"] == history["step"].max()
        self.frames["model_predictions"].append(
            history[last].drop(columns="step").reset_index(drop=True)
        )
        self.frames["model_history"].append(
            history.groupby(["coverage", "step", "member"], as_index=False)["position_correct"]
            .mean()
            .rename(columns={"position_correct": "position_accuracy"})
        )

    def add_q(self, agent: str, coverage: str, metrics: dict, chunk: int) -> None:
        """A Q phase's metrics, stacked over chunks: (chunks, seeds, ...)."""
        self.frames["q_values"].append(q_rows(agent, coverage, metrics["q_values"][-1]))
        self.frames["greedy_history"].append(
            greedy_rows(agent, coverage, metrics["q_values"], chunk)
        )
        self.frames["losses"].append(loss_rows(agent, coverage, metrics["loss"], chunk))

    def table(self, name: str) -> pd.DataFrame:
        frames = self.frames[name]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ----------------------------------------------------------------------------- raw rows


def cell_grid() -> pd.DataFrame:
    """The evaluation cells in the order of `dataset.evaluation_observations`, with their optimal
    actions as a (cells, actions) mask."""
    rows = []
    for layout, walls in gw.evaluation_layouts().items():
        best = gw.optimal_actions(walls)
        for row, col in gw.open_cells(walls):
            rows.append(
                {
                    "layout": layout,
                    "row": row,
                    "col": col,
                    "optimal": [a in best[(row, col)] for a in range(gw.NUM_ACTIONS)],
                }
            )
    return pd.DataFrame(rows)


def q_rows(agent: str, coverage: str, q_values: np.ndarray) -> pd.DataFrame:
    """Final Q-values (seeds, layouts, cells, actions) -> one row per seed, cell, action."""
    grid = cell_grid()
    seeds = q_values.shape[0]
    values = q_values.reshape(seeds, len(grid), gw.NUM_ACTIONS)
    greedy = values.argmax(-1)[..., None] == np.arange(gw.NUM_ACTIONS)
    member, cell, action = np.indices(values.shape).reshape(3, -1)
    return pd.DataFrame(
        {
            "agent": agent,
            "coverage": coverage,
            "member": member,
            "layout": grid["layout"].to_numpy()[cell],
            "row": grid["row"].to_numpy()[cell],
            "col": grid["col"].to_numpy()[cell],
            "action": action,
            "q_value": values.reshape(-1),
            "greedy": greedy.reshape(-1),
            "optimal": np.stack(grid["optimal"].to_numpy())[cell, action],
        }
    )


def greedy_rows(agent: str, coverage: str, history: np.ndarray, chunk: int) -> pd.DataFrame:
    """Q-values at every chunk boundary (chunks, seeds, layouts, cells, actions) -> one row
    per step, seed and cell with the greedy action and whether it is optimal."""
    grid = cell_grid()
    chunks, seeds = history.shape[:2]
    greedy = history.reshape(chunks, seeds, len(grid), gw.NUM_ACTIONS).argmax(-1)
    step, member, cell = np.indices(greedy.shape).reshape(3, -1)
    action = greedy.reshape(-1)
    return pd.DataFrame(
        {
            "agent": agent,
            "coverage": coverage,
            "step": (step + 1) * chunk,
            "member": member,
            "layout": grid["layout"].to_numpy()[cell],
            "row": grid["row"].to_numpy()[cell],
            "col": grid["col"].to_numpy()[cell],
            "greedy_action": action,
            "optimal": np.stack(grid["optimal"].to_numpy())[cell, action],
        }
    )


def prediction_rows(coverage: str, history: dict, chunk: int) -> pd.DataFrame:
    """The model's predictions on every evaluation transition at every chunk boundary
    (chunks, seeds, transitions) -> one row per step, seed and transition, truth beside."""
    truth = dataset.evaluation_transitions()
    cells = gw.SIZE * gw.SIZE
    true_cell = truth.next_obs[:, :cells].argmax(axis=1)
    start_cell = truth.obs[:, :cells].argmax(axis=1)
    layout = np.repeat(LAYOUTS, len(truth.action) // len(LAYOUTS))
    cell, continuation = history["next_cell"], history["continuation"]
    # A transition into the goal ends the episode; the model is not trained on its next
    # observation, so there it is right when it predicts the end (continuation < 0.5).
    correct = np.where(
        truth.terminal, continuation < 0.5, (cell == true_cell) & (continuation >= 0.5)
    )
    step, member, i = np.indices(cell.shape).reshape(3, -1)
    predicted = cell.reshape(-1)
    return pd.DataFrame(
        {
            "coverage": coverage,
            "step": (step + 1) * chunk,
            "member": member,
            "layout": layout[i],
            "row": start_cell[i] // gw.SIZE,
            "col": start_cell[i] % gw.SIZE,
            "action": truth.action[i],
            "terminal": truth.terminal[i],
            "true_next_row": true_cell[i] // gw.SIZE,
            "true_next_col": true_cell[i] % gw.SIZE,
            "predicted_next_row": np.where(predicted >= 0, predicted // gw.SIZE, -1),
            "predicted_next_col": np.where(predicted >= 0, predicted % gw.SIZE, -1),
            "continuation": continuation.reshape(-1),
            "position_correct": correct.reshape(-1),
        }
    )


def loss_rows(phase: str, coverage: str, losses: np.ndarray, chunk: int) -> pd.DataFrame:
    """Mean training loss over each chunk (chunks, seeds) -> one row per step and seed."""
    step, member = np.indices(losses.shape).reshape(2, -1)
    return pd.DataFrame(
        {
            "phase": phase,
            "coverage": coverage,
            "step": (step + 1) * chunk,
            "member": member,
            "loss": losses.reshape(-1),
        }
    )


# ----------------------------------------------------------------------------- tables


def action_counts(q_values: pd.DataFrame) -> pd.DataFrame:
    """Per (agent, coverage, layout, cell, action): how many seeds' greedy action it is."""
    counts = q_values.groupby([*CELL, "action", "optimal"], sort=False, as_index=False).agg(
        count=("greedy", "sum"), num_seeds=("member", "nunique")
    )
    counts["count"] = counts["count"].astype(int)
    counts["fraction"] = counts["count"] / counts["num_seeds"]
    counts["action_name"] = counts["action"].map(dict(enumerate(GRID_ACTION_NAMES)))
    return counts[[*CELL, "action", "action_name", "optimal", "count", "num_seeds", "fraction"]]


def majority_wrong(num_optimal, num_seeds):
    """The paper's rule: a cell fails when the majority (more than half) of runs pick a
    wrong greedy action; exactly half wrong is not a majority."""
    return 2 * (num_seeds - num_optimal) > num_seeds


def cell_outcomes(counts: pd.DataFrame) -> pd.DataFrame:
    """Per (agent, coverage, layout, cell): the fraction of seeds whose greedy action is
    optimal (any of tied optimal actions counts), and whether a majority chose wrong."""
    right = counts[counts["optimal"]].groupby(CELL, sort=False)["count"].sum()
    seeds = counts.groupby(CELL, sort=False)["num_seeds"].first()
    table = pd.DataFrame(
        {"num_seeds": seeds, "num_optimal": right.reindex(seeds.index, fill_value=0)}
    )
    table["fraction_optimal"] = table["num_optimal"] / table["num_seeds"]
    table["majority_wrong"] = majority_wrong(table["num_optimal"], table["num_seeds"])
    return table.reset_index()


def outcomes(cells: pd.DataFrame) -> pd.DataFrame:
    """Per (agent, coverage): success unless some cell has a majority of wrong greedy
    actions; beside it the worst cell and the paper's prediction."""
    rows = []
    for (agent, coverage), group in cells.groupby(["agent", "coverage"], sort=False):
        worst = group.loc[group["fraction_optimal"].idxmin()]
        succeeded = not group["majority_wrong"].any()
        predicted = PAPER_PREDICTION.get((agent, coverage))
        rows.append(
            {
                "agent": agent,
                "coverage": coverage,
                "succeeded": succeeded,
                "failed_cells": int(group["majority_wrong"].sum()),
                "worst_layout": worst["layout"],
                "worst_row": int(worst["row"]),
                "worst_col": int(worst["col"]),
                "worst_fraction_optimal": float(worst["fraction_optimal"]),
                "num_seeds": int(group["num_seeds"].max()),
                "paper_prediction": predicted,
                "agrees_with_paper": None if predicted is None else succeeded == predicted,
            }
        )
    return pd.DataFrame(rows)


def model_accuracy(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per (coverage, layout, cell): the fraction of (seed, action) pairs whose next agent
    position the model predicts right (footnote 3), and per action beside it."""
    if predictions.empty:
        return pd.DataFrame()
    keys = ["coverage", "layout", "row", "col"]
    per_cell = predictions.groupby(keys, sort=False, as_index=False).agg(
        position_accuracy=("position_correct", "mean"), num_seeds=("member", "nunique")
    )
    per_action = predictions.pivot_table(
        index=keys, columns="action", values="position_correct", aggfunc="mean", sort=False
    )
    per_action.columns = [f"accuracy_{GRID_ACTION_NAMES[a]}" for a in per_action.columns]
    return per_cell.merge(per_action.reset_index(), on=keys)


def outcome_history(greedy_history: pd.DataFrame) -> pd.DataFrame:
    """The success rule at every chunk boundary: per (agent, coverage, step), whether the
    agent would succeed if training stopped there, and the mean fraction of optimal cells.
    Shows whether the answer at the end of the budget is settled."""
    cells = greedy_history.groupby([*CELL, "step"], sort=False, as_index=False).agg(
        num_optimal=("optimal", "sum"), num_seeds=("member", "nunique")
    )
    cells["fraction_optimal"] = cells["num_optimal"] / cells["num_seeds"]
    cells["majority_wrong"] = majority_wrong(cells["num_optimal"], cells["num_seeds"])
    history = cells.groupby(["agent", "coverage", "step"], sort=False, as_index=False).agg(
        failed_cells=("majority_wrong", "sum"),
        mean_fraction_optimal=("fraction_optimal", "mean"),
        worst_fraction_optimal=("fraction_optimal", "min"),
    )
    history["succeeded"] = history["failed_cells"] == 0
    return history


def q_gaps(q_values: pd.DataFrame) -> pd.DataFrame:
    """Per model agent, coverage and seed: the largest |Q_replay - Q_model| over the
    evaluation cells and actions, against the `dqn` agent of the same seed (Parr 2008: with
    tabular or linear learners the two should agree once converged)."""
    if q_values.empty or "dqn" not in set(q_values["agent"]):
        return pd.DataFrame()
    keys = ["coverage", "member", "layout", "row", "col", "action"]
    wide = q_values.pivot_table(index=keys, columns="agent", values="q_value", sort=False)
    rows = []
    for agent in [a for a in dict.fromkeys(q_values["agent"]) if a != "dqn"]:
        gap = (wide[agent] - wide["dqn"]).abs().groupby(["coverage", "member"], sort=False).max()
        rows.append(gap.rename("max_abs_q_gap").reset_index().assign(agent=agent))
    return pd.concat(rows, ignore_index=True)[["agent", "coverage", "member", "max_abs_q_gap"]]


def tables(raw: Raw) -> dict[str, pd.DataFrame]:
    """The tidy tables a run directory holds, by file stem."""
    q_values, greedy_history = raw.table("q_values"), raw.table("greedy_history")
    predictions = raw.table("model_predictions")
    counts = action_counts(q_values)
    cells = cell_outcomes(counts)
    return {
        "q_values": q_values,
        "action_counts": counts,
        "cell_outcomes": cells,
        "outcomes": outcomes(cells),
        "greedy_history": greedy_history,
        "outcome_history": outcome_history(greedy_history),
        "model_predictions": predictions,
        "model_accuracy": model_accuracy(predictions),
        "model_history": raw.table("model_history"),
        "losses": raw.table("losses"),
        "q_gaps": q_gaps(q_values),
    }


# ----------------------------------------------------------------------------- summaries


def summarize(tables: dict, phase_seconds: dict, seconds: float) -> dict:
    """The run's answer in a small JSON: succeed/fail per (agent, coverage) beside the
    paper's prediction, model accuracy on the evaluation transitions, and wall-clock time."""
    outcomes_ = tables["outcomes"]
    result = {}
    for row in outcomes_.itertuples():
        result.setdefault(row.agent, {})[row.coverage] = {
            "succeeded": bool(row.succeeded),
            "paper_prediction": row.paper_prediction,
            "failed_cells": int(row.failed_cells),
            "worst_fraction_optimal": float(row.worst_fraction_optimal),
        }
    agrees = outcomes_["agrees_with_paper"].dropna()
    accuracy = tables["model_accuracy"]
    model = {}
    if not accuracy.empty:
        for coverage, group in accuracy.groupby("coverage", sort=False):
            worst = group.loc[group["position_accuracy"].idxmin()]
            model[coverage] = {
                "mean": float(group["position_accuracy"].mean()),
                "worst_cell": f"{worst['layout']} ({worst['row']},{worst['col']})",
                "worst_cell_accuracy": float(worst["position_accuracy"]),
            }
    gaps = tables.get("q_gaps", pd.DataFrame())
    q_gap = {}
    for (agent, coverage), group in (gaps.groupby(["agent", "coverage"], sort=False)
                                     if not gaps.empty else []):  # fmt: skip
        q_gap.setdefault(agent, {})[coverage] = float(group["max_abs_q_gap"].max())
    return {
        "outcomes": result,
        "max_abs_q_gap_to_dqn": q_gap,
        "agrees_with_paper": int(agrees.sum()),
        "num_outcomes": int(len(agrees)),
        "num_seeds": int(outcomes_["num_seeds"].max()),
        "model_position_accuracy": model,
        "seconds": {"total": seconds, **phase_seconds},
        "definition": "an agent fails a coverage level when, in some open non-goal cell of "
        "an evaluation layout, more than half of the seeds' greedy actions are "
        "not optimal; model accuracy: fraction of (seed, action) pairs whose "
        "next agent cell (or episode end) the model's mode predicts right",
    }


def outcome_grid(outcomes_: pd.DataFrame) -> str:
    """The agent x coverage table as text: ours, with the paper's prediction after '/' ('-'
    for an agent beyond the paper)."""

    def mark(value):
        if value is None or value != value:  # an agent the paper did not run (None / NaN)
            return "-"
        return "succeeds" if value else "fails"

    grid = outcomes_.pivot(index="agent", columns="coverage", values="succeeded")
    paper = outcomes_.pivot(index="agent", columns="coverage", values="paper_prediction")
    order_rows = list(dict.fromkeys(outcomes_["agent"]))  # the order they ran in
    order_cols = [c for c in gw.COVERAGES if c in grid.columns]
    text = (
        grid.loc[order_rows, order_cols].map(mark)
        + " / "
        + paper.loc[order_rows, order_cols].map(mark)
    )
    return "ours / paper\n" + text.to_string()
