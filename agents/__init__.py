"""Agents by name. A module in this package that decorates its factory with `@register`
is found automatically: adding an agent needs no edit here."""

import importlib
import pkgutil
from typing import Callable

from agents.base import Agent

REGISTRY: dict[str, Callable[..., Agent]] = {}


def register(name: str):
    """Register `factory(env, **settings) -> Agent` under `name`."""

    def decorate(factory):
        REGISTRY[name] = factory
        return factory

    return decorate


def make(name: str, env, **settings) -> Agent:
    if name not in REGISTRY:
        raise ValueError(f"agent must be one of {', '.join(sorted(REGISTRY))}; got {name!r}.")
    return REGISTRY[name](env, **settings)


_INFRASTRUCTURE = {"base", "dqn", "replay", "rollout"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _INFRASTRUCTURE:
        importlib.import_module(f"agents.{_module.name}")
