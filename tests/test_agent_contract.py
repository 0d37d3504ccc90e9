"""The agent contract (DESIGN seam 2): every agent in the registry, on every environment,
runs init, act, observe and update and the online loop's run_interval under jit and vmap,
with finite metrics once learning starts; and one update of every agent moves Q by one Adam
step towards the TD targets of a hand-made case. A new agent module is picked up without
editing this file. Also: the settings checks of the model agents, and dyna_mix's two ends."""

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import fast_jit
from toys import Clock, Countdown

import agents
import envs
from agents import dqn
from agents.base import Transition
from agents.dyna_mix import split_budget
from experiments import config
from experiments.evaluation import random_transitions
from experiments.online import Regime, make_train

SEEDS = 2
REGIME = Regime(total_steps=40, updates_per_step=1, target_update_frequency=10, eval_interval=20,
                learning_starts=10, eval_runs=2, eval_steps=5)
SMALL_ENVS = {"procmaze": dict(grid_size=3), "buttongrid": dict(grid_size=3, num_buttons=2),
              "panflute": dict(num_pipes=3), "opengrid": dict(grid_size=3)}
HIDDEN = (16,)
MODEL_COLUMNS = {"model_obs_accuracy", "model_reward_error", "model_continuation_error"}
# predict no observation: model_obs_accuracy is left out
NO_DECODER = {"deepmdp", "implicit_model", "muzero"}
HYPER = dqn.Hyper(jnp.full(SEEDS, 1e-3), jnp.full(SEEDS, 1.0))


def small_agent(name: str, env, **settings):
    return agents.make(name, env, **{"hidden": HIDDEN, **settings})


def finite(tree) -> bool:
    return all(np.isfinite(np.asarray(x, float)).all() for x in jax.tree.leaves(tree))


PAPER_AGENTS = ("er", "simple_model", "perfect_model", "gaussian_latent", "categorical_latent")


def contract_cases():
    """The paper's agents on PanFlute and ER on every env in the default run; the rest of the
    matrix (each model agent on ProcMaze, ButtonGrid, OpenGrid, and the agents beyond the
    paper: about 7 minutes of compiling) is `-m slow`, so the default run stays under 10
    minutes as agents are added. Every agent's update is checked against hand-computed
    targets in the default run all the same (test_one_update_moves_q_...)."""
    for agent_name in sorted(agents.REGISTRY):
        for env_name in envs.NAMES:
            full = (env_name == "panflute" and agent_name in PAPER_AGENTS) or agent_name == "er"
            marks = () if full else (pytest.mark.slow,)
            yield pytest.param(agent_name, env_name, marks=marks, id=f"{agent_name}-{env_name}")


@pytest.mark.parametrize("agent_name, env_name", list(contract_cases()))
def test_agent_contract(agent_name, env_name):
    env = envs.make(env_name, **SMALL_ENVS.get(env_name, {}))
    agent = small_agent(agent_name, env)
    train_init, run_interval = make_train(env, agent, REGIME)
    keys = jax.random.split(jax.random.key(0), SEEDS)

    # act, observe and update by hand, traced under vmap only (they run compiled in the loop
    # below): actions are int32 and states keep their structure, shapes and dtypes, as the
    # loop's scan carries require.
    def first_steps(key, hyper):
        state = agent.init(key, hyper)
        reset_key, act_key, step_key, update_key = jax.random.split(jax.random.fold_in(key, 1), 4)
        env_state, obs = env.reset(reset_key)
        action = agent.act(state, obs, act_key, False)
        greedy = agent.act(state, obs, act_key, True)
        next_state, next_obs, reward, terminal = env.step(step_key, env_state, action)
        transition = Transition(obs, action, reward, terminal, next_obs, env_state)
        observed = agent.observe(state, transition)
        updated, metrics = agent.update(observed, update_key)
        return (action, greedy), (state, observed, updated), metrics

    actions, states, metrics = jax.eval_shape(jax.vmap(first_steps), keys, HYPER)
    for action in actions:
        assert action.shape == (SEEDS,) and action.dtype == jnp.int32
    assert len({jax.tree.structure(s) for s in states}) == 1
    assert len({tuple((x.shape, x.dtype) for x in jax.tree.leaves(s)) for s in states}) == 1
    assert "td_loss" in metrics
    if agent.predict is not None:
        assert "model_loss" in metrics

    # The online loop: its init, then run_interval for two intervals (scanned, so that it
    # compiles once); learning starts within the first, so update runs compiled here too.
    def run(keys, hyper):
        runner = jax.vmap(train_init)(keys, hyper)
        interval = jax.vmap(run_interval, in_axes=(0, None))
        steps = jnp.arange(0, REGIME.total_steps, REGIME.eval_interval)
        return jax.lax.scan(interval, runner, steps)[1]

    metrics = fast_jit(run)(keys, HYPER)
    assert {"td_loss", "score", "diverged"} <= set(metrics)
    if agent.predict is not None:
        columns = MODEL_COLUMNS - ({"model_obs_accuracy"} if agent_name in NO_DECODER else set())
        assert columns | {"model_loss"} <= set(metrics)
        assert ("model_obs_accuracy" in metrics) == (agent_name not in NO_DECODER)
    num_intervals = REGIME.total_steps // REGIME.eval_interval
    assert all(np.shape(v) == (num_intervals, SEEDS) for v in metrics.values())
    assert finite(metrics), metrics
    assert not np.asarray(metrics["diverged"]).any()


