"""The studies' arms share one mechanism: each arm file of configs/design, family, paradigm and
maze sets `arm: <its name>`, and the study scripts read a run's arm from its stored
config.yaml, never from the name of its folder."""

import json
import sys

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir

from experiments import config, results

sys.path.insert(0, "scripts")
import model_families  # noqa: E402
import paradigms  # noqa: E402

STUDIES = {"design": "dyna_design", "family": "model_families", "paradigm": "paradigms",
           "maze": "paradigms_online"}  # fmt: skip
ARMS = [(group, path.stem) for group in STUDIES
        for path in sorted((config.CONFIG_DIR / group).glob("*.yaml"))]  # fmt: skip


@pytest.mark.parametrize("group, arm", ARMS)
def test_every_arm_of_every_study_names_itself_in_the_runs_config(group, arm):
    choice = f"+family={arm}" if group == "family" else f"{group}={arm}"  # no family default
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        cfg = compose("config", overrides=[f"experiment={STUDIES[group]}", choice])
    assert cfg.arm == arm


def finished_run(run_dir, config: dict, metrics: pd.DataFrame | None = None) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    if metrics is not None:
        metrics.to_parquet(run_dir / "metrics.parquet")
    (run_dir / "summary.json").write_text(json.dumps({"random_policy_score": 0.0}))


def test_the_families_script_reads_the_arm_from_the_config_not_the_folder(tmp_path):
    metrics = pd.DataFrame([
        dict(member=m, step=100 * (i + 1), score=float(m), diverged=False, env="panflute",
             complexity=4, agent="simple_model", regime="high_data", scale="cpu")
        for m in (0, 1) for i in range(10)
    ])  # fmt: skip
    # A folder whose name says one family, a config that says another: the config wins.
    finished_run(tmp_path / "+family=er,level=panflute-4", {"arm": "slbo"}, metrics)
    scores = model_families.finals(tmp_path)
    assert list(scores["arm"]) == ["slbo", "slbo"]
    assert list(scores["final_score"]) == [0.0, 1.0]


def paradigm_run(run_dir, arm: str | None) -> None:
    cells = [dict(agent="dqn", coverage="single_cell", member=0, cell=c, greedy=True,
                  optimal=c == 0) for c in range(4)]  # fmt: skip
    arm_config = {"arm": arm} if arm else {}
    finished_run(run_dir, {**arm_config, "offline": {"learner": "linear", "gps": True},
                           "scale": {"name": "cpu", "q_steps": 400}})  # fmt: skip
    pd.DataFrame(cells).to_parquet(run_dir / "q_values.parquet")
    pd.DataFrame([dict(agent="dqn", coverage="single_cell", succeeded=False)]).to_parquet(
        run_dir / "outcomes.parquet")


def test_the_paradigms_script_reads_the_case_from_the_runs_arm(tmp_path, capsys):
    paradigm_run(tmp_path / "paradigm=network", "linear_gps")
    rows = results.seed_study(tmp_path, paradigms.run_rows, paradigms.COLUMNS)
    assert list(rows["case"]) == ["linear_gps"] and list(rows["fraction_optimal"]) == [0.25]
    paradigm_run(tmp_path / "no_arm", None)
    with pytest.raises(SystemExit) as stopped:
        results.seed_study(tmp_path, paradigms.run_rows, paradigms.COLUMNS)
    assert stopped.value.code == 2 and "names no arm" in capsys.readouterr().err
