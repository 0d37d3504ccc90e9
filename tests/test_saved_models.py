"""save_at: a run saves its agent states (without replay) at chosen env steps, and
load_agent_state gives them back exactly."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import FAST_COMPILE
from hydra import compose, initialize_config_dir

from agents import dqn
from agents.replay import Replay
from experiments import driver, hooks, saved_models
from experiments.config import CONFIG_DIR, build

BASE = [
    "env=panflute",
    "env.num_pipes=2",
    "regime.total_steps=300",
    "regime.eval_interval=100",
    "regime.learning_starts=50",
    "scale.steps_fraction=1",
    "scale.num_seeds=2",
    "step_size=1e-3",
    "temperature=1",
    "progress=false",
]
# The simple model for the exact round trip (Figure 4's use); ER, quicker to compile, for the CLI.
ARGS = [*BASE, "agent=simple_model", "+agent.hidden=[8]", "agent.model_batch_size=4"]
CLI_ARGS = [*BASE, "agent=er", "agent.hidden=[8]", "agent.batch_size=8"]


def compose_config(overrides):
    with initialize_config_dir(version_base=None, config_dir=str(CONFIG_DIR)):
        return compose("config", overrides=overrides)


def test_saved_states_load_back_to_exactly_the_saved_learner_params(tmp_path):
    job = build(compose_config(ARGS))
    keys = driver.member_keys(0, 2)
    hyper = dqn.Hyper(jnp.full(2, 1e-3, jnp.float32), jnp.full(2, 1.0, jnp.float32))
    program = driver.compile_program(
        job.env, job.agent, job.regime, 2, compiler_options=FAST_COMPILE
    )
    save = hooks.save_models(tmp_path, (100, 300))
    driver.run_online(program, program.init(keys, hyper), hooks=(save,))
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "step_100.npz",
        "step_300.npz",
    ]

    # The same compiled program, stepped by hand, gives the state the run saved at 300.
    runner = program.init(keys, hyper)
    for i in range(3):
        runner, _ = program.interval(runner, jnp.int32(i * 100))
    expected = jax.device_get(runner.agent.learner.params)

    template = program.init(keys, hyper).agent
    loaded = saved_models.load_agent_state(saved_models.path_for(tmp_path, 300), template)
    assert jax.tree.structure(loaded) == jax.tree.structure(template)
    for got, want in zip(
        jax.tree.leaves(loaded.learner.params), jax.tree.leaves(expected), strict=True
    ):
        assert got.shape[0] == 2 and np.array_equal(got, want)
    # The replay buffer comes from the template, and the file holds none of it.
    assert loaded.replay is template.replay and isinstance(loaded.replay, Replay)
    with np.load(saved_models.path_for(tmp_path, 300)) as saved:
        assert int(saved["step"]) == 300
        assert len(saved.files) - 1 == len(jax.tree.leaves(saved_models.without_replay(template)))


@pytest.mark.slow  # about 35 s: two CLI runs
def test_the_cli_saves_at_the_chosen_steps_and_refuses_a_step_between_evaluations(tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "experiments.run", *CLI_ARGS, f"hydra.run.dir={run_dir}"]
    bad = subprocess.run([*command, "save_at=[150]"], capture_output=True, text=True)
    assert bad.returncode == 2 and "save_at must be" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not run_dir.exists()

    done = subprocess.run([*command, "save_at=[200]"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (run_dir / "models").iterdir()] == ["step_200.npz"]
