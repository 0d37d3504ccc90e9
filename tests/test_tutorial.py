"""docs/adding-an-agent.md runs: its files are written into a copy of the packages and its
Python blocks run there in order, so the tutorial fails here the day the code moves on."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIAL = Path("docs/adding-an-agent.md")
PACKAGES = ("agents", "envs", "experiments", "configs")
# A fenced block: its language, an optional title="<file it is>", and its text.
FENCE = re.compile(r'^```(\w+)(?: title="([^"]+)")?\n(.*?)^```$', re.M | re.S)


def blocks(text: str) -> list[tuple[str, str, str]]:
    return FENCE.findall(text)


def copy_of_the_suite(root: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(package, root / package, ignore=shutil.ignore_patterns("__pycache__"))


def run_tutorial(root: Path, text: str) -> subprocess.CompletedProcess:
    """Write the titled blocks into `root`, then run the untitled Python blocks there."""
    script = []
    for language, title, body in blocks(text):
        if title:
            (root / title).write_text(body)
        elif language == "python":
            script.append(body)
    environment = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", "\n".join(script)],
        cwd=root, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_tutorial_names_its_files_and_code():
    found = blocks(TUTORIAL.read_text())
    titles = [title for _, title, _ in found if title]
    assert titles == ["agents/half_model.py", "configs/agent/half_model.yaml"]
    assert sum(language == "python" and not title for language, title, _ in found) == 3


def test_the_add_an_agent_tutorial_runs(tmp_path):
    copy_of_the_suite(tmp_path)
    done = run_tutorial(tmp_path, TUTORIAL.read_text())
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("greedy score per seed") == 3  # three evaluation intervals
    assert "agent.real" in done.stdout  # the refusal names the setting
    assert not Path("agents/half_model.py").exists()  # the repository itself is untouched


def test_a_stale_tutorial_fails(tmp_path):
    """The test catches a tutorial whose code no longer matches the suite: here a setting the
    factory does not take."""
    copy_of_the_suite(tmp_path)
    text = TUTORIAL.read_text().replace("model_step_size: 0.0002", "step_size_of_model: 0.0002")
    done = run_tutorial(tmp_path, text)
    assert done.returncode != 0 and "step_size_of_model" in done.stderr


@pytest.mark.slow
def test_the_tutorial_agent_runs_from_the_command_line(tmp_path):
    """The tutorial's `mbgen` line, on a small budget and small networks."""
    copy_of_the_suite(tmp_path)
    run_tutorial(tmp_path, TUTORIAL.read_text())
    command = next(body for language, _, body in blocks(TUTORIAL.read_text())
                   if language == "bash").splitlines()[0]  # fmt: skip
    small = ["level=panflute-3", "agent.hidden=[16]", "scale.num_seeds=2", "progress=false",
             "scale.steps_fraction=0.002", f"results_root={tmp_path / 'r'}"]  # fmt: skip
    argv = [sys.executable, "-c", "from experiments.run import main; main()",
            *command.split()[1:], *small]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(argv, cwd=tmp_path, env=environment, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "uniform random policy" in done.stdout
