"""rliable statistics on a hand-made results tree (nothing trains here)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("rliable")

from experiments import results  # noqa: E402
from experiments.analysis import aggregate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RANDOM = {3: 0.1, 4: 0.2}  # random policy's score on PanFlute 3 and 4
# Final scores per seed. Normalized with random = 0 and the perfect model's mean = 1 (0.6 and
# 0.7, so both spans are 0.5), ER's are [0, .5, 1, 1.5] and [0, .5, 0, 1]; its seed 2 on
# PanFlute 4 diverged and its greedy play scored the random policy's 0.2; it counts as it is.
FINALS = {
    ("er", 3): [0.1, 0.35, 0.6, 0.85],
    ("er", 4): [0.2, 0.45, 0.2, 0.7],
    ("perfect_model", 3): [0.6] * 4,
    ("perfect_model", 4): [0.7] * 4,
}
DIVERGED = {("er", 4): 2}


def write_run(root: Path, agent: str, pipes: int, scores, diverged=None, regime="high_data"):
    run_dir = root / f"agent={agent},level=panflute-{pipes},regime={regime}"
    run_dir.mkdir(parents=True)
    members = np.arange(len(scores))
    metrics = pd.DataFrame(
        dict(
            member=members,
            step=100,
            score=np.asarray(scores, float),
            diverged=members == diverged,
            env="panflute",
            complexity=pipes,
            agent=agent,
            regime=regime,
            scale="cpu",
        )
    )
    results.write_table(metrics, run_dir / results.METRICS)
    results.write_text(f"agent:\n  name: {agent}\n", run_dir / results.CONFIG)
    summary = {"random_policy_score": RANDOM[pipes]}
    (run_dir / results.SUMMARY).write_text(json.dumps(summary))


@pytest.fixture
def sweep(tmp_path):
    for (agent, pipes), scores in FINALS.items():
        write_run(tmp_path, agent, pipes, scores, DIVERGED.get((agent, pipes)))
    return tmp_path


def finals_of(root):
    return results.final_table(results.load_runs(root, report=None))


def test_normalization_is_random_zero_perfect_model_one(sweep):
    scores = aggregate.normalize(finals_of(sweep))
    assert scores.reference == "perfect_model"
    assert scores.tasks == ["panflute-3", "panflute-4"]
    np.testing.assert_allclose(scores.by_agent["er"], [[0, 0], [0.5, 0.5], [1, 0], [1.5, 1]])
    np.testing.assert_allclose(scores.by_agent["perfect_model"], np.ones((4, 2)))


def test_point_estimates_by_hand(sweep):
    estimates = aggregate.interval_estimates(aggregate.normalize(finals_of(sweep)), reps=200)
    er = estimates[estimates["agent"] == "er"].set_index("metric")["estimate"]
    # Sorted: 0 0 0 .5 .5 1 1 1.5; the IQM is the mean of the middle four.
    assert er["IQM"] == pytest.approx(0.5)
    assert er["mean"] == pytest.approx(4.5 / 8)
    assert er["median"] == pytest.approx(np.median([0.75, 0.375]))  # of the task means
    assert er["optimality gap"] == pytest.approx(4 / 8)  # mean of max(1 - x, 0)
    # Every perfect-model run is 1, so every resample gives the same value: a point CI.
    perfect = estimates[estimates["agent"] == "perfect_model"].set_index("metric")
    np.testing.assert_allclose(perfect["estimate"], [1, 1, 1, 0])
    assert (perfect["low"] == perfect["estimate"]).all()
    assert (perfect["high"] == perfect["estimate"]).all()
    assert (
        (estimates["low"] <= estimates["estimate"]) & (estimates["estimate"] <= estimates["high"])
    ).all()


def test_probability_of_improvement_over_er_by_hand(sweep):
    table = aggregate.probability_of_improvement(aggregate.normalize(finals_of(sweep)), reps=200)
    row = table.set_index("agent").loc["perfect_model"]
    # Per task, 1 against ER's runs: wins count 1, ties 1/2: 2.5/4 and 3.5/4.
    assert row["estimate"] == pytest.approx((0.625 + 0.875) / 2)
    assert row["baseline"] == "er" and row["low"] <= row["estimate"] <= row["high"]


def test_reference_falls_back_to_the_best_agent(sweep):
    finals = finals_of(sweep)
    scores = aggregate.normalize(finals[finals["agent"] == "er"])
    assert scores.reference == "best"
    # ER's means (0.625 and 0.375 raw-normalized by 0.5) become 1 on each task.
    np.testing.assert_allclose(scores.by_agent["er"].mean(axis=0), [1, 1])


def test_resamples_stay_within_their_task():
    matrix = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])
    copies = aggregate.stratified_resamples(np.random.default_rng(0), matrix, 500)
    assert copies.shape == (500, 3, 2)
    assert np.isin(copies[:, :, 0], matrix[:, 0]).all()
    assert np.isin(copies[:, :, 1], matrix[:, 1]).all()


def test_bootstrap_interval_of_the_mean_matches_theory():
    # 2 tasks x 200 runs of N(0, 1): the mean's 95% CI half-width is 1.96 / sqrt(400).
    matrix = np.random.default_rng(1).normal(size=(200, 2))
    scores = aggregate.Scores({"a": matrix}, ["t0", "t1"], "best")
    row = aggregate.interval_estimates(scores, reps=2000).set_index("metric").loc["mean"]
    assert (row["high"] - row["low"]) / 2 == pytest.approx(1.96 / 20, rel=0.1)


def test_performance_profile_by_hand(sweep):
    scores = aggregate.normalize(finals_of(sweep))
    taus = np.array([-0.1, 0.25, 0.75, 1.25])
    profile, band = aggregate.performance_profile(scores, taus, reps=200)["er"]
    # ER's 8 normalized runs [0 .5 1 1.5 | 0 .5 0 1] above each tau.
    np.testing.assert_allclose(profile, [8 / 8, 5 / 8, 3 / 8, 1 / 8])
    assert band.shape == (2, 4) and (band[0] <= profile).all() and (profile <= band[1]).all()


def test_unequal_seed_counts_are_refused(sweep):
    finals = finals_of(sweep)
    finals = finals.drop(finals.index[(finals["agent"] == "er") & (finals["member"] == 3)][:1])
    with pytest.raises(ValueError, match="agent er needs the same number of seeds"):
        aggregate.normalize(finals)


@pytest.mark.slow  # draws every figure of the script (8 s here)
def test_script_draws_every_figure(sweep, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/aggregate.py"),
            str(sweep),
            "--out",
            str(out),
            "--reps",
            "100",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "| er | 0.500 [" in done.stdout
    for name in ("aggregate", "performance_profile", "probability_of_improvement"):
        assert (out / f"{name}_high_data.png").stat().st_size > 1000
    table = pd.read_parquet(out / "aggregate_high_data.parquet")
    assert set(table["reference"]) == {"perfect_model"}


def test_script_refuses_a_bad_reps(sweep):
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/aggregate.py"), str(sweep), "--reps", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --reps must be a positive integer; got 0."
