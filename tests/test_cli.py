"""Bad input: one sentence naming the key, exit code 2, nothing written or overwritten."""

import json
import os
import subprocess
import sys

import pytest

BAD_INPUT = [
    (["env=nope"], "env must be one of"),
    (["agent=nope"], "agent must be one of"),
    (["regime=nope"], "regime must be one of"),
    (["scale=nope"], "scale must be one of"),
    (["env.grid_size=1"], "env.grid_size"),
    (["env=buttongrid", "env.num_buttons=26"], "env.num_buttons"),
    (["env=panflute", "env.num_pipes=0"], "env.num_pipes"),
    (["env.colour=3"], "env.colour"),
    (["step_size=-1e-4"], "step_size must be a positive number"),
    (["temperature=0"], "temperature must be a positive number"),
    (["agent.batch_size=0"], "agent.batch_size must be a positive integer"),
    (["scale.num_seeds=0"], "scale.num_seeds must be a positive integer"),
    (["regime.total_steps=-5"], "regime.total_steps must be a positive integer"),
    (["regime.eval_interval=0"], "regime.eval_interval must be a positive integer"),
    (["regime.random_data=0"], "regime.random_data must be a positive integer"),
    (["regime.random_data=20000"], "regime.random_data (20000) must be null or below"),
]


def mbgen(args, cwd):
    command = [sys.executable, "-m", "experiments.run", *args, "progress=false"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args,key", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_gets_one_sentence_naming_the_key_and_exit_2(tmp_path, args, key, mbgen_here):
    # A results root that does not exist yet: Hydra creates it and the run directory
    # before the checks run; a refused run leaves neither behind. In this process (the
    # checks are the same); the first case also runs as the program itself, below.
    result = mbgen_here([*args, f"results_root={tmp_path / 'results' / 'runs'}"], tmp_path)
    assert_refused(result, key, tmp_path)


def test_the_program_itself_refuses_bad_input_the_same_way(tmp_path):
    args, key = BAD_INPUT[0]
    result = mbgen([*args, f"results_root={tmp_path / 'results' / 'runs'}"], tmp_path)
    assert_refused(result, key, tmp_path)


def assert_refused(result, key, tmp_path):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_a_finished_run_is_neither_rerun_nor_overwritten(tmp_path, mbgen_here):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    summary = run_dir / "summary.json"
    summary.write_text(json.dumps({"final_score_mean": -7.0}))
    before = os.stat(summary).st_mtime_ns
    result = mbgen_here([f"hydra.run.dir={run_dir}"], tmp_path)
    assert result.returncode == 2
    assert "already holds a finished run" in result.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == ["summary.json"]
    assert os.stat(summary).st_mtime_ns == before


@pytest.mark.slow  # a whole mbgen process (27 s here); test_loop and test_results cover the parts
def test_a_run_whose_seed_diverges_says_so_in_words_and_writes_strict_json(tmp_path):
    # Step size 1e30 makes the parameters non-finite at the first updates; the seed is
    # scored by its greedy play. One seed: its CI is undefined, which JSON must say as null.
    run_dir = tmp_path / "run"
    tiny = ["level=panflute-2", "agent.hidden=[16]", "agent.batch_size=16"]
    tiny += ["regime.total_steps=400", "regime.eval_interval=200", "regime.learning_starts=50"]
    tiny += ["scale.steps_fraction=1", "scale.num_seeds=1", "step_size=1e30"]
    result = mbgen([*tiny, f"hydra.run.dir={run_dir}"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stdout.startswith(
        "the only seed diverged (parameters became non-finite by step 200); their greedy "
        "play (argmax of NaN Q-values) scores "
    ), result.stdout

    def reject(constant):
        raise ValueError(f"summary.json holds {constant}, which is not JSON")

    summary = json.loads((run_dir / "summary.json").read_text(), parse_constant=reject)
    assert summary["num_seeds"] == summary["num_diverged"] == 1
    assert summary["diverged_at_per_seed"] == [200]
    assert summary["final_score_ci95"] is None
    assert 0 <= summary["final_score_mean"] <= 1  # PanFlute's reward rate, a real score
