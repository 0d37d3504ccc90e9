"""The offline 3x3 grid world of paper section 2 (Figure 1; SPEC section 1).

Three agents learn from a fixed dataset (the basic set plus one coverage level of the two
evaluation layouts):

- `dqn`: the DQN learner on 320 dataset transitions per update, sampled uniformly with
  replacement;
- `model_1step` / `model_10step`: the simple model is trained on the dataset first (32
  transitions per model step, sampled uniformly with replacement), then frozen; the DQN
  learner trains on its rollouts, 320 starts x 1 step or 32 starts x 10 steps per update,
  started from observations of dataset transitions sampled the same way.

Every phase is a pure function of one seed's state, `vmap`ped over seeds and `lax.scan`ned
over a chunk of steps; the host advances it chunk by chunk (`run_phase`). Datasets are
padded to one size, so each phase compiles once and serves all four coverage levels. The
random numbers of step t are `fold_in(key, t)`, so results do not depend on the chunk size.

The model phase depends only on (coverage, seed), so both model agents train on the same
model for a given seed: it is trained once and shared (common random numbers; an agent that
trained its own with the same key would get bit-identical parameters).

After every chunk we record the Q-values of every action in every open non-goal cell of
both evaluation layouts (their argmax is the greedy action the Figure 1 metric reads) or the
model's predictions on every evaluation-layout transition; the last ones are the result, the
earlier ones show whether it had settled. `tables` turns them into the tidy tables of a run
directory.
"""

import sys
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from agents import dqn, models
from agents.base import real_batch
from agents.rollout import rollout
from agents.simple_model import SimpleModel
from envs import gridworld as gw
from experiments.claims import PAPER_PREDICTION

AGENTS = ("dqn", "model_1step", "model_10step")
# (rollout_length, num_rollouts): 320 imagined transitions per update, as for every agent.
ROLLOUTS = {"model_1step": (1, 320), "model_10step": (10, 32)}
ACTION_NAMES = ("stay", "up", "left", "down", "right")
LAYOUTS = tuple(gw.evaluation_layouts())  # ("E1", "E2")


@dataclass(frozen=True)
class Settings:
    """Static settings of an offline run (Appendix E is not in the paper; see the README)."""

    model_steps: int  # model training steps, before any Q update
    q_steps: int  # Q-network updates
    chunk: int = 500  # steps per call of the compiled program; divides both step counts
    hidden: tuple = dqn.HIDDEN  # every network: Q and the model's three MLPs
    model_batch_size: int = 32
    model_step_size: float = models.MODEL_STEP_SIZE
    q_batch_size: int = models.Q_BATCH_SIZE  # DQN's batch; the rollouts match it
    target_update_frequency: int = 100  # Q updates between target-network copies
    discount: float = dqn.DISCOUNT


# ----------------------------------------------------------------------------- the dataset


class Dataset(NamedTuple):
    """A dataset as device arrays padded to a fixed number of rows, so one compiled program
    serves every coverage level; only the first `size` rows are ever sampled."""

    transitions: gw.Transitions
    size: jax.Array


# The largest dataset: the basic set plus all of both evaluation layouts.
CAPACITY = 280 + 2 * 6 * gw.NUM_ACTIONS


def padded(data: gw.Transitions, capacity: int = CAPACITY) -> Dataset:
    size = len(data.action)
    if size > capacity:
        raise ValueError(f"a dataset of {size} transitions does not fit {capacity} rows.")
    rows = jax.tree.map(
        lambda x: jnp.asarray(
            np.concatenate([x, np.zeros((capacity - size, *x.shape[1:]), x.dtype)])
        ),
        data,
    )
    return Dataset(gw.Transitions(*rows), jnp.int32(size))


def sample(dataset: Dataset, key: jax.Array, batch_size: int) -> gw.Transitions:
    """`batch_size` transitions, uniformly with replacement."""
    index = jax.random.randint(key, (batch_size,), 0, dataset.size)
    return jax.tree.map(lambda x: x[index], dataset.transitions)


# ----------------------------------------------------------------------------- the phases


def evaluation_observations() -> np.ndarray:
    """(2 layouts, 6 cells, 36): the agent on each open non-goal cell of E1 and E2, in the
    order of `gw.open_cells`."""
    return np.stack([gw.cell_observations(w) for w in gw.evaluation_layouts().values()])


def evaluation_transitions() -> gw.Transitions:
    """Every (cell, action) of both evaluation layouts, layout-major, in `all_pairs` order."""
    layouts = gw.evaluation_layouts().values()
    return gw.concatenate([gw.transitions(w, gw.all_pairs(w)) for w in layouts])


