"""The command line: `mbgen [hydra overrides]` runs one online experiment, or a sweep with -m;
`mbgen experiment=fig1` runs the offline grid world of Figure 1 instead (offline_gridworld).

A run writes into its Hydra run directory: config.yaml, metrics.parquet, summary.json and
learning_curve.png (and checkpoint.npz while it runs; a re-run of the same command resumes
from it). Every value is checked before anything is written or compiled.
"""

import json
import sys
import time
from pathlib import Path

from experiments import cores

if __name__ == "__main__" or Path(sys.argv[0]).name == "mbgen":  # the program, not an import
    cores.use_every_core()  # before JAX starts: one device per CPU core

import hydra  # JAX must start after use_every_core, so every import comes below it
import jax
import jax.numpy as jnp
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import envs
from agents import dqn, sampling
from experiments import (
    checkpoint,
    cli,
    config,
    driver,
    grid_search,
    hooks,
    results,
    saved_models,
    tracking,
)
from experiments.analysis import figures
from experiments.evaluation import random_policy_score
from experiments.offline import report as offline_report
from experiments.offline import training as offline_training


def fail(message: str, run_dir: Path | None = None) -> None:
    """One sentence to stderr, exit code 2, and nothing left behind."""
    # Hydra created the run directory (and any missing parents) before our checks ran:
    # remove what is empty, stopping at the first directory that holds anything.
    while run_dir is not None and run_dir.is_dir() and run_dir != Path.cwd():
        if any(run_dir.iterdir()):
            break
        run_dir.rmdir()
        run_dir = run_dir.parent
    cli.fail(message)


class Refused(Exception):
    """A run that must not write into its folder, in one sentence."""


@hydra.main(version_base=None, config_path=str(config.CONFIG_DIR), config_name="config")
def run(cfg: DictConfig) -> None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    sweep = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        cfg = config.apply_level(cfg)
        offline_run = cfg.kind == "offline_gridworld"
        job = config.build_offline(cfg) if offline_run else config.build(cfg)
        check_devices(cfg, job)
        driver.speed_settings(cfg.get("speed"))  # bad speed.* values, before anything is written
        stored = config.stored_config(cfg)
        with results.locked(run_dir):
            if claim(run_dir, stored, sweep):
                start(cfg, job, run_dir, stored)
    except results.Busy as busy:
        if not sweep:
            fail(
                f"the results directory {run_dir} is being written by another run "
                f"(process {busy}); wait until it ends, or choose another folder (hydra.run.dir)."
            )
        print(f"skipping {run_dir}: another run (process {busy}) is writing it", file=sys.stderr)
    except (config.ConfigError, Refused) as error:
        fail(str(error), run_dir)


def claim(run_dir: Path, stored: dict, sweep: bool) -> bool:
    """Whether this run may write into `run_dir`, which this process has locked: a folder
    whose stored config is another run's is refused, never written into; a finished run is
    refused, or skipped by a sweep."""
    config_file = run_dir / results.CONFIG
    if config_file.exists():
        try:
            there = config.identity(yaml.safe_load(config_file.read_text()) or {})
        except yaml.YAMLError:
            raise Refused(
                f"the results directory {run_dir} holds a config.yaml that cannot be read; "
                "pass another hydra.run.dir=... or remove it first."
            ) from None
        difference = config.first_difference(there, config.identity(stored))
        if difference:
            raise Refused(
                f"the results directory {run_dir} holds a run of another configuration "
                f"({difference}); pass another hydra.run.dir=... or remove it first."
            )
    if results.is_finished(run_dir):
        if sweep:
            print(f"skipping {run_dir}: it holds a finished run", file=sys.stderr)
            return False
        raise Refused(
            f"the results directory {run_dir} already holds a finished run; "
            "pass another hydra.run.dir=... or remove it first."
        )
    results.remove_strays(run_dir)
    return True


