"""Everything the suite needs measured on a GPU, in one prepared command, and docs/gpu.md's
tables from what it wrote.

    python scripts/gpu_check.py wheels       # here (a registry at hand): the wheels into .whl/
    python3 scripts/gpu_check.py run         # on the GPU machine: every step, <= 8 min on an H100
    python scripts/gpu_check.py run --cpu-smoke --out /tmp/smoke   # every step, tiny, on a CPU
    python scripts/gpu_check.py run --only reference   # the authors' code side by side (.gpu-ref/)
    python scripts/gpu_check.py report       # docs/gpu.md's tables from results/gpu/*/
    python scripts/gpu_check.py check        # exit 1 where docs/gpu.md differs from them

`run` needs nothing beyond the Python standard library itself: it installs the wheels of .whl/
(if any) into .whl/site, puts that and the checkout on PYTHONPATH, and runs each step in a
process of its own under its own time limit (a step that fails or runs out of time is marked
so in summary.json, and the next one runs). Everything lands in
results/gpu/<date>-<device>/ (or --out): provenance.json (what ran where), one CSV or JSON per
step, each step's log, and summary.json. The steps, in order (LIMITS holds their seconds):

    install       jax.devices(), versions
    tests         a GPU-relevant slice of the tests (speed settings, sharding, the loop)
    throughput    every Figure 3 agent at 30 and 330 members (ProcMaze 4, high data, paper
                  networks), ER and the simple model at 30 on ProcMaze 8 with a full buffer;
                  with the kernels of each compiled interval (kernels.csv)
    speed         each `speed` setting (configs/speed/) and XLA's command buffers against the
                  default, calls in turn (ER and the simple model, 30 members)
    concurrency   1, 2 and 4 programs on the one GPU at once (ER, 30 members each)
    paper_slice   ER and the simple model, ProcMaze 4, high data, 30 seeds, as many steps as
                  fit, through `mbgen` (metrics and learning curve kept)
    determinism   one short `mbgen` command twice with --xla_gpu_deterministic_ops=true
    reference     only with --only reference: the side-by-side tool against the authors' code,
                  if a copy is at .gpu-ref/tools/bench_vs_reference.py (about 4 min more on an H100)
"""

import argparse
import csv
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / ".whl"
RECORDS = ROOT / "results" / "gpu"
DOC = ROOT / "docs" / "gpu.md"
REFERENCE_TOOL = ROOT / ".gpu-ref" / "tools" / "bench_vs_reference.py"

# What the H100 of 2026-12-05 lacked (its Python had JAX with CUDA, optax, numpy, pandas,
# scipy, matplotlib, tqdm, pyarrow, PyYAML), and pytest for the tests step.
MISSING = [
    "dm-haiku==0.0.17", "jmp==0.0.4", "hydra-core==1.3.8", "omegaconf==2.3.0",
    "pytest==9.0.3", "pluggy==1.6.0", "iniconfig==2.3.0", "pygments==2.20.0",
]  # fmt: skip
BUILT = ["antlr4-python3-runtime==4.9.3"]  # no wheel on the registry: built here

# Seconds per step on an H100 (estimates from its 3-9 s compiles and the rates measured
# there on 2026-12-05); the first seven add up to 8 minutes.
LIMITS = {
    "install": 30,
    "tests": 60,
    "throughput": 120,
    "speed": 100,
    "concurrency": 60,
    "paper_slice": 70,
    "determinism": 40,
    "reference": 240,
}
DEFAULT_STEPS = [s for s in LIMITS if s != "reference"]
# What each step writes: removed before it runs, so that a step run again replaces its figures.
OUTPUTS = {
    "install": ["install.json"],
    "tests": ["tests.txt"],
    "throughput": ["throughput.csv", "kernels.csv"],
    "speed": ["speed.csv"],
    "concurrency": ["concurrency.csv", "concurrency"],
    "paper_slice": ["paper_slice.csv", "paper_slice"],
    "determinism": ["determinism.json", "determinism"],
    "reference": ["reference.csv"],
}

# XLA's command buffers (CUDA graphs): every kind of command, loops and branches included, so
# that a whole interval can become one graph; and none, to see what they give today.
COMMAND_BUFFERS = {
    "command buffers: all, loops too": "--xla_gpu_enable_command_buffer=FUSION,CUBLAS,"
    "CUBLASLT,CUSTOM_CALL,CUDNN,CONDITIONAL,WHILE",
}
DETERMINISTIC = "--xla_gpu_deterministic_ops=true"


