"""Model accuracy along open-loop rollouts (SLBO's target,
docs/studies/model-families.md): from a real observation, the model predicts the next step of a real
trajectory from its own sampled bits, given the real actions, for `horizon` steps; step j is
scored by the fraction of bits its thresholded prediction (logit > 0) gets right against the
real observation, over the windows whose trajectory has not ended (no terminal) before it.

Trajectories come from the true environment under the uniform random policy
(experiments.evaluation.random_transitions), with fresh keys: held-out data for every agent.
"""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from agents.base import Transition
from experiments import saved_models
from experiments.evaluation import random_transitions


def open_loop_accuracy(predict, trajectories: Transition, key, horizon: int) -> jax.Array:
    """Per step 1..horizon, the bit accuracy of open-loop predictions along every window of
    `horizon` steps of `trajectories` (axes (runs, steps)). `predict(transitions, key) ->
    (next-obs logits, reward, continuation logit)` is an agent's `predict` for one member."""
    runs, steps = trajectories.action.shape
    starts = jnp.arange(steps - horizon + 1)
    window = starts[:, None] + jnp.arange(horizon)  # (windows, horizon)
    data = jax.tree.map(lambda x: x[:, window].reshape(-1, horizon, *x.shape[2:]), trajectories)
    # step j counts while no step before it ended its episode
    ended = jnp.cumsum(data.terminal.astype(jnp.int32), axis=1) - data.terminal
    alive = (ended == 0).astype(jnp.float32)
    obs = data.obs[:, 0]
    correct = []
    for j, step_key in enumerate(jax.random.split(key, horizon)):
        predict_key, sample_key = jax.random.split(step_key)
        step = jax.tree.map(lambda x: x[:, j], data)._replace(obs=obs, state=None)
        logits = predict(step, predict_key)[0]
        right = ((logits > 0) == step.next_obs).mean(axis=-1)
        correct.append((alive[:, j] * right).sum() / jnp.maximum(alive[:, j].sum(), 1.0))
        obs = jax.random.bernoulli(sample_key, jax.nn.sigmoid(logits))
    return jnp.stack(correct)


def trajectories(env, key, num_envs: int = 32, num_steps: int = 40) -> Transition:
    """Uniform-random-policy trajectories of the true environment, axes (runs, steps)."""
    flat = random_transitions(env, key, num_envs, num_steps)
    return jax.tree.map(lambda x: x.reshape(num_envs, num_steps, *x.shape[1:]), flat)


def accuracy_table(root, step: int, horizon: int = 10, seed: int = 0) -> pd.DataFrame:
    """Per run below `root` that saved its models at `step` and per member: the open-loop
    bit accuracy at each step 1..horizon, with the run (relative to root), agent, study arm,
    level and the settings of the model families."""
    from experiments.analysis.smoothing import load_saved  # its loader; heavy imports

    rows = []
    for model_file in sorted(Path(root).rglob(f"{saved_models.DIR}/step_{step}.npz")):
        run_dir = model_file.parent.parent
        env, agent, states = load_saved(run_dir, step)
        if agent.predict is None:
            continue
        cfg = OmegaConf.load(run_dir / "config.yaml")
        data_key, predict_key = jax.random.split(jax.random.key(seed))
        data = trajectories(env, data_key)

        @jax.jit
        def score(states):
            members = jax.tree.leaves(states)[0].shape[0]
            keys = jax.random.split(predict_key, members)

            def one(state, key):
                return open_loop_accuracy(
                    lambda t, k: agent.predict(state, t, k), data, key, horizon
                )

            return jax.vmap(one)(states, keys)

        accuracy = np.asarray(score(states))
        for member, values in enumerate(accuracy):
            for j, value in enumerate(values):
                rows.append({
                    "run": str(run_dir.relative_to(root)),
                    "agent": cfg.agent.name,
                    "arm": cfg.get("arm"),  # the study arm (configs/family/), if any
                    "level": cfg.get("level"),
                    "model_horizon": cfg.agent.get("model_horizon", 1),
                    "ensemble_size": cfg.agent.get("ensemble_size", 1),
                    "member": member,
                    "step": j + 1,
                    "accuracy": float(value),
                })
    return pd.DataFrame(rows)
