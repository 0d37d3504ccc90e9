"""The model-based families beyond the paper (docs/studies/
model-families.md): ensembles (agents/ensemble.py), decision-time planning (agents/mpc.py),
multi-step model training and branched rollouts (agents/dyna.py), on hand-worked cases.
Every test here is cheap (tiny networks, no online loop); the contract test runs mpc."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import fast_jit

import agents
import envs
from agents import dqn, dyna, ensemble, models, replay
from agents.base import Transition
from agents.mpc import random_shooting
from agents.rollout import rollout
from agents.simple_model import SimpleModel, simple_model
from experiments import config
from experiments.analysis.multistep import open_loop_accuracy

HIDDEN = (8,)




def procmaze():
    return envs.make("procmaze", grid_size=3)


def constant_output(network, values):
    """Stacked member params of one network that outputs values[k] (every output unit) for
    member k, whatever the input: the last layer's weights 0, its bias the value."""
    network = dict(network)
    last = sorted(network)[-1]
    w, b = network[last]["w"], network[last]["b"]
    network[last] = {"w": jnp.zeros_like(w), "b": jnp.broadcast_to(values[:, None], b.shape)}
    return network


def constant_rewards(params, values):
    """Simple-model member params (stacked) whose reward for member k is values[k]."""
    return params._replace(reward=constant_output(params.reward, values))


def batch_of(env, size, key):
    obs = jax.random.bernoulli(key, 0.5, (size, env.obs_size))
    action = jnp.arange(size, dtype=jnp.int32) % env.num_actions
    zeros = jnp.zeros(size)
    return Transition(obs, action, zeros, zeros.astype(bool), obs, None)


# ----------------------------------------------------------------------------- ensembles


def test_mean_logit_is_the_logit_of_the_mean_probability():
    logits = jnp.array([[0.0], [math.log(3.0)]])  # probabilities 0.5 and 0.75
    np.testing.assert_allclose(ensemble.mean_logit(logits), [math.log(0.625 / 0.375)], rtol=1e-6)


def test_ensemble_members_differ_and_each_trains_on_its_own_bootstrap():
    env = procmaze()
    member = simple_model(env, HIDDEN)
    model = simple_model(env, HIDDEN, ensemble_size=3)
    params = model.init(jax.random.key(0))
    first_layer = jax.tree.leaves(params.reward)[1]
    assert first_layer.shape[0] == 3 and not np.allclose(first_layer[0], first_layer[1])
    data = batch_of(env, 32, jax.random.key(1))
    data = data._replace(reward=jnp.arange(32.0))  # so that resamples differ in loss
    key = jax.random.key(2)

    @fast_jit
    def by_hand(params, data):
        # member k's loss on data resampled by its own indices
        expected, indices = 0.0, []
        for k, member_key in enumerate(jax.random.split(key, 3)):
            resample_key, loss_key = jax.random.split(member_key)
            index = jax.random.randint(resample_key, (32,), 0, 32)
            one = jax.tree.map(lambda p: p[k], params)
            expected += member.loss(one, loss_key, jax.tree.map(lambda x: x[index], data))
            indices.append(index)
        return expected, model.loss(params, key, data), jnp.stack(indices)

    expected, loss, indices = by_hand(params, data)
    for index in np.asarray(indices):
        assert len(set(index.tolist())) < 32  # a bootstrap repeats transitions
    assert len({tuple(index) for index in np.asarray(indices).tolist()}) == 3  # its own
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


@pytest.mark.parametrize("sampling", ["step", "rollout"])
def test_ensemble_rollouts_take_each_row_from_one_member(sampling):
    env = procmaze()
    model = simple_model(env, HIDDEN, ensemble_size=4, ensemble_sampling=sampling)
    params = constant_rewards(model.init(jax.random.key(0)), jnp.arange(4.0))
    x = batch_of(env, 400, jax.random.key(1))
    transition = fast_jit(jax.vmap(model.transition, in_axes=(None, 0, None, None)))
    rewards = np.asarray(transition(params, jax.random.split(jax.random.key(3), 3), x.obs,
                                    x.action)[1])  # (calls, rows)
    np.testing.assert_allclose(rewards, np.round(rewards), atol=1e-5)  # one member's reward
    if sampling == "rollout":
        np.testing.assert_allclose(rewards, np.broadcast_to(np.arange(400) % 4, (3, 400)),
                                   atol=1e-5)
    else:
        counts = np.bincount(np.round(rewards).astype(int).ravel(), minlength=4)
        # 1200 uniform draws of 4 members: 300 each, sd 15; 6 sd either side
        assert np.all(np.abs(counts - 300) < 90), counts
        assert not np.allclose(rewards[0], rewards[1])  # drawn afresh at every step