@dataclass(frozen=True)
class Sizes:
    """How big each step is: the GPU's, or the CPU smoke test's (every step, tiny)."""

    agents: tuple = ("er", "perfect_model", "simple_model", "categorical_latent")
    widths: tuple = (30, 330)
    size: int = 4  # ProcMaze complexity
    large: tuple = (("er", 8), ("simple_model", 8))  # (agent, complexity), full buffer, 30
    steps: int = 250  # env steps per timed call
    repeats: int = 2
    speed_agents: tuple = ("er", "simple_model")
    rounds: int = 4
    programs: tuple = (1, 2, 4)  # concurrency
    seconds: float = 6.0  # concurrency: how long every program is timed
    slice_agents: tuple = ("er", "simple_model")
    slice_seconds: float = 20.0  # of training per paper-scale slice (compile comes on top)
    overrides: tuple = ()  # mbgen overrides of the paper slice and the determinism runs
    tests: tuple = ("tests/test_speed_settings.py", "tests/test_sharding.py", "tests/test_loop.py")


SMALL = ":hidden=[16]"
SMOKE = Sizes(
    agents=(f"er{SMALL}", f"simple_model{SMALL}"),
    widths=(2, 4),
    size=3,
    large=((f"er{SMALL}", 4),),
    steps=10,
    repeats=1,
    speed_agents=(f"er{SMALL}",),
    rounds=1,
    programs=(1, 2),
    seconds=1.0,
    slice_agents=("er",),
    slice_seconds=1.0,
    overrides=("++agent.hidden=[16]", "regime.learning_starts=100", "regime.eval_interval=100"),
    tests=("tests/test_speed_settings.py::test_the_config_group_default_is_todays_program",),
)


def sizes(smoke: bool) -> Sizes:
    return SMOKE if smoke else Sizes()


# --------------------------------------------------------------------------- the host side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("wheels", help="download the wheels a registry-less GPU machine lacks")
    run = commands.add_parser("run", help="every step, each in its own process and time limit")
    run.add_argument("--out", type=Path, help="default: results/gpu/<date>-<device>/")
    run.add_argument("--cpu-smoke", action="store_true", help="every step at tiny sizes")
    run.add_argument("--only", nargs="+", choices=list(LIMITS), help="these steps alone")
    commands.add_parser("report", help="write docs/gpu.md's tables from results/gpu/*/")
    commands.add_parser("check", help="exit 1 where docs/gpu.md differs from results/gpu/*/")
    step = commands.add_parser("step", help=argparse.SUPPRESS)  # one step, in its process
    step.add_argument("name", choices=list(LIMITS))
    step.add_argument("out", type=Path)
    step.add_argument("--cpu-smoke", action="store_true")
    step.add_argument("--flags", help="speed: time the default under these command buffers")
    step.add_argument("--agent", help="speed: the agent --flags times")
    step.add_argument("--worker", help="concurrency: this program's index/count")
    args = parser.parse_args()
    if args.command == "wheels":
        download_wheels()
    elif args.command == "run":
        run_steps(args.out, args.cpu_smoke, args.only or DEFAULT_STEPS)
    elif args.command == "step":
        run_step(args)
    else:
        sys.exit(write_doc(check_only=args.command == "check"))


def run_step(args) -> None:
    """One step in this process; the speed and concurrency steps start more of these."""
    s = sizes(args.cpu_smoke)
    if args.worker:
        concurrency_worker(args.out, s, args.worker)
    elif args.flags:
        flagged_rate(s, args.agent)
    else:
        STEPS[args.name](args.out, s)


def download_wheels() -> None:
    """gpu.md's recipe: pure-Python wheels for CPython 3.12 on x86-64 Linux into .whl/."""
    WHEELS.mkdir(exist_ok=True)
    platform = ["--python-version", "3.12", "--implementation", "cp",
                "--platform", "manylinux2014_x86_64"]  # fmt: skip
    pip = [sys.executable, "-m", "pip"]
    for wheel in MISSING:
        fetch = ["download", "--no-deps", "--only-binary=:all:", *platform, "-d", str(WHEELS)]
        subprocess.run([*pip, *fetch, wheel], check=True)
    for wheel in BUILT:
        subprocess.run([*pip, "wheel", "--no-deps", "-w", str(WHEELS), wheel], check=True)
    print(f"{len(list(WHEELS.glob('*.whl')))} wheels in {WHEELS}")


def child_env(extra_flags: str = "", **variables) -> dict:
    """The environment of every step: the carried wheels and the checkout importable, no
    preallocation of GPU memory (the concurrency step's programs share it)."""
    paths = [str(WHEELS / "site"), str(ROOT), os.environ.get("PYTHONPATH", "")]
    flags = f"{os.environ.get('XLA_FLAGS', '')} {extra_flags}".strip()
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        "PYTHONUNBUFFERED": "1",
        "XLA_FLAGS": flags,
        **variables,
    }


def install_wheels() -> None:
    """The wheels of .whl/ into .whl/site (once), where child_env finds them."""
    wheels = sorted(str(w) for w in WHEELS.glob("*.whl"))
    if wheels and not (WHEELS / "site").is_dir():
        command = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps"]
        subprocess.run([*command, "--target", str(WHEELS / "site"), *wheels], check=True)


