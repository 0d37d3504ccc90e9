import subprocess
import sys

import pytest


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
