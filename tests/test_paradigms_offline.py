"""Issue 13 in the offline grid world: the GPS and distractor variants of its observations
(envs/gridworld.py `Variant`), the linear and tabular learners of the equivalence control
(experiments/offline/learners.py), the Q gap table, and the settings' checks via the CLI."""


import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from agents import dqn, models, replay
from envs import gridworld as gw
from experiments import config
from experiments.driver import member_keys
from experiments.offline import dataset, learners, report, training
from experiments.settings import OfflineSettings

UP, LEFT, DOWN, RIGHT = range(4)  # the GPS bits
# walls (1,0) (1,1): the corridor (2,0) (2,1) (2,2) (1,2) (0,2) (0,1)
E1 = gw.evaluation_layouts()["E1"]


def observation(walls, cell):
    return np.asarray(gw.cell_observations(walls))[gw.open_cells(walls).index(cell)][None]


@pytest.mark.parametrize(
    "walls, cell, lit",
    [(E1, (2, 0), [RIGHT]), (E1, (2, 2), [UP]), (E1, (1, 2), [UP]), (E1, (0, 1), [LEFT]),
     (gw.walls_at((2, 2)), (1, 1), [UP, LEFT]),   # two shortest paths in an open grid
     (gw.walls_at((0, 1)), (0, 2), [DOWN])],      # around the wall
)  # fmt: skip
def test_gps_bits_by_hand(walls, cell, lit):
    bits = gw.Variant(gps=True).gps_bits(observation(walls, cell))[0]
    np.testing.assert_array_equal(np.flatnonzero(bits), sorted(lit))


def test_gps_bits_are_off_on_the_goal():
    goal_obs = gw.observe(gw.GridWorldState(jnp.array([0, 0]), jnp.asarray(E1)))
    assert not gw.Variant(gps=True).gps_bits(np.asarray(goal_obs)[None]).any()


def test_gps_bits_are_the_optimal_moves_of_every_dataset_observation():
    """The shared GPS code (envs/variants.py, ProcMaze's too) against the grid's own value
    iteration, on all 680 observations of the all-evaluation data."""
    data = gw.dataset("all_evaluation")
    obs = np.concatenate([data.obs, data.next_obs])
    bits = gw.Variant(gps=True).gps_bits(obs)
    layouts = {}  # value iteration once per wall layout
    for o, lit in zip(obs, bits):
        agent, walls = divmod(int(o[:9].argmax()), 3), o[18:27]
        if walls.tobytes() not in layouts:
            layouts[walls.tobytes()] = gw.optimal_actions(walls.reshape(3, 3))
        best = layouts[walls.tobytes()].get(agent, frozenset())
        assert [a in best for a in range(1, 5)] == list(lit), (agent, walls)


def test_the_default_variant_is_figure_1s_data():
    plain = gw.dataset("path_to_goal")
    for ours, theirs in zip(dataset.training_set("path_to_goal"), plain):
        np.testing.assert_array_equal(ours, theirs)
    assert dataset.evaluation_observations().shape == (2, 6, 36)


@pytest.mark.parametrize("kind", ["iid", "counter"])
def test_distractors_leave_the_task_alone(kind):
    variant = gw.Variant(gps=True, distractors=5, distractor_kind=kind)
    plain, varied = gw.dataset("single_cell"), dataset.training_set("single_cell", variant)
    assert varied.obs.shape == (len(plain.action), 36 + 4 + 5) and variant.obs_size == 45
    np.testing.assert_array_equal(varied.obs[:, :36], plain.obs)
    np.testing.assert_array_equal(varied.next_obs[:, :36], plain.next_obs)
    for field in ("action", "reward", "terminal"):
        np.testing.assert_array_equal(getattr(varied, field), getattr(plain, field))
    now, after = varied.obs[:, -5:], varied.next_obs[:, -5:]
    if kind == "counter":
        value = lambda bits: (bits * 2 ** np.arange(5)).sum(-1)  # noqa: E731
        np.testing.assert_array_equal((value(now) + 1) % 32, value(after))
    else:  # 290 x 5 fair coins each side: means within 5 standard errors (0.066) of 0.5
        for bits in (now, after):
            assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)
        assert (now != after).any()


def test_every_state_of_the_world_has_its_own_table_row():
    layouts = [*gw.basic_layouts(), *gw.evaluation_layouts().values()]
    obs = np.concatenate([gw.cell_observations(w) for w in layouts])
    rows = np.asarray(learners.state_index(jnp.asarray(obs)))
    assert len(set(rows.tolist())) == len(rows) == 8 * 7 + 2 * 6
    assert rows.max() < learners.NUM_STATES - 1
    gps = gw.Variant(gps=True).observations(obs, 0)  # GPS bits do not move a state's row
    np.testing.assert_array_equal(np.asarray(learners.state_index(jnp.asarray(gps))), rows)
    garbage = np.zeros((2, 36), bool)
    garbage[1, :2] = True  # no agent bit; two agent bits
    assert (np.asarray(learners.state_index(jnp.asarray(garbage))) == learners.NUM_STATES - 1).all()


