"""How every agent is built (paper section 4): "All tested approaches use DQN for behavior
learning, but vary in how training examples for DQN are generated."

An agent is one DQN learner, a replay buffer of what it keeps of real steps, and the
sources of the transitions of each Q update, concatenated: `replayed` real transitions
(experience replay), `imagined` rollouts of a learned model, or both (agents/dyna_mix.py).
Each update draws from every source with its own key and trains Q once on the union, so
agents differ only in their sources, as the paper's comparison requires.
"""

from typing import Any, Callable, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp

from agents import dqn, models, priority, replay
from agents.base import Agent
from agents.models import LearnedModel
from agents.priority import Priorities
from agents.rollout import rollout
from envs import checks


class AgentState(NamedTuple):
    learner: dqn.Learner
    replay: replay.Replay  # what the agent keeps of real steps (replay.Memory)
    model: Optional[models.Trained] = None  # a learned model's parameters, if it keeps one
    priority: Optional[Priorities] = None  # kept when sampling is prioritized


class Source(NamedTuple):
    """Where `size` transitions of each Q batch come from."""

    size: int
    draw: Callable[[AgentState, jax.Array], tuple[AgentState, dqn.Batch, dict]]
    model: Optional[LearnedModel] = None  # the learned model it trains and rolls out
    # Prioritized sampling: the buffer slots each draw records (agents/priority.py), and
    # after the Q step, (state, the TD errors of this source's part of the batch) -> state.
    draws: int = 0
    after_learn: Optional[Callable[[AgentState, jax.Array], AgentState]] = None


def agent(
    env,
    q: dqn.DQN,
    sources: Sequence[Source],
    *,
    capacity: int,
    memory: Optional[replay.Memory] = None,
    planner: Optional[Callable] = None,
) -> Agent:
    """An agent that keeps `memory` (real transitions unless told) in a FIFO buffer of
    `capacity` and trains `q` on the sources' transitions. A source of size 0 is dropped
    here: it keeps no model and takes no key, so a mix whose one part is empty is exactly
    the agent of the other part. When a source samples by priority (`draws` > 0), the agent
    keeps a priority per buffer slot, a new transition entering at the largest so far.

    A decision-time `planner(q, model) -> act(state, obs, key, greedy)` (agents/mpc.py)
    replaces acting on Q for an agent with a learned model; training is unchanged."""
    checks.positive_int("agent.capacity", capacity)
    memory = memory or replay.transitions(env.obs_size)
    sources = [source for source in sources if source.size > 0]
    model = next((source.model for source in sources if source.model is not None), None)
    draws = sum(source.draws for source in sources)

    def init_priorities():
        return priority.init(capacity, draws) if draws else None

    def observe(state, transition):
        if state.priority is not None:
            state = state._replace(priority=priority.add(state.priority, state.replay.cursor))
        return state._replace(replay=replay.add(state.replay, memory.keep(transition)))

    def update(state, key):
        keys = jax.random.split(key, len(sources)) if len(sources) > 1 else [key]
        batches, metrics = [], {}
        for source, source_key in zip(sources, keys):
            state, batch, source_metrics = source.draw(state, source_key)
            batches.append(batch)
            metrics.update(source_metrics)
        batch = jax.tree.map(lambda *parts: jnp.concatenate(parts), *batches)
        learner, metrics["td_loss"], td_error = q.learn_with_errors(state.learner, batch)
        state = state._replace(learner=learner)
        offset = 0
        for source in sources:
            if source.after_learn is not None:
                state = source.after_learn(state, td_error[offset : offset + source.size])
            offset += source.size
        return state, metrics

    if model is None:

        def init(key, hyper):
            learner = q.init(key, jnp.zeros(env.obs_size), hyper)
            return AgentState(
                learner, replay.init(memory.example, capacity), priority=init_priorities()
            )

        def act(state, obs, key, greedy):
            return q.act(state.learner, obs, key, greedy)

        return Agent(init, act, observe, update)

    def init_with_model(key, hyper):
        q_key, model_key = jax.random.split(key)
        learner = q.init(q_key, jnp.zeros(model.features_size), hyper)
        trained = models.start_training(model.init(model_key))
        return AgentState(
            learner, replay.init(memory.example, capacity), trained, init_priorities()
        )

    def act_on_features(state, obs, key, greedy):
        # The latent agents act on a latent sample of the current observation.
        start_key, act_key = jax.random.split(key)
        x = model.start(state.model.params, start_key, obs)
        return q.act(state.learner, x, act_key, greedy)

    def predict(state, transitions, key):
        return model.predict(state.model.params, key, transitions)

    act = act_on_features if planner is None else planner(q, model)
    return Agent(init_with_model, act, observe, update, predict, model)


