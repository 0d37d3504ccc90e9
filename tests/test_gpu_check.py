"""scripts/gpu_check.py: docs/gpu.md made from the GPU records, the costs it derives, the
kernel count of an HLO text, the step runner's time limit, and (slow) every step at tiny
sizes on this CPU."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gpu_check  # noqa: E402


def test_docs_gpu_md_holds_the_tables_the_committed_records_make():
    assert gpu_check.write_doc(check_only=True) == 0


def record(root: Path, name: str, throughput: str, platform: str = "gpu") -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "throughput.csv").write_text(throughput)
    provenance = {"date": name, "device": "1 x Toy GPU", "platform": platform, "jax": "9.9",
                  "cuda": "", "suite_commit": "abc1234"}  # fmt: skip
    (folder / "provenance.json").write_text(json.dumps(provenance))


HEADER = "agent,env,buffer,members,seed_steps_per_s,gflop_per_s,compile_s\n"


def test_a_run_costs_30_seeds_times_1m_steps_at_the_measured_rate_and_figure_3_sums_them(
    tmp_path,
):
    # ER 50,000 seed-steps/s: 30M / 50,000 = 600 s = 10 min a run; on ProcMaze 8 with a full
    # buffer 25,000 (a slowdown of 0.5): 20 min. The simple model 10,000: 50 min, and 100 min
    # at its own slowdown of 0.5. The perfect model 20,000 (25 min) takes ER's slowdown: 50.
    # The latents take 6,000 (the categorical's; 83.3 min) and the simple model's slowdown
    # (166.7). Figure 3 runs each agent 19 levels x 2 regimes = 38 times:
    # 38 x (10 + 50 + 25 + 83.33 + 83.33) / 60 = 159.4 hours; at the slowdowns
    # 38 x (20 + 100 + 50 + 166.67 + 166.67) / 60 = 318.8.
    rows = ["er,procmaze-4,empty,30,50000,,", "er,procmaze-8,full,30,25000,,",
            "simple_model,procmaze-4,empty,30,10000,,", "simple_model,procmaze-8,full,30,5000,,",
            "perfect_model,procmaze-4,empty,30,20000,,", "er,procmaze-4,empty,330,300000,,",
            "categorical_latent,procmaze-4,empty,30,6000,,"]  # fmt: skip
    record(tmp_path / "gpu", "2026-01-01-toy", HEADER + "\n".join(rows) + "\n")
    record(tmp_path / "gpu", "2026-02-02-cpu", HEADER + "er,procmaze-4,empty,30,1,,\n", "cpu")
    doc = tmp_path / "gpu.md"
    doc.write_text("<!-- gpu:costs -->\nold\n<!-- /gpu -->\n")
    assert gpu_check.write_doc(True, tmp_path / "gpu", doc) == 1  # differs; nothing written
    assert "old" in doc.read_text()
    assert gpu_check.write_doc(False, tmp_path / "gpu", doc) == 0
    text = doc.read_text()
    assert "| er | 10 | 20 | 2 |" in text  # 330 members: 30M / 300,000 = 100 s
    assert "| simple_model | 50 | 100 | - |" in text
    assert "| perfect_model | 25 | 50 | - |" in text
    assert "| gaussian_latent (as categorical_latent) | 83 | 167 | - |" in text
    assert "**159 to 319 Toy GPU-hours**" in text
    assert "2026-02-02-cpu" not in text  # a CPU smoke run is no GPU record
    assert gpu_check.write_doc(True, tmp_path / "gpu", doc) == 0


def test_a_block_the_report_does_not_know_is_refused(tmp_path):
    doc = tmp_path / "gpu.md"
    doc.write_text("<!-- gpu:nonsense -->\n<!-- /gpu -->\n")
    assert gpu_check.write_doc(False, tmp_path, doc) == 2


# An interval of 4 steps: a loop of 4 iterations whose body runs a fusion, a conditional
# (branches of 2 ops and 1 op: the costliest counts) and a loop of unknown length holding
# one op, counted once; the entry adds a copy. Per iteration 1 + 2 + 1 = 4 kernels, 2 loop
# iterations (its own and the inner loop's one), 1 conditional; over 4 steps, plus the copy:
# 17 / 4 kernels, 8 / 4 iterations and 4 / 4 conditionals per step.
HLO = """\
HloModule toy

%fused (p: f32[2]) -> f32[2] {
  %p = f32[2]{0} parameter(0)
  ROOT %e = f32[2]{0} exponential(f32[2]{0} %p)
}