def test_a_tabular_model_leaves_unvisited_rows_at_their_initialization():
    """After training on the Path-to-Goal data, the model knows E1's optimal moves and has
    nothing for the others: reward 0 and no successor (continuation ~ 0)."""
    model = learners.model("tabular", gw.OBS_SIZE, gw.NUM_ACTIONS, ())
    data = dataset.as_replay(gw.dataset("path_to_goal"))
    trained = models.start_training(model.init(jax.random.key(0)))

    def step(trained, t):
        batch = replay.sample(data, jax.random.fold_in(jax.random.key(1), t), 32)
        return models.train_step(trained, model.loss, 0.05, None, batch)

    trained, _ = jax.jit(lambda tr: jax.lax.scan(step, tr, jnp.arange(3000)))(trained)
    start = observation(E1, (2, 0))
    reward, continuation, next_obs = model.predict(
        trained.params, jnp.asarray(np.repeat(start, 5, 0)), jnp.arange(5)
    )
    seen = RIGHT + 1  # the one optimal action there
    assert abs(float(reward[seen]) + 1) < 0.3 and jax.nn.sigmoid(continuation[seen]) > 0.99
    assert int(jnp.argmax(next_obs[seen, :9])) == 2 * 3 + 1  # lands on (2, 1)
    unseen = np.array([a for a in range(5) if a != seen])
    np.testing.assert_array_equal(np.asarray(reward[unseen]), 0.0)
    # untouched but for Adam's decoupled weight decay (x <- x - 1e-6 x per step: 0.06 in
    # 3000 steps, give or take float32 rounding); the seen action's climbed to > +4.6
    decay = 20.0 * 3000 * dqn.WEIGHT_DECAY
    assert np.all(np.abs(np.asarray(continuation[unseen]) + 20.0) < 1.1 * decay)


def test_linear_maps_start_at_zero_and_a_linear_model_has_a_map_per_action():
    q = learners.q_network("linear", 5, ())
    params = q.init(jax.random.key(0), jnp.zeros(40, bool))
    assert jax.tree.leaves(params)[0].shape == (41, 5)  # 40 bits and the constant
    assert not np.asarray(q.apply(params, jnp.ones(40, bool))).any()
    model = learners.LinearModel(36, 5, "linear")
    x = model.inputs(jnp.ones(36, bool), jnp.int32(2))
    assert x.shape == (5 * 37,) and x.sum() == 37 and x[2 * 37 : 3 * 37].all()


def test_q_gaps_by_hand():
    rows = []
    for agent, values in (("dqn", [0.0, -1.0]), ("model_1step", [0.5, -1.25])):
        for action, value in enumerate(values):
            rows.append(dict(agent=agent, coverage="path_to_goal", member=0, layout="E1",
                             row=2, col=0, action=action, q_value=value))  # fmt: skip
    gaps = report.q_gaps(pd.DataFrame(rows))
    assert gaps.to_dict("records") == [
        {"agent": "model_1step", "coverage": "path_to_goal", "member": 0, "max_abs_q_gap": 0.5}
    ]


@pytest.mark.slow  # compiles four offline phases (about 25 s on the shared cores)
def test_a_tiny_tabular_run_with_gps_bits():
    settings = OfflineSettings(4, 4, 2, (8,), 32, 1e-2, 2, learner="tabular", gps=True)
    hyper = dqn.Hyper(jnp.full(2, 1e-2), jnp.full(2, 1.0))
    raw = training.run(settings, hyper, member_keys(0, 2), ("dqn", "model_1step"),
                       ("path_to_goal",), False)  # fmt: skip
    tables = report.tables(raw)
    assert len(tables["q_values"]) == 2 * 2 * 12 * 5
    assert len(tables["q_gaps"]) == 2 and np.isfinite(tables["q_gaps"]["max_abs_q_gap"]).all()


TINY = ["experiment=fig1", "scale.num_seeds=2", "scale.model_steps=4", "scale.q_steps=4",
        "scale.chunk=2", "offline.hidden=[8]", "progress=false"]  # fmt: skip