# ----------------------------------------------------------------------------- sources


def draw_slots(state: AgentState, key, n: int, prioritized: Optional[priority.Prioritized]):
    """(state, `n` buffer slots, their importance weights): uniform with weight 1, or by
    priority when the agent keeps priorities (the draw is remembered for `after_learn`)."""
    if state.priority is None:
        return state, replay.sample_indices(state.replay, key, n), jnp.ones(n, jnp.float32)
    kept, index, weight = priority.sample(
        state.priority, state.replay.size, key, n, prioritized.importance
    )
    return state._replace(priority=kept), index, weight


def reprioritize(prioritized: Optional[priority.Prioritized], errors_of=lambda td: td):
    """A source's `after_learn` for prioritized sampling: the drawn slots' new priorities
    from `errors_of(td_errors)`, one error per drawn slot; None when sampling is uniform."""
    if not priority.active(prioritized):
        return None

    def after_learn(state, td_error):
        updated = priority.update(state.priority, errors_of(td_error), prioritized.exponent)
        return state._replace(priority=updated)

    return after_learn


def replayed(env, size: int, prioritized: Optional[priority.Prioritized] = None) -> Source:
    """Experience replay: `size` real transitions sampled from the buffer, uniformly, or by
    priority (P(i) ~ |TD error|^alpha, importance-weighted) when `prioritized` is active."""
    if not priority.active(prioritized):

        def draw(state, key):
            sampled = replay.unstore(replay.sample(state.replay, key, size), env.obs_size)
            return state, dqn.real_batch(sampled), {}

        return Source(size, draw)

    def draw_prioritized(state, key):
        state, index, weight = draw_slots(state, key, size, prioritized)
        sampled = replay.unstore(replay.take(state.replay, index), env.obs_size)
        return state, dqn.real_batch(sampled)._replace(weight=weight), {}

    return Source(size, draw_prioritized, draws=size, after_learn=reprioritize(prioritized))


