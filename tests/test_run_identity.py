"""A run's folder is its identity: two commands that differ in any setting that can change
results get different folders (readable name + fingerprint), commands that differ only in
how a run reports, checkpoints or is placed share one, and a folder holding another run's
config, or one being written, is refused in one sentence and left as it was."""

import os

import numpy as np
import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments import checkpoint, config, results

BY_HAND = ["step_size=1e-4", "temperature=0.1"]  # no tuned lookup: any agent, env, regime
# (command, the settings to vary): every agent's and env's settings, every other setting of
# an online run, a grid search and Figure 1's offline grid world.
BASES = (
    [([f"agent={agent}", *BY_HAND], "agent.") for agent in config.choices("agent")]
    + [([f"env={env}", *BY_HAND], "env.") for env in config.choices("env")]
    + [(BY_HAND, ""), (["experiment=grid_search", *BY_HAND], "grid."), (["experiment=fig1"], "")]
)


def composed(overrides) -> DictConfig:
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        return compose("config", overrides=overrides, return_hydra_config=True)


def folder(cfg: DictConfig) -> str:
    return str(cfg.hydra.run.dir)


# Settings whose value picks an entry of a table in the config (experiment budgets by scale,
# Figure 1's step sizes by learner), with two of their entries.
LOOKED_UP = {"scale.name": ("cpu", "paper"), "offline.learner": ("network", "linear")}


def changed(key, value):
    """Another value of the same kind (whether a run would accept it does not matter: the
    folder is named before the settings are checked)."""
    if key in LOOKED_UP:  # a key into a table of the config: another entry of it
        first, second = LOOKED_UP[key]
        return second if value == first else first
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value * 2 + 1
    if isinstance(value, str):
        return f"{value}_x"
    if isinstance(value, list):
        return [*value, 7]
    return 1  # null


def settings(node: DictConfig, prefix=""):
    """Every setting (dotted key) below `node`, groups opened up; Hydra's own left out."""
    for key in node:
        name = f"{prefix}{key}"
        if name == "hydra":
            continue
        if isinstance(node[key], DictConfig):
            yield from settings(node[key], f"{name}.")
        else:
            yield name


def used(cfg: DictConfig) -> list[str]:
    """The settings of `cfg` that its kind of run reads (Figure 1 has no env, agent, regime)."""
    everything = list(settings(cfg))
    if cfg.kind != "offline_gridworld":
        return everything
    return [s for s in everything if s.partition(".")[0] in ("kind", "seed", "scale", "offline")]


def with_setting(cfg: DictConfig, key: str, value) -> DictConfig:
    cfg = cfg.copy()
    OmegaConf.update(cfg, key, value, force_add=True)
    return cfg


@pytest.mark.parametrize("base, vary", BASES, ids=[" ".join(b[:1]) for b, _ in BASES])
def test_commands_that_differ_in_one_result_changing_setting_get_different_folders(base, vary):
    cfg = composed(base)
    here = folder(cfg)
    assert not here.endswith("unchecked")
    tried = 0
    for key in used(cfg):
        if not key.startswith(vary) or not config.in_identity(key):
            continue
        if key.startswith("env.") and cfg.level:
            continue  # with level=, env settings are the level env's (tests/test_refusals.py)
        value = OmegaConf.select(cfg, key)
        other = folder(with_setting(cfg, key, changed(key, value)))
        assert other != here and not other.endswith("unchecked"), key
        tried += 1
    assert tried >= 3


@pytest.mark.parametrize("base", [BY_HAND, ["experiment=fig1"]], ids=["online", "fig1"])
def test_settings_that_cannot_change_results_keep_the_folder(base):
    cfg = composed([*base, "tuned_file=/nowhere.yaml"])
    here = folder(cfg)
    for key in [s for s in settings(cfg) if not config.in_identity(s)]:
        if key == "level":
            continue  # it sets env (below)
        value = OmegaConf.select(cfg, key)
        moved = folder(with_setting(cfg, key, changed(key, value)))
        assert os.path.basename(moved) == os.path.basename(here), key
    for key in ("progress", "checkpoint_every", "results_root", "logger", "speed.scan_unroll",
                "tuned_file"):
        assert not config.in_identity(key)
    assert config.in_identity("speed.branches")  # select moves the model agents' last bits


def test_a_folder_name_is_readable_and_ends_in_the_fingerprint_of_the_stored_config():
    cfg = composed(["level=procmaze-4", "agent=simple_model", "agent.discount=0.8"])
    name = os.path.basename(folder(cfg))
    stored = config.stored_config(cfg)
    assert name == f"procmaze4-simple_model-high_data-cpu-{config.fingerprint(stored)}"
    assert stored["agent"]["discount"] == 0.8 and stored["env"]["name"] == "procmaze"
    # SPEC's tuned values for the simple model on ProcMaze (high data), not PanFlute's
    assert (stored["step_size"], stored["temperature"]) == (2e-4, 0.8)
    # The same run asked for another way: level= against env= and its complexity.
    assert folder(composed(["env=procmaze", "agent=simple_model", "agent.discount=0.8"])) == (
        folder(cfg)
    )