def test_disagreement_penalty_subtracts_lambda_times_the_members_std():
    env = procmaze()
    values = jnp.array([0.0, 1.0, 2.0, 3.0])  # std (population) sqrt(1.25)
    plain = simple_model(env, HIDDEN, ensemble_size=4, ensemble_sampling="rollout")
    penalized = simple_model(env, HIDDEN, ensemble_size=4, ensemble_sampling="rollout",
                             disagreement_penalty=0.5)
    params = constant_rewards(plain.init(jax.random.key(0)), values)
    x = batch_of(env, 8, jax.random.key(1))
    r = plain.transition(params, jax.random.key(2), x.obs, x.action)[1]
    rp = penalized.transition(params, jax.random.key(2), x.obs, x.action)[1]
    np.testing.assert_allclose(rp, r - 0.5 * math.sqrt(1.25), atol=1e-5)


def exploring_pair(env, exploration):
    """The same 4-member ensemble (one member per rollout) without and with `exploration`."""
    member = simple_model(env, HIDDEN)
    return (ensemble.ensemble(member, 4, "rollout", 0.0),
            ensemble.ensemble(member, 4, "rollout", 0.0, exploration))


def test_exploration_bonus_adds_its_scheduled_weight_times_the_bit_disagreement():
    """Members predict every next bit on with probability 0.2, 0.4, 0.6, 0.8: disagreement
    std = sqrt(0.05) on every bit. Bonus 0.4 over 2,000 updates after 500 model steps:
    weight 0.4 x (1 - 500/2000) = 0.3; after 2,500 steps: 0, the task reward alone."""
    env = procmaze()
    plain, explorer = exploring_pair(env, ensemble.Exploration(bonus=0.4, updates=2000))
    p = jnp.array([0.2, 0.4, 0.6, 0.8])
    params = constant_rewards(plain.init(jax.random.key(0)), jnp.arange(4.0))
    params = params._replace(next_obs=constant_output(params.next_obs, jnp.log(p / (1 - p))))
    x = batch_of(env, 8, jax.random.key(1))
    key = jax.random.key(2)
    task = plain.transition(params, key, x.obs, x.action)
    for steps, weight in [(500.0, 0.3), (2500.0, 0.0)]:
        explored = ensemble.Explored(params, jnp.float32(steps))
        step = explorer.transition(explored, key, x.obs, x.action)
        np.testing.assert_allclose(step[1], task[1] + weight * math.sqrt(0.05), atol=1e-5)
        for imagined, same in zip(step[::2], task[::2]):  # next bits, continuation
            np.testing.assert_array_equal(imagined, same)


def test_no_exploration_bonus_is_the_ensemble_without_it():
    env = procmaze()
    plain, off = exploring_pair(env, ensemble.Exploration(bonus=0.0, updates=10))
    params = plain.init(jax.random.key(0))
    assert jax.tree.structure(off.init(jax.random.key(0))) == jax.tree.structure(params)
    x = batch_of(env, 8, jax.random.key(1))
    for a, b in zip(off.transition(params, jax.random.key(2), x.obs, x.action),
                    plain.transition(params, jax.random.key(2), x.obs, x.action)):
        np.testing.assert_array_equal(a, b)


def test_an_exploring_ensemble_counts_its_model_steps_and_trains_as_without():
    env = procmaze()
    plain, explorer = exploring_pair(env, ensemble.Exploration(bonus=1.0, updates=10))
    data = batch_of(env, 32, jax.random.key(1))

    @fast_jit
    def two_steps(key):
        trained = models.start_training(explorer.init(key))
        alone = models.start_training(plain.init(key))
        for step_key in jax.random.split(key, 2):
            trained, _ = models.train_step(trained, explorer.loss, 1e-3, step_key, data,
                                           after_step=explorer.after_step)
            alone, _ = models.train_step(alone, plain.loss, 1e-3, step_key, data)
        return trained.params, alone.params

    explored, alone = two_steps(jax.random.key(0))
    assert float(explored.steps) == 2.0
    for a, b in zip(jax.tree.leaves(explored.members), jax.tree.leaves(alone)):
        np.testing.assert_array_equal(a, b)


