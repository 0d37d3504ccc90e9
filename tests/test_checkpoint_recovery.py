"""A checkpoint that cannot be read never stops a run: it is reported in one sentence naming
the file and removed, and the run goes on from the checkpoint before it, or from the start,
to the same metrics as a run never interrupted."""

import os

import jax.numpy as jnp
import pandas as pd
import pytest
from fast import FAST_COMPILE
from toys import Countdown

import agents
from agents import dqn
from experiments import checkpoint, hooks, results
from experiments.driver import compile_program, member_keys, run_online, table
from experiments.online import Regime

THREE_INTERVALS = Regime(
    total_steps=60,
    updates_per_step=1,
    target_update_frequency=4,
    eval_interval=20,
    learning_starts=10,
)


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path):
    path.write_bytes(b"")


def overwrite_the_middle(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


DAMAGE = [truncate, empty, overwrite_the_middle]


@pytest.fixture(scope="module")
def tiny_run():
    """A compiled two-member ER program on Countdown, and its metrics run whole."""
    env = Countdown(length=3)
    agent = agents.make("er", env, batch_size=8, capacity=64, hidden=(16,))
    program = compile_program(env, agent, THREE_INTERVALS, 2, compiler_options=FAST_COMPILE)
    hyper = dqn.Hyper(jnp.full(2, 1e-3), jnp.full(2, 1.0))
    start = lambda: program.init(member_keys(0, 2), hyper)  # noqa: E731
    return program, start, run_online(program, start())


class Killed(Exception):
    pass


def killed_after_two_intervals(program, start, path):
    """A run checkpointing every interval, killed just after its second checkpoint."""

    def kill(step, runner, metrics):
        if step == 40:
            raise Killed

    with pytest.raises(Killed):
        run_online(program, start(), hooks=(hooks.Checkpoints(path, "x", 1, THREE_INTERVALS), kill))


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_checkpoint_is_reported_removed_and_the_one_before_it_resumes(
    tiny_run, tmp_path, capsys, damage
):
    program, start, whole = tiny_run
    path = tmp_path / checkpoint.FILE
    killed_after_two_intervals(program, start, path)
    assert checkpoint.previous(path).exists()  # the checkpoint of interval 1, kept
    damage(path)

    resumed = hooks.Checkpoints(path, "x", 1, THREE_INTERVALS)
    runner, first, done = resumed.resume(start())
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"checkpoint {path} cannot be read (")
    assert lines[0].endswith(
        f"so it is removed and the run resumes from {checkpoint.previous(path)}."
    )
    assert not path.exists()
    assert first == 1 and done["step"].tolist() == [20, 20]
    rest = run_online(program, runner, first=first, hooks=(resumed,))
    pd.testing.assert_frame_equal(table([done, rest]), whole, check_exact=True)


def test_with_no_readable_checkpoint_the_run_starts_over_and_says_so(tiny_run, tmp_path, capsys):
    program, start, whole = tiny_run
    path = tmp_path / checkpoint.FILE
    killed_after_two_intervals(program, start, path)
    truncate(path)
    empty(checkpoint.previous(path))

    resumed = hooks.Checkpoints(path, "x", 1, THREE_INTERVALS)
    runner, first, done = resumed.resume(start())
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.rpartition(", so ")[2] for line in lines] == [
        f"it is removed and the run resumes from {checkpoint.previous(path)}.",
        "it is removed and the run starts over from step 0.",
    ]
    assert list(tmp_path.iterdir()) == [] and first == 0 and done.empty
    pd.testing.assert_frame_equal(run_online(program, runner), whole, check_exact=True)


def tree(fill, size=3):
    return {"a": jnp.full(size, fill, jnp.float32), "b": jnp.eye(2, dtype=jnp.int32)}


def test_a_new_checkpoint_keeps_the_one_before_it_and_a_wrong_shape_is_unreadable(tmp_path):
    path = tmp_path / checkpoint.FILE
    metrics = pd.DataFrame({"step": [1]})
    checkpoint.save(path, tree(1), 1, metrics, "x")
    assert not checkpoint.previous(path).exists()
    checkpoint.save(path, tree(2), 2, metrics, "x")
    runner, interval, _ = checkpoint.load(path, tree(0), "x")
    assert interval == 2 and runner["a"].tolist() == [2, 2, 2]
    runner, interval, _ = checkpoint.load(checkpoint.previous(path), tree(0), "x")
    assert interval == 1 and runner["a"].tolist() == [1, 1, 1]

    messages = []
    assert checkpoint.load(path, tree(0, size=4), "x", report=messages.append) is None
    assert len(messages) == 2 and "has shape (3,), not (4,)" in messages[0]


def test_a_checkpoint_of_another_configuration_is_an_error_not_a_recovery(tmp_path):
    path = tmp_path / checkpoint.FILE
    checkpoint.save(path, tree(1), 1, pd.DataFrame({"step": [1]}), "this run")
    with pytest.raises(checkpoint.MismatchError):
        checkpoint.load(path, tree(0), "another run")
    assert path.exists() and checkpoint.fingerprint(path) == "this run"
    empty(path)
    assert checkpoint.fingerprint(path) is None  # unreadable: load reports it, not this


def test_the_temporary_files_of_a_killed_write_are_removed(tmp_path):
    stray = tmp_path / ".checkpoint.npz.k3j2h1.tmp"
    stray.write_bytes(b"half")
    kept = tmp_path / "metrics.parquet"
    kept.write_bytes(b"x")
    results.remove_strays(tmp_path)
    assert list(tmp_path.iterdir()) == [kept]


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(b"old")

    def fails(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        results.atomic_write(path, fails, keep=tmp_path / "previous.npz")
    assert os.listdir(tmp_path) == ["checkpoint.npz"] and path.read_bytes() == b"old"
