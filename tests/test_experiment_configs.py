"""The ablation and Appendix C experiment configs compose at both scales with the
intended sweeps, and every cpu-scale member builds (nothing is trained)."""

import itertools
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from experiments.config import CONFIG_DIR, ConfigError, apply_level, build

MODEL_AGENTS = ["simple_model", "gaussian_latent", "categorical_latent", "perfect_model"]
ALL_AGENTS = ["er", "simple_model", "perfect_model", "gaussian_latent", "categorical_latent"]
FIG3_PAPER_LEVELS = (
    [f"procmaze-{n}" for n in range(2, 9)]
    + [f"buttongrid-{b}" for b in range(1, 6)]
    + [f"panflute-{n}" for n in range(3, 10)]
)
CPU_MODEL_AGENTS = ["simple_model", "gaussian_latent", "perfect_model"]
EXPECTED = {  # experiment: (results_root, {scale: (agents, num_seeds, steps_fraction, levels)})
    "ablation_rollout": (
        "results/ablation_rollout",
        {
            "paper": (MODEL_AGENTS, 30, 1.0, FIG3_PAPER_LEVELS),
            "cpu": (CPU_MODEL_AGENTS, 3, 0.015, ["panflute-3"]),
        },
    ),
    "ablation_spontaneous": (
        "results/ablation_spontaneous",
        {
            "paper": (ALL_AGENTS, 30, 1.0, FIG3_PAPER_LEVELS),
            "cpu": (ALL_AGENTS[:4], 3, 0.015, ["panflute-4"]),
        },
    ),
    "appendix_c": (
        "results/appendix_c",
        {
            "paper": (["er", "simple_model"], 30, 1.0, [f"opengrid-{n}" for n in range(3, 9)]),
            "cpu": (["er", "simple_model"], 3, 0.015, ["opengrid-3", "opengrid-4", "opengrid-6"]),
        },
    ),
}


def compose_config(overrides, hydra_config=False):
    with initialize_config_dir(version_base=None, config_dir=str(CONFIG_DIR)):
        return compose("config", overrides=overrides, return_hydra_config=hydra_config)


def sweep_params(cfg) -> dict[str, list[str]]:
    params = OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=True)
    return {key: str(value).split(",") for key, value in params.items()}


@pytest.mark.parametrize("scale", ["paper", "cpu"])
@pytest.mark.parametrize("experiment", sorted(EXPECTED))
def test_an_experiment_composes_with_its_sweep_and_budget(experiment, scale):
    root, budgets = EXPECTED[experiment]
    agents, num_seeds, fraction, levels = budgets[scale]
    cfg = compose_config([f"experiment={experiment}", f"scale={scale}"], hydra_config=True)
    params = sweep_params(cfg)
    assert params["agent"] == agents and params["level"] == levels
    assert cfg.scale.num_seeds == num_seeds and cfg.scale.steps_fraction == fraction
    assert cfg.results_root == root
    if experiment == "ablation_rollout":
        assert params["rollouts"] == ["one_step", "ten_step"]
        assert set(params) == {"agent", "rollouts", "level"}
    else:
        assert set(params) == {"agent", "level"}


@pytest.mark.parametrize("experiment", sorted(EXPECTED))
def test_every_cpu_member_builds_with_the_intended_settings(experiment):
    params = sweep_params(compose_config([f"experiment={experiment}"], hydra_config=True))
    for values in itertools.product(*params.values()):
        overrides = [f"{k}={v}" for k, v in zip(params, values, strict=True)]
        cfg = apply_level(compose_config([f"experiment={experiment}", *overrides]))
        job = build(cfg)
        assert job.num_seeds == 3 and job.env.name == cfg.level.rpartition("-")[0]
        if experiment == "ablation_rollout":
            length, count = {"one_step": (1, 320), "ten_step": (10, 32)}[cfg_choice(overrides)]
            assert (cfg.agent.rollout_length, cfg.agent.num_rollouts) == (length, count)
        if experiment == "ablation_spontaneous":
            assert cfg.env.spontaneous is False and job.env.spontaneous is False
        else:
            assert cfg.env.spontaneous is True


def cfg_choice(overrides) -> str:
    return next(o.partition("=")[2] for o in overrides if o.startswith("rollouts="))


def fake_run(run_dir, agent, rollout_length, score, level="panflute-3"):
    """A finished run directory as experiments/run.py writes it, with made-up scores."""
    env, _, size = level.rpartition("-")
    run_dir.mkdir(parents=True)
    config = {"agent": {"name": agent, "rollout_length": rollout_length}, "scale": {"name": "cpu"}}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    rows = [
        dict(member=m, step=s, score=score + m, diverged=False, env=env, complexity=int(size),
             agent=agent, regime="high_data", scale="cpu")
        for m in range(3) for s in (100, 200)
    ]  # fmt: skip
    pd.DataFrame(rows).to_parquet(run_dir / "metrics.parquet")
    (run_dir / "summary.json").write_text(json.dumps({"random_policy_score": 0.0}))