def timed(command: list[str], limit: float, log: Path, env: dict) -> tuple[str, float]:
    """Run `command` (its own process group) for at most `limit` seconds, output to `log`:
    ("ok" | "failed (exit N)" | "timed out", seconds)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the step and every process it started
            process.wait()
            return "timed out", time.perf_counter() - start
    status = "ok" if code == 0 else f"failed (exit {code})"
    return status, time.perf_counter() - start


def run_steps(out: Path | None, smoke: bool, steps: list[str]) -> None:
    install_wheels()
    env = child_env()
    device = describe_device(env)
    out = out or RECORDS / f"{datetime.date.today()}-{device['slug']}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    write_json(out / "provenance.json", provenance(device, smoke))
    scale = 10 if smoke else 1  # a CPU compiles several times slower than an H100's host
    summary = out / "summary.json"
    earlier = json.loads(summary.read_text())["steps"] if summary.exists() else []
    report = [r for r in earlier if r["step"] not in steps]  # --only: the others' stay
    for name in steps:
        remove(out, OUTPUTS[name])
        command = [sys.executable, __file__, "step", name, str(out)]
        command += ["--cpu-smoke"] if smoke else []
        status, seconds = timed(command, LIMITS[name] * scale, out / "logs" / f"{name}.log", env)
        report.append({"step": name, "status": status, "seconds": round(seconds, 1),
                       "limit_s": LIMITS[name] * scale})  # fmt: skip
        print(f"{name:<12} {status:<16} {seconds:6.1f} s", flush=True)
        write_json(summary, {"steps": report})
    print(f"everything in {out}/ (summary.json); docs/gpu.md: python scripts/gpu_check.py report")


def remove(out: Path, names: list[str]) -> None:
    for name in names:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def describe_device(env: dict) -> dict:
    """The first device's kind and the versions, read in a child (JAX stays out of this
    process, whose environment every step inherits)."""
    code = (
        "import json, jax, jaxlib, sys; from importlib import metadata as m; "
        "d = jax.devices()[0]; plugins = [f'{p} {m.version(p)}' for p in ('jax-cuda12-plugin', "
        "'jax-cuda13-plugin') if list(m.distributions(name=p))]; print(json.dumps(dict("
        "kind=d.device_kind, platform=d.platform, count=len(jax.devices()), "
        "jax=jax.__version__, jaxlib=jaxlib.__version__, cuda=', '.join(plugins), "
        "python=sys.version.split()[0])))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"JAX does not start here:\n{done.stderr[-2000:]}")
    device = json.loads(done.stdout.strip().splitlines()[-1])
    device["slug"] = re.sub(r"[^a-z0-9]+", "-", device["kind"].lower()).strip("-")
    return device


def provenance(device: dict, smoke: bool) -> dict:
    # As experiments/provenance.py's code_version, which this parent process cannot import:
    # on a registry-less GPU machine the checkout is importable only in the steps' processes.
    def git(*args):
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT)
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    clean = git("status", "--porcelain", "--untracked-files=no") == "" if commit else None
    return {
        "date": str(datetime.date.today()),
        "device": f"{device['count']} x {device['kind']}",
        "platform": device["platform"],
        "jax": device["jax"],
        "jaxlib": device["jaxlib"],
        "cuda": device["cuda"],
        "python": device["python"],
        "suite_commit": commit or "unknown (not a git checkout)",
        "suite_tree_clean": clean,
        "measured_by": "scripts/gpu_check.py run" + (" --cpu-smoke" if smoke else ""),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


def append_row(path: Path, row: dict) -> None:
    """One row onto a step's CSV as soon as it is measured, so that a step cut short by its
    time limit keeps what it had."""
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def mbgen(overrides: list[str], run_dir: Path, flags: str = "") -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "experiments.run", *overrides, f"hydra.run.dir={run_dir}"]
    return subprocess.run(command, env=child_env(flags), cwd=ROOT, capture_output=True, text=True)


# ------------------------------------------------------------------ the steps (on the device)


def step_install(out: Path, _: Sizes) -> None:
    import importlib.metadata as metadata

    import jax

    packages = ["jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda13-plugin", "dm-haiku", "optax",
                "hydra-core", "omegaconf", "numpy", "pandas", "pytest"]  # fmt: skip
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    devices = [f"{d.platform}:{d.device_kind}" for d in jax.devices()]
    write_json(out / "install.json", {"devices": devices, "versions": versions})
    print(devices, versions)


def step_tests(out: Path, s: Sizes) -> None:
    command = [sys.executable, "-m", "pytest", *s.tests, "-o", "addopts=", "-p", "no:randomly",
               "-q", "-m", "not slow", "-p", "no:cacheprovider"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    (out / "tests.txt").write_text(done.stdout + done.stderr)
    print(done.stdout[-3000:])
    sys.exit(done.returncode)


def step_throughput(out: Path, s: Sizes) -> None:
    import benchmark

    for width in s.widths:  # every agent at the first width first: it matters most
        for name in s.agents:
            measured(out, benchmark, name, width, s.size, s, full_buffer=False)
    for name, size in s.large:
        measured(out, benchmark, name, s.widths[0], size, s, full_buffer=True)


def measured(out, benchmark, name: str, width: int, size: int, s: Sizes, full_buffer: bool):
    r = benchmark.measure(name, width, s.steps, "procmaze", size, s.repeats, None,
                          full_buffer=full_buffer)  # fmt: skip
    gflop = benchmark.gflop_per_seed_step(name, "procmaze", size, {})
    rate = r["seed_steps_per_s"]
    append_row(out / "throughput.csv", {
        "agent": name, "env": f"procmaze-{size}", "buffer": "full" if full_buffer else "empty",
        "members": width, "seed_steps_per_s": round(rate, 1),
        "gflop_per_s": "" if gflop is None else round(gflop * rate, 1),
        "compile_s": round(r["compile_s"], 2),
    })  # fmt: skip
    append_row(out / "kernels.csv", {
        "agent": name, "env": f"procmaze-{size}", "members": width,
        **kernel_counts(r["program"].interval.as_text(), s.steps),
    })  # fmt: skip
    print(f"{name} {width} procmaze-{size}: {rate:.0f} seed-steps/s", flush=True)


# What a step costs a GPU besides arithmetic, read from the compiled interval's HLO text:
# every instruction outside a fusion that does work is a kernel launch (a fusion is one);
# every iteration of a while loop evaluates its condition on the device and reads it back,
# and every conditional reads back its predicate. On a CPU the same text counts the same
# program's ops, more of them unfused.
FREE = {"parameter", "constant", "get-tuple-element", "tuple", "bitcast", "after-all",
        "opt-barrier", "partition-id", "replica-id", "domain"}  # fmt: skip
HEADER = re.compile(r"^(?:ENTRY )?%([\w.\-]+) .*\{$")
NAME = re.compile(r"^\s+(?:ROOT )?%[\w.\-]+ = ")


def opcode(line: str) -> str:
    """An instruction's opcode: the word before the first '(' after its (maybe tuple) type."""
    rest = NAME.sub("", line, count=1)
    if rest.startswith("("):  # a tuple type: skip its balanced parentheses
        depth = 0
        for i, char in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                rest = rest[i + 1 :]
                break
    found = re.match(r"\s*\S*?\s*([a-z][\w\-]*)\(", rest)
    return found.group(1) if found else "unparsed"  # counted as a kernel


def parse_hlo(text: str) -> tuple[dict, str]:
    """{computation: [instruction lines]} and the entry computation's name."""
    computations, entry, current = {}, None, None
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            current = computations.setdefault(header.group(1), [])
            entry = header.group(1) if line.startswith("ENTRY") else entry
        elif line == "}":
            current = None
        elif current is not None and NAME.match(line):
            current.append(line)
    return computations, entry


def callees(line: str, attribute: str) -> list[str]:
    found = re.search(attribute + r"=(\{[^}]*\}|%[\w.\-]+)", line)
    return re.findall(r"%([\w.\-]+)", found.group(1)) if found else []


def sum_of(costs) -> tuple[int, int, int]:
    return tuple(sum(x) for x in zip((0, 0, 0), *costs))


def scaled(cost: tuple, times: int) -> tuple[int, int, int]:
    return tuple(times * x for x in cost)


def kernel_counts(text: str, steps: int) -> dict:
    """Per env step of an interval of `steps`: kernels, loop iterations and conditionals
    executed (a conditional's costliest branch; a loop of unknown trip count once), and the
    compiled program's static counts."""
    computations, entry = parse_hlo(text)
    unknown, memo = set(), {}

    def executed(name: str) -> tuple[int, int, int]:
        """(kernels, loop iterations, conditionals) that one run of `name` executes."""
        if name not in memo:
            memo[name] = sum_of(cost(line) for line in computations[name])
        return memo[name]

    def cost(line: str) -> tuple[int, int, int]:
        op = opcode(line)
        if op == "while":
            trip = re.search(r'"known_trip_count":\{"n":"(\d+)"', line)
            if trip is None:
                unknown.add(line)
            body = sum_of(executed(c) for c in callees(line, "body") + callees(line, "condition"))
            return scaled(sum_of([body, (0, 1, 0)]), int(trip.group(1)) if trip else 1)
        if op == "conditional":
            names = callees(line, "branch_computations") or (
                callees(line, "true_computation") + callees(line, "false_computation")
            )
            costliest = tuple(max(x) for x in zip((0, 0, 0), *(executed(b) for b in names)))
            return sum_of([costliest, (0, 0, 1)])
        if op == "call":
            return executed(callees(line, "to_apply")[0])
        return (0, 0, 0) if op in FREE else (1, 0, 0)

    kernels, iterations, conditionals = executed(entry)
    ops = [opcode(line) for lines in computations.values() for line in lines]
    return {
        "kernels_per_step": round(kernels / steps, 2),
        "loop_iterations_per_step": round(iterations / steps, 3),
        "conditionals_per_step": round(conditionals / steps, 3),
        "fusions": ops.count("fusion"),
        "while_loops": ops.count("while"),
        "loops_of_unknown_length": len(unknown),
    }


def step_speed(out: Path, s: Sizes) -> None:
    """Each `speed` setting's program against the default's, calls in turn in one process;
    then each command-buffer flag in a process of its own (XLA reads flags once), its rate
    against this process's default."""
    import benchmark

    from experiments.driver import compile_program
    from experiments.online import Speed

    settings = {
        "default": Speed(),
        "scan_unroll=5": Speed(scan_unroll=5),
        "branches=select": Speed(branches="select"),
        "scan_unroll=5 branches=select": Speed(scan_unroll=5, branches="select"),
    }
    width = s.widths[0]
    for name in s.speed_agents:
        env, agent = benchmark.env_and_agent(name, "procmaze", s.size, {})
        regime = benchmark.timed_regime(s.steps)
        programs = {
            label: compile_program(env, agent, regime, width, speed=speed)
            for label, speed in settings.items()
        }
        rates = benchmark.paired_rates(programs, width, s.steps, s.rounds)
        default = statistics.median(rates["default"])
        for label, program in programs.items():
            speed_row(out, name, width, label, statistics.median(rates[label]), default,
                      kernel_counts(program.interval.as_text(), s.steps))  # fmt: skip
        for label, flags in COMMAND_BUFFERS.items():
            command = [sys.executable, __file__, "step", "speed", str(out), "--flags", label]
            command += ["--agent", name] + (["--cpu-smoke"] if s is SMOKE else [])
            done = subprocess.run(command, env=child_env(flags), cwd=ROOT, text=True,
                                  capture_output=True)  # fmt: skip
            print(done.stdout, done.stderr[-2000:], flush=True)
            rate = json.loads(done.stdout.splitlines()[-1])["rate"] if not done.returncode else 0
            speed_row(out, name, width, label, rate, default, {})


def flagged_rate(s: Sizes, name: str) -> None:
    """The default program's median rate in this process, whose XLA_FLAGS the parent set."""
    import benchmark

    from experiments.driver import compile_program

    env, agent = benchmark.env_and_agent(name, "procmaze", s.size, {})
    program = compile_program(env, agent, benchmark.timed_regime(s.steps), s.widths[0])
    rates = benchmark.paired_rates({"flags": program}, s.widths[0], s.steps, s.rounds)
    print(json.dumps({"rate": statistics.median(rates["flags"])}))


def speed_row(out, agent, width, label, rate, default, counts) -> None:
    append_row(out / "speed.csv", {
        "agent": agent, "members": width, "setting": label,
        "seed_steps_per_s": round(rate, 1), "to_default": round(rate / default, 3),
        "kernels_per_step": counts.get("kernels_per_step", ""),
        "loop_iterations_per_step": counts.get("loop_iterations_per_step", ""),
        "conditionals_per_step": counts.get("conditionals_per_step", ""),
    })  # fmt: skip


def step_concurrency(out: Path, s: Sizes) -> None:
    """n programs (ER, one width each) on the one device at once, n = each of s.programs: each
    with its share of memory, all timed over the same seconds once every one has compiled."""
    for n in s.programs:
        barrier = out / "concurrency" / f"{n}"
        shutil.rmtree(barrier, ignore_errors=True)
        barrier.mkdir(parents=True)
        share = {"XLA_PYTHON_CLIENT_MEM_FRACTION": f"{0.9 / n:.3f}"}
        command = [sys.executable, __file__, "step", "concurrency", str(out)]
        command += ["--cpu-smoke"] if s is SMOKE else []
        workers = [
            subprocess.Popen([*command, "--worker", f"{i}/{n}"], env=child_env(**share),
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)  # fmt: skip
            for i in range(n)
        ]
        rates = [json.loads(w.communicate()[0].splitlines()[-1])["rate"] for w in workers]
        append_row(out / "concurrency.csv", {
            "programs": n, "members_each": s.widths[0], "agent": s.agents[0],
            "aggregate_seed_steps_per_s": round(sum(rates), 1),
            "per_program": " ".join(f"{r:.0f}" for r in rates),
        })  # fmt: skip
        print(f"{n} programs: {sum(rates):.0f} seed-steps/s together", flush=True)


def concurrency_worker(out: Path, s: Sizes, worker: str) -> None:
    """One of n programs: compile and warm up, say so, wait for the others, then run for
    s.seconds and print the rate."""
    import benchmark
    import jax
    import jax.numpy as jnp

    from agents import dqn
    from experiments.driver import compile_program, member_keys

    index, n = worker.split("/")
    width, barrier = s.widths[0], out / "concurrency" / n
    env, agent = benchmark.env_and_agent(s.agents[0], "procmaze", s.size, {})
    program = compile_program(env, agent, benchmark.timed_regime(s.steps), width)
    hyper = dqn.Hyper(jnp.full(width, 1e-4), jnp.full(width, 0.5))
    runner = program.init(member_keys(int(index), width), hyper)
    runner, _ = program.interval(runner, jnp.int32(0))
    jax.block_until_ready(runner)
    (barrier / f"ready-{index}").touch()
    while len(list(barrier.glob("ready-*"))) < int(n):
        time.sleep(0.05)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < s.seconds:
        calls += 1
        runner, _ = program.interval(runner, jnp.int32(calls * s.steps))
        jax.block_until_ready(runner)
    print(json.dumps({"rate": width * s.steps * calls / (time.perf_counter() - start)}))


def step_paper_slice(out: Path, s: Sizes) -> None:
    """The paper's ProcMaze 4 high-data run of each agent, 30 seeds, cut to the steps that
    fit in s.slice_seconds at the rate the throughput step measured (or 1,000 seed-steps/s)."""
    interval = 100 if s is SMOKE else 500
    for name in s.slice_agents:
        rate = measured_rate(out, name, f"procmaze-{s.size}", s.widths[0]) or 1000.0
        steps = max(2, int(rate / s.widths[0] * s.slice_seconds / interval)) * interval
        run_dir = out / "paper_slice" / name
        overrides = [f"agent={name}", f"level=procmaze-{s.size}", "regime=high_data",
                     "scale=paper", f"scale.steps_fraction={steps / 1e6}", "checkpoint_every=0",
                     "progress=false", *s.overrides]  # fmt: skip
        if s is SMOKE:
            overrides.append(f"scale.num_seeds={s.widths[0]}")
        start = time.perf_counter()
        done = mbgen(overrides, run_dir)
        print(done.stdout, done.stderr[-3000:], flush=True)
        summary = json.loads((run_dir / "summary.json").read_text()) if not done.returncode else {}
        append_row(out / "paper_slice.csv", {
            "agent": name, "env": f"procmaze-{s.size}", "steps": steps,
            "seeds": s.widths[0], "seconds": round(time.perf_counter() - start, 1),
            "final_score_mean": summary.get("final_score_mean", ""),
            "exit": done.returncode, "command": "mbgen " + " ".join(overrides),
        })  # fmt: skip


def measured_rate(out: Path, agent: str, env: str, members: int) -> float | None:
    path = out / "throughput.csv"
    rows = csv.DictReader(path.read_text().splitlines()) if path.exists() else []
    for row in rows:
        if (row["agent"], row["env"], row["members"]) == (agent, env, str(members)):
            return float(row["seed_steps_per_s"])
    return None


def step_determinism(out: Path, s: Sizes) -> None:
    """One short mbgen command twice with XLA's deterministic GPU ops: the same metrics?"""
    import pandas as pd

    overrides = ["agent=er", f"level=procmaze-{s.size}", "regime=high_data", "scale=paper",
                 "scale.steps_fraction=0.002", "checkpoint_every=0", "progress=false",
                 *s.overrides]  # fmt: skip
    if s is SMOKE:
        overrides.append(f"scale.num_seeds={s.widths[0]}")
    tables = []
    for run in ("first", "second"):
        run_dir = out / "determinism" / run
        done = mbgen(overrides, run_dir, DETERMINISTIC)
        if done.returncode:
            sys.exit(done.stderr[-3000:])
        tables.append(pd.read_parquet(run_dir / "metrics.parquet"))
    first, second = tables
    differing = [c for c in first.columns if not first[c].equals(second[c])]
    write_json(out / "determinism.json", {
        "command": f"XLA_FLAGS={DETERMINISTIC} mbgen " + " ".join(overrides),
        "identical": not differing, "differing_columns": differing, "rows": len(first),
    })  # fmt: skip
    print("identical" if not differing else f"differ in {differing}")


def step_reference(out: Path, s: Sizes) -> None:
    """The authors' code side by side (the shared tool, copied to .gpu-ref/tools/)."""
    if not REFERENCE_TOOL.exists():
        sys.exit(f"no {REFERENCE_TOOL.relative_to(ROOT)}: copy the side-by-side tool "
                 "and the authors' code into .gpu-ref/ (docs/gpu.md) to time them")  # fmt: skip
    for agents, intervals in (("er perfect_model simple_model", 30), ("categorical_latent", 12)):
        command = [sys.executable, str(REFERENCE_TOOL), "--agents", *agents.split()]
        done = subprocess.run([*command, "--intervals", str(intervals)], cwd=ROOT,
                              capture_output=True, text=True)  # fmt: skip
        print(done.stdout, done.stderr[-3000:], flush=True)
        for agent, authors, suite, _ in re.findall(r"^(\w+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
                                                   done.stdout, re.M):  # fmt: skip
            append_row(out / "reference.csv", {
                "agent": agent, "env": "procmaze-4", "members": 30,
                "authors_seed_steps_per_s": authors, "suite_seed_steps_per_s": suite,
            })  # fmt: skip


STEPS = {
    "install": step_install,
    "tests": step_tests,
    "throughput": step_throughput,
    "speed": step_speed,
    "concurrency": step_concurrency,
    "paper_slice": step_paper_slice,
    "determinism": step_determinism,
    "reference": step_reference,
}


# ------------------------------------------------------------------------- docs/gpu.md

BLOCK = re.compile(r"(<!-- gpu:(\w+) -->\n)(.*?)(<!-- /gpu -->)", re.S)
PAPER_SEEDS, PAPER_STEPS = 30, 1_000_000
# Agents not measured take another's figure in the cost estimates (said beside the table).
RATE_STAND_IN = {"gaussian_latent": "categorical_latent"}  # the other latent-model agent
SLOWDOWN_STAND_IN = {"perfect_model": "er", "gaussian_latent": "simple_model",
                     "categorical_latent": "simple_model"}  # fmt: skip
NOT_YET = "Not yet measured on a GPU: `python3 scripts/gpu_check.py run` measures it.\n"


def read_records(root: Path) -> list[dict]:
    """Every GPU record under `root`, newest first: its provenance and its tables (lists of
    CSV rows, or JSON), each absent where that record did not measure it. CPU runs (the
    smoke test) are no GPU records and are left out."""
    records = []
    for folder in sorted(root.glob("*/"), reverse=True):
        info = json.loads((folder / "provenance.json").read_text())
        if info.get("platform") == "cpu":
            continue
        record = {"folder": folder.name, **info}
        for path in folder.glob("*.csv"):
            record[path.stem] = list(csv.DictReader(path.read_text().splitlines()))
        for name in ("determinism",):
            if (folder / f"{name}.json").exists():
                record[name] = json.loads((folder / f"{name}.json").read_text())
        records.append(record)
    return records


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows]) + "\n"


