"""The `speed` settings (configs/speed/) change how a run's program is built, not the
computation: with XLA's optimizations at the tests' level 1 (tests/conftest.py) and small
networks, both at once give the default's metrics and final states bit for bit. At the default
level, branches=select moves the last bits of the model-based agents' results (docs/gpu.md;
scripts/golden.py with --set speed.branches=select shows it)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents
import envs
from agents import dqn
from experiments.config import ConfigError
from experiments.driver import advance, compile_program, member_keys, speed_settings
from experiments.online import Regime, Speed

# Two intervals of 11 steps: learning starts at step 5 and the target is copied every 4
# steps, so both sides of both branches are taken (the last copy at step 20, two updates
# before the end); 11 is no multiple of the unroll 5.
REGIME = Regime(
    total_steps=22,
    updates_per_step=2,
    target_update_frequency=4,
    eval_interval=11,
    learning_starts=5,
    eval_runs=1,
    eval_steps=3,
)


SMALL = {"er": {"batch_size": 8}, "simple_model": {"model_batch_size": 8}}


def run(agent_name: str, speed: Speed):
    """The final states and every interval's metrics of 2 members, on the host."""
    env = envs.make("panflute", num_pipes=3)
    agent = agents.make(agent_name, env, capacity=64, hidden=(16,), **SMALL[agent_name])
    program = compile_program(env, agent, REGIME, 2, block=0, speed=speed)
    runner = program.init(member_keys(0, 2), dqn.Hyper(jnp.full(2, 1e-2), jnp.ones(2)))
    results = advance(program.interval, runner, [0, 11], 11)
    return jax.device_get(jax.tree.map(raw_bits, results))


def raw_bits(leaf):
    """A random key as its raw bits, which compare as numbers; any other leaf as it is."""
    return jax.random.key_data(leaf) if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key) else leaf


# The simple model adds the model's update and its rollouts (scans and branches of their own);
# its two optimized compiles take minutes here.
@pytest.mark.parametrize("agent_name", ["er", pytest.param("simple_model", marks=pytest.mark.slow)])
def test_every_speed_setting_gives_the_default_results_bit_for_bit(agent_name):
    default = run(agent_name, Speed())
    (state, history) = default
    assert np.isfinite(history[-1]["td_loss"]).all()  # it learned
    learner = state.agent.learner
    copied = jax.tree.map(np.array_equal, learner.params, learner.target_params)
    assert not all(jax.tree.leaves(copied))  # updated since the last copy
    # Every setting at once: one compile, and a change of results by either one shows.
    other = run(agent_name, Speed(scan_unroll=5, branches="select"))
    same = jax.tree.map(lambda a, b: np.array_equal(a, b, equal_nan=True), default, other)
    assert all(jax.tree.leaves(same))


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"scan_unroll": 0}, "speed.scan_unroll must be a positive integer; got 0."),
        ({"branches": "if"}, "speed.branches must be one of cond, select; got 'if'."),
        ({"unroll": 2}, "speed.unroll is not a setting; the settings of speed are"),
    ],
)
def test_a_bad_speed_setting_is_refused_naming_the_key(settings, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        speed_settings(settings)


def test_the_config_group_default_is_todays_program():
    assert speed_settings({"scan_unroll": 1, "branches": "cond"}) == Speed()


def test_mbgen_refuses_a_bad_speed_setting_in_one_sentence_and_writes_nothing(
    tmp_path, mbgen_here
):
    root = tmp_path / "results"
    result = mbgen_here(["speed.branches=maybe", f"results_root={root}"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: speed.branches must be one of cond, select; got 'maybe'."
    )
    assert not root.exists()
