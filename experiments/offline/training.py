"""The training of the offline grid world: the simple model's phase on the dataset, then
each agent's Q phase, for every coverage level.

Every phase is a pure function of one seed's state, `vmap`ped over seeds and `lax.scan`ned
over a chunk of steps; the host loop (experiments/driver.py) advances it chunk by chunk.
Datasets are padded to one size, so each phase compiles once and serves all four coverage
levels. The random numbers of step t are `fold_in(key, t)`, so results do not depend on
the chunk size.

The model phase depends only on (coverage, seed), so both model agents train on the same
model for a given seed: it is trained once and shared (common random numbers; an agent that
trained its own with the same key would get bit-identical parameters).
"""

import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from agents import dqn, models, replay
from agents.rollout import rollout
from agents.simple_model import SimpleModel
from envs import gridworld as gw
from experiments import driver, hooks
from experiments.offline import dataset, learners
from experiments.offline.report import Raw
from experiments.settings import OfflineSettings

# A Q batch: (key, learner, dataset, model_params) -> dqn.Batch of Q_BATCH_SIZE transitions.
MakeBatch = Callable[[jax.Array, dqn.Learner, replay.Replay, object], dqn.Batch]


class OfflineAgent(NamedTuple):
    """How an agent makes each Q batch: `batch(q, model)` gives its `MakeBatch`;
    `uses_model`: it needs the trained model (the model phase runs first)."""

    batch: Callable[[dqn.DQN, SimpleModel], MakeBatch]
    uses_model: bool


def from_dataset(q: dqn.DQN, model: SimpleModel) -> MakeBatch:
    """DQN on dataset transitions, sampled uniformly with replacement."""

    def batch(key, learner, data, model_params):
        sample_key, _ = jax.random.split(key)  # split as the model agents split theirs
        return dqn.real_batch(replay.sample(data, sample_key, dqn.Q_BATCH_SIZE))

    return batch