def number(value, decimals: int = 0) -> str:
    return "-" if value in ("", None) else f"{float(value):,.{decimals}f}"


def source(record: dict) -> str:
    return (f"{record['date']}, {record['device']}, JAX {record['jax']}"
            f"{', ' + record['cuda'] if record.get('cuda') else ''}, suite "
            f"{record['suite_commit']} (results/gpu/{record['folder']}/)")  # fmt: skip


def newest(records: list[dict], table_name: str) -> dict | None:
    return next((r for r in records if r.get(table_name)), None)


def block_throughput(records: list[dict]) -> str:
    parts = []
    for record in (r for r in records if r.get("throughput")):
        rows = [[r["agent"], r["env"], r["buffer"], r["members"], number(r["seed_steps_per_s"]),
                 number(r["gflop_per_s"])] for r in record["throughput"]]  # fmt: skip
        header = ["agent", "level", "buffer", "members", "seed-steps/s", "GFLOP/s"]
        parts.append(f"{source(record)}:\n\n{table(header, rows)}")
    return "\n".join(parts) or NOT_YET


def block_side_by_side(records: list[dict]) -> str:
    parts = []
    for record in (r for r in records if r.get("reference")):
        rows = []
        for r in record["reference"]:
            ratio = float(r["suite_seed_steps_per_s"]) / float(r["authors_seed_steps_per_s"])
            rows.append([r["agent"], number(r["authors_seed_steps_per_s"]),
                         number(r["suite_seed_steps_per_s"]), f"{ratio:.2f}x",
                         "yes" if ratio >= 2 else "no"])  # fmt: skip
        header = ["agent", "authors' code", "suite", "ratio", "2x reached"]
        parts.append(f"{source(record)}, 30 seeds, seed-steps/s:\n\n{table(header, rows)}")
    return "\n".join(parts) or NOT_YET