def model_predictions(model: SimpleModel, params, data: gw.Transitions) -> dict:
    """The model's most likely next agent cell (each agent bit thresholded at 0.5, the mode
    of its factorized distribution; -1 unless exactly one bit is on) and its probability that
    the episode continues, for each transition of `data`."""
    _, continuation, next_obs = model.predict(params, data.obs, data.action)
    agent_bits = next_obs[..., : gw.SIZE * gw.SIZE] > 0
    cell = jnp.where(agent_bits.sum(-1) == 1, agent_bits.argmax(-1), -1)
    return {"next_cell": cell, "continuation": jax.nn.sigmoid(continuation)}


def model_chunk(settings: Settings, model: SimpleModel) -> Callable:
    """`chunk(trained, key, t0, length, dataset, _) -> (trained, metrics)`: model steps
    t0 .. t0+length-1 on the dataset (the loss and step of agents/models.py), then the
    model's predictions on every evaluation-layout transition."""
    evaluation = jax.tree.map(jnp.asarray, evaluation_transitions())

    def chunk(trained, key, t0, length, dataset, unused=None):
        def step(trained, t):
            sample_key, loss_key = jax.random.split(jax.random.fold_in(key, t))
            batch = sample(dataset, sample_key, settings.model_batch_size)
            return models.train_step(trained, model.loss, settings.model_step_size, loss_key, batch)

        trained, losses = jax.lax.scan(step, trained, t0 + jnp.arange(length))
        metrics = model_predictions(model, trained.params, evaluation)
        return trained, {"loss": losses.mean(), **metrics}

    return chunk


def q_chunk(settings: Settings, agent: str, q: dqn.DQN, model: SimpleModel) -> Callable:
    """`chunk(learner, key, t0, length, dataset, model_params) -> (learner, metrics)`: Q
    updates t0 .. t0+length-1 on dataset samples (`dqn`) or on rollouts of the frozen model,
    then the Q-values of every evaluation cell."""
    cells = jnp.asarray(evaluation_observations())

    def batch_for(key, learner, model_params, dataset) -> dqn.Batch:
        sample_key, rollout_key = jax.random.split(key)
        if agent == "dqn":
            return real_batch(sample(dataset, sample_key, settings.q_batch_size))
        length, num_rollouts = ROLLOUTS[agent]
        start = sample(dataset, sample_key, num_rollouts).obs

        def transition(key, obs, action):
            return model.transition(model_params, key, obs, action)

        return rollout(rollout_key, q, learner, start, lambda x: x, transition, length, True)

    def chunk(learner, key, t0, length, dataset, model_params=None):
        def step(learner, t):
            batch = batch_for(jax.random.fold_in(key, t), learner, model_params, dataset)
            learner, loss = q.learn(learner, batch)
            learner = dqn.sync_target(learner, t + 1, settings.target_update_frequency)
            return learner, loss

        learner, losses = jax.lax.scan(step, learner, t0 + jnp.arange(length))
        return learner, {"loss": losses.mean(), "q_values": q.q_values(learner, cells)}

    return chunk


def run_phase(
    chunk_fn: Callable,
    state,
    keys: jax.Array,
    dataset: Dataset,
    extra,
    steps: int,
    chunk: int,
    progress: bool = True,
    description: str = "",
    cache: dict | None = None,
) -> tuple:
    """Advance a batch of seeds `steps` steps, `chunk` at a time, with a progress bar.
    Returns the final state and each metric stacked over chunks: (chunks, seeds, ...).
    `cache` keeps the compiled program between calls (coverage levels share it)."""
    if steps % chunk:
        raise ValueError(f"steps ({steps}) must be a multiple of the chunk ({chunk}).")
    cache = {} if cache is None else cache
    if "program" not in cache:
        start = time.perf_counter()

        def one_chunk(state, key, t0, dataset, extra):
            return chunk_fn(state, key, t0, chunk, dataset, extra)

        program = jax.jit(jax.vmap(one_chunk, in_axes=(0, 0, None, None, 0)), donate_argnums=0)
        cache["program"] = program.lower(state, keys, jnp.int32(0), dataset, extra).compile()
        cache["compile_seconds"] = time.perf_counter() - start
    bar = tqdm(
        total=steps,
        unit="step",
        unit_scale=True,
        disable=not progress,
        desc=description,
        file=sys.stderr,
    )
    history = []
    for t0 in range(0, steps, chunk):
        state, metrics = cache["program"](state, keys, jnp.int32(t0), dataset, extra)
        history.append(jax.device_get(metrics))
        bar.update(chunk)
        bar.set_postfix(loss=f"{float(np.nanmean(history[-1]['loss'])):.3g}")
    bar.close()
    return state, {name: np.stack([h[name] for h in history]) for name in history[0]}


