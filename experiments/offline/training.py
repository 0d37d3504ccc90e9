"""The training of the offline grid world: the simple model's phase on the dataset, then
each agent's Q phase, for every coverage level.

Every phase is a pure function of one seed's state, `vmap`ped over seeds and `lax.scan`ned
over a chunk of steps; the host loop (experiments/driver.py) advances it chunk by chunk.
Datasets are padded to one size, so each phase compiles once and serves all four coverage
levels. The random numbers of step t are `fold_in(key, t)`, so results do not depend on
the chunk size.

The model phase depends only on (coverage, seed), so both model agents train on the same
model for a given seed: it is trained once and shared (common random numbers; an agent that
trained its own with the same key would get bit-identical parameters). Beyond the paper
(issue 13), the `deepmdp_*` agents learn Q on the latent rollouts of a DeepMDP
(agents/deepmdp.py) trained in its own phase on the same dataset and seeds: their Q-network
reads the encoding of an observation, so their evaluation cells are encoded too. The
`implicit_*` agents (issue 39) do the same with an implicit, value-equivalent model
(agents/implicit.py), unrolled 5 steps along chained dataset transitions (`dataset_runs`).
"""

import time
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

import agents
from agents import dqn, models, replay
from agents.deepmdp import DeepMDP
from agents.implicit import ImplicitModel
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
    """How an agent makes each Q batch: `batch(q, model)` gives its `MakeBatch`; `model`:
    the phase whose trained model it needs ("model": the simple model, "deepmdp_model"; None:
    the dataset alone); `encodes`: its Q-network reads the model's encoding of an
    observation (`model.start`), not the observation."""

    batch: Callable[[dqn.DQN, SimpleModel], MakeBatch]
    model: Optional[str]
    encodes: bool = False


def from_dataset(q: dqn.DQN, model: SimpleModel) -> MakeBatch:
    """DQN on dataset transitions, sampled uniformly with replacement."""

    def batch(key, learner, data, model_params):
        sample_key, _ = jax.random.split(key)  # split as the model agents split theirs
        return dqn.real_batch(replay.sample(data, sample_key, dqn.Q_BATCH_SIZE))

    return batch


