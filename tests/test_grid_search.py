import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import agents
import envs
from agents import dqn
from experiments.driver import compile_program, member_keys, run_online
from experiments.grid_search import Grid, rank_settings, search, tuned_yaml
from experiments.online import Regime
from experiments.tuned import read_tuned_file, tuned

ENV = envs.make("panflute", num_pipes=2)
AGENT = agents.make("er", ENV, batch_size=16, capacity=256, hidden=(16,))
REGIME = Regime(
    total_steps=60,
    updates_per_step=1,
    target_update_frequency=10,
    eval_interval=30,
    learning_starts=20,
    eval_runs=4,
    eval_steps=10,
)


def grid(chunk_size):
    return Grid(step_size_exponents=(0, 3), temperature_exponents=(-1, 2), chunk_size=chunk_size)


def test_the_grid_is_the_papers_powers_of_two():
    assert grid(0).settings() == [(1e-4, 0.05), (1e-4, 0.4), (8e-4, 0.05), (8e-4, 0.4)]


@pytest.mark.slow  # several compiled programs (about 30 s quiet)
def test_chunking_changes_no_member_and_each_member_is_its_own_single_run():
    whole = search(ENV, AGENT, REGIME, grid(0), num_seeds=2, seed=3, progress=False)
    chunked = search(ENV, AGENT, REGIME, grid(3), num_seeds=2, seed=3, progress=False)
    assert len(whole) == 4 * 2 * 2  # settings x seeds x evaluations
    columns = ["member", "step", "step_size", "temperature", "seed_index", "score", "td_loss"]
    whole = whole.sort_values(["member", "step"], ignore_index=True)
    chunked = chunked.sort_values(["member", "step"], ignore_index=True)
    pd.testing.assert_frame_equal(whole[columns], chunked[columns], check_exact=False, rtol=1e-5)

    # The member with step size 8e-4, temperature 0.05, seed 1, trained on its own.
    program = compile_program(ENV, AGENT, REGIME, 1)
    hyper = dqn.Hyper(jnp.array([8e-4]), jnp.array([0.05]))
    alone = run_online(program, program.init(member_keys(3, 2)[1:], hyper))
    member = whole[
        (whole["step_size"] == np.float32(8e-4).item())
        & (whole["temperature"] == np.float32(0.05).item())
        & (whole["seed_index"] == 1)
    ]
    np.testing.assert_allclose(member["td_loss"], alone["td_loss"], rtol=1e-5)
    np.testing.assert_allclose(member["score"], alone["score"], rtol=1e-5)


def grid_metrics(settings) -> pd.DataFrame:
    """A grid's metrics at one evaluation: per (step size, temperature), each seed's
    (final score, diverged)."""
    rows = []
    for lr, tau, seeds in settings:
        for seed, (score, diverged) in enumerate(seeds):
            rows.append(
                {
                    "step_size": lr,
                    "temperature": tau,
                    "member": len(rows),
                    "seed_index": seed,
                    "step": 100,
                    "score": score,
                    "diverged": diverged,
                }
            )
    return pd.DataFrame(rows)


def test_the_best_setting_is_the_highest_mean_final_score_and_round_trips_as_a_tuned_file(tmp_path):
    ranked = rank_settings(
        grid_metrics(
            [
                (1e-4, 0.1, [(1.0, False), (3.0, False)]),
                (2e-4, 0.1, [(5.0, False), (6.0, False)]),
                (4e-4, 0.1, [(9.0, False), (-1.0, True)]),
            ]
        )
    )
    # 4e-4's diverged seed counts with its score: (9 - 1) / 2 = 4 ranks it below 2e-4's 5.5.
    assert ranked["step_size"].tolist() == [2e-4, 4e-4, 1e-4]
    assert ranked["final_score_mean"].tolist() == [5.5, 4.0, 2.0]
    assert ranked["num_diverged"].tolist() == [0, 1, 0]
    path = tmp_path / "tuned.yaml"
    path.write_text(tuned_yaml("er", "panflute", "low_data", ranked.iloc[0]))
    assert tuned("er", "panflute", "low_data", read_tuned_file(path)) == (2e-4, 0.1)
    assert tuned("er", "panflute", "high_data", read_tuned_file(path)) == (1e-4, 0.1)  # SPEC's


def test_a_setting_where_most_seeds_diverge_does_not_rank_first_on_its_survivor():
    # ProcMaze-like scores in [-100, -1]. Step size 1e-2: 3 of 4 seeds diverge and their
    # greedy play never reaches the goal (-100); the survivor scores -5, better than any
    # seed of 1e-3 (-20 each). On the survivor alone 1e-2 would rank first (-5 > -20); on
    # all four seeds its mean is (3 x -100 - 5) / 4 = -76.25.
    ranked = rank_settings(
        grid_metrics(
            [
                (1e-2, 0.1, [(-100.0, True), (-5.0, False), (-100.0, True), (-100.0, True)]),
                (1e-3, 0.1, [(-20.0, False)] * 4),
            ]
        )
    )
    assert ranked["step_size"].tolist() == [1e-3, 1e-2]
    assert ranked["final_score_mean"].tolist() == [-20.0, -76.25]
    assert ranked["num_seeds"].tolist() == [4, 4]
    assert ranked["num_diverged"].tolist() == [0, 3]
