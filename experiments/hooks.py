"""What the host loop does after each call of a compiled program, besides running it: the
hooks of experiments/driver.py, each `hook(step, state, metrics)` (signature there)."""

import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from experiments import checkpoint, driver, saved_models
from experiments.settings import Regime


def latest_score(metrics: dict) -> dict:
    """The mean greedy score of all members (a diverged one is scored as its policy plays;
    experiments/results.py), and how many have diverged once any has."""
    shown = {"score": f"{np.mean(metrics['score']):.3g}"}
    diverged = np.asarray(metrics["diverged"])
    if diverged.any():
        shown["diverged"] = f"{diverged.sum()}/{diverged.size}"
    return shown


def latest_loss(metrics: dict) -> dict:
    return {"loss": f"{float(np.nanmean(metrics['loss'])):.3g}"}


class ProgressBar:
    """A tqdm bar (rate and ETA) over `total` steps showing `postfix(metrics)` of the latest
    call; it closes itself at `total`."""

    def __init__(
        self,
        total: int,
        description: str,
        postfix: Callable[[dict], dict],
        show: bool = True,
        initial: int = 0,
    ):
        self.postfix, self.step = postfix, initial
        self.bar = tqdm(
            total=total,
            unit="step",
            unit_scale=True,
            disable=not show,
            desc=description,
            file=sys.stderr,
            initial=initial,
        )

    def __call__(self, step: int, state, metrics: dict) -> None:
        self.bar.update(step - self.step)
        self.step = step
        self.bar.set_postfix(**self.postfix(metrics))
        if step >= self.bar.total:
            self.bar.close()


def online_progress(regime: Regime, description: str, show: bool, first: int = 0):
    """The bar of an online run resumed at interval `first`, with the latest score."""
    total = driver.num_intervals(regime) * regime.eval_interval
    initial = first * regime.eval_interval
    return ProgressBar(total, description, latest_score, show, initial)


def on_interval(fn: Callable[[int, dict], None]):
    """`fn(step, metrics)` as a hook: for what needs only the numbers (experiment tracking)."""

    def hook(step: int, state, metrics: dict) -> None:
        fn(step, metrics)

    return hook


def save_models(run_dir: Path, steps: tuple[int, ...]):
    """Saves the agent states without their replay buffers at the env steps in `steps`
    (`save_at`; experiments/saved_models.py)."""

    def hook(step: int, runner, metrics: dict) -> None:
        if step in steps:
            saved_models.save_agent_state(saved_models.path_for(run_dir, step), runner.agent, step)

    return hook


class Checkpoints:
    """Saves the whole online run to `path` every `every` evaluation intervals (0: never):
    the runner and the metrics so far, which a resumed run does not recompute. A checkpoint
    is valid only for the configuration it was written with (`fingerprint`)."""

    def __init__(self, path: Path, fingerprint: str, every: int, regime: Regime):
        self.path, self.fingerprint, self.every = Path(path), fingerprint, every
        self.interval = regime.eval_interval
        self.frames: list[pd.DataFrame] = []

    def resume(self, runner):
        """(runner, first interval to run, metrics of the earlier ones): from the checkpoint
        if there is one, else `runner` from the start."""
        resumed = checkpoint.load(self.path, runner, self.fingerprint)
        if resumed is None:
            return runner, 0, pd.DataFrame()
        runner, first, done = resumed
        self.frames = [done]
        return runner, first, done

    def __call__(self, step: int, runner, metrics: dict) -> None:
        self.frames.append(driver.interval_rows(step, metrics))
        done = step // self.interval
        if self.every and done % self.every == 0:
            checkpoint.save(self.path, runner, done, driver.table(self.frames), self.fingerprint)