def imagined(
    env,
    q: dqn.DQN,
    model: LearnedModel,
    *,
    rollout_length: int,
    num_rollouts: int,
    model_batch_size: int,
    model_step_size: float,
    frozen: bool,
    separate_starts: bool = False,
    search_control: str = "policy",
    prioritized: Optional[priority.Prioritized] = None,
    model_horizon: int = 1,
    rollout_schedule: Optional[Sequence[int]] = None,
) -> Source:
    """Model rollouts (paper section 4): sample `model_batch_size` real transitions, train the
    model one step on them, then roll the UPDATED model out from the first `num_rollouts` of
    them for `rollout_length` steps, acting softmax on the current Q.

    When the model batch and the rollout starts differ in size (the 1-step ablation: 32 and
    320), one sample of the larger size is drawn and both take its leading part, so the model
    still trains on transitions that start rollouts, and it trains on 32 in both arms.
    With `separate_starts` (the public latent script's way) the starts are then a second,
    independent sample instead.

    A `frozen` model takes no steps: it stays as initialized or loaded (`load_model`), and
    only the Q-network learns from its rollouts (Figure 4 right).

    Search control (`search_control`): the first action of each rollout is the current
    policy's ("policy") or the one taken in the start transition ("replayed"). With
    `prioritized` active the model batch stays uniform and the starts are a second draw, by
    priority: each start's priority is the TD error of its rollout's first step, and its
    importance weight multiplies every step of its rollout.

    With `model_horizon` k > 1 (SLBO) the model trains on runs of k consecutive stored
    transitions through `model.sequence_loss` (agents.replay.sample_sequences; a run stops
    at a terminal, a reset or the newest item); step 0 of each run is the 1-step sample.

    With a `rollout_schedule` [start, end, min_length, max_length] (MBPO's branched rollouts)
    see `scheduled_length` and `branches`: the 320 imagined transitions stay 320."""
    checks.positive_int("agent.model_batch_size", model_batch_size)
    checks.positive_number("agent.model_step_size", model_step_size)
    checks.boolean("agent.frozen", frozen)
    checks.one_of("agent.search_control", search_control, SEARCH_CONTROL)
    checks.positive_int("agent.model_horizon", model_horizon)
    if model_horizon > 1 and model.sequence_loss is None:
        raise ValueError(f"agent.model_horizon must be 1 for this model (only the simple model "
                         f"trains on multi-step predictions); got {model_horizon}.")
    check_schedule(rollout_schedule, rollout_length)
    prioritize = priority.active(prioritized)
    if rollout_schedule is not None and (search_control != "policy" or prioritize):
        # a branched rollout restarts from fresh starts mid-row, which have no replayed
        # action or importance weight of their own here
        raise ValueError(
            "agent.rollout_schedule must be null when agent.search_control is replayed or "
            f"agent.priority_exponent is above 0; got {list(rollout_schedule)}."
        )
    separate = prioritize or (separate_starts and num_rollouts != model_batch_size)
    # a schedule restarts rows up to rollout_length times: one start per imagined transition
    num_starts = num_rollouts if rollout_schedule is None else rollout_length * num_rollouts
    loss = model.loss if model_horizon == 1 else model.sequence_loss

    def train(trained, key, data):
        if frozen:
            return trained, {}
        trained, value = models.train_step(
            trained, loss, model_step_size, key, data, after_step=model.after_step
        )
        return trained, {"model_loss": value}

    def sample(state, key, size):
        """(the model's data, the first transition of each) for `size` draws."""
        if model_horizon == 1:
            real = replay.unstore(replay.sample(state.replay, key, size), env.obs_size)
            return real, real
        stored, in_buffer = replay.sample_sequences(state.replay, key, size, model_horizon)
        runs = replay.unstore(stored, env.obs_size)
        valid = trajectory_mask(runs, in_buffer)
        return (runs, valid), jax.tree.map(lambda x: x[:, 0], runs)

    def draw(state, key):
        sample_key, loss_key, start_key, rollout_key = jax.random.split(key, 4)
        weight = None
        if separate:
            batch_key, starts_key = jax.random.split(sample_key)
            model_batch, _ = sample(state, batch_key, model_batch_size)
            state, index, weight = draw_slots(state, starts_key, num_starts, prioritized)
            start_transitions = replay.unstore(replay.take(state.replay, index), env.obs_size)
        else:
            data, real = sample(state, sample_key, max(model_batch_size, num_starts))
            model_batch = jax.tree.map(lambda x: x[:model_batch_size], data)
            start_transitions = jax.tree.map(lambda x: x[:num_starts], real)
        trained, metrics = train(state.model, loss_key, model_batch)
        start = model.start(trained.params, start_key, start_transitions.obs)

        def transition(key, x, action):
            return model.transition(trained.params, key, x, action)

        restarts = None
        if rollout_schedule is not None:
            length = scheduled_length(rollout_schedule, dqn.updates_done(state.learner))
            restarts = branches(start, length, rollout_length, num_rollouts)
            start = jax.tree.map(lambda x: x[0], restarts[1])
            metrics["rollout_length"] = length.astype(jnp.float32)
        batch = rollout(
            rollout_key,
            q,
            state.learner,
            start,
            lambda x: x,
            transition,
            rollout_length,
            env.episodic,
            first_action=start_transitions.action if search_control == "replayed" else None,
            restarts=restarts,
        )
        if prioritize:
            batch = batch._replace(weight=batch.weight * jnp.tile(weight, rollout_length))
        return state._replace(model=trained), batch, metrics

    return Source(
        rollout_length * num_rollouts,
        draw,
        model,
        draws=num_rollouts if prioritize else 0,
        after_learn=reprioritize(prioritized, first_step_errors(num_rollouts)),
    )


def first_step_errors(num_rollouts: int):
    """A rollout batch's TD errors (step-major) -> those of each rollout's first step, the
    error at its start transition's state."""
    return lambda td_error: td_error[:num_rollouts]


def trajectory_mask(runs, in_buffer: jax.Array) -> jax.Array:
    """Whether step j of each run of stored transitions (axes (batch, k)) continues the
    trajectory of step 0: every step before it is in the buffer, not terminal, and ends in
    the observation the next one starts from (this catches resets and the oldest item
    following the newest across the cursor)."""
    follows = jnp.all(runs.next_obs[:, :-1] == runs.obs[:, 1:], axis=-1) & ~runs.terminal[:, :-1]
    linked = jnp.concatenate([jnp.ones_like(follows[:, :1]), follows], axis=1)
    return jnp.cumprod(linked & in_buffer, axis=1).astype(jnp.float32)


