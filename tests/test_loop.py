import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from fast import FAST_COMPILE, fast_jit
from toys import Countdown, Metronome

import agents
from agents import dqn
from experiments import checkpoint, hooks
from experiments.driver import compile_program, member_keys, run_online, table
from experiments.evaluation import evaluate
from experiments.online import Regime, make_train
from experiments.results import summarize

HYPER = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0))


def small_er(env):
    return agents.make("er", env, batch_size=8, capacity=64, hidden=(16,))


def test_episodic_evaluation_scores_the_first_episode_return_including_its_terminal_step():
    env = Countdown(length=4)  # terminal on the 4th step: return -4, later steps ignored
    agent = small_er(env)
    state = agent.init(jax.random.key(0), HYPER)
    score = fast_jit(lambda s, k: evaluate(env, agent, s, k))(state, jax.random.key(1))
    assert float(score) == -4.0


def test_continuing_evaluation_scores_mean_reward_per_step_over_100_steps():
    env = Metronome()  # reward on steps 2, 5, ..., 98: 33 rewards in 100 steps
    agent = small_er(env)
    score = evaluate(env, agent, agent.init(jax.random.key(0), HYPER), jax.random.key(1))
    assert np.isclose(float(score), 0.33)


def _same(a, b) -> bool:
    return all(jax.tree.leaves(jax.tree.map(lambda x, y: bool(jnp.array_equal(x, y)), a, b)))


def test_updates_start_at_learning_starts_and_the_target_is_copied_on_the_step_schedule():
    # One env step per call, so the learner can be read after every step t = 1..17.
    env = Countdown(length=5)
    regime = Regime(
        total_steps=17,
        updates_per_step=2,
        target_update_frequency=5,
        eval_interval=1,
        learning_starts=10,
        eval_runs=1,
        eval_steps=1,
    )
    init, run_interval = make_train(env, small_er(env), regime)
    run_interval = fast_jit(run_interval)
    runner, params, losses = init(jax.random.key(0), HYPER), {}, {}
    for t in range(1, 18):
        runner, metrics = run_interval(runner, jnp.int32(t - 1))
        params[t], losses[t] = runner.agent.learner.params, float(metrics["td_loss"])
    learner = runner.agent.learner
    # Steps 10..17 learn, `updates_per_step` Adam steps each; none before step 10.
    assert int(learner.opt_state[0].count) == 2 * (17 - 10 + 1)
    assert np.isnan(losses[9]) and np.isfinite(losses[10])
    assert _same(params[1], params[9]) and not _same(params[9], params[10])
    # Step 17 is between copies: the target is the network as it was after step 15, the
    # last copy, and not the one of step 16 or 17.
    assert _same(learner.target_params, params[15])
    assert not _same(learner.target_params, params[16])
    assert not _same(learner.target_params, learner.params)


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


def online(env, agent, hyper, keys):
    program = compile_program(env, agent, TINY, len(keys), compiler_options=FAST_COMPILE)
    return run_online(program, program.init(keys, hyper))


def test_the_same_seed_gives_bit_identical_metrics_and_another_seed_does_not():
    # One compiled program (compiling is most of the cost), run from fresh states.
    env = Countdown(length=3)
    program = compile_program(env, small_er(env), TINY, 2, compiler_options=FAST_COMPILE)
    hyper = dqn.Hyper(jnp.full(2, 1e-3), jnp.full(2, 1.0))
    first, again, other = (
        run_online(program, program.init(member_keys(seed, 2), hyper)) for seed in (0, 0, 1)
    )
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not np.array_equal(first["td_loss"].to_numpy(), other["td_loss"].to_numpy())
    assert first.shape[0] == 2 * 2 and {"member", "step", "score", "td_loss"} <= set(first)


def test_a_diverging_seed_is_marked_and_still_scored_while_the_others_go_on_unharmed():
    env = Countdown(length=3)
    keys = member_keys(0, 2)
    both = online(env, small_er(env), dqn.Hyper(jnp.array([1e-3, 1e30]), jnp.ones(2)), keys)
    alone = online(env, small_er(env), dqn.Hyper(jnp.array([1e-3]), jnp.ones(1)), keys[:1])
    last = both[both["step"] == 40]
    assert last["diverged"].tolist() == [False, True]
    np.testing.assert_allclose(
        both.loc[both["member"] == 0, "td_loss"], alone["td_loss"], rtol=1e-6
    )
    assert last["score"].tolist() == [-3.0, -3.0]  # its greedy play is still evaluated
    summary = summarize(both.assign(score=np.where(both["member"] == 1, 1e9, both["score"])))
    assert summary["num_diverged"] == 1 and summary["final_score_mean"] > 1e8  # 1e9 counted