def from_rollouts(
    length: int, search_control: str = "policy", encodes: bool = False
) -> Callable[[dqn.DQN, SimpleModel], MakeBatch]:
    """DQN on `length`-step rollouts of the frozen model, started from the observations of
    dqn.Q_BATCH_SIZE / `length` dataset transitions (sampled as `from_dataset` samples), or
    from their encodings (`encodes`: a latent model's rollouts run in its latent space).
    Search control "replayed" takes each rollout's first action from its dataset transition
    (Dyna-Q's "an action previously taken in it"); "policy" lets Q choose it."""

    def make(q: dqn.DQN, model) -> MakeBatch:
        def batch(key, learner, data, model_params):
            sample_key, rollout_key = jax.random.split(key)
            start = replay.sample(data, sample_key, dqn.Q_BATCH_SIZE // length)
            first_action = start.action if search_control == "replayed" else None
            x = model.start(model_params, None, start.obs) if encodes else start.obs

            def transition(key, x, action):
                return model.transition(model_params, key, x, action)

            return rollout(
                rollout_key, q, learner, x, lambda x: x, transition, length, True,
                first_action=first_action,
            )  # fmt: skip

        return batch

    return make


AGENTS = {
    "dqn": OfflineAgent(from_dataset, model=None),
    "model_1step": OfflineAgent(from_rollouts(1), model="model"),
    "model_10step": OfflineAgent(from_rollouts(10), model="model"),
    # Beyond the paper (search control): the same rollouts, first action from the dataset.
    "model_1step_replayed": OfflineAgent(from_rollouts(1, "replayed"), model="model"),
    "model_10step_replayed": OfflineAgent(from_rollouts(10, "replayed"), model="model"),
    # Beyond the paper (issue 13, prediction b): rollouts of a model of what matters only.
    "deepmdp_1step": OfflineAgent(
        from_rollouts(1, encodes=True), model="deepmdp_model", encodes=True
    ),
    "deepmdp_10step": OfflineAgent(
        from_rollouts(10, encodes=True), model="deepmdp_model", encodes=True
    ),
    # Beyond the paper (issue 39): rollouts of an implicit, value-equivalent model.
    "implicit_1step": OfflineAgent(
        from_rollouts(1, encodes=True), model="implicit_model", encodes=True
    ),
    "implicit_10step": OfflineAgent(
        from_rollouts(10, encodes=True), model="implicit_model", encodes=True
    ),
}
# Agents whose model is a network encoder (offline.learner=network only).
LATENT_AGENTS = tuple(name for name, agent in AGENTS.items() if agent.encodes)


def model_predictions(model: SimpleModel, params, data: gw.Transitions) -> dict:
    """The model's most likely next agent cell (each agent bit thresholded at 0.5, the mode
    of its factorized distribution; -1 unless exactly one bit is on) and its probability that
    the episode continues, for each transition of `data`."""
    _, continuation, next_obs = model.predict(params, data.obs, data.action)
    agent_bits = next_obs[..., : gw.SIZE * gw.SIZE] > 0
    cell = jnp.where(agent_bits.sum(-1) == 1, agent_bits.argmax(-1), -1)
    return {"next_cell": cell, "continuation": jax.nn.sigmoid(continuation)}


def deepmdp(settings: OfflineSettings, obs_size: int) -> DeepMDP:
    """The DeepMDP of the online agent's defaults (configs/agent/deepmdp.yaml), with the
    run's hidden widths."""
    defaults = agents.defaults("deepmdp")
    return DeepMDP(
        obs_size, gw.NUM_ACTIONS, tuple(settings.hidden), defaults["latent_size"],
        defaults["target_rate"],
    )  # fmt: skip


def implicit(settings: OfflineSettings, obs_size: int) -> ImplicitModel:
    """The implicit model of the online agent's defaults (configs/agent/implicit_model.yaml),
    with the run's hidden widths and the offline Q's discount; it trains on `dataset_runs`
    of the agent's model_horizon (5)."""
    latent_size = agents.defaults("implicit_model")["latent_size"]
    return ImplicitModel(obs_size, gw.NUM_ACTIONS, tuple(settings.hidden), latent_size,
                         dqn.DISCOUNT)


def model_horizon(phase: str) -> int:
    """k of a model phase: the implicit agent's model_horizon; 1 for the other models."""
    return agents.defaults("implicit_model")["model_horizon"] if phase == "implicit_model" else 1


def successors(data: replay.Replay) -> jax.Array:
    """(from, to) of the dataset's rows: whether row `to` starts where row `from` ends. The
    dataset is fixed for a phase, so a phase computes this once per chunk, not per step."""
    items = data.items
    real = jnp.arange(len(items.action)) < data.size
    return jnp.all(items.next_obs[:, None] == items.obs[None], axis=-1) & real


def dataset_runs(data: replay.Replay, follows: jax.Array, key, batch_size: int, length: int):
    """(runs, valid) of `length` chained dataset transitions, axes (batch, length), for a
    model trained on k-step unrolls (the implicit model); `follows` is `successors(data)`.
    The dataset holds (cell, action) pairs, not trajectories: a run starts at the transition
    `replay.sample` draws with the same key, and each next step is drawn uniformly among the
    dataset's transitions from the observation the last one reached (runs of a policy uniform
    over the actions the data covers there). A run stops (valid 0 from there on) after a
    terminal or where the data has no transition from the observation reached."""
    items = data.items
    keys = jax.random.split(key, length)
    rows, goes_on = [replay.sample_indices(data, key, batch_size)], [jnp.ones(batch_size, bool)]
    for t in range(1, length):
        options = follows[rows[-1]]
        goes_on.append(options.any(axis=-1) & ~items.terminal[rows[-1]])
        rows.append(jax.random.categorical(keys[t], jnp.where(options, 0.0, -1e9)))
    valid = jnp.cumprod(jnp.stack(goes_on, axis=1), axis=1).astype(jnp.float32)
    return jax.tree.map(lambda x: x[jnp.stack(rows, axis=1)], items), valid


def variant(settings: OfflineSettings) -> gw.Variant:
    """The observation variant of a run (offline.gps, offline.distractors; none by default)."""
    return gw.Variant(settings.gps, settings.distractors, settings.distractor_kind)


def model_phase(
    settings: OfflineSettings, model, predictions: bool = True, horizon: int = 1
) -> Callable:
    """`chunk(trained, key, t0, data, _) -> (trained, metrics)`: model steps t0 ..
    t0+chunk-1 on the dataset (the loss and step of agents/models.py; with `horizon` k > 1,
    the model's sequence_loss on `dataset_runs` of k), then, if `predictions`, the model's
    predictions on every evaluation-layout transition (a DeepMDP or implicit model predicts
    no next cell: its phase reports its loss only)."""
    evaluation = jax.tree.map(jnp.asarray, dataset.evaluation_transitions(variant(settings)))
    after_step = getattr(model, "after_step", None)
    loss = model.loss if horizon == 1 else model.sequence_loss

    def chunk(trained, key, t0, data, unused):
        follows = successors(data) if horizon > 1 else None

        def sample(key):
            if horizon == 1:
                return replay.sample(data, key, settings.model_batch_size)
            return dataset_runs(data, follows, key, settings.model_batch_size, horizon)

        def step(trained, t):
            sample_key, loss_key = jax.random.split(jax.random.fold_in(key, t))
            return models.train_step(
                trained, loss, settings.model_step_size, loss_key, sample(sample_key),
                after_step=after_step,
            )  # fmt: skip

        trained, losses = jax.lax.scan(step, trained, t0 + jnp.arange(settings.chunk))
        metrics = model_predictions(model, trained.params, evaluation) if predictions else {}
        return trained, {"loss": losses.mean(), **metrics}

    return chunk


def q_phase(
    settings: OfflineSettings, q: dqn.DQN, batch: MakeBatch, encode: Optional[Callable] = None
) -> Callable:
    """`chunk(learner, key, t0, data, model_params) -> (learner, metrics)`: Q updates t0 ..
    t0+chunk-1 on the agent's batches, then the Q-values of every evaluation cell (of its
    encoding `encode(model_params, cells)`, for an agent whose Q reads a latent)."""
    observations = jnp.asarray(dataset.evaluation_observations(variant(settings)))

    def chunk(learner, key, t0, data, model_params):
        cells = observations if encode is None else encode(model_params, observations)

        def step(learner, t):
            learner, loss, _ = q.learn(
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
    if settings.learner != "network" and any(AGENTS[name].encodes for name in agents):
        raise ValueError("a latent model's agents need offline.learner=network.")
    # The models by phase name: the simple model (of the run's function class) and the DeepMDP.
    model_of = {"model": learners.model(settings.learner, obs_size, gw.NUM_ACTIONS, hidden),
                "deepmdp_model": deepmdp(settings, obs_size),
                "implicit_model": implicit(settings, obs_size)}  # fmt: skip
    q = dqn.DQN(learners.q_network(settings.learner, gw.NUM_ACTIONS, hidden))
    # Seed i: every model from fold_in(key_i, 0); the Q-network (the same initial network for
    # every agent that reads observations) and its updates from fold_in(key_i, 1).
    model_keys = jax.vmap(lambda k: jax.random.fold_in(k, 0))(keys)
    q_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(keys)

    def init_q(agent: OfflineAgent):
        size = model_of[agent.model].latent_size if agent.encodes else obs_size
        return jax.jit(jax.vmap(lambda k, h: q.init(k, jnp.zeros(size, bool), h)))

    def init_model(phase: str):
        return jax.jit(jax.vmap(lambda k: models.start_training(model_of[phase].init(k))))

    def encoder(agent: OfflineAgent) -> Optional[Callable]:
        if not agent.encodes:
            return None
        return lambda params, obs: model_of[agent.model].start(params, None, obs)

    needed = [phase for phase in model_of if any(AGENTS[n].model == phase for n in agents)]
    chunks, inits = {}, {}
    for phase in needed:
        chunks[phase] = model_phase(
            settings, model_of[phase], phase == "model", model_horizon(phase)
        )
        inits[phase] = init_model(phase)
    for name in agents:
        agent = AGENTS[name]
        model = model_of.get(agent.model)
        chunks[name] = q_phase(settings, q, agent.batch(q, model), encoder(agent))
        inits[name] = init_q(agent)
    phases = Phases(settings, chunks, progress)
    raw = Raw()

    for coverage in coverages:
        data = dataset.as_replay(dataset.training_set(coverage, variant(settings)))
        params = {}
        for phase in needed:
            trained, metrics = phases.run(
                phase, coverage, inits[phase](model_keys), model_keys, data, None,
                settings.model_steps,
            )  # fmt: skip
            raw.add_model(coverage, metrics, settings.chunk, phase)
            params[phase] = trained.params
        for name in agents:
            agent = AGENTS[name]
            _, metrics = phases.run(
                name, coverage, inits[name](q_keys, hyper), q_keys, data,
                params.get(agent.model), settings.q_steps,
            )  # fmt: skip
            raw.add_q(name, coverage, metrics, settings.chunk)
    raw.seconds.update(phases.seconds)
    return raw