def test_an_offline_folder_names_the_agents_and_coverages_that_are_not_figure_1s():
    # The implicit-model study runs Figure 1's pipeline with other agents on two coverages:
    # its folder once read "fig1-cpu-<fingerprint>", as if it were Figure 1.
    figure1 = os.path.basename(folder(composed(["experiment=fig1"])))
    assert figure1.rpartition("-")[0] == "fig1-cpu"
    implicit = os.path.basename(folder(composed(["experiment=implicit"])))
    assert implicit.rpartition("-")[0] == (
        "fig1-cpu-dqn+model_10step+implicit_10step-path_to_goal+single_cell"
    )
    one = composed(["experiment=fig1", "offline.coverages=[single_cell]"])
    assert os.path.basename(folder(one)).rpartition("-")[0] == "fig1-cpu-single_cell"


def test_a_sweep_member_folder_is_its_overrides_and_fingerprint():
    cfg = composed(["agent.discount=0.8", "progress=false"])
    hydra = HydraConfig.instance()
    hydra.set_config(cfg)  # what a sweep's ${hydra:...} reads
    try:
        subdir = str(cfg.hydra.sweep.subdir)
    finally:
        hydra.cfg = None
    assert subdir == f"agent.discount=0.8-{config.fingerprint(config.stored_config(cfg))}"


def stored_run(run_dir, overrides, files=("summary.json",)):
    """A folder holding a run of `overrides` as experiments/run.py leaves it."""
    run_dir.mkdir(parents=True)
    stored = config.stored_config(composed(overrides))
    (run_dir / results.CONFIG).write_text(yaml.safe_dump(stored))
    for name in files:
        (run_dir / name).write_text("{}")
    return {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}


def assert_refused(result, *phrases):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


@pytest.mark.parametrize("files", [("summary.json",), ("checkpoint.npz",)], ids=["done", "going"])
def test_a_folder_holding_another_configuration_is_refused_and_left_alone(
    tmp_path, mbgen_here, files
):
    run_dir = tmp_path / "run"
    before = stored_run(run_dir, [], files)
    result = mbgen_here(["agent.discount=0.8", f"hydra.run.dir={run_dir}"], tmp_path)
    difference = "agent.discount is 0.9 there and 0.8 here"
    assert_refused(result, "holds a run of another configuration", difference)
    assert {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()} == before


def test_a_finished_run_is_found_under_its_old_config_when_nothing_that_matters_changed(
    tmp_path, mbgen_here
):
    run_dir = tmp_path / "run"
    stored_run(run_dir, ["progress=true", "checkpoint_every=3"])
    result = mbgen_here(["checkpoint_every=7", f"hydra.run.dir={run_dir}"], tmp_path)
    assert_refused(result, "already holds a finished run")


def test_a_second_run_of_a_folder_being_written_is_refused_and_a_stale_lock_is_not(
    tmp_path, mbgen_here
):
    run_dir = tmp_path / "run"
    before = stored_run(run_dir, [])
    with results.locked(run_dir):
        result = mbgen_here([f"hydra.run.dir={run_dir}"], tmp_path)
        assert (run_dir / results.LOCK).read_text() == str(os.getpid())
    assert_refused(result, f"is being written by another run (process {os.getpid()})")
    assert {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()} == before

    # A lock file whose run was killed (no process holds it) does not stop the next run.
    (run_dir / results.LOCK).write_text("999999")
    result = mbgen_here([f"hydra.run.dir={run_dir}"], tmp_path)
    assert_refused(result, "already holds a finished run")
    assert not (run_dir / results.LOCK).exists()


def test_a_sweep_skips_a_member_another_process_is_writing(tmp_path, mbgen_here):
    root = tmp_path / "sweep"
    stored = config.stored_config(composed(["seed=0"]))
    member = root / f"seed=0-{config.fingerprint(stored)}"
    before = stored_run(member, ["seed=0"], files=())
    with results.locked(member):
        result = mbgen_here(["-m", "seed=0", f"results_root={root}"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"skipping {member}: another run (process {os.getpid()}) is writing it" in result.stderr
    assert {p.name: p.stat().st_mtime_ns for p in member.iterdir()} == before


def test_a_checkpoint_of_another_configuration_is_refused_after_strays_are_removed(
    tmp_path, mbgen_here
):
    # The folder's config is this command's, its checkpoint another's (written before run
    # identities existed): refused before compiling; a killed write's temporary file is gone.
    run_dir = tmp_path / "run"
    stored_run(run_dir, [], files=())
    checkpoint.save(run_dir / checkpoint.FILE, {"a": np.zeros(2)}, 1, pd.DataFrame(), "old")
    (run_dir / ".checkpoint.npz.x1y2.tmp").write_bytes(b"half")
    result = mbgen_here([f"hydra.run.dir={run_dir}"], tmp_path)
    assert_refused(result, "holds a checkpoint of a different configuration (checkpoint.npz)")
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint.npz", "config.yaml"]


def test_a_folder_whose_config_cannot_be_read_is_refused_and_left_alone(tmp_path, mbgen_here):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / results.CONFIG).write_text("agent: {name: [er\n")
    result = mbgen_here([f"hydra.run.dir={run_dir}"], tmp_path)
    assert_refused(result, "holds a config.yaml that cannot be read")
    assert (run_dir / results.CONFIG).read_text() == "agent: {name: [er\n"