@pytest.mark.slow  # draws a figure (10 s here)
def test_figure3_draws_the_rollout_ablation_a_line_per_agent_and_length(tmp_path):
    root = tmp_path / "ablation_rollout"
    for agent in ("simple_model", "perfect_model"):
        for length in (1, 10):
            fake_run(root / f"{agent}-{length}", agent, length, score=length)
    out = tmp_path / "figure.png"
    command = [sys.executable, "scripts/figure3.py", str(root), "--out", str(out)]
    done = subprocess.run(
        [*command, "--by", "agent,agent.rollout_length"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
    lines = pd.read_parquet(out.with_suffix(".parquet"))["line"]
    assert sorted(lines.unique()) == [
        "perfect_model, rollout_length 1",
        "perfect_model, rollout_length 10",
        "simple_model, rollout_length 1",
        "simple_model, rollout_length 10",
    ]
    bad = subprocess.run([*command, "--by", "agent,nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "nope" in bad.stderr


@pytest.mark.parametrize("scale", ["paper", "cpu"])
def test_figure4_configs_chain_the_source_run_to_the_frozen_runs(scale):
    smoothing = compose_config(["experiment=fig4_smoothing", f"scale={scale}"], True)
    assert sweep_params(smoothing) == {"agent": ["simple_model", "gaussian_latent"]}
    assert smoothing.level == "panflute-9" and list(smoothing.save_at) == [10_000]
    assert smoothing.regime.total_steps * smoothing.scale.steps_fraction == 10_000
    assert smoothing.scale.num_seeds == {"paper": 30, "cpu": 5}[scale]

    source = compose_config(["experiment=fig4_source", f"scale={scale}"], True)
    frozen_steps = list(source.save_at)
    assert source.agent.name == "simple_model" and not source.agent.frozen
    # The source run ends at its last save; the frozen runs start from each save.
    assert source.regime.total_steps * source.scale.steps_fraction == frozen_steps[-1]
    assert source.hydra.run.dir == f"results/fig4_frozen/source-{scale}"
    frozen = compose_config(["experiment=fig4_frozen", f"scale={scale}"], True)
    assert [int(s) for s in sweep_params(frozen)["frozen_step"]] == frozen_steps
    member = compose_config(
        ["experiment=fig4_frozen", f"scale={scale}", f"frozen_step={frozen_steps[0]}"]
    )
    assert member.agent.frozen and member.agent.name == "simple_model"
    assert member.load_model == (f"{source.hydra.run.dir}/models/step_{frozen_steps[0]}.npz")
    assert member.level == source.level and member.scale.num_seeds == source.scale.num_seeds
    if scale == "paper":
        assert member.level == "panflute-9" and member.scale.steps_fraction == 1.0
        assert member.scale.num_seeds == 30


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["seed=-1"], "seed must be an integer >= 0; got -1."),
        (["checkpoint_every=true"], "checkpoint_every must be an integer >= 0; got True."),
        (
            ["regime.learning_starts=0.5"],
            "regime.learning_starts must be an integer >= 0; got 0.5.",
        ),
        (["scale.steps_fraction=0"], "scale.steps_fraction must be a positive number; got 0."),
        (
            ["kind=offline"],
            "kind must be one of online, grid_search, offline_gridworld; got 'offline'.",
        ),
        (
            ["env.name=pacman"],
            "env.name must be one of procmaze, buttongrid, panflute, opengrid; got 'pacman'.",
        ),
        (["env.spontaneous=1"], "env.spontaneous must be true or false; got 1."),
        (
            ["experiment=grid_search", "grid.memory_budget_gb=-1"],
            "grid.memory_budget_gb must be a number >= 0; got -1.",
        ),
        (
            ["experiment=grid_search", "grid.temperature_exponents=[]"],
            "grid.temperature_exponents must be a non-empty list of integers; got [].",
        ),
    ],
)
def test_a_bad_setting_is_a_config_error_in_one_sentence(overrides, message):
    with pytest.raises(ConfigError) as error:
        build(apply_level(compose_config(overrides)))
    assert str(error.value) == message


def test_config_validation_does_not_import_the_programs_it_configures():
    # Checking a config must stay cheap: the JAX programs (and pandas) load only to run.
    code = (
        "import sys, experiments.config; "
        "print(sorted(m for m in ('experiments.online', 'experiments.grid_search', "
        "'experiments.offline', 'experiments.saved_models', 'pandas') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr


DREAM_ARMS = {  # experiment=dream: arm -> (agent, bit temperature of its imagined bits)
    "er": ("er", None),
    "simple_model": ("simple_model", 1.0),
    "simple_hot2": ("simple_model", 2.0),
    "simple_hot4": ("simple_model", 4.0),
    "perfect_model": ("perfect_model", None),
}


@pytest.mark.parametrize("scale, random_data, seeds, steps, levels", [
    ("cpu", 1000, 5, 4000, ["procmaze-2", "panflute-4"]),
    ("paper", 100_000, 30, 1_000_000, ["procmaze-4", "panflute-5"]),
])  # fmt: skip
def test_every_dream_arm_keeps_the_same_random_data_and_learns_from_then_on(
    scale, random_data, seeds, steps, levels
):
    base = ["experiment=dream", f"scale={scale}"]
    params = sweep_params(compose_config(base, hydra_config=True))
    assert params == {"+family": list(DREAM_ARMS), "level": levels}
    for arm, (agent, temperature) in DREAM_ARMS.items():
        cfg = apply_level(compose_config([*base, f"+family={arm}", f"level={levels[0]}"]))
        regime = build(cfg).regime
        assert cfg.arm == arm and cfg.agent.name == agent and list(cfg.save_at) == []
        assert cfg.agent.get("bit_temperature") == temperature
        # Q begins once the random data is in: it never learns from a model of part of it.
        assert regime.random_data == regime.learning_starts == random_data
        assert regime.total_steps == steps and cfg.scale.num_seeds == seeds