def from_rollouts(
    length: int, search_control: str = "policy"
) -> Callable[[dqn.DQN, SimpleModel], MakeBatch]:
    """DQN on `length`-step rollouts of the frozen model, started from the observations of
    dqn.Q_BATCH_SIZE / `length` dataset transitions (sampled as `from_dataset` samples).
    Search control "replayed" takes each rollout's first action from its dataset transition
    (Dyna-Q's "an action previously taken in it"); "policy" lets Q choose it."""

    def make(q: dqn.DQN, model: SimpleModel) -> MakeBatch:
        def batch(key, learner, data, model_params):
            sample_key, rollout_key = jax.random.split(key)
            start = replay.sample(data, sample_key, dqn.Q_BATCH_SIZE // length)
            first_action = start.action if search_control == "replayed" else None

            def transition(key, obs, action):
                return model.transition(model_params, key, obs, action)

            return rollout(
                rollout_key, q, learner, start.obs, lambda x: x, transition, length, True,
                first_action=first_action,
            )  # fmt: skip

        return batch

    return make


AGENTS = {
    "dqn": OfflineAgent(from_dataset, uses_model=False),
    "model_1step": OfflineAgent(from_rollouts(1), uses_model=True),
    "model_10step": OfflineAgent(from_rollouts(10), uses_model=True),
    # Beyond the paper (search control): the same rollouts, first action from the dataset.
    "model_1step_replayed": OfflineAgent(from_rollouts(1, "replayed"), uses_model=True),
    "model_10step_replayed": OfflineAgent(from_rollouts(10, "replayed"), uses_model=True),
}


def model_predictions(model: SimpleModel, params, data: gw.Transitions) -> dict:
    """The model's most likely next agent cell (each agent bit thresholded at 0.5, the mode
    of its factorized distribution; -1 unless exactly one bit is on) and its probability that
    the episode continues, for each transition of `data`."""
    _, continuation, next_obs = model.predict(params, data.obs, data.action)
    agent_bits = next_obs[..., : gw.SIZE * gw.SIZE] > 0
    cell = jnp.where(agent_bits.sum(-1) == 1, agent_bits.argmax(-1), -1)
    return {"next_cell": cell, "continuation": jax.nn.sigmoid(continuation)}


def variant(settings: OfflineSettings) -> gw.Variant:
    """The observation variant of a run (offline.gps, offline.distractors; none by default)."""
    return gw.Variant(settings.gps, settings.distractors, settings.distractor_kind)


def model_phase(settings: OfflineSettings, model: SimpleModel) -> Callable:
    """`chunk(trained, key, t0, data, _) -> (trained, metrics)`: model steps t0 ..
    t0+chunk-1 on the dataset (the loss and step of agents/models.py), then the model's
    predictions on every evaluation-layout transition."""
    evaluation = jax.tree.map(jnp.asarray, dataset.evaluation_transitions(variant(settings)))

    def chunk(trained, key, t0, data, unused):
        def step(trained, t):
            sample_key, loss_key = jax.random.split(jax.random.fold_in(key, t))
            batch = replay.sample(data, sample_key, settings.model_batch_size)
            return models.train_step(trained, model.loss, settings.model_step_size, loss_key, batch)

        trained, losses = jax.lax.scan(step, trained, t0 + jnp.arange(settings.chunk))
        metrics = model_predictions(model, trained.params, evaluation)
        return trained, {"loss": losses.mean(), **metrics}

    return chunk


def q_phase(settings: OfflineSettings, q: dqn.DQN, batch: MakeBatch) -> Callable:
    """`chunk(learner, key, t0, data, model_params) -> (learner, metrics)`: Q updates t0 ..
    t0+chunk-1 on the agent's batches, then the Q-values of every evaluation cell."""
    cells = jnp.asarray(dataset.evaluation_observations(variant(settings)))

    def chunk(learner, key, t0, data, model_params):
        def step(learner, t):
            learner, loss = q.learn(
                learner, batch(jax.random.fold_in(key, t), learner, data, model_params)
            )
            return dqn.sync_target(learner, t + 1, settings.target_update_frequency), loss

        learner, losses = jax.lax.scan(step, learner, t0 + jnp.arange(settings.chunk))
        return learner, {"loss": losses.mean(), "q_values": q.q_values(learner, cells)}

    return chunk


class Phases:
    """The phases of a run by name, each compiled once (for the first coverage level) and
    advanced by the host loop with a progress bar."""

    def __init__(self, settings: OfflineSettings, chunks: dict[str, Callable], progress: bool):
        self.settings, self.chunks, self.progress = settings, chunks, progress
        self.compiled: dict[str, Callable] = {}
        self.seconds: dict[str, float] = {}

    def run(self, name, coverage, state, keys, data, model_params, steps: int):
        """Advance a batch of seeds `steps` steps of phase `name` on the dataset of `coverage`.
        Returns the final state and each metric stacked over chunks: (chunks, seeds, ...)."""
        start = time.perf_counter()
        if name not in self.compiled:
            program = jax.jit(
                jax.vmap(self.chunks[name], in_axes=(0, 0, None, None, 0)), donate_argnums=0
            )
            lowered = program.lower(state, keys, jnp.int32(0), data, model_params)
            self.compiled[name] = lowered.compile()
            self.seconds[f"compile/{name}"] = time.perf_counter() - start
        compiled, chunk = self.compiled[name], self.settings.chunk

        def program(state, t0):
            return compiled(state, keys, t0, data, model_params)

        bar = hooks.ProgressBar(steps, f"{name} {coverage}", hooks.latest_loss, self.progress)
        state, history = driver.advance(program, state, range(0, steps, chunk), chunk, hooks=(bar,))
        self.seconds[f"{name}/{coverage}"] = time.perf_counter() - start
        return state, {key: np.stack([h[key] for h in history]) for key in history[0]}


def run(
    settings: OfflineSettings,
    hyper: dqn.Hyper,
    keys: jax.Array,
    agents: tuple = tuple(AGENTS),
    coverages: tuple = gw.COVERAGES,
    progress: bool = True,
) -> Raw:
    """Train every agent at every coverage level for len(keys) seeds (`hyper` batched)."""
    for steps in (settings.model_steps, settings.q_steps):
        if steps % settings.chunk:
            raise ValueError(f"steps ({steps}) must be a multiple of the chunk ({settings.chunk}).")
    hidden, obs_size = tuple(settings.hidden), variant(settings).obs_size
    model = learners.model(settings.learner, obs_size, gw.NUM_ACTIONS, hidden)
    q = dqn.DQN(learners.q_network(settings.learner, gw.NUM_ACTIONS, hidden))
    # Seed i: the model from fold_in(key_i, 0); the Q-network (the same initial network for
    # every agent) and its updates from fold_in(key_i, 1).
    model_keys = jax.vmap(lambda k: jax.random.fold_in(k, 0))(keys)
    q_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)
    init_model = jax.jit(jax.vmap(lambda k: models.start_training(model.init(k))))
    init_q = jax.jit(jax.vmap(lambda k, h: q.init(k, jnp.zeros(obs_size, bool), h)))
    chunks = {name: q_phase(settings, q, AGENTS[name].batch(q, model)) for name in agents}
    phases = Phases(settings, {"model": model_phase(settings, model), **chunks}, progress)
    raw = Raw()

    for coverage in coverages:
        data = dataset.as_replay(dataset.training_set(coverage, variant(settings)))
        params = None
        if any(AGENTS[name].uses_model for name in agents):
            trained, metrics = phases.run(
                "model",
                coverage,
                init_model(model_keys),
                model_keys,
                data,
                None,
                settings.model_steps,
            )
            raw.add_model(coverage, metrics, settings.chunk)
            params = trained.params
        for name in agents:
            model_params = params if AGENTS[name].uses_model else None
            _, metrics = phases.run(
                name, coverage, init_q(q_keys, hyper), q_keys, data, model_params, settings.q_steps
            )
            raw.add_q(name, coverage, metrics, settings.chunk)
    raw.seconds.update(phases.seconds)
    return raw
