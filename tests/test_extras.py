"""Every extra that `pip install -e '.[dev]'` installs imports: a missing package fails here,
never skips (a test module that skipped on a failed import would hide it: gymnax 1.0.1
imports `six` without declaring it, so the gymnax extra names six itself)."""

import importlib
import re
import tomllib
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# What each extra that dev brings makes importable.
MODULES = {
    "launchers": ["hydra_plugins.hydra_joblib_launcher", "hydra_plugins.hydra_submitit_launcher"],
    "rliable": ["rliable"],
    "gymnax": ["gymnax"],
    "tracking": ["wandb", "tensorboardX", "tensorboard"],
}


def dev_extras() -> list[str]:
    dev = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["dev"]
    own = next(d for d in dev if d.startswith("mbgen["))
    return re.fullmatch(r"mbgen\[(.*)\]", own).group(1).split(",")


def test_every_extra_of_dev_has_its_modules_listed_here():
    assert sorted(dev_extras()) == sorted(MODULES)


@pytest.mark.parametrize("module", [m for modules in MODULES.values() for m in modules])
def test_an_extra_of_dev_imports(module):
    importlib.import_module(module)