def test_ensemble_predicts_its_member_mean():
    env = procmaze()
    model = simple_model(env, HIDDEN, ensemble_size=4)
    params = constant_rewards(model.init(jax.random.key(0)), jnp.array([0.0, 1.0, 2.0, 5.0]))
    reward = model.predict(params, jax.random.key(1), batch_of(env, 6, jax.random.key(2)))[1]
    np.testing.assert_allclose(reward, np.full(6, 2.0), atol=1e-5)


# ----------------------------------------------------------------------------- SLBO


def stamped_replay(capacity, count):
    """A buffer of `count` items stamped 0, 1, ... in the order they were added."""
    buffer = replay.init(jnp.int32(0), capacity)
    for t in range(count):
        buffer = replay.add(buffer, jnp.int32(t))
    return buffer


@pytest.mark.parametrize("capacity, count", [(5, 7), (8, 5), (6, 6)])
def test_sample_sequences_runs_in_time_order_and_stops_at_the_newest(capacity, count):
    buffer = stamped_replay(capacity, count)
    key = jax.random.key(0)
    runs, in_buffer = replay.sample_sequences(buffer, key, 200, 3)
    np.testing.assert_array_equal(runs[:, 0], replay.sample(buffer, key, 200))
    runs, in_buffer = np.asarray(runs), np.asarray(in_buffer)
    # in the buffer exactly where the stamps run on from step 0 (wrap-around at the cursor)
    np.testing.assert_array_equal(in_buffer, runs == runs[:, :1] + np.arange(3))
    assert runs[:, 0].min() == max(0, count - capacity) and runs[:, 0].max() == count - 1
    newest = runs[:, 0] == count - 1
    assert newest.any() and not in_buffer[newest, 1:].any()


def test_trajectory_mask_stops_at_terminals_and_resets():
    bits = lambda *v: jnp.array(v, bool)[..., None]  # one-bit observations  # noqa: E731
    runs = Transition(
        obs=bits([0, 1, 0, 1], [0, 1, 1, 0]),
        action=jnp.zeros((2, 4), jnp.int32),
        reward=jnp.zeros((2, 4)),
        terminal=jnp.array([[False, True, False, False], [False, False, False, False]]),
        next_obs=bits([1, 0, 1, 1], [1, 0, 0, 1]),  # run 2: step 2 starts at 1, not 0
        state=None,
    )
    in_buffer = jnp.array([[True] * 4, [True, True, True, False]])
    np.testing.assert_array_equal(dyna.trajectory_mask(runs, in_buffer),
                                  [[1, 1, 0, 0], [1, 1, 0, 0]])


def test_sequence_loss_of_one_step_is_the_loss_and_later_steps_count_where_valid():
    env = procmaze()
    model = SimpleModel(env.obs_size, env.num_actions, HIDDEN)
    params = model.init(jax.random.key(0))
    data = batch_of(env, 6, jax.random.key(1))

    @fast_jit
    def losses(params, data):
        key = jax.random.key(2)
        runs = jax.tree.map(lambda x: x[:, None], data)
        one = model.sequence_loss(params, key, (runs, jnp.ones((6, 1))))
        two = jax.tree.map(lambda x: jnp.stack([x, x], axis=1), data)
        masked = model.sequence_loss(params, key, (two, jnp.array([[1.0, 0.0]] * 6)))
        both, grads = jax.value_and_grad(model.sequence_loss)(params, key, (two, jnp.ones((6, 2))))
        return model.loss(params, None, data), one, masked, both, grads

    loss, one, masked, both, grads = losses(params, data)
    np.testing.assert_allclose(one, loss, rtol=1e-6)
    np.testing.assert_allclose(masked, one, rtol=1e-6)
    assert not np.isclose(both, one)  # step 2 is predicted from sampled bits, not the real
    assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))