def start(cfg: DictConfig, job, run_dir: Path, stored: dict) -> None:
    """The run of `job` into `run_dir`, whose config.yaml it writes first."""
    if cfg.kind == "offline_gridworld":
        results.write_text(OmegaConf.to_yaml(stored), run_dir / results.CONFIG)
        offline_gridworld(cfg, job, run_dir)
        return
    # What makes two runs the same run (a checkpoint resumes only the same run).
    fingerprint = json.dumps(config.identity(stored), sort_keys=True)
    for path in checkpoint.paths(run_dir / checkpoint.FILE):
        saved = checkpoint.fingerprint(path)
        if saved is not None and saved != fingerprint:
            raise Refused(
                f"the results directory {run_dir} holds a checkpoint of a different "
                f"configuration ({path.name}); pass another hydra.run.dir=... or remove it first."
            )
    # Started before anything is written, so that a missing tracker package leaves nothing.
    tracker = start_tracker(cfg, run_dir) if cfg.kind == "online" else tracking.NoTracker()
    results.write_text(OmegaConf.to_yaml(stored), run_dir / results.CONFIG)
    run_columns = dict(
        env=job.env.name,
        complexity=envs.complexity(job.env),
        agent=cfg.agent.name,
        regime=cfg.regime.name,
        scale=cfg.scale.name,
        seed=job.seed,
    )
    random_score = random_policy_score(job.env, jax.random.key(job.seed))
    if cfg.kind == "grid_search":
        search(cfg, job, run_dir, run_columns, random_score)
    else:
        train(cfg, job, run_dir, run_columns, random_score, fingerprint, tracker)


def train(cfg, job, run_dir, run_columns, random_score, fingerprint, tracker) -> None:
    """One online run of every seed, with checkpoints; `tracker` sees every evaluation."""
    step_size, temperature = float(job.hyper.step_size), float(job.hyper.temperature)
    keys = driver.member_keys(job.seed, job.num_seeds)
    hyper = dqn.Hyper(*(jnp.full(job.num_seeds, x, jnp.float32) for x in job.hyper))
    start = time.perf_counter()
    speed = driver.speed_settings(cfg.get("speed"))
    program = driver.compile_program(job.env, job.agent, job.regime, job.num_seeds, speed=speed)
    say(cfg, f"compiled in {time.perf_counter() - start:.1f}s")
    runner = program.init(keys, hyper)
    if job.load_model is not None:
        runner = runner._replace(agent=saved_models.load_model(job.load_model, runner.agent))
    checkpoints = hooks.Checkpoints(
        run_dir / checkpoint.FILE, fingerprint, cfg.checkpoint_every, job.regime
    )
    runner, first, done = checkpoints.resume(runner)
    if first:
        step = first * job.regime.eval_interval
        say(cfg, f"resuming from {checkpoints.path} at step {step}")
    progress = hooks.online_progress(job.regime, cfg.agent.name, cfg.progress, first)
    save = hooks.save_models(run_dir, job.save_at)
    track = hooks.on_interval(tracker.on_interval)
    metrics = driver.table(
        [
            done,
            driver.run_online(
                program, runner, first=first, hooks=(progress, save, checkpoints, track)
            ),
        ]
    )
    tracker.finish()
    metrics = metrics.assign(step_size=step_size, temperature=temperature, **run_columns)

    summary = results.summarize(metrics)
    summary["random_policy_score"] = random_score
    results.write_table(metrics, run_dir / results.METRICS)
    title = f"{run_dir.name}  (step size {step_size:g}, temperature {temperature:g})"
    figure = figures.learning_curve(metrics, title, baseline=random_score)
    results.write_figure(figure, run_dir / "learning_curve.png")
    figures.close(figure)
    results.write_json(summary, run_dir / results.SUMMARY)  # last: it marks the run finished
    for path in checkpoint.paths(run_dir / checkpoint.FILE):
        path.unlink(missing_ok=True)

    print(f"{results.describe(summary)}; uniform random policy {random_score:.4g}")
    print(f"results: {run_dir}/  (metrics.parquet, summary.json, learning_curve.png)")


def start_tracker(cfg, run_dir: Path):
    """The `logger=` tracker, started with the resolved config; a sweep's members share one
    group, named after the sweep's directory."""
    try:
        tracker = tracking.make_tracker(OmegaConf.to_container(cfg.logger, resolve=True), run_dir)
        sweep = HydraConfig.get().mode == RunMode.MULTIRUN
        group = Path(HydraConfig.get().sweep.dir).name if sweep else None
        tracker.start(OmegaConf.to_container(cfg, resolve=True), run_dir.name, group)
    except ImportError as error:
        raise Refused(str(error)) from None
    return tracker


def say(cfg, message: str) -> None:
    """A progress message on stderr, unless progress=false."""
    if cfg.progress:
        print(message, file=sys.stderr)


