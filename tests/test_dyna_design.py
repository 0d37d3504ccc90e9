"""Issue 14, the Dyna design choices on the one learner: search control (the first action of
a rollout), expectation against sample models (mean next observations, expected backups over
M samples), and prioritized sampling (prioritized replay for ER, prioritized rollout starts
for the model agents). Small networks and envs: each test compiles a few small programs."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import fast_jit
from scipy import stats

import agents
import envs
from agents import dqn, dyna, priority, replay
from agents.base import Transition
from agents.perfect_model import true_rollouts
from agents.rollout import rollout
from agents.simple_model import SimpleModel

HIDDEN = (16,)
HYPER = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0))


def filled(agent, env, steps: int, key):
    """An agent state after `steps` real steps of random actions (observe only; auto-reset)."""

    def step(carry, key):
        state, env_state, obs = carry
        act_key, step_key, reset_key = jax.random.split(key, 3)
        action = jax.random.randint(act_key, (), 0, env.num_actions)
        next_state, next_obs, reward, terminal = env.step(step_key, env_state, action)
        state = agent.observe(state, Transition(obs, action, reward, terminal, next_obs, env_state))
        reset_state, reset_obs = env.reset(reset_key)
        next_state = jax.tree.map(lambda r, n: jnp.where(terminal, r, n), reset_state, next_state)
        return (state, next_state, jnp.where(terminal, reset_obs, next_obs)), None

    @fast_jit
    def run(key):
        env_state, obs = env.reset(jax.random.key(1))
        carry = (agent.init(jax.random.key(0), HYPER), env_state, obs)
        return jax.lax.scan(step, carry, jax.random.split(key, steps))[0][0]

    return run(key)


# ----------------------------------------------------------------------------- priorities


def test_prioritized_draws_follow_the_priorities_chi_square():
    # 6 filled slots of 8 with hand-set |TD errors|; alpha 0.7. P(i) = p_i / sum p.
    errors = np.array([0.1, 0.5, 1.0, 2.0, 0.0, 3.0], np.float32)
    kept = priority.update(priority.init(8), jnp.arange(6), jnp.asarray(errors), exponent=0.7)
    n = 60_000
    index, _ = priority.sample(kept, jnp.int32(6), jax.random.key(3), n, importance=0.0)
    counts = np.bincount(np.asarray(index), minlength=8)
    assert counts[6:].sum() == 0  # never an empty slot
    p = (errors + 1e-6) ** 0.7
    expected = n * p / p.sum()
    # Slot 4 (error 0) has P ~ 1e-4 / 4.4: too rare for chi-square, so it is checked alone.
    assert counts[4] <= 5
    live = [0, 1, 2, 3, 5]
    chi2 = ((counts[live] - expected[live]) ** 2 / expected[live]).sum()
    # Four degrees of freedom (5 cells, the total fixed up to slot 4's ~0): fail at p < 0.001.
    assert chi2 < stats.chi2.ppf(0.999, df=4), (counts, expected)


def test_importance_weights_are_hand_computed_and_normalised_by_the_batch_max():
    # p = 1, 2, 3, 4 over N = 4 filled slots: P = .1 .2 .3 .4, N P = .4 .8 1.2 1.6,
    # (N P)^-0.5 = 1.58114, 1.11803, 0.91287, 0.79057.
    hand = np.array([1.58114, 1.11803, 0.91287, 0.79057])
    kept = priority.init(4)._replace(value=jnp.array([1.0, 2.0, 3.0, 4.0]))
    index, weight = priority.sample(kept, jnp.int32(4), jax.random.key(0), 50, 0.5)
    index = np.asarray(index)
    assert set(index) == {0, 1, 2, 3}  # 50 draws: every slot (else the max below differs)
    np.testing.assert_allclose(weight, hand[index] / hand[index].max(), rtol=1e-5)
    # With beta 0 every weight is 1; the draw is the same (same key).
    same_index, ones = priority.sample(kept, jnp.int32(4), jax.random.key(0), 50, 0.0)
    np.testing.assert_array_equal(same_index, index)
    np.testing.assert_array_equal(ones, np.ones(50))


def test_the_prioritized_buffer_draws_weights_and_reprioritizes_as_worked_by_hand():
    # alpha 1, beta 0.5. Four items enter at the first maximum, 1; TD errors 1, 2, 3, 4 give
    # p = 1, 2, 3, 4 (+ EPSILON): P = .1 .2 .3 .4, N P = .4 .8 1.2 1.6, and the weights
    # (N P)^-0.5 = 1.58114 1.11803 0.91287 0.79057 over the largest drawn (slot 0's).
    buffer = priority.prioritized(exponent=1.0, importance=0.5)
    kept = buffer.init(jnp.int32(0), 4)
    for item in (10, 11, 12, 13):
        kept = buffer.add(kept, jnp.int32(item))
    np.testing.assert_array_equal(kept.priorities.value, [1, 1, 1, 1])
    kept = buffer.set_priorities(kept, jnp.arange(4), jnp.array([1.0, -2.0, 3.0, 4.0]))
    np.testing.assert_allclose(kept.priorities.value, [1, 2, 3, 4], rtol=1e-5)
    n = 40_000
    drawn = buffer.sample(kept, jax.random.key(0), n)
    index = np.asarray(drawn.index)
    np.testing.assert_array_equal(drawn.items, 10 + index)
    share = np.bincount(index, minlength=4) / n  # 5 standard errors of each proportion
    p = np.array([0.1, 0.2, 0.3, 0.4])
    assert np.all(np.abs(share - p) < 5 * np.sqrt(p * (1 - p) / n)), share
    hand = np.array([1.58114, 1.11803, 0.91287, 0.79057])
    np.testing.assert_allclose(drawn.weight, hand[index] / hand[0], rtol=1e-5)
    # The next item overwrites slot 0 and enters at the largest priority so far, 4.
    kept = buffer.add(kept, jnp.int32(14))
    np.testing.assert_allclose(kept.priorities.value, [4, 2, 3, 4], rtol=1e-5)
    # The uniform buffer: every weight 1, and what is learned changes nothing.
    uniform = replay.UNIFORM.add(replay.UNIFORM.init(jnp.int32(0), 4), jnp.int32(7))
    np.testing.assert_array_equal(replay.UNIFORM.sample(uniform, jax.random.key(0), 5).weight,
                                  np.ones(5))  # fmt: skip
    assert replay.UNIFORM.set_priorities(uniform, jnp.arange(1), jnp.ones(1)) is uniform


def rows(n, weight):
    return dqn.Batch(jnp.zeros((n, 2)), jnp.zeros(n, jnp.int32), jnp.zeros(n), jnp.ones(n),
                     jnp.zeros((n, 2)), jnp.asarray(weight, jnp.float32))  # fmt: skip


def test_a_starts_importance_weight_multiplies_every_step_of_its_rollout():
    # 2 starts (slots 4 and 9, weights .5 and 1), 3 steps, step-major rows; the rollout's
    # own weights (continuation products) are 1, 1 | .8, 1 | .4, 1.
    starts = replay.Sample(None, jnp.array([4, 9]), jnp.array([0.5, 1.0]))
    part = dyna.part_from(starts, rows(6, [1, 1, 0.8, 1, 0.4, 1]), {"m": 1})
    np.testing.assert_allclose(part.batch.weight, [0.5, 1, 0.4, 1, 0.2, 1])
    np.testing.assert_array_equal(part.starts, [4, 9])
    assert part.metrics == {"m": 1}


def test_each_start_gets_the_td_error_of_its_first_step_across_the_parts():
    # 2 rollouts of 2 steps from slots 1 2, then ER's 3 rows from slots 5 6 7: the Q batch's
    # rows 0 1 and 4 5 6 (rows 2 and 3 are the rollouts' second steps).
    imagined = dyna.Part(rows(4, np.ones(4)), jnp.array([1, 2]), {})
    er = dyna.Part(rows(3, np.ones(3)), jnp.array([5, 6, 7]), {})
    index, errors = dyna.first_step_errors([imagined, er], jnp.arange(7.0) * 10)
    np.testing.assert_array_equal(index, [1, 2, 5, 6, 7])
    np.testing.assert_array_equal(errors, [0, 10, 40, 50, 60])


def test_prioritized_er_enters_new_transitions_at_the_max_and_reprioritizes_by_td_error():
    env = envs.make("procmaze", grid_size=3, spontaneous=False)
    alpha = 0.6
    agent = agents.make("er", env, hidden=HIDDEN, priority_exponent=alpha, capacity=16)
    state = filled(agent, env, 5, jax.random.key(2))
    kept = state.replay.priorities
    np.testing.assert_array_equal(kept.value, [1.0] * 5 + [0.0] * 11)  # initial max 1
    after, _ = fast_jit(agent.update)(state, jax.random.key(4))
    # ER's one source draws with the update's key: these slots.
    slots, _ = priority.sample(kept, state.replay.size, jax.random.key(4), 320, 0.0)
    # The TD errors of the drawn transitions under the learner BEFORE the step.
    q = dqn.q_learner(env.num_actions, HIDDEN, 0.9)
    batch = dqn.real_batch(replay.unstore(replay.take(state.replay, slots), env.obs_size))
    _, td = q.loss_and_errors(state.learner.params, state.learner.target_params, batch)
    want = (np.abs(np.asarray(td)) + priority.EPSILON) ** alpha
    updated = after.replay.priorities
    np.testing.assert_allclose(np.asarray(updated.value)[np.asarray(slots)], want, rtol=1e-5)
    assert float(updated.maximum) == pytest.approx(max(1.0, want.max()))
    # A new transition enters at the current maximum.
    newer = filled_next(agent, after, env)
    assert float(newer.replay.priorities.value[5]) == float(updated.maximum)


def filled_next(agent, state, env):
    env_state, obs = env.reset(jax.random.key(9))
    _, next_obs, reward, terminal = env.step(jax.random.key(8), env_state, jnp.int32(1))
    transition = Transition(obs, jnp.int32(1), reward, terminal, next_obs, env_state)
    return agent.observe(state, transition)


# ----------------------------------------------------------------------------- search control


@pytest.mark.parametrize("alpha", [0.0, pytest.param(0.6, marks=pytest.mark.slow)],
                         ids=["uniform", "prioritized"])
def test_perfect_model_with_replayed_first_actions_and_1_step_rollouts_is_er(alpha):
    """The anchor: on a deterministic env (ProcMaze without spontaneous events) the perfect
    model's 1-step rollouts of replayed actions are ER's batch, and its update ER's update.
    The perfect model draws its starts with split(key)[0]; ER draws with its whole key, so ER
    given that key picks the same slots (and, prioritized, the same weights and priorities)."""
    env = envs.make("procmaze", grid_size=3, spontaneous=False)
    common = dict(hidden=HIDDEN, capacity=64, priority_exponent=alpha, importance_exponent=0.5)
    er = agents.make("er", env, **common)
    pm = agents.make("perfect_model", env, rollout_length=1, num_rollouts=320,
                     search_control="replayed", **common)  # fmt: skip
    key = jax.random.key(5)
    er_state = filled(er, env, 40, jax.random.key(6))
    pm_state = filled(pm, env, 40, jax.random.key(6))
    q = dqn.q_learner(env.num_actions, HIDDEN, 0.9)
    buffer = priority.buffer(alpha, 0.5)
    replayed = dyna.SearchControl(replayed=True)

    def draw_and_update(agent, source):
        def both(state, key):
            return source.draw(state, key, buffer)[1].batch, agent.update(state, key)

        return fast_jit(both)

    er_batch, (er_after, er_metrics) = draw_and_update(er, dyna.replayed(env, 320))(
        er_state, jax.random.split(key)[0]
    )
    pm_rollouts = true_rollouts(env, q, 1, 320, replayed)
    pm_batch, (pm_after, pm_metrics) = draw_and_update(pm, pm_rollouts)(pm_state, key)
    assert int(er_batch.continuation.min()) == 0  # the batch includes terminal transitions
    for name in dqn.Batch._fields:
        np.testing.assert_array_equal(
            np.asarray(getattr(er_batch, name), np.float32),
            np.asarray(getattr(pm_batch, name), np.float32),
            err_msg=name,
        )
    assert float(er_metrics["td_loss"]) == float(pm_metrics["td_loss"])
    for a, b in zip(jax.tree.leaves(er_after.learner), jax.tree.leaves(pm_after.learner)):
        np.testing.assert_array_equal(a, b)
    if alpha:
        np.testing.assert_array_equal(er_after.replay.priorities.value,
                                      pm_after.replay.priorities.value)  # fmt: skip
    # With the policy's first action it is not ER (a check that the anchor can fail).
    policy = draw_and_update(pm, true_rollouts(env, q, 1, 320))(pm_state, key)[0]
    assert not np.array_equal(policy.action, er_batch.action)


def test_a_replayed_first_action_is_taken_at_step_0_only():
    q = dqn.q_learner(5, HIDDEN, 0.9)
    hyper = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1e3))
    learner = q.init(jax.random.key(0), jnp.zeros(4), hyper)
    start = jnp.zeros((6, 4))
    first = jnp.array([0, 1, 2, 3, 4, 4], jnp.int32)

    def transition(key, x, action):
        return x + 1.0, action.astype(jnp.float32), jnp.ones(x.shape[0])

    args = (q, learner, start, lambda x: x, transition, 3, False)
    batch = rollout(jax.random.key(1), *args, first_action=first)
    actions = np.asarray(batch.action).reshape(3, 6)
    np.testing.assert_array_equal(actions[0], first)
    np.testing.assert_array_equal(np.asarray(batch.reward).reshape(3, 6)[0], first)
    # Later steps act on Q (temperature 1000: near uniform), the same as without replay.
    plain = rollout(jax.random.key(1), *args)
    np.testing.assert_array_equal(actions[1:], np.asarray(plain.action).reshape(3, 6)[1:])
    assert not np.array_equal(actions[0], np.asarray(plain.action).reshape(3, 6)[0])


# ----------------------------------------------------------------------------- expectation models


def test_the_target_averages_the_next_value_over_m_sampled_next_observations():
    q = dqn.q_learner(2, HIDDEN, 0.5)
    learner = q.init(jax.random.key(0), jnp.zeros(3), HYPER)
    obs = jnp.array([[1.0, 0.0, 1.0]])
    a, b = jnp.array([[0.0, 1.0, 1.0]]), jnp.array([[1.0, 1.0, 0.0]])
    value = lambda x: float(q.q_values(learner, x).max())  # noqa: E731
    batch = dqn.Batch(obs, jnp.array([1]), jnp.array([0.3]), jnp.array([0.8]),
                      jnp.stack([a, b], axis=1), jnp.ones(1))  # fmt: skip
    loss, td = q.loss_and_errors(learner.params, learner.target_params, batch)
    target = 0.3 + 0.5 * 0.8 * (value(a) + value(b)) / 2
    assert float(td[0]) == pytest.approx(target - float(q.q_values(learner, obs)[0, 1]), rel=1e-5)
    assert float(loss) == pytest.approx(float(td[0]) ** 2, rel=1e-5)
    # M = 1 (a sample axis of length 1) is the plain target exactly.
    single = batch._replace(next_obs=a[:, None])
    plain = batch._replace(next_obs=a)
    assert float(q.loss(learner.params, learner.params, single)) == float(
        q.loss(learner.params, learner.params, plain)
    )


def test_a_mean_model_rolls_out_bit_probabilities_and_m_samples_feed_the_target():
    env = envs.make("panflute", num_pipes=3)
    mean = SimpleModel(env.obs_size, env.num_actions, HIDDEN, next_obs="mean")
    params = mean.init(jax.random.key(0))
    obs = jnp.asarray(np.random.default_rng(0).integers(0, 2, (4, env.obs_size)), bool)
    action = jnp.array([0, 1, 2, 0])
    x_next, _, _ = mean.transition(params, jax.random.key(1), mean.start(params, None, obs), action)
    _, _, logits = mean.predict(params, obs.astype(jnp.float32), action)
    np.testing.assert_allclose(x_next, jax.nn.sigmoid(logits), rtol=1e-6)
    assert x_next.dtype == jnp.float32 and 0 < float(x_next.min()) and float(x_next.max()) < 1
    sampled = SimpleModel(env.obs_size, env.num_actions, HIDDEN, target_samples=3)
    x_next, _, _, targets = sampled.transition(params, jax.random.key(1), obs, action)
    assert targets.shape == (4, 3, env.obs_size)
    np.testing.assert_array_equal(x_next, targets[:, 0])  # the rollout goes on from sample 0
    assert not np.array_equal(targets[:, 0], targets[:, 1])  # independent samples


# ----------------------------------------------------------------------------- bad settings

BAD = [
    ("er", dict(priority_exponent=-0.5), "agent.priority_exponent must be a number >= 0"),
    ("simple_model", dict(importance_exponent=2), "agent.importance_exponent must be a number"),
    ("simple_model", dict(target_samples=0), "agent.target_samples must be a positive integer"),
    ("simple_model", dict(search_control="random"), "agent.search_control must be one of"),
    ("perfect_model", dict(search_control="random"), "agent.search_control must be one of"),
    ("simple_model", dict(next_obs="median"), "agent.next_obs must be one of sample, mean"),
    ("simple_model", dict(next_obs="mean", target_samples=4), "agent.target_samples must be 1"),
]


@pytest.mark.parametrize("name,settings,message", BAD, ids=[m for _, _, m in BAD])
def test_bad_settings_raise_one_sentence_naming_the_key(name, settings, message):
    env = envs.make("panflute", num_pipes=3)
    with pytest.raises(ValueError) as error:
        agents.make(name, env, **settings)
    assert str(error.value).startswith(message) and str(error.value).count(". ") == 0


CLI_BAD = [
    ["agent=er", "agent.priority_exponent=-1"],
    ["agent=simple_model", "agent.target_samples=0"],
    ["agent=perfect_model", "agent.search_control=random"],
    ["agent=simple_model", "agent.next_obs=median"],
]


@pytest.mark.parametrize("args", CLI_BAD, ids=[" ".join(a) for a in CLI_BAD])
def test_bad_settings_through_the_cli_exit_2_and_write_nothing(tmp_path, args, mbgen_here):
    run_dir = tmp_path / "run"
    result = mbgen_here([*args, f"hydra.run.dir={run_dir}"], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and args[1].split("=")[0] in lines[0], lines
    assert not run_dir.exists()


# ----------------------------------------------------------------------------- the whole loop

SETTINGS = [
    ("er", "panflute", dict(priority_exponent=0.6)),
    ("simple_model", "buttongrid", dict(search_control="replayed", priority_exponent=0.6)),
    ("simple_model", "panflute", dict(next_obs="mean")),
    ("simple_model", "procmaze", dict(target_samples=3, rollout_length=1, num_rollouts=320)),
    ("perfect_model", "procmaze", dict(search_control="replayed", priority_exponent=0.6)),
    ("gaussian_latent", "panflute", dict(search_control="replayed", priority_exponent=0.6)),
]


@pytest.mark.slow  # six online programs under jit + vmap, about 20 s each on 2 shared cores
@pytest.mark.parametrize(
    "name,env_name,settings", SETTINGS, ids=[f"{a}-{e}-{s}" for a, e, s in SETTINGS]
)
def test_the_new_settings_run_the_online_loop_with_finite_metrics(name, env_name, settings):
    from experiments.online import Regime, make_train

    small = {"procmaze": dict(grid_size=3), "buttongrid": dict(grid_size=3, num_buttons=2),
             "panflute": dict(num_pipes=3)}  # fmt: skip
    env = envs.make(env_name, **small[env_name])
    agent = agents.make(name, env, hidden=HIDDEN, **settings)
    regime = Regime(total_steps=40, updates_per_step=1, target_update_frequency=10,
                    eval_interval=20, learning_starts=10, eval_runs=2, eval_steps=5)  # fmt: skip
    init, run_interval = make_train(env, agent, regime)
    hyper = dqn.Hyper(jnp.full(2, 1e-3), jnp.full(2, 1.0))
    runner = jax.jit(jax.vmap(init))(jax.random.split(jax.random.key(0), 2), hyper)
    step = jax.jit(jax.vmap(run_interval, in_axes=(0, None)))
    for t in (0, 20):
        runner, metrics = step(runner, jnp.int32(t))
    assert all(np.isfinite(np.asarray(v, float)).all() for v in jax.tree.leaves(metrics))
    assert all(np.isfinite(np.asarray(v, float)).all() for v in jax.tree.leaves(runner.agent))


# ----------------------------------------------------------------------------- claims


def arm_stats(rows):
    import pandas as pd

    return pd.DataFrame(
        [dict(env="panflute", regime="high_data", complexity=3, agent="x", arm=arm,
              mean=m, ci95=h, n=5, scale="cpu") for arm, m, h in rows]  # fmt: skip
    )


def test_arm_beats_needs_separated_intervals_and_says_which_way():
    from experiments.analysis.claims import EVERY, FAIL, NOT_RUN, PASS, TOO_SMALL
    from experiments.analysis.claims.dyna_design import arms

    arm_beats = arms("simple", "simple_mean", over=EVERY)
    verdict, shown = arm_beats(arm_stats([("simple", 0.40, 0.01), ("simple_mean", 0.30, 0.05)]))
    assert verdict == PASS and "(simple ahead)" in shown  # 0.39 > 0.35
    verdict, shown = arm_beats(arm_stats([("simple", 0.40, 0.05), ("simple_mean", 0.30, 0.06)]))
    assert verdict == TOO_SMALL and "too small to tell" in shown  # 0.35 < 0.36: overlap
    verdict, shown = arm_beats(arm_stats([("simple", 0.20, 0.01), ("simple_mean", 0.30, 0.01)]))
    assert verdict == FAIL and "(simple_mean ahead)" in shown
    assert arm_beats(arm_stats([("simple", 0.4, 0.01)]))[0] == NOT_RUN
    # `at` keeps only those environments' levels: a ProcMaze loss does not count against a
    # claim about stochastic environments, and a claim without each one it names is NOT RUN.
    import pandas as pd

    panflute = arm_stats([("simple", 0.40, 0.01), ("simple_mean", 0.30, 0.05)])
    procmaze = arm_stats([("simple", 0.20, 0.01), ("simple_mean", 0.30, 0.01)])
    procmaze = procmaze.assign(env="procmaze")
    both = pd.concat([panflute, procmaze])
    assert arm_beats(both)[0] == FAIL
    verdict, shown = arms("simple", "simple_mean", over=EVERY, at={"env": ("panflute",)})(both)
    assert verdict == PASS and "ProcMaze" not in shown
    stochastic = arms("simple", "simple_mean", over=EVERY, at={"env": ("panflute", "buttongrid")})
    assert stochastic(both) == (NOT_RUN, shown + "; ButtonGrid: not run")
    assert stochastic(procmaze)[0] == NOT_RUN


def test_the_offline_search_control_claim_reads_the_replayed_1_step_outcome():
    import pandas as pd

    from experiments.analysis import claims

    claim = next(c for c in claims.CLAIMS if "fails on Path-to-Goal as DQN" in c.text)
    outcomes = pd.DataFrame([dict(agent="model_1step_replayed", coverage="path_to_goal",
                                  succeeded=False, worst_fraction_optimal=0.2)])  # fmt: skip
    assert claim.judge(outcomes)[0] == claims.PASS
    assert claim.judge(outcomes.assign(succeeded=True))[0] == claims.FAIL
    assert claim.judge(outcomes.iloc[:0])[0] == claims.NOT_RUN


# ----------------------------------------------------------------------------- the experiment


def test_every_dyna_design_arm_builds_its_agent_with_one_choice_changed_and_its_own_run_dir():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from experiments import config

    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        base = compose("config", overrides=["experiment=dyna_design"], return_hydra_config=True)
        params = OmegaConf.to_container(base.hydra.sweeper.params, resolve=True)
        assert len(str(params["design"]).split(",")) == 9 and base.scale.num_seeds >= 5
        arms = list(config.choices("design"))  # dyna_design's nine, 3 with 1-step rollouts
        assert len(arms) == 12
        names = set()
        for arm in arms:
            overrides = ["experiment=dyna_design", f"design={arm}", "level=panflute-3"]
            cfg = compose("config", overrides=overrides, return_hydra_config=True)
            assert cfg.arm == arm and list(cfg.agent.hidden) == [64, 64]
            changed = {k for k, v in config.DESIGN_DEFAULTS.items() if cfg.agent.get(k, v) != v}
            paper_arm = arm in ("er", "simple", "perfect", "simple_1step")
            assert len(changed) == (0 if paper_arm else 1), arm
            if arm.startswith("simple"):  # 320 imagined transitions as 1 x 320 or 10 x 32
                shape = (cfg.agent.rollout_length, cfg.agent.num_rollouts)
                assert shape == ((1, 320) if arm.endswith("_1step") else (10, 32)), arm
            names.add(cfg.hydra.run.dir)
            config.make_agent(cfg.agent, config.make_env(config.apply_level(cfg).env))
    assert len(names) == len(arms)  # no two arms share a run directory


def test_the_expectation_experiment_crosses_sample_mean_and_expected_with_both_rollout_lengths():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from experiments import config

    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        for scale, levels in (("cpu", ["panflute-3", "procmaze-2", "buttongrid-1"]),
                              ("paper", ["procmaze-4", "panflute-7", "buttongrid-3"])):  # fmt: skip
            cfg = compose("config", overrides=["experiment=dyna_expectation", f"scale={scale}"],
                          return_hydra_config=True)  # fmt: skip
            params = OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=True)
            arms = str(params["design"]).split(",")
            assert str(params["level"]).split(",") == levels
            assert cfg.scale.num_seeds >= 5
        assert sorted(arms) == sorted(
            ["er"] + [f"simple{kind}{length}" for kind in ("", "_mean", "_expected")
                      for length in ("", "_1step")]  # fmt: skip
        )
        overrides = ["experiment=dyna_expectation", "design=simple_mean_1step",
                     "level=buttongrid-1"]  # fmt: skip
        cfg = compose("config", overrides=overrides)
        assert cfg.agent.next_obs == "mean" and cfg.agent.rollout_length == 1
        assert config.apply_level(cfg).env.name == "buttongrid"
