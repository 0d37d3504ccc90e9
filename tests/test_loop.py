import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from toys import Countdown, Metronome

from agents import dqn
from agents.er import make_er
from experiments.driver import compile_program, member_keys, run_online
from experiments.evaluation import evaluate
from experiments.online import Regime, make_train
from experiments.results import summarize

HYPER = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0))


def small_er(env):
    return make_er(env, batch_size=8, capacity=64, hidden=(16,))


def test_episodic_evaluation_scores_the_first_episode_return_including_its_terminal_step():
    env = Countdown(length=4)  # terminal on the 4th step: return -4, later steps ignored
    agent = small_er(env)
    score = evaluate(env, agent, agent.init(jax.random.key(0), HYPER), jax.random.key(1))
    assert float(score) == -4.0


def test_continuing_evaluation_scores_mean_reward_per_step_over_100_steps():
    env = Metronome()  # reward on steps 2, 5, ..., 98: 33 rewards in 100 steps
    agent = small_er(env)
    score = evaluate(env, agent, agent.init(jax.random.key(0), HYPER), jax.random.key(1))
    assert np.isclose(float(score), 0.33)


def test_after_a_terminal_step_the_next_transition_starts_from_the_reset_observation():
    env = Countdown(length=3)
    agent = small_er(env)
    regime = Regime(
        total_steps=8,
        updates_per_step=1,
        target_update_frequency=1,
        eval_interval=8,
        learning_starts=100,
        eval_runs=1,
        eval_steps=1,
    )
    init, run_interval = make_train(env, agent, regime)
    runner, _ = run_interval(init(jax.random.key(0), HYPER), jnp.int32(0))
    replay = runner.agent.replay
    times = np.argmax(np.unpackbits(np.asarray(replay.items.obs), axis=-1)[:8, :16], axis=-1)
    assert times.tolist() == [0, 1, 2, 0, 1, 2, 0, 1]
    assert np.asarray(replay.items.terminal)[:8].tolist() == [0, 0, 1, 0, 0, 1, 0, 0]


def test_updates_start_at_learning_starts_and_the_target_is_copied_on_the_step_schedule():
    env = Countdown(length=5)
    agent = small_er(env)
    regime = Regime(
        total_steps=30,
        updates_per_step=2,
        target_update_frequency=5,
        eval_interval=10,
        learning_starts=10,
        eval_runs=1,
        eval_steps=1,
    )
    init, run_interval = make_train(env, agent, regime)
    run_interval = jax.jit(run_interval)
    runner = init(jax.random.key(0), HYPER)
    runner, first = run_interval(runner, jnp.int32(0))  # steps 1..10: one update, at t=10
    start = runner.agent.learner.params
    runner, second = run_interval(runner, jnp.int32(10))
    assert np.isfinite(first["td_loss"]) and np.isfinite(second["td_loss"])
    # The interval ends on t = 20, a multiple of 5: the target was just copied.
    learner = runner.agent.learner
    same = jax.tree.map(
        lambda a, b: bool(jnp.array_equal(a, b)), learner.params, learner.target_params
    )
    assert all(jax.tree.leaves(same))
    assert not all(
        jax.tree.leaves(
            jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), start, learner.params)
        )
    )
    late = Regime(
        total_steps=30,
        updates_per_step=1,
        target_update_frequency=5,
        eval_interval=10,
        learning_starts=11,
        eval_runs=1,
        eval_steps=1,
    )
    _, metrics = make_train(env, agent, late)[1](init(jax.random.key(0), HYPER), jnp.int32(0))
    assert np.isnan(metrics["td_loss"])  # no update before learning starts


# Two evaluations of 20 steps, learning from step 5, target copied every 4 steps.
TINY = Regime(
    total_steps=40,
    updates_per_step=1,
    target_update_frequency=4,
    eval_interval=20,
    learning_starts=5,
    eval_runs=2,
    eval_steps=5,
)


def _tiny_run(seed):
    env = Countdown(length=3)
    hyper = dqn.Hyper(jnp.full(2, 1e-3), jnp.full(2, 1.0))
    return run_online(env, small_er(env), TINY, hyper, member_keys(seed, 2), progress=False)


def test_the_same_seed_gives_bit_identical_metrics_and_another_seed_does_not():
    first, again, other = _tiny_run(0), _tiny_run(0), _tiny_run(1)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not np.array_equal(first["td_loss"].to_numpy(), other["td_loss"].to_numpy())
    assert first.shape[0] == 2 * 2 and {"member", "step", "score", "td_loss"} <= set(first)


def test_a_diverging_seed_is_marked_and_excluded_while_the_others_go_on_unharmed():
    env = Countdown(length=3)
    keys = member_keys(0, 2)
    both = run_online(
        env,
        small_er(env),
        TINY,
        dqn.Hyper(jnp.array([1e-3, 1e30]), jnp.array([1.0, 1.0])),
        keys,
        progress=False,
    )
    alone = run_online(
        env,
        small_er(env),
        TINY,
        dqn.Hyper(jnp.array([1e-3]), jnp.array([1.0])),
        keys[:1],
        progress=False,
    )
    last = both[both["step"] == 40]
    assert last["diverged"].tolist() == [False, True]
    np.testing.assert_allclose(
        both.loc[both["member"] == 0, "td_loss"], alone["td_loss"], rtol=1e-6
    )
    summary = summarize(both.assign(score=np.where(both["member"] == 1, 1e9, both["score"])))
    assert summary["num_diverged"] == 1 and summary["final_score_mean"] < 0  # 1e9 excluded


def test_members_run_in_blocks_give_the_same_metrics_as_one_wide_vmap():
    # 5 members in blocks of 2: two full blocks and a remainder of one.
    env = Countdown(length=3)
    agent = small_er(env)
    hyper = dqn.Hyper(jnp.geomspace(1e-4, 1e-2, 5), jnp.linspace(0.5, 2.0, 5))
    keys = member_keys(3, 5)

    def run(block):
        program = compile_program(env, agent, TINY, 5, block=block)
        return run_online(env, agent, TINY, hyper, keys, progress=False, program=program)

    blocked, wide = run(2), run(0)
    np.testing.assert_allclose(blocked["td_loss"], wide["td_loss"], rtol=1e-5)
    pd.testing.assert_frame_equal(blocked.drop(columns="td_loss"), wide.drop(columns="td_loss"))
    assert blocked["td_loss"].nunique() == len(blocked)  # the members really differ
