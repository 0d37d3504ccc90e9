"""Every CPU core as its own JAX device, so that the members' programs run side by side.

One CPU device runs a program's ops one after another; only the large ones (the bigger
matrix products) spread over the cores, so most of a member's many small ops (320 x 200
products, Adam, sampling, the 10-step rollout) leave the other cores idle. Members never
communicate, so on a CPU the suite makes each core a device
(`--xla_force_host_platform_device_count`) and shards the members over them like GPUs
(experiments/driver.py); a program that runs alone (offline Figure 1, a width the cores do
not divide) still spreads its large ops over every core. The ratios to the authors' code
that this gives on 2-core machines are in docs/speed.md, per CPU.

The flag only takes effect before JAX starts its CPU backend, so the entry points (`mbgen`,
scripts/benchmark.py) call `use_every_core()` before importing JAX; a library user who does
not keeps JAX's default (one CPU device). Accelerators are not affected.
"""

import os
import sys

DEVICE_COUNT = "--xla_force_host_platform_device_count"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def use_every_core() -> None:
    """Set XLA_FLAGS for one CPU device per usable core, unless JAX has
    already started (too late) or XLA_FLAGS already chooses a device count (the user's or a
    test's choice wins)."""
    if "jax" in sys.modules or os.environ.get("MBGEN_ONE_CPU_DEVICE"):
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if DEVICE_COUNT in flags:
        return
    cores = usable_cores()
    if cores > 1:
        os.environ["XLA_FLAGS"] = f"{flags} {DEVICE_COUNT}={cores}".strip()
