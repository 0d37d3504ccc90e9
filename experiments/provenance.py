"""Where a committed record (results/summaries/<name>.csv) came from, in a sidecar
<name>.meta.yaml that the summarizer writes beside it: the command that made its runs, when
they finished, the machine and code that summarized them, and their scale (seeds, steps,
network sizes, levels), read from the runs' own configs.

A run folder records neither its host nor its commit, so `machine` and `code` are those of
the tree that summarizes the runs: summarize where the runs were made, before changing it.
"""

import datetime
import platform
import re
import subprocess
from pathlib import Path

import pandas as pd
import yaml

import envs
from experiments import results


def finished_configs(tree: Path) -> list[tuple[Path, dict]]:
    """(run folder, config) of every finished run below `tree`, in path order."""
    found = []
    for path in sorted(Path(tree).rglob(results.CONFIG)):
        if results.is_finished(path.parent):
            found.append((path.parent, yaml.safe_load(path.read_text()) or {}))
    return found


def _distinct(values) -> list:
    return list(dict.fromkeys(v for v in values if v is not None))


def _joined(values) -> str | int | None:
    values = _distinct(values)
    return values[0] if len(values) == 1 else (", ".join(map(str, values)) or None)


def level_name(level: str) -> str:
    """procmaze-4 -> ProcMaze 4."""
    env, _, size = level.rpartition("-")
    return f"{envs.display(env)} {size}" if env else level


def networks(config: dict) -> str | None:
    hidden = (config.get("agent") or {}).get("hidden") or (config.get("offline") or {}).get(
        "hidden"
    )
    return "x".join(map(str, hidden)) if hidden else None


def steps(config: dict) -> str | int | None:
    """An online run's environment steps; an offline run's model steps and Q updates."""
    if "total_steps" in config:
        return int(config["total_steps"])
    scale = config.get("scale") or {}
    if "q_steps" in scale:
        return f"{scale['model_steps']:,} model steps and {scale['q_steps']:,} Q updates"
    return None


def run_scale(configs: list[dict]) -> dict:
    """The scale of a set of runs, each field one value or the distinct values joined."""
    levels = _distinct(c.get("level") for c in configs)
    offline = configs and all(c.get("kind") == "offline_gridworld" for c in configs)
    scale = {
        "name": _joined((c.get("scale") or {}).get("name") for c in configs),
        "seeds": _joined((c.get("scale") or {}).get("num_seeds") for c in configs),
        "steps": _joined(steps(c) for c in configs),
        "networks": _joined(networks(c) for c in configs),
        "levels": ", ".join(level_name(v) for v in levels)
        or ("Figure 1's 3x3 grid world" if offline else None),
    }
    return {k: v for k, v in scale.items() if v is not None}


def sweep_command(run_names: list[str]) -> str:
    """The mbgen commands that make runs named by their overrides (`agent=er,level=...`):
    one per set of overridden keys, with each key's values (a sweep where there are
    several); names that are not overrides are listed as they are."""
    groups: dict[tuple, list[dict]] = {}
    others = []
    for name in run_names:
        pairs = dict(p.split("=", 1) for p in _split(name))
        if pairs:
            groups.setdefault(tuple(pairs), []).append(pairs)
        else:
            others.append(name)
    commands = []
    for keys, runs in groups.items():
        words = [f"{k}={','.join(_distinct(r[k] for r in runs))}" for k in keys]
        commands.append(("mbgen -m " if len(runs) > 1 else "mbgen ") + " ".join(words))
    if others:
        commands.append("runs " + ", ".join(others))
    return "; ".join(commands)


def _split(name: str) -> list[str]:
    """A Hydra override_dirname split at the commas between overrides (not inside [..]),
    without the run's fingerprint that ends a sweep member's folder name (`-1a2b3c4d`)."""
    parts, depth, current = [], 0, ""
    for char in re.sub(r"-[0-9a-f]{8}$", "", Path(name).name):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and not depth:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts if all("=" in p for p in parts) else []


def machine() -> str:
    """This host's CPU model, and its accelerator if JAX sees one."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        cpu = f"{names[0]} ({len(names)} cores)" if names else cpu
    import jax  # only here: the rest of this module does not need it

    device = jax.devices()[0]
    return cpu if device.platform == "cpu" else f"{cpu}; {device.device_kind}"


def code_version() -> dict:
    """The commit of this tree and whether it was clean (no uncommitted changes)."""

    def git(*args):
        done = subprocess.run(["git", *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    if commit is None:
        return {"commit": "not recorded", "clean": "not recorded"}
    return {"commit": commit, "clean": git("status", "--porcelain", "--untracked-files=no") == ""}


def provenance(name: str, tree: Path, made_by: str, summary=None) -> dict:
    """The sidecar of record `name` summarized from the finished runs under `tree`: those
    named in the `run` column of `summary` where it has one (a summary may keep some runs
    only, e.g. those of the largest scale)."""
    runs = finished_configs(tree)
    if summary is not None and "run" in summary:
        kept = set(summary["run"])
        runs = [(d, c) for d, c in runs if str(d.relative_to(tree)) in kept]
    finished = [
        datetime.datetime.fromtimestamp((d / results.SUMMARY).stat().st_mtime, datetime.UTC)
        for d, _ in runs
    ]
    dates = sorted({f"{t:%Y-%m-%d}" for t in finished})
    names = [str(d.relative_to(tree)) for d, _ in runs]
    return {
        "record": f"{name}.csv",
        "summarized_by": made_by,
        "runs": sweep_command(names),
        "date": dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}" if dates else "?",
        "machine": machine(),
        "code": code_version(),
        "scale": run_scale([c for _, c in runs]),
        "summarized": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
    }


# A seed of an online run, by what it measured: two records holding one are the same runs, or
# the same configuration run again (the suite is deterministic), never a coincidence.
SEED = ["env", "complexity", "member", "final_score", "whole_run_score"]


def seeds(csv: Path) -> set[tuple]:
    table = pd.read_csv(csv, comment="#")
    if not set(SEED) <= set(table.columns):
        return set()
    return set(table[SEED].round(7).itertuples(index=False, name=None))


def shared_runs(csv: Path) -> list[str]:
    """The other records beside `csv` that hold some of its seeds."""
    mine = seeds(csv)
    others = sorted(p for p in csv.parent.glob("*.csv") if p != csv)
    return [p.stem for p in others if mine and mine & seeds(p)]


def write(meta: dict, csv: Path) -> Path:
    """The sidecar beside the record `csv`, with the records that share its runs."""
    shared = shared_runs(csv)
    meta = {**meta, **({"shares_runs_with": shared} if shared else {})}
    path = csv.with_name(csv.stem + ".meta.yaml")
    results.write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True), path)
    return path


def read(csv: Path) -> dict:
    """The sidecar of the record `csv`, or {} where there is none."""
    path = csv.with_name(csv.stem + ".meta.yaml")
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
