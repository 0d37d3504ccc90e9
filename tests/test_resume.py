"""A run killed with SIGKILL mid-interval resumes from its last checkpoint and ends with
metrics bit-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

ARGS = [
    "env=panflute",
    "env.num_pipes=2",
    "agent.hidden=[32]",
    "agent.batch_size=32",
    "regime.total_steps=12000",  # long after the first checkpoint (step 300): no race
    "regime.eval_interval=100",
    "regime.learning_starts=100",
    "scale.steps_fraction=1",
    "scale.num_seeds=2",
    "checkpoint_every=3",
    "progress=false",
]


def command(run_dir):
    return [sys.executable, "-m", "experiments.run", *ARGS, f"hydra.run.dir={run_dir}"]


# about 70 s: a CLI run killed mid-way and resumed (test_loop checks resuming in-process)
@pytest.mark.slow
def test_a_killed_run_resumes_to_bit_identical_metrics(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(command(whole), check=True, capture_output=True, timeout=300)

    process = subprocess.Popen(
        command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 240
    while not (killed / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)  # somewhere in the 117 intervals still to run
    process.wait()
    assert (killed / "checkpoint.npz").exists() and not (killed / "summary.json").exists()

    resumed = subprocess.run(command(killed), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert not (killed / "checkpoint.npz").exists()
    pd.testing.assert_frame_equal(
        pd.read_parquet(whole / "metrics.parquet"),
        pd.read_parquet(killed / "metrics.parquet"),
        check_exact=True,
    )