def observe_and_update(agent, env):
    """Init, observe 16 random steps of `env`, one update: (state before it, after, metrics)."""

    @fast_jit
    def run(key):
        from experiments.evaluation import random_transitions

        init_key, data_key, update_key = jax.random.split(key, 3)
        data = random_transitions(env, data_key, num_envs=1, num_steps=16)
        state = agent.init(init_key, dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0)))
        state = jax.lax.scan(lambda s, t: (agent.observe(s, t), None), state, data)[0]
        return (state, *agent.update(state, update_key))

    return run(jax.random.key(0))


@pytest.mark.slow  # a whole agent's update compiled: 20-40 s on the shared 2-core machine
def test_model_horizon_trains_the_agent():
    env = procmaze()
    state, updated, metrics = observe_and_update(
        agents.make("simple_model", env, hidden=HIDDEN, model_horizon=3), env)
    assert np.isfinite(metrics["model_loss"])
    assert not np.array_equal(jax.tree.leaves(updated.model.params)[0],
                              jax.tree.leaves(state.model.params)[0])


@pytest.mark.slow  # a whole agent's update compiled: 20-40 s on the shared 2-core machine
def test_the_exploring_agent_counts_one_model_step_per_update():
    env = procmaze()
    agent = agents.make("simple_model", env, hidden=HIDDEN, ensemble_size=2,
                        exploration_bonus=1.0)
    state, updated, metrics = observe_and_update(agent, env)
    assert float(state.model.params.steps) == 0.0 and float(updated.model.params.steps) == 1.0


def test_open_loop_accuracy_of_a_model_that_predicts_no_change():
    # one run of a one-bit observation 0, 0, 1, 1 and a model that predicts "stays the same"
    trajectory = Transition(
        obs=jnp.array([[[0], [0], [1], [1]]], bool),
        action=jnp.zeros((1, 4), jnp.int32),
        reward=jnp.zeros((1, 4)),
        terminal=jnp.zeros((1, 4), bool),
        next_obs=jnp.array([[[0], [1], [1], [0]]], bool),
        state=None,
    )

    def same(transitions, key):
        return (jnp.where(transitions.obs, 30.0, -30.0), None, None)

    # windows start at 0 and 1 (horizon 3): predictions stay at the start's bit, 0 then 0;
    # step 1 right in window 0 (0->0), wrong in 1 (0->1); step 2: 0 vs 1, 0 vs 1; step 3:
    # 0 vs 1, 0 vs 0
    np.testing.assert_allclose(
        open_loop_accuracy(same, trajectory, jax.random.key(0), 3), [0.5, 0.0, 0.5]
    )


# ----------------------------------------------------------------------------- MBPO


@pytest.mark.parametrize("updates, length", [(0, 1), (100, 1), (150, 5), (199, 9), (200, 10),
                                             (10_000, 10)])
def test_scheduled_length_grows_linearly(updates, length):
    assert int(dyna.scheduled_length([100, 200, 1, 10], jnp.int32(updates))) == length


