"""The command line: `mbgen [hydra overrides]` runs one online experiment, or a sweep with -m.

A run writes into its Hydra run directory: config.yaml, metrics.parquet, summary.json and
learning_curve.png (and checkpoint.npz while it runs; a re-run of the same command resumes
from it). Every value is checked before anything is written or compiled.
"""

import json
import sys
from pathlib import Path

import hydra
import jax
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import envs
from experiments import checkpoint, config, driver, figures, results
from experiments.evaluation import random_policy_score


def fail(message: str, run_dir: Path | None = None) -> None:
    """One sentence to stderr, exit code 2, and nothing left behind."""
    if run_dir is not None and run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()  # Hydra created it empty before our checks ran
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base=None, config_path=str(config.CONFIG_DIR), config_name="config")
def run(cfg: DictConfig) -> None:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        job = config.build(cfg)
    except config.ConfigError as error:
        fail(str(error), run_dir)
    if results.is_finished(run_dir):
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            print(f"skipping {run_dir}: it holds a finished run", file=sys.stderr)
            return
        fail(
            f"the results directory {run_dir} already holds a finished run; "
            "pass another hydra.run.dir=... or remove it first."
        )

    step_size, temperature = float(job.hyper.step_size), float(job.hyper.temperature)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    resolved.update(
        step_size=step_size, temperature=temperature, total_steps=job.regime.total_steps
    )
    # What makes two runs the same run (a checkpoint resumes only the same run).
    fingerprint = json.dumps(
        {
            k: v
            for k, v in resolved.items()
            if k not in ("progress", "checkpoint_every", "results_root")
        },
        sort_keys=True,
    )
    saved = checkpoint.fingerprint(run_dir / checkpoint.FILE)
    if saved is not None and saved != fingerprint:
        fail(
            f"the results directory {run_dir} holds a checkpoint of a different "
            "configuration; pass another hydra.run.dir=... or remove it first."
        )
    results.write_text(OmegaConf.to_yaml(resolved), run_dir / results.CONFIG)

    keys = driver.member_keys(job.seed, job.num_seeds)
    hyper = type(job.hyper)(*(x.repeat(job.num_seeds) for x in job.hyper))
    metrics = driver.run_online(
        job.env,
        job.agent,
        job.regime,
        hyper,
        keys,
        progress=cfg.progress,
        description=cfg.agent.name,
        checkpoint_path=run_dir / checkpoint.FILE,
        checkpoint_every=cfg.checkpoint_every,
        fingerprint=fingerprint,
    )
    metrics = metrics.assign(
        env=job.env.name,
        complexity=envs.complexity(job.env),
        agent=cfg.agent.name,
        regime=cfg.regime.name,
        scale=cfg.scale.name,
        step_size=step_size,
        temperature=temperature,
        seed=job.seed,
    )

    summary = results.summarize(metrics)
    summary["random_policy_score"] = random_policy_score(job.env, jax.random.key(job.seed))
    results.write_table(metrics, run_dir / results.METRICS)
    title = f"{run_dir.name}  (lr {step_size:g}, temperature {temperature:g})"
    figure = figures.learning_curve(metrics, title, baseline=summary["random_policy_score"])
    results.write_figure(figure, run_dir / "learning_curve.png")
    figures.close(figure)
    results.write_json(summary, run_dir / results.SUMMARY)  # last: it marks the run finished
    (run_dir / checkpoint.FILE).unlink(missing_ok=True)

    print(
        f"final score {summary['final_score_mean']:.4g} ± {summary['final_score_ci95']:.2g} "
        f"(95% CI over {summary['num_seeds'] - summary['num_diverged']} seeds); "
        f"uniform random policy {summary['random_policy_score']:.4g}"
    )
    print(f"results: {run_dir}/  (metrics.parquet, summary.json, learning_curve.png)")


def main() -> None:
    try:
        config.check_overrides(sys.argv[1:])
    except config.ConfigError as error:
        fail(str(error))
    run()


if __name__ == "__main__":
    main()