def search(cfg, job, run_dir, run_columns, random_score) -> None:
    """The step size x temperature grid as one program; ranks the settings."""
    metrics = grid_search.search(
        job.env, job.agent, job.regime, job.grid, job.num_seeds, job.seed, progress=cfg.progress
    )
    metrics = metrics.assign(**run_columns)
    ranked = grid_search.rank_settings(metrics)
    best = ranked.iloc[0]
    results.write_table(metrics, run_dir / results.METRICS)
    results.write_table(ranked, run_dir / "grid.parquet")
    tuned = grid_search.tuned_yaml(cfg.agent.name, job.env.name, cfg.regime.name, best)
    results.write_text(tuned, run_dir / "tuned.yaml")
    title = f"{run_dir.name}: final score (best outlined)"
    figure = figures.sensitivity_heatmap(ranked, title)
    results.write_figure(figure, run_dir / "sensitivity.png")
    figures.close(figure)
    summary = {
        "best_step_size": float(best["step_size"]),
        "best_temperature": float(best["temperature"]),
        "best_final_score_mean": float(best["final_score_mean"]),
        "best_final_score_ci95": float(best["final_score_ci95"]),
        "best_num_diverged": int(best["num_diverged"]),
        "num_settings": int(len(ranked)),
        "num_seeds": job.num_seeds,
        "num_diverged": int(ranked["num_diverged"].sum()),
        "random_policy_score": random_score,
        "definition": "per setting: mean over all seeds of the mean greedy score over the "
        "last 10% of evaluations, a diverged seed scored by what its greedy policy does; "
        "best = highest mean",
    }
    results.write_json(summary, run_dir / results.SUMMARY)
    print(
        f"best: step size {best['step_size']:.4g}, temperature {best['temperature']:.4g}: "
        f"{results.describe(best)}"
    )
    if summary["num_diverged"]:
        print(
            f"{summary['num_diverged']} of {len(ranked) * job.num_seeds} members diverged "
            "across the grid; each counts with what its greedy policy scores"
        )
    print(
        f"results: {run_dir}/  (metrics.parquet, grid.parquet, sensitivity.png, tuned.yaml; "
        f"use it with tuned_file={run_dir}/tuned.yaml)"
    )


def offline_gridworld(cfg, job, run_dir) -> None:
    """Figure 1: every agent x coverage level of the offline grid world, as tidy tables."""
    step_size, temperature = float(job.hyper.step_size), float(job.hyper.temperature)
    start = time.perf_counter()
    keys = driver.member_keys(job.seed, job.num_seeds)
    hyper = dqn.Hyper(*(jnp.full(job.num_seeds, x, jnp.float32) for x in job.hyper))
    raw = offline_training.run(job.settings, hyper, keys, job.agents, job.coverages, cfg.progress)
    seconds = time.perf_counter() - start
    tables = offline_report.tables(raw)
    for name, table in tables.items():
        results.write_table(table, run_dir / f"{name}.parquet")
    title = (
        f"{run_dir.name}: {job.num_seeds} seeds, {job.settings.q_steps:,} Q updates "
        f"(step size {step_size:g}, temperature {temperature:g})"
    )
    figure = figures.figure1(tables["action_counts"], tables["outcomes"], title)
    results.write_figure(figure, run_dir / "figure1.png")
    figures.close(figure)
    summary = offline_report.summarize(tables, raw.seconds, seconds)
    results.write_json(summary, run_dir / results.SUMMARY)  # last: it marks the run finished

    print(offline_report.outcome_grid(tables["outcomes"]))
    print(
        f"{summary['agrees_with_paper']} of {summary['num_outcomes']} outcomes agree with "
        f"the paper; {seconds / 60:.1f} min"
    )
    print(
        f"results: {run_dir}/  (outcomes.parquet, action_counts.parquet, "
        f"cell_outcomes.parquet, model_accuracy.parquet, summary.json, figure1.png)"
    )


def main() -> None:
    sampling.unroll_threefry_on_cpu()  # at program start, not on import (agents/sampling.py)
    try:
        sys.argv[1:] = config.check_command(sys.argv[1:], check_devices)
    except config.ConfigError as error:
        fail(str(error))
    run()


def check_devices(cfg: DictConfig, job) -> None:
    if cfg.kind == "online":
        driver.member_devices(job.num_seeds)  # refuses widths GPUs cannot split


if __name__ == "__main__":
    main()
