"""Aggregate results across tasks as rliable reports them (Agarwal et al., 2021).

A task is one level (env x complexity) of one regime; a run is one seed's final score.
Scores are normalized per task so that the uniform random policy is 0 and the reference
is 1: the perfect-model agent's mean final score when the sweep ran it on every task (the
same learner fed the true dynamics, the paper's upper reference), otherwise the best mean
final score of any agent on that task (the best known score). A diverged seed counts
with what its greedy play scored (experiments/results.py), as everywhere in the suite.

The point estimates are rliable's own (`rliable.metrics`): IQM, mean, median, optimality
gap and probability of improvement. Their 95% intervals come from the stratified bootstrap
rliable describes (each task's runs resampled with replacement, percentile interval),
written here because `rliable.library` needs `arch<8`, which does not import under
pandas 3.
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

try:
    from rliable import metrics as rly_metrics
except ImportError as error:  # an optional extra
    raise ImportError(
        "experiments.analysis.aggregate needs rliable; install it with pip install -e '.[rliable]'."
    ) from error

METRICS = {
    "IQM": rly_metrics.aggregate_iqm,
    "mean": rly_metrics.aggregate_mean,
    "median": rly_metrics.aggregate_median,
    "optimality gap": rly_metrics.aggregate_optimality_gap,
}
REFERENCE_AGENT = "perfect_model"
BASELINE_AGENT = "er"


class Scores(NamedTuple):
    """Normalized final scores: agent -> (runs, tasks) matrix, and how they were made."""

    by_agent: dict[str, np.ndarray]
    tasks: list[str]
    reference: str  # "perfect_model" or "best"


def task_names(finals: pd.DataFrame) -> pd.Series:
    return finals["env"].astype(str) + "-" + finals["complexity"].astype(str)


def normalize(finals: pd.DataFrame, agent_column: str = "agent") -> Scores:
    """Per-(run, member) finals (`results.final_table`) of ONE regime -> normalized matrices.

    Every agent must have the same number of seeds on each of its tasks (rliable's matrix).
    """
    if "regime" in finals and finals["regime"].nunique() > 1:
        raise ValueError("normalize takes one regime at a time; select it first.")
    finals = finals.assign(task=task_names(finals))
    finals = finals.assign(score=finals["final_score"])
    means = finals.groupby(["task", agent_column])["score"].mean().unstack(agent_column)
    tasks = sorted(means.index)
    if REFERENCE_AGENT in means and means[REFERENCE_AGENT].notna().all():
        reference, top = REFERENCE_AGENT, means[REFERENCE_AGENT]
    else:
        reference, top = "best", means.max(axis=1)
    random = finals.groupby("task")["random_policy_score"].first()
    span = top - random
    if (span.abs() < 1e-12).any():
        task = span.index[(span.abs() < 1e-12).argmax()]
        raise ValueError(
            f"task {task}: the reference score equals the random policy's, so scores there "
            "cannot be normalized."
        )
    finals["normalized"] = (finals["score"] - finals["task"].map(random)) / finals["task"].map(span)
    by_agent = {}
    for agent, rows in finals.groupby(agent_column, sort=True):
        counts = rows.groupby("task").size()
        if set(counts.index) != set(tasks) or counts.nunique() != 1:
            raise ValueError(
                f"agent {agent} needs the same number of seeds on every task ({', '.join(tasks)}); "
                f"it has {counts.to_dict()}."
            )
        # Columns in `tasks` order; rows are seeds in member order within each task.
        rows = rows.sort_values(["task", "member"])
        by_agent[str(agent)] = np.stack(
            [rows.loc[rows["task"] == t, "normalized"].to_numpy() for t in tasks], axis=1
        )
    return Scores(by_agent, tasks, reference)


def stratified_resamples(rng: np.random.Generator, scores: np.ndarray, reps: int):
    """`reps` bootstrap copies of a (runs, tasks) matrix: each task's runs are drawn with
    replacement from that task's own runs, so every copy keeps the task mix."""
    runs, tasks = scores.shape
    rows = rng.integers(0, runs, size=(reps, runs, tasks))
    return scores[rows, np.arange(tasks)]


def percentile_interval(samples, confidence: float = 0.95) -> tuple[float, float]:
    tail = 50 * (1 - confidence)
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def interval_estimates(scores: Scores, reps: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per agent x metric: the point estimate and its stratified bootstrap 95% CI."""
    rng = np.random.default_rng(seed)
    rows = []
    for agent, matrix in scores.by_agent.items():
        copies = stratified_resamples(rng, matrix, reps)
        for name, metric in METRICS.items():
            low, high = percentile_interval([metric(copy) for copy in copies])
            rows.append(dict(agent=agent, metric=name, estimate=metric(matrix), low=low, high=high))
    return pd.DataFrame(rows)


def probability_of_improvement(
    scores: Scores, baseline: str = BASELINE_AGENT, reps: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """P(X > baseline) for every other agent X, averaged over tasks, with a 95% CI from
    resampling X's and the baseline's runs independently within each task."""
    if baseline not in scores.by_agent:
        raise ValueError(
            f"the baseline agent {baseline} is not in the results; agents: "
            f"{', '.join(scores.by_agent)}."
        )
    rng = np.random.default_rng(seed)
    y = scores.by_agent[baseline]
    rows = []
    for agent, x in scores.by_agent.items():
        if agent == baseline:
            continue
        pairs = zip(stratified_resamples(rng, x, reps), stratified_resamples(rng, y, reps))
        low, high = percentile_interval(
            [rly_metrics.probability_of_improvement(a, b) for a, b in pairs]
        )
        estimate = rly_metrics.probability_of_improvement(x, y)
        rows.append(dict(agent=agent, baseline=baseline, estimate=estimate, low=low, high=high))
    return pd.DataFrame(rows)


def performance_profile(
    scores: Scores, taus: np.ndarray, reps: int = 2000, seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """agent -> (fraction of runs with normalized score > tau for each tau, its (2, taus)
    stratified bootstrap 95% band): rliable's run-score distribution."""
    rng = np.random.default_rng(seed)

    def profile(matrix):  # every task weighs the same: average the per-task fractions
        return (matrix[..., None] > taus).mean(axis=-3).mean(axis=-2)

    out = {}
    for agent, matrix in scores.by_agent.items():
        copies = profile(stratified_resamples(rng, matrix, reps))
        out[agent] = (profile(matrix), np.percentile(copies, [2.5, 97.5], axis=0))
    return out
