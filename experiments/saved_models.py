"""Agent states saved at chosen env steps (`save_at`), for analyses of the models a run
learned along the way (Figure 4 freezes the simple model at several steps).

A saved state is everything but the replay buffers: parameters, optimizer states and
hyperparameters of every member of the run (a batched leading axis). The buffers are the
bulk of a state (100k transitions each) and an analysis of the model does not need them.
"""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from agents import dqn
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


def state_shapes(agent, members: int):
    """The shapes of `agent`'s state batched over `members` (nothing is computed)."""
    hyper = dqn.Hyper(jnp.ones(members), jnp.ones(members))
    keys = jax.random.split(jax.random.key(0), members)
    return jax.eval_shape(jax.vmap(agent.init), keys, hyper)


def load_model(path: Path, agent_state):
    """`agent_state` (batched over members) with its `model` replaced by the one saved at
    `path`, member i's from member i's: a run that starts from a model trained elsewhere
    (`load_model=`; with `agent.frozen=true`, Figure 4 right)."""
    return agent_state._replace(model=load_agent_state(path, agent_state).model)


def check_model_file(path, template) -> None:
    """ValueError (one sentence naming `load_model`) unless `path` holds an agent state saved
    by `save_at` whose shapes match `template` (an agent state or its shapes, batched over
    members): the same agent settings, env and number of seeds."""
    if getattr(template, "model", None) is None:
        raise ValueError(
            "load_model needs an agent with a learned model (simple_model, "
            "gaussian_latent, categorical_latent); this agent has none."
        )
    if not Path(path).is_file():
        raise ValueError(
            f"load_model must be a file written by save_at (<run dir>/{DIR}/step_<t>.npz); "
            f"{path} does not exist."
        )
    expected = jax.tree.leaves(without_replay(template))
    with np.load(path) as saved:
        count = sum(name.startswith("leaf") for name in saved.files)
        shapes = [saved[f"leaf{i}"].shape for i in range(count)]
    wanted = [tuple(x.shape) if not _is_key_shape(x) else None for x in expected]
    if len(shapes) != len(wanted) or any(w is not None and s != w for s, w in zip(shapes, wanted)):
        raise ValueError(
            f"load_model must be saved by a run of the same agent settings, env and number "
            f"of seeds ({expected[0].shape[0]}); {path} holds another agent state."
        )


def _is_key_shape(x) -> bool:
    return jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)