# ----------------------------------------------------------------------------- a whole run


@dataclass
class Raw:
    """Everything a run measures, per seed (`tables` derives the rest)."""

    q_values: pd.DataFrame  # at the end of training
    greedy_history: pd.DataFrame  # greedy actions at every chunk boundary
    model_predictions: pd.DataFrame  # at the end of model training
    model_history: pd.DataFrame  # model accuracy at every chunk boundary
    losses: pd.DataFrame
    seconds: dict


def run(
    settings: Settings,
    hyper: dqn.Hyper,
    keys: jax.Array,
    agents: tuple = AGENTS,
    coverages: tuple = gw.COVERAGES,
    progress: bool = True,
) -> Raw:
    """Train every agent at every coverage level for len(keys) seeds (`hyper` batched)."""
    model = SimpleModel(gw.OBS_SIZE, gw.NUM_ACTIONS, tuple(settings.hidden))
    q = dqn.DQN(dqn.mlp(gw.NUM_ACTIONS, tuple(settings.hidden)), settings.discount)
    # Seed i: the model from fold_in(key_i, 0); the Q-network (the same initial network for
    # every agent) and its updates from fold_in(key_i, 1).
    model_keys = jax.vmap(lambda k: jax.random.fold_in(k, 0))(keys)
    q_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    needs_model = any(agent in ROLLOUTS for agent in agents)
    init_model = jax.jit(jax.vmap(lambda k: models.start_training(model.init(k))))
    init_q = jax.jit(jax.vmap(lambda k, h: q.init(k, jnp.zeros(gw.OBS_SIZE), h)))
    chunks = {agent: q_chunk(settings, agent, q, model) for agent in agents}
    chunks["model"] = model_chunk(settings, model)
    caches = {name: {} for name in chunks}
    frames = {name: [] for name in ("q", "greedy", "model", "model_history", "losses")}
    seconds = {}

    for coverage in coverages:
        dataset = padded(gw.dataset(coverage))
        trained = None
        if needs_model:
            start = time.perf_counter()
            trained, metrics = run_phase(
                chunks["model"],
                init_model(model_keys),
                model_keys,
                dataset,
                None,
                settings.model_steps,
                settings.chunk,
                progress,
                f"model {coverage}",
                caches["model"],
            )
            seconds[f"model/{coverage}"] = time.perf_counter() - start
            history = _prediction_rows(coverage, metrics, settings.chunk)
            last = history["step"] == history["step"].max()
            frames["model"].append(history[last].drop(columns="step").reset_index(drop=True))
            frames["model_history"].append(
                history.groupby(["coverage", "step", "member"], as_index=False)["position_correct"]
                .mean()
                .rename(columns={"position_correct": "position_accuracy"})
            )
            frames["losses"].append(_loss_rows("model", coverage, metrics["loss"], settings.chunk))
        for agent in agents:
            start = time.perf_counter()
            extra = trained.params if agent in ROLLOUTS else None
            _, metrics = run_phase(
                chunks[agent],
                init_q(q_keys, hyper),
                q_keys,
                dataset,
                extra,
                settings.q_steps,
                settings.chunk,
                progress,
                f"{agent} {coverage}",
                caches[agent],
            )
            seconds[f"{agent}/{coverage}"] = time.perf_counter() - start
            frames["q"].append(_q_rows(agent, coverage, metrics["q_values"][-1]))
            frames["greedy"].append(
                _greedy_rows(agent, coverage, metrics["q_values"], settings.chunk)
            )
            frames["losses"].append(_loss_rows(agent, coverage, metrics["loss"], settings.chunk))
    for name, cache in caches.items():
        if "compile_seconds" in cache:
            seconds[f"compile/{name}"] = cache["compile_seconds"]

    def joined(name):
        return pd.concat(frames[name], ignore_index=True) if frames[name] else pd.DataFrame()

    return Raw(
        joined("q"),
        joined("greedy"),
        joined("model"),
        joined("model_history"),
        joined("losses"),
        seconds,
    )


# ----------------------------------------------------------------------------- raw rows


