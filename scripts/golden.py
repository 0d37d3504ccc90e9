"""Record, or check, one short run per agent (and one offline Figure 1 run) through the CLI,
so that a refactor or a speed change can prove that results did not change.

    python scripts/golden.py record /tmp/before     # before the change
    python scripts/golden.py check /tmp/before      # after it: bit for bit, or says where
    python scripts/golden.py record /tmp/wide --only er --set scale.num_seeds=30 \
        "++agent.hidden=[200,200,200]"              # the small runs with other settings

Each run is small (PanFlute 3 or ProcMaze 3, 2 seeds, 1,200 steps, 32-unit networks) but
goes through the same config, loop, agents and writers as a real one.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SMALL = [
    "seed=3",
    "scale.num_seeds=2",
    "scale.steps_fraction=1",
    "regime.total_steps=1200",
    "regime.eval_interval=400",
    "regime.learning_starts=200",
    "regime.target_update_frequency=100",
    "checkpoint_every=0",
    "progress=false",
    "++agent.hidden=[32]",
]
RUNS = {
    # every registered agent (tests/test_registry.py checks that none is missing) ...
    "er": ["agent=er", "level=panflute-3"],
    "simple_model": ["agent=simple_model", "level=procmaze-3"],
    "perfect_model": ["agent=perfect_model", "level=panflute-3"],
    "gaussian_latent": ["agent=gaussian_latent", "level=panflute-3"],
    "categorical_latent": ["agent=categorical_latent", "level=panflute-3"],
    "dyna_mix": ["agent=dyna_mix", "level=procmaze-3", "agent.real_fraction=0.3"],
    "deepmdp": ["agent=deepmdp", "level=panflute-3"],
    "mpc": ["agent=mpc", "level=procmaze-3"],
    "implicit_model": ["agent=implicit_model", "level=panflute-3"],
    "muzero": ["agent=muzero", "level=procmaze-3"],
    # ... and every beyond-the-paper mode that changes what an agent learns from
    "er_prioritized": ["agent=er", "level=panflute-3", "agent.priority_exponent=0.6"],
    "simple_prioritized": ["agent=simple_model", "level=procmaze-3",
                           "agent.priority_exponent=0.6"],
    "perfect_prioritized": ["agent=perfect_model", "level=panflute-3",
                            "agent.priority_exponent=0.6"],
    "latent_prioritized": ["agent=categorical_latent", "level=panflute-3",
                           "agent.priority_exponent=0.6"],
    "simple_mean": ["agent=simple_model", "level=procmaze-3", "agent.next_obs=mean"],
    "simple_expected": ["agent=simple_model", "level=procmaze-3", "agent.target_samples=4"],
    "simple_replayed": ["agent=simple_model", "level=procmaze-3", "agent.search_control=replayed"],
    "perfect_replayed": ["agent=perfect_model", "level=panflute-3",
                         "agent.search_control=replayed"],
    "simple_ensemble": ["agent=simple_model", "level=procmaze-3", "agent.ensemble_size=3",
                        "agent.disagreement_penalty=0.5"],
    "simple_schedule": ["agent=simple_model", "level=procmaze-3",
                        "agent.rollout_schedule=[0,400,1,10]"],
    "simple_slbo": ["agent=simple_model", "level=procmaze-3", "agent.model_horizon=3"],
    "simple_authors": ["agent=simple_model", "level=procmaze-3", "fidelity=authors"],
    "latent_authors": ["agent=gaussian_latent", "level=panflute-3", "fidelity=authors"],
}
OFFLINE = [
    "experiment=fig1",
    "scale.num_seeds=2",
    "scale.model_steps=400",
    "scale.q_steps=400",
    "scale.chunk=200",
    "offline.hidden=[32]",
    "progress=false",
]
TABLES = ("metrics.parquet", "q_values.parquet", "outcomes.parquet", "model_predictions.parquet")


def mbgen(overrides: list[str], run_dir: Path) -> None:
    command = [sys.executable, "-m", "experiments.run", *overrides, f"hydra.run.dir={run_dir}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(overrides)} failed:\n{done.stderr[-2000:]}")


def key(override: str) -> str:
    return override.split("=")[0].lstrip("+")


def with_settings(overrides: list[str], settings: list[str]) -> list[str]:
    """`overrides` with each of `settings` in place of the override of the same key."""
    replaced = {key(s) for s in settings}
    return [o for o in overrides if key(o) not in replaced] + settings


def record(root: Path, only: list[str], settings: list[str] = ()) -> None:
    for name, overrides in RUNS.items():
        if only and name not in only:
            continue
        shutil.rmtree(root / name, ignore_errors=True)
        mbgen(with_settings([*overrides, *SMALL], list(settings)), root / name)
        print(f"recorded {name}")
    if not only or "offline" in only:
        shutil.rmtree(root / "offline", ignore_errors=True)
        mbgen(OFFLINE, root / "offline")
        print("recorded offline")


def same(a: pd.DataFrame, b: pd.DataFrame) -> str:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return f"columns/rows differ: {list(a.columns)} x {len(a)} vs {list(b.columns)} x {len(b)}"
    for column in a.columns:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if x.dtype.kind == "f":
            equal = np.array_equal(x, y, equal_nan=True)
        else:
            equal = np.array_equal(x, y)
        if not equal:
            return f"column {column} differs"
    return ""


def check(before: Path, only: list[str], settings: list[str] = ()) -> None:
    after = Path(tempfile.mkdtemp(prefix="golden_after_"))
    record(after, only, settings)
    bad = 0
    for run in sorted(p for p in before.iterdir() if p.is_dir()):
        if only and run.name not in only:
            continue
        for table in TABLES:
            if not (run / table).exists():
                continue
            problem = same(pd.read_parquet(run / table), pd.read_parquet(after / run.name / table))
            print(f"{run.name}/{table}: {problem or 'identical'}")
            bad += bool(problem)
    sys.exit(1 if bad else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["record", "check"])
    parser.add_argument("root", type=Path)
    parser.add_argument("--only", nargs="*", default=[], help="agent names, or offline")
    parser.add_argument("--set", nargs="*", default=[], metavar="OVERRIDE",
                        help="online runs: overrides in place of the small ones of the same key")
    args = parser.parse_args()
    (record if args.mode == "record" else check)(args.root, args.only, args.set)


if __name__ == "__main__":
    main()