# ----------------------------------------------------------------------------- one update


@dataclass(frozen=True)
class Fork(Countdown):
    """Episodic: reward -1 on every step; action 0 ends the episode, action 1 goes on."""

    name: ClassVar[str] = "fork"

    def step(self, key, state, action):
        state = Clock(state.time + 1)
        return state, self.observe(state), jnp.float32(-1), action == 0


V = -5.0  # every Q-value, online and target, before the update
STEP = 0.01  # Q's step size


def constant_q(learner):
    """Q = V for every input and action: every weight 0, the output biases V."""
    params = jax.tree.map(jnp.zeros_like, learner.params)
    params[sorted(params)[-1]]["b"] = jnp.full(2, V)
    return learner._replace(params=params, target_params=params)


def fork_model(params):
    """A learned model's heads set to the Fork's dynamics whatever the features: reward -1;
    continuation logit -30 after action 0 and +30 after action 1 (a hidden unit that is the
    one-hot input of action 1, weighted 60 in the output)."""
    reward = jax.tree.map(jnp.zeros_like, params.reward)
    reward[sorted(reward)[-1]]["b"] = jnp.full(1, -1.0)
    continuation = jax.tree.map(jnp.zeros_like, params.continuation)
    first, last = sorted(continuation)
    continuation[first]["w"] = continuation[first]["w"].at[-1, 0].set(1.0)  # action 1's input
    continuation[last]["w"] = continuation[last]["w"].at[0, 0].set(60.0)
    continuation[last]["b"] = jnp.full(1, -30.0)
    return params._replace(reward=reward, continuation=continuation)


@pytest.mark.parametrize("agent_name", sorted(agents.REGISTRY))
def test_one_update_moves_q_one_adam_step_towards_the_hand_computed_targets(agent_name):
    """On the Fork with discount 0.9 and Q = V = -5 everywhere, every transition the agent
    can train on, real or imagined (the model's heads set to the Fork), has the target
    -1 after action 0 (terminal: no bootstrap) and -1 + 0.9 V = -5.5 after action 1. With
    every weight 0 only the output biases get a gradient, and Adam's first step moves each
    by the step size against its gradient's sign: Q(., 0) = V + 0.01 and Q(., 1) = V - 0.01
    for every input (weight decay: -1e-6 V). A dropped terminal mask (target -5.5 after
    action 0), a discount not applied, or a TD error of the wrong sign moves a bias the
    wrong way. A learned model is frozen where it can be (it takes no step of its own:
    less to compile, and its heads stay exactly the Fork's)."""
    env = Fork()
    frozen = {"frozen": True} if "frozen" in agents.defaults(agent_name) else {}
    agent = small_agent(agent_name, env, discount=0.9, **frozen)
    q = dqn.mlp(env.num_actions, HIDDEN)
    features = env.obs_size if agent.model is None else agent.model.features_size  # Q's input

    def run(key):
        init_key, update_key = jax.random.split(key)
        state = agent.init(init_key, dqn.Hyper(jnp.float32(STEP), jnp.float32(10.0)))
        env_state, obs = env.reset(init_key)
        for action in [0, 1] * 4:  # real transitions of both actions in the buffer
            action = jnp.int32(action)
            next_state, next_obs, reward, terminal = env.step(init_key, env_state, action)
            transition = Transition(obs, action, reward, terminal, next_obs, env_state)
            state, env_state, obs = agent.observe(state, transition), next_state, next_obs
        state = state._replace(learner=constant_q(state.learner))
        if state.model is not None:
            model = state.model._replace(params=fork_model(state.model.params))
            state = state._replace(model=model)
        updated, _ = agent.update(state, update_key)
        return q.apply(updated.learner.params, jnp.zeros(features))

    q_after = np.asarray(fast_jit(run)(jax.random.key(0)))
    expected = V * (1 - dqn.WEIGHT_DECAY) + np.array([STEP, -STEP])
    np.testing.assert_allclose(q_after, expected, rtol=0, atol=STEP / 100)


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize("name", ["simple_model", "perfect_model", "gaussian_latent",
                                  "categorical_latent", "deepmdp"])
