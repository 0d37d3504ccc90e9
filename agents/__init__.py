"""Agents by name. A module in this package that decorates its factory with `@register`
is found automatically: adding an agent needs no edit here.

An agent's settings and their defaults live in one place, configs/agent/<name>.yaml: the
command line reads them there, and `make` fills in the ones a Python caller leaves out.
Factories take every setting as a keyword without a default.
"""

import importlib
import pkgutil
from pathlib import Path
from typing import Callable

from omegaconf import OmegaConf

from agents.base import Agent
from envs import checks

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "agent"

REGISTRY: dict[str, Callable[..., Agent]] = {}
DISPLAY: dict[str, str] = {}  # the name figures, tables and the claims report print


def register(name: str, display: str):
    """Register `factory(env, **settings) -> Agent` under `name`, shown as `display`."""

    def decorate(factory):
        REGISTRY[name] = factory
        DISPLAY[name] = display
        return factory

    return decorate


def display(name: str) -> str:
    """How figures and tables name agent `name`."""
    checks.one_of("agent.name", name, sorted(REGISTRY))
    return DISPLAY[name]


def defaults(name: str) -> dict:
    """The settings of agent `name` with their defaults, from configs/agent/<name>.yaml."""
    checks.one_of("agent.name", name, sorted(REGISTRY))
    # resolve: a setting the fidelity group chooses falls back to its default here
    settings = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / f"{name}.yaml"), resolve=True)
    del settings["name"]
    return settings


def make(name: str, env, **settings) -> Agent:
    """Agent `name` on `env`: the given settings, the defaults for the rest."""
    accepted = defaults(name)
    for key in settings:
        if key not in accepted:
            raise ValueError(
                f"agent.{key} is not a setting of agent {name}; its settings are "
                f"{', '.join(accepted)}."
            )
    return REGISTRY[name](env, **{**accepted, **settings})


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"agents.{_module.name}")