def test_branched_rollouts_restart_every_length_steps_and_keep_the_budget():
    """A toy rollout whose state counts steps since its start, and starts stamped by index:
    with length 3 of at most 10 and 2 rows, row r restarts at steps 0, 3, 6, 9 from start
    b * 2 + r; all 20 transitions have weight 1."""
    q = dqn.q_learner(2, HIDDEN, 0.9)
    learner = q.init(jax.random.key(0), jnp.zeros(2), dqn.Hyper(1e-3, 1.0))
    starts = jnp.stack([jnp.arange(20.0), jnp.zeros(20)], axis=1)  # (stamp, steps since)

    def transition(key, x, action):
        return x + jnp.array([0.0, 1.0]), jnp.zeros(x.shape[0]), jnp.ones(x.shape[0])

    restarts = dyna.branches(starts, jnp.int32(3), 10, 2)
    batch = rollout(jax.random.key(1), q, learner, restarts[1][0], lambda x: x, transition, 10,
                    True, restarts=restarts)
    obs = np.asarray(batch.obs).reshape(10, 2, 2)
    steps = np.arange(10)
    for r in range(2):
        np.testing.assert_array_equal(obs[:, r, 0], (steps // 3) * 2 + r)
        np.testing.assert_array_equal(obs[:, r, 1], steps % 3)
    assert batch.weight.shape == (20,) and np.all(np.asarray(batch.weight) == 1.0)


@pytest.mark.slow  # two whole agents' updates compiled: about 40 s on the shared 2 cores
def test_a_schedule_runs_in_the_simple_model_and_dyna_mix():
    env = procmaze()
    for name in ("simple_model", "dyna_mix"):
        agent = agents.make(name, env, hidden=HIDDEN, rollout_schedule=[0, 4, 1, 10])
        metrics = observe_and_update(agent, env)[2]
        assert float(metrics["rollout_length"]) == 1.0  # no Q update yet: min_length


# ----------------------------------------------------------------------------- MPC


def test_random_shooting_takes_the_first_action_of_the_best_sequence():
    """A model whose reward is the action taken (0, 1 or 2), always continuing, and a Q of
    0 everywhere: the best of 256 sequences of 2 actions is (2, 2) (1 - (8/9)^256 certain),
    so the greedy action is 2; behaving at a tiny temperature too; at a huge one the first
    action is nearly uniform."""
    env = procmaze()  # 4 actions; the model below uses actions 0..3, reward = action
    q = dqn.q_learner(env.num_actions, HIDDEN, 0.9)
    learner = q.init(jax.random.key(0), jnp.zeros(env.obs_size), dqn.Hyper(1e-3, 1.0))
    learner = learner._replace(params=jax.tree.map(jnp.zeros_like, learner.params))
    model = models.LearnedModel(
        init=None, loss=None, start=lambda p, k, obs: obs,
        transition=lambda p, k, x, a: (x, a.astype(jnp.float32), jnp.ones(a.shape[0])),
        predict=None, features_size=env.obs_size,
    )
    act = random_shooting(256, 2, env.num_actions)(q, model)
    obs = jnp.zeros(env.obs_size, bool)

    def state(temperature):
        hyper = dqn.Hyper(jnp.float32(1e-3), jnp.float32(temperature))
        return dyna.AgentState(learner._replace(hyper=hyper), None, models.Trained(None, None))

    @fast_jit
    def actions(keys):
        return (jax.vmap(lambda k: act(state(1.0), obs, k, True))(keys),
                jax.vmap(lambda k: act(state(1e-3), obs, k, False))(keys),
                jax.vmap(lambda k: act(state(1e6), obs, k, False))(keys))

    greedy, cold, hot = actions(jax.random.split(jax.random.key(1), 400))
    assert np.all(np.asarray(greedy) == env.num_actions - 1)
    assert np.all(np.asarray(cold) == env.num_actions - 1)
    hot = np.bincount(np.asarray(hot), minlength=4)
    assert np.all(np.abs(hot - 100) < 60), hot  # 400 draws of 4: sd 8.7, 6.9 sd either side


# ----------------------------------------------------------------------------- settings

BAD = [
    ("simple_model", {"ensemble_size": 0}, "agent.ensemble_size must be a positive integer"),
    ("simple_model", {"ensemble_sampling": "member"}, "agent.ensemble_sampling must be one of"),
    ("simple_model", {"disagreement_penalty": -1.0}, "agent.disagreement_penalty"),
    ("simple_model", {"ensemble_size": 2, "exploration_bonus": -1.0},
     "agent.exploration_bonus must be a number >= 0"),
    ("simple_model", {"exploration_bonus": 1.0},
     r"agent.exploration_bonus must be 0 when agent.ensemble_size is 1 \(the bonus is the "
     r"members' disagreement\); got 1.0."),
    ("simple_model", {"ensemble_size": 2, "exploration_updates": 0},
     "agent.exploration_updates must be a positive integer"),
    ("simple_model", {"model_horizon": 0}, "agent.model_horizon must be a positive integer"),
    ("simple_model", {"rollout_schedule": [0, 10, 1, 5]}, "agent.rollout_schedule must be"),
    ("simple_model", {"rollout_schedule": [10, 0, 1, 10]}, "agent.rollout_schedule must be"),
    ("dyna_mix", {"rollout_schedule": [0, 10, 0, 10]}, "agent.rollout_schedule must be"),
    ("gaussian_latent", {"model_horizon": 2}, None),  # not a setting of the latent agents
    ("mpc", {"horizon": 0}, "agent.horizon must be a positive integer"),
    ("mpc", {"num_sequences": 0}, "agent.num_sequences must be a positive integer"),
    ("mpc", {"planner": "mctx"}, "agent.planner must be one of"),
]


@pytest.mark.parametrize("name, settings, message", BAD)
def test_bad_settings_name_the_key(name, settings, message):
    cfg = config.OmegaConf.create({"name": name, **settings})
    with pytest.raises(config.ConfigError, match=message or f"agent.{next(iter(settings))}"):
        config.make_agent(cfg, procmaze())


def test_mpc_config_builds():
    cfg = config.OmegaConf.load(config.CONFIG_DIR / "agent" / "mpc.yaml")
    config.make_agent(cfg, procmaze())


def test_bad_setting_through_the_cli_exits_2_and_writes_nothing(tmp_path, mbgen_here):
    run_dir = tmp_path / "run"
    result = mbgen_here(["agent=mpc", "agent.horizon=0", f"hydra.run.dir={run_dir}"], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: agent.horizon must be a positive integer; got 0."], lines
    assert not run_dir.exists()


# ----------------------------------------------------------------------------- the experiment

FAMILY_SETTINGS = {  # arm: (agent, settings it must carry)
    "er": ("er", {}),
    "simple_model": ("simple_model", {"ensemble_size": 1, "model_horizon": 1,
                                      "rollout_schedule": None, "td_lambda": 0.0}),
    "ensemble": ("simple_model", {"ensemble_size": 5, "ensemble_sampling": "step"}),
    "mpc": ("mpc", {"planner": "random_shooting", "num_sequences": 16, "horizon": 3}),
    "slbo": ("simple_model", {"model_horizon": 5}),
    "mbpo": ("simple_model", {"rollout_schedule": [0, 4000, 1, 10]}),
}
CEM = {"planner": "cem", "num_sequences": 16, "horizon": 3, "cem_iterations": 2,
       "cem_elites": 2}
EXPLORING = {"ensemble_size": 5, "exploration_bonus": 10.0, "exploration_updates": 2500}
STUDIES = {  # experiment: (its arms and settings, its levels at cpu scale)
    "model_families": (FAMILY_SETTINGS, ["procmaze-2", "panflute-4"]),
    "planners": ({"mpc": FAMILY_SETTINGS["mpc"], "cem": ("mpc", CEM)},
                 ["procmaze-2", "panflute-4"]),
    "plan2explore": ({"ensemble": FAMILY_SETTINGS["ensemble"],
                      "plan2explore": ("simple_model", EXPLORING)},
                     ["procmaze-3", "buttongrid-2"]),
    "lambda_returns": ({"simple_model": FAMILY_SETTINGS["simple_model"],
                        "simple_lambda": ("simple_model", {"td_lambda": 0.8}),
                        "categorical_latent": ("categorical_latent", {"td_lambda": 0.0}),
                        "categorical_lambda": ("categorical_latent", {"td_lambda": 0.8})},
                       ["procmaze-2"]),
}


@pytest.mark.parametrize("experiment", STUDIES)
@pytest.mark.parametrize("scale, seeds, hidden", [
    ("cpu", 5, [64, 64]),
    pytest.param("paper", 30, [200, 200, 200], marks=pytest.mark.slow),
])  # fmt: skip
def test_the_experiment_builds_every_arm_with_its_settings(experiment, scale, seeds, hidden):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    def composed(overrides, **kwargs):
        with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
            return compose("config", overrides=overrides, **kwargs)

    arms, cpu_levels = STUDIES[experiment]
    base = [f"experiment={experiment}", f"scale={scale}"]
    params = OmegaConf.to_container(composed(base, return_hydra_config=True).hydra.sweeper.params,
                                    resolve=True)
    assert params["+family"].split(",") == list(arms)
    if scale == "cpu":
        assert params["level"].split(",") == cpu_levels
    for family, (name, settings) in arms.items():
        for level in params["level"].split(","):
            cfg = config.apply_level(composed([*base, f"+family={family}", f"level={level}"]))
            assert cfg.agent.name == name and list(cfg.agent.hidden) == hidden
            for key, value in settings.items():
                assert OmegaConf.to_container(cfg.agent, resolve=True)[key] == value
            job = config.build(cfg)
            assert job.num_seeds == seeds
            assert list(cfg.save_at) == [int(1_000_000 * cfg.scale.steps_fraction)]
