"""JAX-native environments of the suite; `make(name, **settings)` builds one by name."""

import dataclasses

from envs.buttongrid import ButtonGrid
from envs.core import Environment
from envs.opengrid import OpenGrid
from envs.panflute import PanFlute
from envs.procmaze import ProcMaze

REGISTRY = {env.name: env for env in (ProcMaze, ButtonGrid, PanFlute, OpenGrid)}
NAMES = tuple(REGISTRY)


def complexity(env: Environment) -> int:
    """The value of the setting the paper scales (grid size, buttons, pipes)."""
    return getattr(env, env.complexity_key)


def _registered(name: str) -> type:
    if name not in REGISTRY:
        raise ValueError(f"env.name must be one of {', '.join(NAMES)}; got {name!r}.")
    return REGISTRY[name]


def display(name: str) -> str:
    """How figures and tables name environment `name`: ProcMaze."""
    return _registered(name).display


def complexity_label(name: str) -> str:
    """The setting the paper scales in environment `name`, as an axis label: grid size."""
    return _registered(name).complexity_label


def make(name: str, **settings) -> Environment:
    """The environment called `name` with the given settings (validated on construction)."""
    env = _registered(name)
    if "gps" in settings and not hasattr(env, "gps"):
        raise ValueError(
            f"env.gps needs an environment with a goal (procmaze); {name} has none."
        )
    allowed = [field.name for field in dataclasses.fields(env)]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(
            f"env.{unknown[0]} is not a setting of {name}, whose settings are {', '.join(allowed)}."
        )
    return env(**settings)


__all__ = [
    "NAMES", "ButtonGrid", "Environment", "OpenGrid", "PanFlute", "ProcMaze", "complexity_label",
    "display", "make",
]  # fmt: skip
