"""Members sharded over every local device (experiments/driver.py): a run split over two
(simulated) CPU devices gives the metrics of the same run on one; a width is split over as
many CPU devices as divide it, and refused on accelerators it does not split over evenly.

XLA's device count is fixed when JAX starts, and this process has started it already, so
each configuration runs in a fresh interpreter (`child`) that pickles what it measured.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TESTS = Path(__file__).parent


def child(out: str, devices: int) -> None:
    """A tiny ER run of 4 members on every local device (on two, also with each device's
    share in blocks of 1), and how many devices an uneven width and a grid search's chunks
    get on this machine, pickled to `out`."""
    import jax
    import jax.numpy as jnp

    import agents
    import envs
    from agents import dqn
    from experiments import driver, grid_search
    from experiments.online import Regime
    from experiments.settings import Grid

    env = envs.make("panflute", num_pipes=2)
    agent = agents.make("er", env, batch_size=16, capacity=256, hidden=(16,))
    regime = Regime(
        total_steps=200,
        updates_per_step=1,
        target_update_frequency=10,
        eval_interval=100,
        learning_starts=20,
        eval_runs=4,
        eval_steps=10,
    )
    hyper = dqn.Hyper(jnp.geomspace(1e-4, 1e-2, 4), jnp.linspace(0.5, 2.0, 4))
    keys = driver.member_keys(7, 4)

    def run(block):
        program = driver.compile_program(env, agent, regime, 4, block=block)
        runner = program.init(keys, hyper)
        shares = sorted(len(s.data) for s in runner.obs.addressable_shards)
        return driver.run_online(program, runner), shares

    tables = {"wide": run(0)} | ({"blocked": run(1)} if devices == 2 else {})
    uneven = len(driver.member_devices(3))  # on a CPU: the most devices that divide 3
    widths = [
        grid_search.chunk_width(env, agent, regime, Grid((0,), (0,), chunk_size=c), 5, print)
        for c in (3, 8)
    ]
    facts = dict(devices=jax.local_device_count(), uneven=uneven, widths=widths)
    pd.to_pickle((tables, facts), out)


def start_child(devices: int, out: Path) -> subprocess.Popen:
    flags = os.environ.get("XLA_FLAGS", "")
    env = dict(
        os.environ,
        XLA_FLAGS=f"{flags} --xla_force_host_platform_device_count={devices}",
        JAX_PLATFORMS="cpu",
    )
    code = f"import test_sharding; test_sharding.child({str(out)!r}, {devices})"
    return subprocess.Popen([sys.executable, "-c", code], cwd=TESTS, env=env)


@pytest.mark.slow  # two fresh JAX processes (about 40 s quiet); the width refusal is tested fast
def test_members_split_over_two_devices_give_the_one_device_metrics(tmp_path):
    # Both at once: each is mostly one compilation on one core.
    outs = tmp_path / "one.pkl", tmp_path / "two.pkl"
    children = start_child(1, outs[0]), start_child(2, outs[1])
    assert [c.wait(timeout=300) for c in children] == [0, 0]
    (tables1, facts1), (tables2, facts2) = (pd.read_pickle(out) for out in outs)
    assert (facts1["devices"], facts2["devices"]) == (1, 2)
    (one, shares1), (two, shares2) = tables1["wide"], tables2["wide"]
    assert shares1 == [4] and shares2 == [2, 2]  # really split

    # Every metric is the same bit for bit but the mean TD loss of an interval, whose sum
    # XLA may order differently in the partitioned program: it differs in the last bit
    # (relative 1e-7), and not more so later, so what the members learn is the same.
    pd.testing.assert_frame_equal(
        one.drop(columns="td_loss"), two.drop(columns="td_loss"), check_exact=True
    )
    np.testing.assert_allclose(two["td_loss"], one["td_loss"], rtol=1e-6)
    assert one["td_loss"].nunique() == len(one)  # the members really differ
    assert len(one) == 4 * 2 and np.isfinite(one["td_loss"]).all()
    # Blocks of 1 within each device: blocking changes the batch shape of each matrix
    # product, which may move the last bits (as on one device: tests/test_loop.py).
    blocked, shares = tables2["blocked"]
    assert shares == [2, 2]
    pd.testing.assert_frame_equal(
        blocked.drop(columns="td_loss"), one.drop(columns="td_loss"), check_exact=True
    )
    np.testing.assert_allclose(blocked["td_loss"], one["td_loss"], rtol=1e-5)

    assert facts1["uneven"] == facts2["uneven"] == 1
    # A grid search's chunks: at most chunk_size members, a multiple of the device count,
    # as few chunks as cover the 5 members (its padding rows are dropped: grid_search.py).
    assert facts1["widths"] == [3, 5] and facts2["widths"] == [2, 6]


def quick_child(out: str) -> None:
    """One interval of a tiny ER run of 4 members compiled for two devices by the driver, and
    the same members in one plain vmap on one device, as tables pickled to `out`."""
    import jax
    import jax.numpy as jnp
    from fast import FAST_COMPILE

    import agents
    import envs
    from agents import dqn
    from experiments import driver
    from experiments.online import Regime, make_train

    env = envs.make("panflute", num_pipes=2)
    agent = agents.make("er", env, batch_size=8, capacity=32, hidden=(8,))
    regime = Regime(total_steps=20, updates_per_step=1, target_update_frequency=5,
                    eval_interval=20, learning_starts=5, eval_runs=2, eval_steps=5)
    hyper = dqn.Hyper(jnp.geomspace(1e-3, 1e-1, 4), jnp.linspace(0.5, 2.0, 4))
    keys = driver.member_keys(7, 4)
    program = driver.compile_program(env, agent, regime, 4, block=0, compiler_options=FAST_COMPILE)
    runner = program.init(keys, hyper)
    shares = sorted(len(s.data) for s in runner.obs.addressable_shards)
    sharded = driver.run_online(program, runner)

    init, run_interval = make_train(env, agent, regime)
    plain = jax.jit(jax.vmap(init), compiler_options=FAST_COMPILE)(keys, hyper)
    interval = jax.jit(jax.vmap(run_interval, in_axes=(0, None)), compiler_options=FAST_COMPILE)
    metrics = jax.device_get(interval(plain, jnp.int32(0))[1])
    one_device = driver.table([driver.interval_rows(regime.eval_interval, metrics)])
    pd.to_pickle((sharded, one_device, shares, jax.local_device_count()), out)


def test_two_devices_run_each_member_as_one_device_does(tmp_path):
    """The sharded program mbgen runs by default on a multi-core CPU, in seconds: member i of
    a run split over two devices is member i of one plain vmap (no member permuted, lost or
    run twice across devices)."""
    out = tmp_path / "quick.pkl"
    flags = os.environ.get("XLA_FLAGS", "")
    env = dict(os.environ, XLA_FLAGS=f"{flags} --xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    code = f"import test_sharding; test_sharding.quick_child({str(out)!r})"
    subprocess.run([sys.executable, "-c", code], cwd=TESTS, env=env, check=True, timeout=300)
    sharded, one_device, shares, devices = pd.read_pickle(out)
    assert devices == 2 and shares == [2, 2]  # really split
    assert one_device["td_loss"].nunique() == 4  # the members really differ
    # As in the slow test above: the mean TD loss may differ in its last bits.
    pd.testing.assert_frame_equal(
        sharded.drop(columns="td_loss"), one_device.drop(columns="td_loss"), check_exact=True
    )
    np.testing.assert_allclose(sharded["td_loss"], one_device["td_loss"], rtol=1e-5)


class FakeDevice:
    def __init__(self, platform):
        self.platform = platform


@pytest.mark.parametrize("width, used", [(30, 6), (4, 4), (5, 5), (7, 1), (9, 3), (1, 1)])
def test_cpu_members_go_to_as_many_core_devices_as_divide_them(width, used):
    from experiments import driver

    cpus = [FakeDevice("cpu") for _ in range(6)]
    assert driver.member_devices(width, cpus) == cpus[:used]


def test_an_uneven_width_is_refused_on_accelerators():
    from experiments import driver
    from experiments.config import ConfigError

    gpus = [FakeDevice("gpu") for _ in range(8)]
    assert driver.member_devices(16, gpus) == gpus
    with pytest.raises(ConfigError) as refused:
        driver.member_devices(30, gpus)
    assert str(refused.value) == (
        "30 members do not split evenly over the 8 local devices; give a multiple of 8 seeds "
        "(scale.num_seeds), or make visible a number of devices that divides 30 "
        "(CUDA_VISIBLE_DEVICES)."
    )


def test_every_core_becomes_a_device_unless_told(monkeypatch):
    """experiments/cores.py: the flags mbgen sets before JAX starts, and when it keeps out."""
    from experiments import cores

    monkeypatch.setattr(cores, "usable_cores", lambda: 4)
    monkeypatch.delitem(sys.modules, "jax", raising=False)  # as if JAX had not started yet
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    cores.use_every_core()
    assert os.environ["XLA_FLAGS"] == (
        "--xla_dump_to=/tmp/x --xla_force_host_platform_device_count=4"
    )
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
    cores.use_every_core()  # a device count already chosen wins
    assert os.environ["XLA_FLAGS"] == "--xla_force_host_platform_device_count=1"
    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.setenv("MBGEN_ONE_CPU_DEVICE", "1")
    cores.use_every_core()  # the opt-out
    assert os.environ["XLA_FLAGS"] == ""
    monkeypatch.delenv("MBGEN_ONE_CPU_DEVICE")
    monkeypatch.setattr(cores, "usable_cores", lambda: 1)
    cores.use_every_core()  # one core: nothing to split
    assert os.environ["XLA_FLAGS"] == ""
