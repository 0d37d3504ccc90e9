"""How every agent is built (paper section 4): "All tested approaches use DQN for behavior
learning, but vary in how training examples for DQN are generated."

An agent is one DQN learner, a replay buffer of what it keeps of real steps, and the
sources of the transitions of each Q update, concatenated: `replayed` real transitions
(experience replay), `imagined` rollouts of a learned model, or both (agents/dyna_mix.py).
Each update draws from every source with its own key and trains Q once on the union, so
agents differ only in their sources, as the paper's comparison requires. The buffer is the
paper's uniform one or, beyond the paper, prioritized (agents/priority.py); either hears,
after the Q step, the TD error of the first transition replayed or imagined from each start
it gave (`set_priorities`, which the uniform buffer ignores).

`imagined` is the paper's paragraph on model rollouts; the choices beyond the paper that it
takes follow it, each a small record whose default is the paper's agent (`Modes`).
"""

from typing import Any, Callable, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from agents import dqn, models, priority, replay
from agents.base import Agent
from agents.models import LearnedModel
from agents.rollout import lambda_returns, rollout
from envs import checks


class AgentState(NamedTuple):
    learner: dqn.Learner
    replay: replay.Replay  # what the agent keeps of real steps (replay.Memory)
    model: Optional[models.Trained] = None  # a learned model's parameters, if it keeps one


class Part(NamedTuple):
    """A source's part of one Q batch."""

    batch: dqn.Batch
    # the buffer slots it starts from: row i of `batch` is the first transition replayed or
    # imagined from slot starts[i] (its TD error is that slot's new priority)
    starts: jax.Array
    metrics: dict


class Source(NamedTuple):
    """Where `size` transitions of each Q batch come from: `draw(state, key, buffer)` ->
    (state, Part), drawing real transitions from the agent's replay.Buffer."""

    size: int
    draw: Callable[[AgentState, jax.Array, replay.Buffer], tuple[AgentState, Part]]
    model: Optional[LearnedModel] = None  # the learned model it trains and rolls out


def agent(
    env,
    q: dqn.DQN,
    sources: Sequence[Source],
    *,
    capacity: int,
    memory: Optional[replay.Memory] = None,
    buffer: replay.Buffer = replay.UNIFORM,
    planner: Optional[Callable] = None,
) -> Agent:
    """An agent that keeps `memory` (real transitions unless told) in a FIFO `buffer` of
    `capacity` (uniform unless told: agents/priority.py) and trains `q` on the sources'
    transitions. A source of size 0 is dropped here: it keeps no model and takes no key, so a
    mix whose one part is empty is exactly the agent of the other part.

    A decision-time `planner(q, model) -> act(state, obs, key, greedy)` (agents/mpc.py)
    replaces acting on Q for an agent with a learned model; training is unchanged."""
    checks.positive_int("agent.capacity", capacity)
    memory = memory or replay.transitions(env.obs_size)
    sources = [source for source in sources if source.size > 0]
    model = next((source.model for source in sources if source.model is not None), None)

    def observe(state, transition):
        return state._replace(replay=buffer.add(state.replay, memory.keep(transition)))

    def update(state, key):
        keys = jax.random.split(key, len(sources)) if len(sources) > 1 else [key]
        parts = []
        for source, source_key in zip(sources, keys):
            state, part = source.draw(state, source_key, buffer)
            parts.append(part)
        batch = jax.tree.map(lambda *rows: jnp.concatenate(rows), *(p.batch for p in parts))
        learner, td_loss, td_error = q.learn(state.learner, batch)
        kept = buffer.set_priorities(state.replay, *first_step_errors(parts, td_error))
        metrics = {name: value for part in parts for name, value in part.metrics.items()}
        return state._replace(learner=learner, replay=kept), {**metrics, "td_loss": td_loss}

    if model is None:

        def init(key, hyper):
            learner = q.init(key, jnp.zeros(env.obs_size), hyper)
            return AgentState(learner, buffer.init(memory.example, capacity))

        def act(state, obs, key, greedy):
            return q.act(state.learner, obs, key, greedy)

        return Agent(init, act, observe, update)

    def init_with_model(key, hyper):
        q_key, model_key = jax.random.split(key)
        learner = q.init(q_key, jnp.zeros(model.features_size), hyper)
        trained = models.start_training(model.init(model_key))
        return AgentState(learner, buffer.init(memory.example, capacity), trained)

    def act_on_features(state, obs, key, greedy):
        # The latent agents act on a latent sample of the current observation.
        start_key, act_key = jax.random.split(key)
        x = model.start(state.model.params, start_key, obs)
        return q.act(state.learner, x, act_key, greedy)

    def predict(state, transitions, key):
        return model.predict(state.model.params, key, transitions)

    act = act_on_features if planner is None else planner(q, model)
    return Agent(init_with_model, act, observe, update, predict, model)


