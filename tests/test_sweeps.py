"""Multirun sweeps: a re-run skips finished members; the joblib and submitit launchers run
sweep members through the maintained Hydra plugins."""

import subprocess
import sys

import pytest

from experiments.results import load_runs

TINY = [
    "level=panflute-2",
    "agent.hidden=[16]",
    "agent.batch_size=16",
    "regime.total_steps=400",
    "regime.eval_interval=200",
    "regime.learning_starts=50",
    "scale.steps_fraction=1",
    "scale.num_seeds=2",
    "progress=false",
]


def sweep(root, *extra):
    command = [
        sys.executable,
        "-m",
        "experiments.run",
        "-m",
        *TINY,
        f"results_root={root}",
        "seed=0,1",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=root.parent)


@pytest.mark.slow  # a CLI sweep run twice (about 20 s quiet)
def test_a_rerun_sweep_skips_its_finished_members_and_aggregation_reports_unfinished(tmp_path):
    root = tmp_path / "sweep"
    first = sweep(root)
    assert first.returncode == 0, first.stderr
    summaries = sorted(root.rglob("summary.json"))
    assert len(summaries) == 2
    stamps = [p.stat().st_mtime_ns for p in summaries]

    again = sweep(root)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("holds a finished run") == 2
    assert [p.stat().st_mtime_ns for p in summaries] == stamps

    (root / "broken").mkdir()
    (root / "broken" / "config.yaml").write_text("seed: 5\n")  # a run that never finished
    messages = []
    table = load_runs(root, report=messages.append)
    assert sorted(table["seed"].unique()) == [0, 1] and table["run_dir"].nunique() == 2
    assert "agent.batch_size" in table and len(messages) == 1 and "broken" in messages[0]


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_launcher_plugins_run_every_member(tmp_path, launcher):
    root = tmp_path / "sweep"
    extra = ["hydra.launcher.timeout_min=10"] if launcher.startswith("submitit") else []
    result = sweep(root, f"hydra/launcher={launcher}", *extra)
    assert result.returncode == 0, result.stderr
    assert len(list(root.rglob("summary.json"))) == 2