def rate_of(record: dict, agent: str, level: str, buffer: str, members: int) -> float | None:
    wanted = (agent, level, buffer, str(members))
    for r in record.get("throughput", []):
        if (r["agent"], r["env"], r["buffer"], r["members"]) == wanted:
            return float(r["seed_steps_per_s"])
    return None


def run_minutes(rate: float) -> float:
    return PAPER_SEEDS * PAPER_STEPS / rate / 60


def block_costs(records: list[dict]) -> str:
    """Per paper run and for Figure 3, from the newest record's ProcMaze 4 rates at 30
    members, bracketed by the slowdown it measured on ProcMaze 8 with a full buffer."""
    record = newest(records, "throughput")
    if record is None:
        return NOT_YET
    fig3 = figure3_runs()
    rows, low, high = [], 0.0, 0.0
    for agent in fig3["agents"]:
        measured = rate_of(record, agent, "procmaze-4", "empty", 30)
        rate = measured or rate_of(record, RATE_STAND_IN.get(agent, agent), "procmaze-4",
                                   "empty", 30)  # fmt: skip
        slow = slowdown(record, agent) or slowdown(record, SLOWDOWN_STAND_IN.get(agent, agent))
        wide = rate_of(record, agent, "procmaze-4", "empty", 330)
        note = "" if measured else f" (as {RATE_STAND_IN[agent]})"
        rows.append([agent + note, f"{run_minutes(rate):.0f}", f"{run_minutes(rate * slow):.0f}",
                     f"{run_minutes(wide):.0f}" if wide else "-"])  # fmt: skip
        low += fig3["runs_per_agent"] * run_minutes(rate) / 60
        high += fig3["runs_per_agent"] * run_minutes(rate * slow) / 60
    header = ["agent", "minutes a run, ProcMaze 4", "minutes a run, full-buffer slowdown",
              "minutes a run, 11 cells in one 330-member program"]  # fmt: skip
    return (
        f"From {source(record)}.\n\n{table(header, rows)}\n"
        f"Figure 3 is {fig3['runs']} runs ({len(fig3['agents'])} agents x {fig3['levels']} "
        f"levels x 2 regimes, configs/experiment/fig3.yaml): **{low:.0f} to {high:.0f} "
        f"{record['device'].split(' x ')[-1]}-hours** one program at a time, between every run "
        f"at ProcMaze 4's rate and every run at the slowdown measured on ProcMaze 8 with a full "
        f"buffer.\n"
    )