def part_from(starts: replay.Sample, batch: dqn.Batch, metrics: dict) -> Part:
    """The part of the Q batch made from `starts`, its rows step-major (row r of every step
    comes from start r; a replayed transition is its own one step): each start's importance
    weight multiplies every step of its rollout."""
    steps = batch.weight.shape[0] // starts.weight.shape[0]
    weight = batch.weight * jnp.tile(starts.weight, steps)
    return Part(batch._replace(weight=weight), starts.index, metrics)


def first_step_errors(parts: Sequence[Part], td_error: jax.Array):
    """Every part's start slots and the TD error of the first transition from each (the
    leading rows of that part's share of the concatenated Q batch)."""
    ends = np.cumsum([part.batch.weight.shape[0] for part in parts])
    shares = jnp.split(td_error, ends[:-1])
    errors = [share[: part.starts.shape[0]] for share, part in zip(shares, parts)]
    return jnp.concatenate([part.starts for part in parts]), jnp.concatenate(errors)


# ----------------------------------------------------------------------------- sources


def replayed(env, size: int) -> Source:
    """Experience replay: `size` real transitions drawn from the buffer (uniformly, or by
    priority and importance-weighted from a prioritized one)."""

    def draw(state, key, buffer):
        drawn = buffer.sample(state.replay, key, size)
        real = replay.unstore(drawn.items, env.obs_size)
        return state, part_from(drawn, dqn.real_batch(real), {})

    return Source(size, draw)


def imagined(
    env,
    q: dqn.DQN,
    model: LearnedModel,
    *,
    rollout_length: int,
    num_rollouts: int,
    model_batch_size: int,
    model_step_size: float,
    modes: Optional["Modes"] = None,
) -> Source:
    """Model rollouts (paper section 4: "the model is trained using the same batch of
    transitions which initialize the rollouts"): sample real transitions, train the model one
    step on the first `model_batch_size` of them, roll the UPDATED model forward
    `rollout_length` steps from the first `num_rollouts` of them acting softmax on the
    current Q, and give Q the imagined transitions. In the 1-step ablation (32 and 320) one
    sample of 320 is drawn, so the model trains on 32 transitions that start rollouts in both
    arms. The choices beyond the paper are `modes` (Modes; the default is the paper's)."""
    checks.positive_int("agent.model_batch_size", model_batch_size)
    checks.positive_number("agent.model_step_size", model_step_size)
    modes = modes or Modes()
    sizes = (model_batch_size, modes.length.starts(rollout_length, num_rollouts))

    def draw(state, key, buffer):
        sample_key, loss_key, start_key, rollout_key = jax.random.split(key, 4)
        data, starts = modes.starts.sample(
            buffer, state.replay, sample_key, modes.training, sizes, env.obs_size
        )
        trained, metrics = modes.training.step(model, model_step_size, state.model, loss_key, data)
        x = model.start(trained.params, start_key, starts.items.obs)

        def transition(key, x, action):
            return model.transition(trained.params, key, x, action)

        x, restarts, metrics = modes.length.branch(x, state.learner, num_rollouts, metrics)
        batch = rollout(
            rollout_key,
            q,
            state.learner,
            x,
            lambda x: x,
            transition,
            rollout_length,
            env.episodic,
            first_action=modes.search.first_action(starts.items),
            restarts=restarts,
        )
        batch = modes.returns.targets(q, state.learner, batch, rollout_length)
        starts = modes.length.heads(starts, num_rollouts)
        return state._replace(model=trained), part_from(starts, batch, metrics)

    return Source(rollout_length * num_rollouts, draw, model)


# ----------------------------------------------------------------------------- beyond the paper