def check_schedule(schedule, rollout_length: int) -> None:
    if schedule is None:
        return
    what = (f"null or [start, end, min_length, max_length]: Q updates start <= end, lengths "
            f"1 <= min_length <= max_length = agent.rollout_length ({rollout_length})")
    ok = (
        checks.is_list(schedule)
        and len(schedule) == 4
        and all(checks.is_int(v) for v in schedule)
        and 0 <= schedule[0] <= schedule[1]
        and 1 <= schedule[2] <= schedule[3] == rollout_length
    )
    if not ok:
        checks.fail("agent.rollout_schedule", what, list(schedule) if checks.is_list(schedule)
                     else schedule)


def scheduled_length(schedule, updates: jax.Array) -> jax.Array:
    """MBPO's linear schedule: min_length until `start` Q updates, max_length from `end`,
    linear between (rounded down)."""
    start, end, low, high = schedule
    progress = jnp.clip((updates - start) / max(end - start, 1), 0.0, 1.0)
    return (low + jnp.floor((high - low) * progress + 1e-6)).astype(jnp.int32)


def branches(starts, length: jax.Array, max_length: int, num_rows: int):
    """Branched rollouts of `length` steps that fill the static max_length x num_rows batch:
    each row restarts from a fresh real start every `length` steps (the last branch of a row
    is shorter where length does not divide max_length). `starts` holds max_length x
    num_rows of them; branch b of row r starts from starts[b * num_rows + r]. Every one of
    the 320 transitions is imagined from a real start at most `length` steps back, so the
    budget stays 320 imagined transitions per update at every length (more, shorter
    rollouts early)."""
    steps = jnp.arange(max_length)
    flags = steps % length == 0
    grid = jax.tree.map(lambda x: x.reshape(max_length, num_rows, *x.shape[1:]), starts)
    fresh = jax.tree.map(lambda x: x[steps // length], grid)
    return flags, fresh


# How rollout starts relate to the model batch: the suite's one sample, or each public
# script's way (agents/simple_model.py, agents/latent.py); the fidelity group chooses.
ROLLOUT_STARTS = ("shared", "authors")
# The first action of each rollout: the current policy's, or the start transition's own.
SEARCH_CONTROL = ("policy", "replayed")


def check_rollouts(rollout_length: int, num_rollouts: int) -> None:
    """A model agent's rollouts fill the Q batch exactly: 10 x 32, or 1 x 320 (Appendix I)."""
    checks.positive_int("agent.rollout_length", rollout_length)
    checks.positive_int("agent.num_rollouts", num_rollouts)
    if rollout_length * num_rollouts != dqn.Q_BATCH_SIZE:
        raise ValueError(
            f"agent.rollout_length x agent.num_rollouts must equal the Q batch of "
            f"{dqn.Q_BATCH_SIZE} transitions per update (e.g. 10 x 32, or 1 x 320); got "
            f"{rollout_length} x {num_rollouts} = {rollout_length * num_rollouts}."
        )


def model_agent(
    env,
    make_model: Callable[[Any, tuple], LearnedModel],
    *,
    rollout_length: int,
    num_rollouts: int,
    model_batch_size: int,
    model_step_size: float,
    frozen: bool,
    capacity: int,
    hidden: Sequence[int],
    discount: float,
    search_control: str,
    priority_exponent: float,
    importance_exponent: float,
    separate_starts: bool = False,
    model_horizon: int = 1,
    rollout_schedule: Optional[Sequence[int]] = None,
    planner: Optional[Callable] = None,
) -> Agent:
    """A learned-model agent (the simple and latent models, paper section 4): Q learns only
    on the rollouts of the model `make_model(env, hidden)`, started where `search_control`
    and the priorities (`priority_exponent` 0: uniformly) say; with a `planner`, it acts by
    planning with that model (agents/mpc.py)."""
    check_rollouts(rollout_length, num_rollouts)
    prioritized = priority.settings(priority_exponent, importance_exponent)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    rollouts = imagined(
        env,
        q,
        make_model(env, tuple(hidden)),
        rollout_length=rollout_length,
        num_rollouts=num_rollouts,
        model_batch_size=model_batch_size,
        model_step_size=model_step_size,
        frozen=frozen,
        separate_starts=separate_starts,
        search_control=search_control,
        prioritized=prioritized,
        model_horizon=model_horizon,
        rollout_schedule=rollout_schedule,
    )
    return agent(env, q, [rollouts], capacity=capacity, planner=planner)