def test_rollout_budget_must_be_320(name):
    env = envs.make("procmaze", grid_size=3)
    with pytest.raises(ValueError, match=r"agent\.rollout_length x agent\.num_rollouts must equal"):
        agents.make(name, env, rollout_length=10, num_rollouts=16)
    agents.make(name, env, rollout_length=1, num_rollouts=320)  # the 1-step ablation


def test_bad_settings_are_config_errors():
    env = envs.make("procmaze", grid_size=3)
    with pytest.raises(config.ConfigError, match="agent.num_rollouts"):
        config.make_agent(
            config.OmegaConf.create({"name": "simple_model", "num_rollouts": 30}), env)
    with pytest.raises(config.ConfigError, match="agent.real_fraction"):
        config.make_agent(config.OmegaConf.create({"name": "dyna_mix", "real_fraction": 1.5}), env)


@pytest.mark.parametrize("name", ["simple_model", "perfect_model", "gaussian_latent",
                                  "categorical_latent", "dyna_mix", "deepmdp"])
def test_agent_configs_build(name):
    """configs/agent/<name>.yaml holds the paper's defaults, all accepted by the factory."""
    cfg = config.OmegaConf.load(config.CONFIG_DIR / "agent" / f"{name}.yaml")
    assert cfg.name == name
    config.make_agent(cfg, envs.make("procmaze", grid_size=3))


@pytest.mark.parametrize("real_fraction, rollout_length, expected", [
    (1.0, 10, (320, 0)), (0.0, 10, (0, 32)), (0.5, 10, (160, 16)),
    (0.3, 10, (100, 22)),    # 0.7 * 32 = 22.4 rollouts -> 22
    (0.05, 10, (20, 30)),    # 30.4 -> 30
    (0.0, 7, (5, 45)),       # 320 / 7 = 45.7 rollouts, but only 45 fit in 320
    (0.5, 1, (160, 160)),
])
def test_dyna_mix_budget(real_fraction, rollout_length, expected):
    assert split_budget(real_fraction, rollout_length) == expected


# ----------------------------------------------------------------------------- dyna_mix ends


def run_updates(agent, key, num_updates=3):
    """Init, observe 64 random transitions of ProcMaze n=3, then update a few times; returns
    the states after init+observe and after the updates."""
    env = envs.make("procmaze", grid_size=3)

    def run(key):
        init_key, data_key, update_key = jax.random.split(key, 3)
        data = random_transitions(env, data_key, num_envs=4, num_steps=16)
        state = agent.init(init_key, dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0)))
        state = jax.lax.scan(lambda s, t: (agent.observe(s, t), None), state, data)[0]
        updated = jax.lax.scan(lambda s, k: (agent.update(s, k)[0], None), state,
                               jax.random.split(update_key, num_updates))[0]
        return state, updated

    return fast_jit(run)(key)


@pytest.mark.parametrize("real_fraction, other", [
    (1.0, "er"),
    # The model's end compiles the simple model's rollouts (30 s here); the Q batch of
    # dyna_mix is checked in the default run by tests/test_training_batch.py.
    pytest.param(0.0, "simple_model", marks=pytest.mark.slow),
])  # fmt: skip
def test_dyna_mix_ends_are_er_and_simple_model(real_fraction, other):
    """From the same state and keys, real_fraction 1 makes ER's updates and 0 the simple
    model's, bit for bit (both agents initialize identically from the same key, too)."""
    env = envs.make("procmaze", grid_size=3)
    key = jax.random.key(3)
    mixed = run_updates(small_agent("dyna_mix", env, real_fraction=real_fraction), key)
    reference = run_updates(small_agent(other, env), key)
    for mixed_state, reference_state in zip(mixed, reference):  # after observing, after updating
        leaves = zip(jax.tree.leaves(mixed_state.learner), jax.tree.leaves(reference_state.learner))
        for a, b in leaves:
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(jax.tree.leaves(reference[0].learner.params)[0],
                              jax.tree.leaves(reference[1].learner.params)[0])  # it learned
    if real_fraction == 1.0:
        assert mixed[1].model is None  # no model is kept or trained
    else:
        for a, b in zip(jax.tree.leaves(mixed[1].model), jax.tree.leaves(reference[1].model)):
            np.testing.assert_array_equal(a, b)