class Starts(NamedTuple):
    """Where rollouts start: the leading part of the model's own sample (the paper), or with
    `separate` a second, independent sample (the public latent script's way, when the model
    batch and the starts differ in size). From a prioritized buffer the starts are always a
    second draw, by priority, and the model's batch stays uniform."""

    separate: bool = False

    def sample(self, buffer, kept, key, training, sizes, obs_size):
        """(the model's data, the rollout starts as a replay.Sample of real transitions) for
        `sizes` = (model batch, starts)."""
        model_batch_size, num_starts = sizes
        if not (self.separate or buffer.prioritized):
            data, first = training.sample(kept, key, max(sizes), obs_size)
            return leading(data, model_batch_size), leading(first, num_starts)
        batch_key, starts_key = jax.random.split(key)
        data, _ = training.sample(kept, batch_key, model_batch_size, obs_size)
        starts = buffer.sample(kept, starts_key, num_starts)
        return data, starts._replace(items=replay.unstore(starts.items, obs_size))


def leading(tree, n: int):
    return jax.tree.map(lambda x: x[:n], tree)


class ModelTraining(NamedTuple):
    """What the model trains on at each update: one step on the 1-step transitions of a
    uniform sample (the paper); none when `frozen` (it stays as initialized or loaded,
    `load_model`, and only Q learns from its rollouts: Figure 4 right); with `horizon` k > 1
    (SLBO) runs of k consecutive stored transitions through `model.sequence_loss` (a run
    stops at a terminal, a reset or the newest item; step 0 of each run is the 1-step
    sample)."""

    horizon: int = 1
    frozen: bool = False

    def sample(self, kept, key, size: int, obs_size: int):
        """(the model's data, the first transition of each as a replay.Sample): uniform."""
        index = replay.sample_indices(kept, key, size)
        weight = jnp.ones(size, jnp.float32)
        if self.horizon == 1:
            real = replay.unstore(replay.take(kept, index), obs_size)
            return real, replay.Sample(real, index, weight)
        stored, in_buffer = replay.sequences(kept, index, self.horizon)
        runs = replay.unstore(stored, obs_size)
        first = replay.Sample(jax.tree.map(lambda x: x[:, 0], runs), index, weight)
        return (runs, trajectory_mask(runs, in_buffer)), first

    def step(self, model, step_size, trained, key, data):
        """The model after its step on `data`, and its loss as a metric."""
        if self.frozen:
            return trained, {}
        loss = model.loss if self.horizon == 1 else model.sequence_loss
        trained, value = models.train_step(
            trained, loss, step_size, key, data, after_step=model.after_step
        )
        return trained, {"model_loss": value}


class RolloutLength(NamedTuple):
    """How long rollouts run: `rollout_length` steps (the paper), or with a `schedule`
    [start, end, min_length, max_length = rollout_length] MBPO's branched rollouts
    (`scheduled_length`, `branches`): the 320 imagined transitions stay 320, each row
    restarting from a fresh real start every scheduled length. Restarts carry no replayed
    action or importance weight of their own, so a schedule takes the policy's first action
    from a uniform buffer (`modes_from`)."""

    schedule: Optional[tuple] = None

    def starts(self, rollout_length: int, num_rollouts: int) -> int:
        # a schedule restarts rows up to rollout_length times: one start per transition
        return num_rollouts if self.schedule is None else rollout_length * num_rollouts

    def branch(self, x, learner, num_rollouts: int, metrics: dict):
        """(the rollouts' first states, their restarts for agents.rollout, metrics)."""
        if self.schedule is None:
            return x, None, metrics
        length = scheduled_length(self.schedule, dqn.updates_done(learner))
        restarts = branches(x, length, self.schedule[3], num_rollouts)
        metrics = {**metrics, "rollout_length": length.astype(jnp.float32)}
        return jax.tree.map(lambda s: s[0], restarts[1]), restarts, metrics

    def heads(self, starts: replay.Sample, num_rollouts: int) -> replay.Sample:
        """The starts of the rollouts' first steps (a schedule's first branches)."""
        return starts if self.schedule is None else leading(starts, num_rollouts)


class SearchControl(NamedTuple):
    """The first action of each rollout: the current policy's (the paper), or with
    `replayed` the one taken in its start transition (Dyna-Q's "an action previously taken
    in it"); later steps act on Q."""

    replayed: bool = False

    def first_action(self, starts) -> Optional[jax.Array]:
        return starts.action if self.replayed else None


class Returns(NamedTuple):
    """What Q learns toward on the rollouts: one-step targets (the paper), or with `lam` > 0
    Dreamer's lambda-returns along each rollout (agents.rollout.lambda_returns) from the
    target network's values."""

    lam: float = 0.0

    def targets(self, q: dqn.DQN, learner: dqn.Learner, batch: dqn.Batch, length: int):
        if self.lam == 0:
            return batch  # the learner's one-step target, as the paper's agent has it
        next_value = q.next_value(learner.target_params, batch)
        target = lambda_returns(
            batch.reward, batch.continuation, next_value, q.discount, self.lam, length
        )
        return batch._replace(target=target)


