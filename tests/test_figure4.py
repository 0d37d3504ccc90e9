"""Figure 4's machinery: the in-order data policy, binning of model predictions, the
first step near optimal, the frozen-model agent and starting a run from a saved model."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from test_saved_models import ARGS, CLI_ARGS, compose_config

from agents import dqn
from agents.base import Agent
from envs.panflute import PanFlute
from experiments import driver, hooks, saved_models
from experiments.analysis import smoothing
from experiments.config import ConfigError, build
from experiments.evaluation import random_transitions
from experiments.online import make_train


def test_the_in_order_policy_plays_the_planned_pipe_80_percent_of_the_time():
    env = PanFlute(num_pipes=5)
    policy = smoothing.in_order_policy(env)
    t = jnp.arange(20_000)
    actions = jax.vmap(policy)(jax.random.split(jax.random.key(0), t.size), t)
    planned = 4 - t % 5  # longest pipe first
    # 0.8 planned + 0.2 x 1/5 uniform draws that happen to equal it.
    assert abs(float((actions == planned).mean()) - 0.84) < 0.01
    counts = np.bincount(np.asarray(actions), minlength=5) / t.size
    np.testing.assert_allclose(counts, 0.2, atol=0.01)


def test_always_in_order_lights_all_ends_every_n_steps_from_the_nth_step():
    env = PanFlute(num_pipes=4, spontaneous=False)
    always = smoothing.in_order_policy(env, in_order=1.0)
    data = random_transitions(env, jax.random.key(1), num_envs=1, num_steps=16, policy=always)
    assert data.action.tolist() == [3, 2, 1, 0] * 4
    # Pipe 3 lit at step 0 reaches its end (4 cells) after 3 shifts, when pipe 0 is lit.
    ends_next = smoothing.active_ends(env, data.next_obs).tolist()
    assert [i for i, e in enumerate(ends_next) if e == 4] == [3, 7, 11, 15]
    assert np.flatnonzero(np.asarray(data.reward)).tolist() == [4, 8, 12]


def counting_agent(env):
    """A stand-in model: predicted reward = scale x (active ends now) / n, and next bits
    predicted with certainty, so P(all ends next) is 1 in the all-active bin, else 0."""

    def predict(state, transitions, key):
        logits = jnp.where(transitions.next_obs, 30.0, -30.0)
        reward = state * smoothing.active_ends(env, transitions.obs) / env.num_pipes
        return logits, reward, jnp.zeros_like(reward)

    return Agent(None, None, None, None, predict)


def test_predictions_are_binned_per_member_against_the_truth():
    env = PanFlute(num_pipes=4)
    bins = smoothing.predictions(
        env, counting_agent(env), jnp.array([1.0, 2.0]), jax.random.key(0), 8, 200
    )
    reward = bins[bins["quantity"] == "reward"]
    for member, scale in ((0, 1.0), (1, 2.0)):
        rows = reward[reward["member"] == member]
        np.testing.assert_allclose(rows["predicted"], scale * rows["active_ends"] / 4, rtol=1e-6)
        assert rows["count"].sum() == 8 * 200
    # PanFlute pays when all ends are lit at the start of the step, and only then.
    assert (reward["truth"] == (reward["active_ends"] == 4)).all()
    assert set(reward["active_ends"]) == {0, 1, 2, 3, 4}  # the policy gives a mix
    after = bins[bins["quantity"] == "all_ends_next"]
    np.testing.assert_allclose(after["predicted"], after["truth"], atol=1e-6)
    assert (after["truth"] == (after["active_ends"] == 4)).all()


def test_the_best_achievable_score_is_the_in_order_cycles_spontaneous_rewards_included():
    # Without spontaneous events the cycle n-1, ..., 0 lights every end at steps n, 2n, ...:
    # floor(99 / n) rewards in the 100 evaluated steps (t = 0..99), not 100 / n.
    scores = [smoothing.optimal_score(n, False, 256) for n in (2, 5, 9)]
    np.testing.assert_allclose(scores, [0.49, 0.19, 0.11], rtol=1e-6)  # float32 means
    # Spontaneous ends (probability 1/n^2 each per step) only add rewards; at n = 3 the cpu
    # Figure 3 runs' optimal agents score 0.402-0.405.
    assert 0.39 < smoothing.optimal_score(3, True, 4096) < 0.415


def test_the_first_near_optimal_step_is_the_first_evaluation_at_95_percent_of_the_best_score():
    metrics = pd.DataFrame(
        {
            "member": [0, 0, 0, 1, 1, 1],
            "step": [1500, 500, 1000, 500, 1000, 1500],
            "score": [0.15, 0.1, 0.181, 0.18, 0.1804, 0.0],  # 0.95 x 0.19 = 0.1805
        }
    )
    reach = smoothing.first_near_optimal(metrics, num_pipes=5, spontaneous=False)
    assert reach["first_step"].iloc[0] == 1000 and reach["reached"].tolist() == [True, False]
    assert np.isnan(reach["first_step"].iloc[1])
    assert smoothing.default_probe_ends(9) == 6 and smoothing.default_probe_ends(5) == 3


KEYS = driver.member_keys(0, 2)
HYPER = dqn.Hyper(jnp.full(2, 1e-3, jnp.float32), jnp.full(2, 1.0, jnp.float32))


def _job(overrides):
    return build(compose_config(overrides))


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """Simple models saved at step 100 of a 2-seed run on 2-pipe PanFlute."""
    run_dir = tmp_path_factory.mktemp("source")
    job = _job(ARGS)
    program = driver.compile_program(job.env, job.agent, job.regime, 2)
    driver.run_online(
        program, program.init(KEYS, HYPER), hooks=(hooks.save_models(run_dir, (100,)),)
    )
    return saved_models.path_for(run_dir, 100)


@pytest.fixture(scope="module")
def initial_model(tmp_path_factory):
    """The same run's agent states as initialized, saved as step 100 would be: a file with
    the layout of `saved_model` for the checks that read only its layout, at the cost of
    compiling the run's init and not its training interval."""
    job = _job(ARGS)
    runner = jax.jit(jax.vmap(make_train(job.env, job.agent, job.regime)[0]))(KEYS, HYPER)
    path = saved_models.path_for(tmp_path_factory.mktemp("initial"), 100)
    saved_models.save_agent_state(path, runner.agent, 100)
    return path