@pytest.mark.parametrize(
    "args, message",
    [
        (["offline.learner=forest"], "offline.learner must be one of network, linear, tabular"),
        (["offline.distractors=-1"], "offline.distractors must be an integer >= 0"),
        (["offline.distractor_kind=walker"], "offline.distractor_kind must be one of iid, counter"),
        (["offline.gps=1"], "offline.gps must be true or false"),
        (["offline.learner=tabular", "offline.distractors=2"], "offline.distractors must be 0"),
        (["offline.learner=linear", "offline.agents=[dqn,deepmdp_10step]"],
         "offline.agents deepmdp_10step need offline.learner=network"),
    ],
)
def test_bad_variant_settings_are_one_sentence(args, message):
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        cfg = compose("config", overrides=[*TINY, *args])
    with pytest.raises(config.ConfigError) as error:
        config.build_offline(cfg)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_bad_learner_exits_2_and_leaves_nothing(tmp_path, mbgen_here):
    run_dir = tmp_path / "run"
    result = mbgen_here([*TINY, "offline.learner=forest", f"hydra.run.dir={run_dir}"], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: offline.learner must be one of network, linear, tabular; got 'forest'."
    ], lines
    assert not run_dir.exists()


def test_paradigms_config_composes_every_case():
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        for case in ("network", "tabular", "linear_gps", "network_counter8"):
            cfg = compose("config", overrides=["experiment=paradigms", f"paradigm={case}"])
            job = config.build_offline(cfg)
            learner = case.split("_")[0]
            assert job.settings.learner == learner and job.num_seeds == 5
            if learner == "network":  # the two levels the predictions are about, and deepmdp
                assert job.coverages == ("path_to_goal", "single_cell")
                assert job.agents == ("dqn", "model_1step", "model_10step", "deepmdp_10step")
            else:  # tables and linear maps: all 12 outcomes, no latent model
                assert job.coverages == gw.COVERAGES
                assert job.agents == ("dqn", "model_1step", "model_10step")


def test_the_deepmdp_phase_trains_its_target_slowly_and_q_reads_encoded_cells():
    """The offline DeepMDP phase applies the EMA after each step (the target moves by
    target_rate towards the encoder, not to it), and a latent agent's Q-values of the
    evaluation cells are those of their encodings."""
    settings = OfflineSettings(4, 4, 2, (8,), 32, 1e-2, 2)
    model = training.deepmdp(settings, gw.OBS_SIZE)
    data = dataset.as_replay(gw.dataset("path_to_goal"))
    params = model.init(jax.random.key(0))
    chunk = training.model_phase(settings, model, predictions=False)
    trained, metrics = chunk(models.start_training(params), jax.random.key(1), 0, data, None)
    assert set(metrics) == {"loss"} and np.isfinite(metrics["loss"])
    after = trained.params
    def largest_change(new, old):
        return max(jax.tree.leaves(jax.tree.map(lambda a, b: jnp.abs(a - b).max(), new, old)))

    moved = largest_change(after.encoder, params.encoder)
    target_moved = largest_change(after.target_encoder, params.target_encoder)
    # Two steps at rate 0.01: the target moves about 1-2% of the encoder's way.
    assert 0 < target_moved < 0.05 * moved
    q = dqn.DQN(dqn.mlp(gw.NUM_ACTIONS, (8,)))
    hyper = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0))
    learner = q.init(jax.random.key(2), jnp.zeros(model.latent_size), hyper)
    agent = training.AGENTS["deepmdp_1step"]
    encode = lambda p, obs: model.start(p, None, obs)  # noqa: E731
    phase = training.q_phase(settings, q, agent.batch(q, model), encode)
    learner, metrics = phase(learner, jax.random.key(3), 0, data, after)
    cells = jnp.asarray(dataset.evaluation_observations())
    np.testing.assert_allclose(
        metrics["q_values"], q.q_values(learner, model.start(after, None, cells)), rtol=1e-6
    )


def test_paradigm_judges_say_too_small_to_tell_when_the_rule_cannot_separate():
    from experiments.analysis import claims

    rows = []
    for case, fractions in (("network_gps", [0.5, 0.7, 0.6]), ("network", [0.6, 0.5, 0.7])):
        for m, f in enumerate(fractions):
            rows.append(dict(case=case, agent="dqn", coverage="path_to_goal", member=m,
                             fraction_optimal=f, succeeded=True, max_abs_q_gap=0.0,
                             scale="cpu"))  # fmt: skip
    table = pd.DataFrame(rows)
    verdict, shown = claims.paradigms.paradigm_better(
        table, ("network_gps", "dqn", "path_to_goal"), ("network", "dqn", "path_to_goal")
    )
    assert verdict == claims.TOO_SMALL and "0.60" in shown
    # nothing to disappear: no network model agent beats DQN
    tabular = table.assign(case="tabular")
    network = table.assign(case="network")
    both = pd.concat([tabular, tabular.assign(agent="model_1step"),
                      network, network.assign(agent="model_1step")])  # fmt: skip
    assert claims.paradigms.advantage_disappears(both, "tabular")[0] == claims.TOO_SMALL
    assert claims.paradigms.advantage_disappears(both, "linear")[0] == claims.NOT_RUN