class Modes(NamedTuple):
    """The choices of `imagined` beyond the paper; each default is the paper's agent."""

    starts: Starts = Starts()
    training: ModelTraining = ModelTraining()
    length: RolloutLength = RolloutLength()
    search: SearchControl = SearchControl()
    returns: Returns = Returns()


def trajectory_mask(runs, in_buffer: jax.Array) -> jax.Array:
    """Whether step j of each run of stored transitions (axes (batch, k)) continues the
    trajectory of step 0: every step before it is in the buffer, not terminal, and ends in
    the observation the next one starts from (this catches resets and the oldest item
    following the newest across the cursor)."""
    follows = jnp.all(runs.next_obs[:, :-1] == runs.obs[:, 1:], axis=-1) & ~runs.terminal[:, :-1]
    linked = jnp.concatenate([jnp.ones_like(follows[:, :1]), follows], axis=1)
    return jnp.cumprod(linked & in_buffer, axis=1).astype(jnp.float32)


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


def search_control(name: str) -> SearchControl:
    checks.one_of("agent.search_control", name, SEARCH_CONTROL)
    return SearchControl(replayed=name == "replayed")


def modes_from(
    model: LearnedModel,
    buffer: replay.Buffer,
    *,
    rollout_length: int,
    num_rollouts: int,
    model_batch_size: int,
    frozen: bool = False,
    search: str = "policy",
    separate_starts: bool = False,
    model_horizon: int = 1,
    rollout_schedule: Optional[Sequence[int]] = None,
    td_lambda: float = 0.0,
) -> Modes:
    """The Modes an agent's settings choose, checked (every default is the paper's)."""
    checks.boolean("agent.frozen", frozen)
    checks.positive_int("agent.model_horizon", model_horizon)
    if model_horizon > 1 and model.sequence_loss is None:
        raise ValueError(f"agent.model_horizon must be 1 for this model (it has no multi-step "
                         f"loss; the simple and implicit models do); got {model_horizon}.")
    check_schedule(rollout_schedule, rollout_length)
    checks.number_in("agent.td_lambda", td_lambda, 0, 1)
    if rollout_schedule is not None and td_lambda > 0:
        # a branched row restarts mid-row: its returns would run across unrelated starts
        raise ValueError(
            f"agent.td_lambda must be 0 when agent.rollout_schedule is set; got {td_lambda!r}."
        )
    if rollout_schedule is not None and (search != "policy" or buffer.prioritized):
        raise ValueError(
            "agent.rollout_schedule must be null when agent.search_control is replayed or "
            f"agent.priority_exponent is above 0; got {list(rollout_schedule)}."
        )
    return Modes(
        Starts(separate=separate_starts and num_rollouts != model_batch_size),
        ModelTraining(model_horizon, frozen),
        RolloutLength(None if rollout_schedule is None else tuple(rollout_schedule)),
        search_control(search),
        Returns(float(td_lambda)),
    )


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
    td_lambda: float = 0.0,
    planner: Optional[Callable] = None,
) -> Agent:
    """A learned-model agent (the simple and latent models, paper section 4): Q learns only
    on the rollouts of the model `make_model(env, hidden)`, drawn from a uniform or
    prioritized buffer (`priority_exponent` 0: uniform), with the `modes` its settings
    choose; with a `planner`, it acts by planning with that model (agents/mpc.py)."""
    check_rollouts(rollout_length, num_rollouts)
    buffer = priority.buffer(priority_exponent, importance_exponent)
    q = dqn.q_learner(env.num_actions, hidden, discount)
    model = make_model(env, tuple(hidden))
    chosen = modes_from(
        model,
        buffer,
        rollout_length=rollout_length,
        num_rollouts=num_rollouts,
        model_batch_size=model_batch_size,
        frozen=frozen,
        search=search_control,
        separate_starts=separate_starts,
        model_horizon=model_horizon,
        rollout_schedule=rollout_schedule,
        td_lambda=td_lambda,
    )
    rollouts = imagined(
        env,
        q,
        model,
        rollout_length=rollout_length,
        num_rollouts=num_rollouts,
        model_batch_size=model_batch_size,
        model_step_size=model_step_size,
        modes=chosen,
    )
    return agent(env, q, [rollouts], capacity=capacity, buffer=buffer, planner=planner)