def _cell_grid() -> pd.DataFrame:
    """The evaluation cells in the order of `evaluation_observations`, with their optimal
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


def _q_rows(agent: str, coverage: str, q_values: np.ndarray) -> pd.DataFrame:
    """Final Q-values (seeds, layouts, cells, actions) -> one row per seed, cell, action."""
    grid = _cell_grid()
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


def _greedy_rows(agent: str, coverage: str, history: np.ndarray, chunk: int) -> pd.DataFrame:
    """Q-values at every chunk boundary (chunks, seeds, layouts, cells, actions) -> one row
    per step, seed and cell with the greedy action and whether it is optimal."""
    grid = _cell_grid()
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


def _prediction_rows(coverage: str, history: dict, chunk: int) -> pd.DataFrame:
    """The model's predictions on every evaluation transition at every chunk boundary
    (chunks, seeds, transitions) -> one row per step, seed and transition, truth beside."""
    truth = evaluation_transitions()
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


def _loss_rows(phase: str, coverage: str, losses: np.ndarray, chunk: int) -> pd.DataFrame:
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


CELL = ["agent", "coverage", "layout", "row", "col"]


def action_counts(q_values: pd.DataFrame) -> pd.DataFrame:
    """Per (agent, coverage, layout, cell, action): how many seeds' greedy action it is."""
    counts = q_values.groupby([*CELL, "action", "optimal"], sort=False, as_index=False).agg(
        count=("greedy", "sum"), num_seeds=("member", "nunique")
    )
    counts["count"] = counts["count"].astype(int)
    counts["fraction"] = counts["count"] / counts["num_seeds"]
    counts["action_name"] = counts["action"].map(dict(enumerate(ACTION_NAMES)))
    return counts[[*CELL, "action", "action_name", "optimal", "count", "num_seeds", "fraction"]]


def cell_outcomes(counts: pd.DataFrame) -> pd.DataFrame:
    """Per (agent, coverage, layout, cell): the fraction of seeds whose greedy action is
    optimal (any of tied optimal actions counts), and whether a majority chose wrong."""
    right = counts[counts["optimal"]].groupby(CELL, sort=False)["count"].sum()
    seeds = counts.groupby(CELL, sort=False)["num_seeds"].first()
    table = pd.DataFrame(
        {"num_seeds": seeds, "num_optimal": right.reindex(seeds.index, fill_value=0)}
    )
    table["fraction_optimal"] = table["num_optimal"] / table["num_seeds"]
    # The paper's rule: a cell fails when the majority (more than half) of runs pick a
    # wrong greedy action.
    table["majority_wrong"] = 2 * (table["num_seeds"] - table["num_optimal"]) > table["num_seeds"]
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
    per_action.columns = [f"accuracy_{ACTION_NAMES[a]}" for a in per_action.columns]
    return per_cell.merge(per_action.reset_index(), on=keys)


def outcome_history(greedy_history: pd.DataFrame) -> pd.DataFrame:
    """The success rule at every chunk boundary: per (agent, coverage, step), whether the
    agent would succeed if training stopped there, and the mean fraction of optimal cells.
    Shows whether the answer at the end of the budget is settled."""
    cells = greedy_history.groupby([*CELL, "step"], sort=False, as_index=False).agg(
        num_optimal=("optimal", "sum"), num_seeds=("member", "nunique")
    )
    cells["fraction_optimal"] = cells["num_optimal"] / cells["num_seeds"]
    cells["majority_wrong"] = 2 * (cells["num_seeds"] - cells["num_optimal"]) > cells["num_seeds"]
    history = cells.groupby(["agent", "coverage", "step"], sort=False, as_index=False).agg(
        failed_cells=("majority_wrong", "sum"),
        mean_fraction_optimal=("fraction_optimal", "mean"),
        worst_fraction_optimal=("fraction_optimal", "min"),
    )
    history["succeeded"] = history["failed_cells"] == 0
    return history


def tables(raw: Raw) -> dict[str, pd.DataFrame]:
    """The tidy tables a run directory holds, by file stem."""
    counts = action_counts(raw.q_values)
    cells = cell_outcomes(counts)
    return {
        "q_values": raw.q_values,
        "action_counts": counts,
        "cell_outcomes": cells,
        "outcomes": outcomes(cells),
        "greedy_history": raw.greedy_history,
        "outcome_history": outcome_history(raw.greedy_history),
        "model_predictions": raw.model_predictions,
        "model_accuracy": model_accuracy(raw.model_predictions),
        "model_history": raw.model_history,
        "losses": raw.losses,
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
    return {
        "outcomes": result,
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
    """The agent x coverage table as text: ours, with the paper's prediction after '/'."""

    def mark(value):
        return "succeeds" if value else "fails"

    grid = outcomes_.pivot(index="agent", columns="coverage", values="succeeded")
    paper = outcomes_.pivot(index="agent", columns="coverage", values="paper_prediction")
    order_rows = [a for a in AGENTS if a in grid.index]
    order_cols = [c for c in gw.COVERAGES if c in grid.columns]
    text = (
        grid.loc[order_rows, order_cols].map(mark)
        + " / "
        + paper.loc[order_rows, order_cols].map(mark)
    )
    return "ours / paper\n" + text.to_string()
