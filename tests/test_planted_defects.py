"""scripts/planted_defects.py: its list of planted defects still applies to the code as it is
(fast: a refactor that moves a defect's text fails here, not silently in the script), and a
planted defect is caught in a scratch copy (slow; the whole list: docs/testing.md)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "planted_defects.py"


def script():
    spec = importlib.util.spec_from_file_location("planted_defects", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_defect_applies_once_and_names_tests_that_exist():
    defects = script().DEFECTS
    assert len({d.name for d in defects}) == len(defects)
    for defect in defects:
        assert (ROOT / defect.path).read_text().count(defect.old) == 1, defect.name
        assert defect.old != defect.new and defect.tests, defect.name
        for test in defect.tests:
            path, _, function = test.partition("::")
            text = (ROOT / path).read_text()
            assert not function or f"def {function}(" in text, (defect.name, test)


def test_a_defect_whose_text_moved_stops_the_script(tmp_path):
    planted = script()
    (tmp_path / "a.py").write_text("x = 1\n")
    moved = planted.Defect("moved", "a.py", "x = 2", "x = 3", ("tests/test_a.py",))
    with pytest.raises(SystemExit, match="its old text occurs 0 times in a.py"):
        planted.plant(tmp_path, moved)


@pytest.mark.slow  # a scratch copy and one test file: about 40 s
def test_a_planted_defect_is_caught_in_a_scratch_copy():
    only = ["--only", "softmax evaluation"]
    done = subprocess.run([sys.executable, str(SCRIPT), *only], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "caught 1 of 1 planted defects"