@pytest.mark.slow  # trains, saves and reloads models (about 30 s quiet)
def test_a_frozen_model_starts_from_the_saved_one_and_never_changes_while_q_learns(saved_model):
    job = _job([*ARGS, "agent.frozen=true", f"load_model={saved_model}"])
    assert job.load_model == str(saved_model)
    program = driver.compile_program(job.env, job.agent, job.regime, 2)
    runner = program.init(KEYS, HYPER)
    runner = runner._replace(agent=saved_models.load_model(saved_model, runner.agent))
    metrics = driver.run_online(program, runner)
    assert "model_loss" not in metrics and metrics["td_loss"].notna().all()

    # The same program stepped by hand from the saved models gives the same metrics.
    runner = program.init(KEYS, HYPER)
    start = saved_models.load_model(saved_model, runner.agent)
    saved = saved_models.load_agent_state(saved_model, runner.agent)
    runner = runner._replace(agent=start)
    scores = []
    for i in range(3):
        runner, interval = program.interval(runner, jnp.int32(i * 100))
        scores.append(np.asarray(interval["td_loss"]))
    np.testing.assert_array_equal(np.concatenate(scores), metrics["td_loss"])

    final, saved_params = runner.agent.model.params, saved.model.params
    for got, want in zip(jax.tree.leaves(final), jax.tree.leaves(saved_params), strict=True):
        assert np.array_equal(got, want)
    first = jax.tree.leaves(final)[0]
    assert not np.array_equal(first[0], first[1])  # member i keeps member i's model
    for a, b in zip(
        jax.tree.leaves(runner.agent.learner.params), jax.tree.leaves(start.learner.params)
    ):
        assert not np.array_equal(a, b)  # while the Q-network learns


@pytest.mark.parametrize(
    "overrides, message",
    [
        ([*ARGS, "load_model=missing.npz"], "does not exist"),
        ([*ARGS, "scale.num_seeds=3", "LOAD"], r"number of seeds \(3\)"),
        ([*CLI_ARGS, "LOAD"], "needs an agent with a learned model"),
    ],
)
def test_a_model_file_that_does_not_fit_the_run_is_refused_in_one_sentence(
    initial_model, overrides, message
):
    overrides = [f"load_model={initial_model}" if o == "LOAD" else o for o in overrides]
    with pytest.raises(ConfigError, match=message):
        _job(overrides)


@pytest.mark.slow  # four CLI runs end to end (about 1-3 minutes); the parts are tested above
def test_figure4_scripts_draw_both_panels_from_cli_runs(tmp_path):
    """The whole pipeline on a toy: a source run saving models, two frozen runs started
    from them, then scripts/figure4.py for both panels."""
    tiny = [*ARGS, "level=panflute-3"]  # 3 pipes: the probe is at 2 of 3 ends
    mbgen = [sys.executable, "-m", "experiments.run", *tiny]
    source = tmp_path / "fig4" / "source"
    done = subprocess.run(
        [*mbgen, "save_at=[100,200]", f"hydra.run.dir={source}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    for step in (100, 200):
        model = source / "models" / f"step_{step}.npz"
        frozen = [f"load_model={model}", "agent.frozen=true", f"+frozen_step={step}"]
        run_dir = tmp_path / "fig4" / f"frozen{step}"
        done = subprocess.run(
            [*mbgen, *frozen, f"hydra.run.dir={run_dir}"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert "model_loss" not in pd.read_parquet(run_dir / "metrics.parquet")

    script = [sys.executable, "scripts/figure4.py"]
    for panel, step in (("smoothing", ["--step", "200"]), ("frozen", [])):
        done = subprocess.run(
            [*script, panel, str(tmp_path / "fig4"), "--steps", "50", *step],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    left = pd.read_parquet(tmp_path / "fig4" / "figure4_left.parquet")
    assert set(left["quantity"]) == {"reward", "all_ends_next"} and set(left["member"]) == {0, 1}
    right = pd.read_parquet(tmp_path / "fig4" / "figure4_right.parquet")
    assert sorted(right["frozen_step"].unique()) == [100, 200] and len(right) == 4
    assert (right["probe_ends"] == 2).all() and (right["budget"] == 300).all()
    assert (tmp_path / "fig4" / "figure4_right.png").stat().st_size > 0
