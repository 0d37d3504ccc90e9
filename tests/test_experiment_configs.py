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

from experiments.config import CONFIG_DIR, apply_level, build

MODEL_AGENTS = ["simple_model", "gaussian_latent", "categorical_latent", "perfect_model"]
ALL_AGENTS = ["er", "simple_model", "perfect_model", "gaussian_latent", "categorical_latent"]
FIG3_PAPER_LEVELS = (
    [f"procmaze-{n}" for n in range(2, 9)]
    + [f"buttongrid-{b}" for b in range(1, 6)]
    + [f"panflute-{n}" for n in range(3, 10)]
)
EXPECTED = {  # experiment: (agents, results_root, {scale: (num_seeds, steps_fraction, levels)})
    "ablation_rollout": (
        MODEL_AGENTS,
        "results/ablation_rollout",
        {"paper": (30, 1.0, FIG3_PAPER_LEVELS), "cpu": (3, 0.015, ["panflute-3"])},
    ),
    "ablation_spontaneous": (
        ALL_AGENTS,
        "results/ablation_spontaneous",
        {"paper": (30, 1.0, FIG3_PAPER_LEVELS), "cpu": (3, 0.015, ["panflute-3", "panflute-4"])},
    ),
    "appendix_c": (
        ["er", "simple_model"],
        "results/appendix_c",
        {
            "paper": (30, 1.0, [f"opengrid-{n}" for n in range(3, 9)]),
            "cpu": (3, 0.015, ["opengrid-3", "opengrid-4"]),
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
    agents, root, budgets = EXPECTED[experiment]
    num_seeds, fraction, levels = budgets[scale]
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