def slowdown(record: dict, agent: str) -> float | None:
    small = rate_of(record, agent, "procmaze-4", "empty", 30)
    large = rate_of(record, agent, "procmaze-8", "full", 30)
    return large / small if small and large else None


def figure3_runs() -> dict:
    import yaml

    fig3 = yaml.safe_load((ROOT / "configs" / "experiment" / "fig3.yaml").read_text())
    levels = len(fig3["fig3"]["budgets"]["paper"]["levels"].split(","))
    agents = fig3["hydra"]["sweeper"]["params"]["agent"].split(",")
    return {"agents": agents, "levels": levels, "runs_per_agent": 2 * levels,
            "runs": 2 * levels * len(agents)}  # fmt: skip


def block_speed(records: list[dict]) -> str:
    record = newest(records, "speed")
    if record is None:
        return NOT_YET
    rows = [[r["agent"], r["setting"], number(r["seed_steps_per_s"]), r["to_default"],
             r["kernels_per_step"] or "-", r["loop_iterations_per_step"] or "-",
             r["conditionals_per_step"] or "-"] for r in record["speed"]]  # fmt: skip
    header = ["agent", "setting", "seed-steps/s", "to default", "kernels/step",
              "loop iterations/step", "conditionals/step"]  # fmt: skip
    return f"From {source(record)}, 30 members:\n\n{table(header, rows)}"


