"""Every env setting given with level= reaches the level's environment, or is refused in one
sentence listing that environment's settings; every refusal, of a single run or of a -m
sweep, is one sentence with exit code 2 that leaves nothing behind."""

import os

import pytest
import yaml
from hydra import compose, initialize_config_dir

from experiments import config, results

# A value other than the default for each env setting that is not a plain bool or count.
OTHER_VALUES = {"distractor_kind": "counter"}
LEVELS = {"procmaze": "procmaze-3", "buttongrid": "buttongrid-2", "panflute": "panflute-3",
          "opengrid": "opengrid-3"}  # fmt: skip


def other_settings(env: str) -> dict:
    """Every setting of `env` but its name and complexity, each set apart from its default."""
    defaults = yaml.safe_load((config.CONFIG_DIR / "env" / f"{env}.yaml").read_text())
    complexity = config.envs.REGISTRY[env].complexity_key
    changed = {}
    for key, value in defaults.items():
        if key in ("name", complexity):
            continue
        if key in OTHER_VALUES:
            changed[key] = OTHER_VALUES[key]
        elif isinstance(value, bool):
            changed[key] = not value
        else:
            assert isinstance(value, int), f"give env.{key} a value in OTHER_VALUES"
            changed[key] = value + 1
    return changed


@pytest.mark.parametrize("env", sorted(LEVELS))
def test_every_env_setting_given_with_level_reaches_the_environment(env):
    level = LEVELS[env]
    given = other_settings(env)
    arguments = config.check_command(
        [f"level={level}", *(f"env.{k}={v}" for k, v in given.items())]
    )
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        made = config.make_env(config.apply_level(compose("config", overrides=arguments)).env)
    assert made.name == env and config.envs.complexity(made) == int(level.rpartition("-")[2])
    for key, value in given.items():
        assert getattr(made, key) == value, key


def assert_refused(result, tmp_path, *phrases, kept=()):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)  # nothing written


NOT_PROCMAZE = "is not a setting of procmaze (level=procmaze-4), whose settings are grid_size, "
NOT_PANFLUTE = "env.gps is not a setting of panflute (level=panflute-3)"
REFUSED = [
    (["level=procmaze-4", "env.num_pipes=5"], f"env.num_pipes {NOT_PROCMAZE}"),
    (["level=procmaze-4", "env.gpz=true"], f"env.gpz {NOT_PROCMAZE}"),
    (["level=procmaze-4", "env.gps=maybe"], "env.gps must be true or false; got 'maybe'."),
    (["level=panflute-3", "+env.gps=true"], NOT_PANFLUTE),
    (["level=procmaze-4", "env=procmaze", "env.grid_size=6"],
     "env.grid_size=6 and level=procmaze-4 both set procmaze's complexity"),
    (["-m", "agnet=er"], "agnet is neither a setting nor a group; the groups are env, agent,"),
    (["-m", "agent=er,nope"], "agent must be one of"),
    (["-m", "seed=1,-1"], "seed must be an integer >= 0; got -1."),
    (["-m", "level=procmaze-4,panflute-3", "env.gps=true"], NOT_PANFLUTE),
    (["-m", "experiment=fig3", "scale.num_seeds=0"], "scale.num_seeds must be a positive integer"),
]  # fmt: skip


@pytest.mark.parametrize("args, message", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_a_refusal_is_one_sentence_exit_2_and_leaves_nothing(tmp_path, mbgen_here, args, message):
    root = tmp_path / "results" / "runs"
    assert_refused(mbgen_here([*args, f"results_root={root}"], tmp_path), tmp_path, message)


def test_hydra_flags_with_values_are_not_read_as_overrides(tmp_path, mbgen_here):
    # `--cfg job` prints the composed config and runs nothing: its value "job" is no
    # override (it was once parsed as one, a traceback); a run's flags keep their checks.
    assert config.split_flags(["-m", "--cfg", "job", "seed=1", "-cn", "config", "agent=er"]) == (
        ["-m", "--cfg", "job", "-cn", "config"], ["seed=1", "agent=er"])
    root = tmp_path / "results" / "runs"
    result = mbgen_here(["--cfg", "job", "agent=mpc", f"results_root={root}"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["agent"]["name"] == "mpc"
    assert list(tmp_path.iterdir()) == []  # nothing written
    result = mbgen_here(["-cn", "config", "seed=-1", f"results_root={root}"], tmp_path)
    assert_refused(result, tmp_path, "seed must be an integer >= 0")


def test_a_setting_given_with_level_reaches_the_run_and_its_stored_config(tmp_path, mbgen_here):
    # The command as a user types it; the finished run in its folder was a ProcMaze with the
    # GPS bits: had env.gps not reached the config, its folder would be another one.
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        cfg = compose("config", overrides=["level=procmaze-4", "++env.gps=true"])
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    stored = config.stored_config(cfg)
    assert stored["env"]["gps"] is True
    (run_dir / results.CONFIG).write_text(yaml.safe_dump(stored))
    (run_dir / results.SUMMARY).write_text("{}")
    result = mbgen_here(["level=procmaze-4", "env.gps=true", f"hydra.run.dir={run_dir}"], tmp_path)
    assert_refused(result, tmp_path, "already holds a finished run", kept=["run"])
    result = mbgen_here(["level=procmaze-4", f"hydra.run.dir={run_dir}"], tmp_path)
    assert_refused(result, tmp_path, "env.gps is True there and False here", kept=["run"])


@pytest.mark.parametrize("sweep", [[], ["-m", "seed=0,1"]], ids=["run", "sweep"])
def test_a_results_folder_that_cannot_be_written_is_one_sentence(tmp_path, mbgen_here, sweep):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    root = blocker / "runs"
    result = mbgen_here([*sweep, f"results_root={root}"], tmp_path)
    assert_refused(result, tmp_path, f"cannot be written: {blocker} is not a writable folder",
                   kept=["a_file"])  # fmt: skip
    # Bad input as well: still one sentence, the input's.
    result = mbgen_here([*sweep, "seed=-1", f"results_root={root}"], tmp_path)
    assert_refused(result, tmp_path, "seed must be an integer >= 0", kept=["a_file"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_a_read_only_results_folder_is_one_sentence(tmp_path, mbgen_here):
    locked = tmp_path / "read_only"
    locked.mkdir(mode=0o555)
    result = mbgen_here([f"results_root={locked / 'runs'}"], tmp_path)
    assert_refused(result, tmp_path, f"{locked} is not a writable folder", kept=["read_only"])
    assert list(locked.iterdir()) == []
