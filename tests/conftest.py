import os
import subprocess
import sys

import pytest

# XLA's backend optimization level 1 for every program the tests compile (and the mbgen
# processes they start), not the default 2: the tests compile hundreds of programs and
# run most for a few steps, and on the 2-core machine level 1 compiles faster and ran the
# learning tests no slower (test_learning 14 s against 17). The semantics are the same;
# the last bits of some results are not, so no test compares against numbers taken at
# the default (scripts/golden.py checks the default build bit for bit). A level already
# in XLA_FLAGS wins. Set before JAX starts, which is what reads it.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=1"
    ).strip()

# The Threefry lowering that mbgen installs at program start (agents/sampling.py): the same
# random numbers, compiled faster on a CPU. Imported here, after XLA_FLAGS is set.
from agents import sampling  # noqa: E402

sampling.unroll_threefry_on_cpu()


@pytest.fixture
def mbgen_here(monkeypatch, capsys):
    """`mbgen ARGS` in this test's process, as `subprocess.run` would report it (return
    code, stdout, stderr): a refusal is decided before anything compiles, so a call costs
    the checks alone, not the 6-7 s of starting Python and importing JAX, Hydra and pandas
    in a new process. Runs that train stay in a subprocess: there `mbgen` sets one JAX
    device per core, which a running test process can no longer do."""
    from experiments.run import main

    def call(args, cwd):
        # Hydra's logging set-up is left out: its dictConfig would shut down the logging
        # handlers already in this process, closing pytest's captured streams with them.
        # A refusal is printed, not logged, so this changes no output a test reads.
        quiet = ["hydra/job_logging=none", "hydra/hydra_logging=none"]
        argv = ["mbgen", *args, "progress=false", *quiet]
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", argv)
        capsys.readouterr()  # drop what the test printed before
        try:
            main()
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out, err)

    return call