def block_concurrency(records: list[dict]) -> str:
    record = newest(records, "concurrency")
    if record is None:
        return NOT_YET
    one = float(record["concurrency"][0]["aggregate_seed_steps_per_s"])
    rows = [[r["programs"], r["members_each"], number(r["aggregate_seed_steps_per_s"]),
             f"{float(r['aggregate_seed_steps_per_s']) / one:.2f}x"]
            for r in record["concurrency"]]  # fmt: skip
    header = ["programs at once", "members each", "seed-steps/s together", "to one program"]
    return f"From {source(record)}, {record['concurrency'][0]['agent']}:\n\n{table(header, rows)}"


def block_kernels(records: list[dict]) -> str:
    record = newest(records, "kernels")
    if record is None:
        return NOT_YET
    rows = [[r["agent"], r["env"], r["members"], r["kernels_per_step"],
             r["loop_iterations_per_step"], r["conditionals_per_step"], r["fusions"]]
            for r in record["kernels"]]  # fmt: skip
    header = ["agent", "level", "members", "kernels/step", "loop iterations/step",
              "conditionals/step", "fusions in the program"]  # fmt: skip
    return f"From {source(record)}:\n\n{table(header, rows)}"


def block_determinism(records: list[dict]) -> str:
    record = newest(records, "determinism")
    if record is None:
        return NOT_YET
    d = record["determinism"]
    verdict = "identical" if d["identical"] else f"different in {', '.join(d['differing_columns'])}"
    return f"From {source(record)}: `{d['command']}`, twice: metrics {verdict}.\n"


BLOCKS = {
    "throughput": block_throughput,
    "side_by_side": block_side_by_side,
    "costs": block_costs,
    "speed": block_speed,
    "concurrency": block_concurrency,
    "kernels": block_kernels,
    "determinism": block_determinism,
}


def write_doc(check_only: bool, records_root: Path = RECORDS, doc: Path = DOC) -> int:
    """docs/gpu.md's blocks (`<!-- gpu:NAME -->` ... `<!-- /gpu -->`) from the records;
    with check_only, 1 where the file differs from them (nothing written)."""
    records = read_records(records_root)
    text = doc.read_text()
    unknown = {name for _, name, _, _ in BLOCK.findall(text)} - set(BLOCKS)
    if unknown:
        print(f"error: {doc} has blocks {sorted(unknown)}; known: {list(BLOCKS)}", file=sys.stderr)
        return 2
    made = BLOCK.sub(lambda m: m[1] + BLOCKS[m[2]](records) + m[4], text)
    if made == text:
        return 0
    if check_only:
        print(f"{doc} differs from {records_root}: run python scripts/gpu_check.py report")
        return 1
    doc.write_text(made)
    return 0


if __name__ == "__main__":
    main()
