"""Agent states saved at chosen env steps (`save_at`), for analyses of the models a run
learned along the way (Figure 4 freezes the simple model at several steps).

A saved state is everything but the replay buffers: parameters, optimizer states and
hyperparameters of every member of the run (a batched leading axis). The buffers are the
bulk of a state (100k transitions each) and an analysis of the model does not need them.
"""

from pathlib import Path

import jax
import numpy as np

from agents.replay import Replay
from experiments import checkpoint

DIR = "models"


def path_for(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / DIR / f"step_{step}.npz"


def _is_replay(x) -> bool:
    return isinstance(x, Replay)


def without_replay(agent_state):
    """The agent state with every replay buffer replaced by None (an empty subtree)."""
    return jax.tree.map(lambda x: None if _is_replay(x) else x, agent_state, is_leaf=_is_replay)


def save_agent_state(path: Path, agent_state, step: int) -> None:
    checkpoint.write_npz(path, step=step, **checkpoint.to_arrays(without_replay(agent_state)))


def load_agent_state(path: Path, template):
    """The agent state saved at `path`, shaped like `template` (an agent state of the same
    agent, env and number of members), with `template`'s replay buffers."""
    with np.load(path) as saved:
        loaded = checkpoint.from_arrays(saved, without_replay(template))
    # Both trees share their structure except where `template` holds a Replay.
    return jax.tree.map(
        lambda like, value: like if _is_replay(like) else value,
        template,
        loaded,
        is_leaf=lambda x: _is_replay(x) or x is None,
    )