def test_members_run_in_blocks_give_the_same_metrics_as_one_wide_vmap():
    # 5 members in blocks of 2: two full blocks and a remainder of one.
    env = Countdown(length=3)
    agent = small_er(env)
    hyper = dqn.Hyper(jnp.geomspace(1e-4, 1e-2, 5), jnp.linspace(0.5, 2.0, 5))
    keys = member_keys(3, 5)

    def run(block):
        program = compile_program(env, agent, TINY, 5, block=block, compiler_options=FAST_COMPILE)
        return run_online(program, program.init(keys, hyper))

    blocked, wide = run(2), run(0)
    np.testing.assert_allclose(blocked["td_loss"], wide["td_loss"], rtol=1e-5)
    pd.testing.assert_frame_equal(blocked.drop(columns="td_loss"), wide.drop(columns="td_loss"))
    assert blocked["td_loss"].nunique() == len(blocked)  # the members really differ


def test_hooks_see_every_interval_and_a_checkpoint_resumes_to_the_same_metrics(tmp_path):
    env = Countdown(length=3)
    program = compile_program(env, small_er(env), TINY, 2, compiler_options=FAST_COMPILE)
    hyper = dqn.Hyper(jnp.full(2, 1e-3), jnp.full(2, 1.0))
    keys = member_keys(0, 2)
    seen = []
    track = hooks.on_interval(lambda step, metrics: seen.append((step, len(metrics["score"]))))
    whole = run_online(program, program.init(keys, hyper), hooks=(track,))
    assert seen == [(20, 2), (40, 2)]

    class Killed(Exception):
        pass

    def kill_after_the_first_interval(step, runner, metrics):
        if step == 20:
            raise Killed

    path = tmp_path / "checkpoint.npz"
    checkpoints = hooks.Checkpoints(path, "tiny", 1, TINY)
    with pytest.raises(Killed):
        run_online(
            program, program.init(keys, hyper), hooks=(checkpoints, kill_after_the_first_interval)
        )
    again = hooks.Checkpoints(path, "tiny", 1, TINY)
    runner, first, done = again.resume(program.init(keys, hyper))
    assert first == 1 and done["step"].tolist() == [20, 20]
    rest = run_online(program, runner, first=first, hooks=(again,))
    pd.testing.assert_frame_equal(table([done, rest]), whole, check_exact=True)
    with pytest.raises(checkpoint.MismatchError):
        hooks.Checkpoints(path, "another run", 1, TINY).resume(program.init(keys, hyper))


def test_learning_in_a_dream_keeps_only_the_first_random_steps_and_learns_on_after_them():
    # An agent that would always take action 1: while the random policy collects (steps
    # 1..12) the stored actions are uniform draws, both actions appear; afterwards nothing
    # more is stored, and the agent still updates once per step until the run ends.
    env = Countdown(length=5)
    er = small_er(env)
    always_one = er._replace(act=lambda state, obs, key, greedy: jnp.int32(1))
    regime = Regime(total_steps=20, updates_per_step=1, target_update_frequency=5,
                    eval_interval=20, learning_starts=4, eval_runs=1, eval_steps=1)

    def run(random_data):
        dream = Regime(**{**regime.__dict__, "random_data": random_data})
        init, run_interval = make_train(env, always_one, dream)
        runner, _ = fast_jit(run_interval)(init(jax.random.key(0), HYPER), jnp.int32(0))
        return runner.agent

    dreamt, awake = run(12), run(None)
    assert int(dreamt.replay.size) == 12 and int(awake.replay.size) == 20
    kept = np.asarray(dreamt.replay.items.action[:12])
    assert set(kept) == {0, 1}
    assert set(np.asarray(awake.replay.items.action[:20])) == {1}
    # learning is unchanged by what is kept: steps 4..20 update, in both runs
    assert int(dreamt.learner.opt_state[0].count) == int(awake.learner.opt_state[0].count) == 17