%yes (a: f32[2]) -> f32[2] {
  %a = f32[2]{0} parameter(0)
  %m = f32[2]{0} multiply(f32[2]{0} %a, f32[2]{0} %a)
  ROOT %n = f32[2]{0} negate(f32[2]{0} %m)
}

%no (b: f32[2]) -> f32[2] {
  %b = f32[2]{0} parameter(0)
  ROOT %c = f32[2]{0} copy(f32[2]{0} %b)
}

%inner_body (q: (s32[], f32[2])) -> (s32[], f32[2]) {
  %q = (s32[], f32[2]{0}) parameter(0)
  %i = s32[] get-tuple-element((s32[], f32[2]{0}) %q), index=0
  %j = s32[] add(s32[] %i, s32[] %i)
  ROOT %t = (s32[], f32[2]{0}) tuple(s32[] %j, f32[2]{0} %i)
}

%inner_cond (r: (s32[], f32[2])) -> pred[] {
  %r = (s32[], f32[2]{0}) parameter(0)
  ROOT %k = pred[] constant(false)
}

%body (s: (s32[], f32[2])) -> (s32[], f32[2]) {
  %s = (s32[], f32[2]{0}) parameter(0)
  %x = f32[2]{0} get-tuple-element((s32[], f32[2]{0}) %s), index=1
  %f = f32[2]{0} fusion(f32[2]{0} %x), kind=kLoop, calls=%fused
  %g = pred[] constant(true)
  %h = f32[2]{0} conditional(pred[] %g, f32[2]{0} %f, f32[2]{0} %f), BRANCHES
  %w = (s32[], f32[2]{0}) while((s32[], f32[2]{0}) %s), condition=%inner_cond, body=%inner_body
  ROOT %u = (s32[], f32[2]{0}) tuple(s32[] %g, f32[2]{0} %h)
}

%cond (v: (s32[], f32[2])) -> pred[] {
  %v = (s32[], f32[2]{0}) parameter(0)
  ROOT %z = pred[] constant(true)
}

ENTRY %main (y: f32[2]) -> (s32[], f32[2]) {
  %y = f32[2]{0} parameter(0)
  %y2 = f32[2]{0} copy(f32[2]{0} %y)
  %start = (s32[], f32[2]{0}) tuple(f32[2]{0} %y2, f32[2]{0} %y2)
  ROOT %loop = (s32[], f32[2]{0}) while((s32[], f32[2]{0}) %start), LOOP
}
""".replace("BRANCHES", "true_computation=%yes, false_computation=%no").replace(
    "LOOP", 'condition=%cond, body=%body, backend_config={"known_trip_count":{"n":"4"}}'
)


def test_kernels_loop_iterations_and_conditionals_per_step_of_a_hand_counted_program():
    assert gpu_check.kernel_counts(HLO, steps=4) == {
        "kernels_per_step": 4.25,
        "loop_iterations_per_step": 2.0,
        "conditionals_per_step": 1.0,
        "fusions": 1,
        "while_loops": 2,
        "loops_of_unknown_length": 1,
    }


def test_a_step_past_its_time_limit_is_stopped_and_marked(tmp_path):
    command = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"]
    status, seconds = gpu_check.timed(command, 2, tmp_path / "log", gpu_check.child_env())
    assert status == "timed out" and seconds < 10
    assert (tmp_path / "log").read_text() == "started\n"
    failed = gpu_check.timed([sys.executable, "-c", "raise SystemExit(3)"], 10, tmp_path / "l",
                             gpu_check.child_env())  # fmt: skip
    assert failed[0] == "failed (exit 3)"


@pytest.mark.slow
def test_every_step_runs_at_tiny_sizes_on_a_cpu(tmp_path):
    done = subprocess.run(
        [sys.executable, "scripts/gpu_check.py", "run", "--cpu-smoke", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=3000,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    steps = json.loads((tmp_path / "summary.json").read_text())["steps"]
    assert [s["step"] for s in steps] == gpu_check.DEFAULT_STEPS
    assert all(s["status"] == "ok" for s in steps), steps
    for made in ("throughput.csv", "kernels.csv", "speed.csv", "concurrency.csv",
                 "paper_slice.csv", "determinism.json", "paper_slice/er/learning_curve.png"):
        assert (tmp_path / made).exists(), made
    assert json.loads((tmp_path / "determinism.json").read_text())["identical"]
