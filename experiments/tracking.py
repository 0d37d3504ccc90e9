"""Experiment tracking: `logger=none|wandb|tensorboard` (configs/logger/).

A tracker gets the resolved config when the run starts, the metrics of every evaluation
interval while it goes (the loop's `on_interval(step, metrics)` hook: one value per member
of the batch), and `finish()` at the end. Each metric is logged as its mean over the
members where it is finite (a diverged member's score counts; its NaN losses do not), under
its own name (`score`, `td_loss`, ...), and per member as `member_<i>/<name>`. The
trackers' packages are optional extras, imported only when chosen.
"""

import math
from pathlib import Path

import numpy as np

CHOICES = ("none", "wandb", "tensorboard")


def scalars(metrics) -> dict[str, float]:
    """Per-member metric arrays -> flat scalars: the mean of the finite values over members,
    and each member's own value."""
    values = {name: np.atleast_1d(np.asarray(value, float)) for name, value in metrics.items()}
    out = {}
    for name, value in values.items():
        finite = value[np.isfinite(value)]
        out[name] = float(finite.mean()) if len(finite) else math.nan
        if len(value) > 1:
            out.update({f"member_{i}/{name}": float(x) for i, x in enumerate(value)})
    return out


class NoTracker:
    def start(self, config: dict, run_name: str, group: str | None) -> None:
        pass

    def on_interval(self, step: int, metrics) -> None:
        pass

    def finish(self) -> None:
        pass


class WandbTracker:
    """One wandb run per mbgen run; the members of a sweep share the sweep's group.
    Offline runs (`mode=offline` or WANDB_MODE=offline) sync later with `wandb sync`."""

    def __init__(self, directory: Path, project: str, entity=None, mode=None):
        self.directory, self.project, self.entity, self.mode = directory, project, entity, mode
        self.run = None

    def start(self, config: dict, run_name: str, group: str | None) -> None:
        wandb = _import("wandb", "wandb")
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=self.project,
            entity=self.entity,
            mode=self.mode,
            dir=str(self.directory),
            name=run_name,
            group=group,
            config=config,
            reinit="finish_previous",  # a multirun process starts one run per member
        )

    def on_interval(self, step: int, metrics) -> None:
        self.run.log(scalars(metrics), step=int(step))

    def finish(self) -> None:
        self.run.finish()


class TensorBoardTracker:
    """Event files in `<run dir>/tensorboard`; the config as a text summary. A sweep's
    members are sibling run directories, so `tensorboard --logdir <sweep dir>` groups them."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.writer = None

    def start(self, config: dict, run_name: str, group: str | None) -> None:
        import yaml  # PyYAML comes with Hydra

        writer_class = _import("tensorboardX", "tensorboard").SummaryWriter
        self.writer = writer_class(str(self.directory))
        text = yaml.safe_dump(dict(config, run_name=run_name, group=group), sort_keys=True)
        self.writer.add_text("config", f"```\n{text}```", 0)

    def on_interval(self, step: int, metrics) -> None:
        for name, value in scalars(metrics).items():
            self.writer.add_scalar(name, value, int(step))
        self.writer.flush()

    def finish(self) -> None:
        self.writer.close()


def make_tracker(logger: dict, run_dir: Path):
    """The tracker `logger` (the resolved `logger` config: name and its options) asks for."""
    name = logger.get("name", "none")
    if name == "none":
        return NoTracker()
    if name == "wandb":
        return WandbTracker(
            run_dir, logger.get("project", "mbgen"), logger.get("entity"), logger.get("mode")
        )
    if name == "tensorboard":
        return TensorBoardTracker(Path(run_dir) / "tensorboard")
    raise ValueError(f"logger must be one of {', '.join(CHOICES)}; got {name!r}.")


def _import(module: str, extra_name: str):
    try:
        return __import__(module)
    except ImportError as error:
        raise ImportError(
            f"logger={extra_name} needs the {module} package; install it with "
            "pip install -e '.[tracking]'."
        ) from error
