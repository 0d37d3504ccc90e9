"""Training throughput, compile time and replay memory for the paper configuration.

    python scripts/benchmark.py                      # every agent, ProcMaze n=4, 30 seeds
    python scripts/benchmark.py --agents er simple_model --seeds 30 120 330   # batching
    python scripts/benchmark.py --agents er --seeds 30 330 --block 0          # one wide vmap
    python scripts/benchmark.py --agents er --set gps=true --set distractors=16   # env settings
    python scripts/benchmark.py --agents mpc simple_model:ensemble_size=5     # a setting
    python scripts/benchmark.py --agents mpc mpc:planner=cem                  # CEM beside it
    python scripts/benchmark.py --agents er --steps 300 --compare-blocks 5 3  # calls in turn

An agent is a registered name, optionally with settings: `name:key=value:key=value` (values
in YAML, e.g. `simple_model:rollout_schedule=[0,4000,1,10]`); by default every registered
agent and the settings of VARIANTS.

Throughput counts seed-steps per second: one env step plus one update (high-data regime) for
one member of the batch. Evaluation is shrunk to one step so it does not count. GFLOP per
seed-step is scripts/flops.py's count, part by part, of a paper agent at its paper settings
(high data: the evaluation and the model check amortized over 500 steps; "-" for an agent or
setting it does not count: XLA's count of the whole compiled interval would take a loop body
once, a 10-step rollout as one step, and the once-per-interval model check in full); with the
throughput it gives the achieved GFLOP/s. "vs first" is the per-member throughput relative to
the first width given for the same agent.
"""

import argparse
import statistics
import time

from experiments import cores

cores.use_every_core()  # as mbgen does: one device per core (before JAX starts)

import jax
import jax.numpy as jnp
import yaml
from flops import PARTS, per_seed_step  # scripts/flops.py: this script's folder is on sys.path

import agents
import envs
from agents import dqn, replay, sampling
from experiments.driver import compile_program, default_block, member_keys
from experiments.online import Regime, Speed

# Settings beyond the paper that change an agent's work per step (docs/studies/,
# beyond the paper); deepmdp and mpc are registered agents, so they are in the default list anyway.
VARIANTS = [
    "er:priority_exponent=0.6",
    "simple_model:priority_exponent=0.6",
    "simple_model:search_control=replayed",
    "simple_model:next_obs=mean",
    "simple_model:target_samples=4",
    "perfect_model:search_control=replayed",
    "simple_model:ensemble_size=5",
    "simple_model:model_horizon=5",
    "simple_model:rollout_schedule=[0,4000,1,10]",
    "mpc:planner=cem",
    "simple_model:ensemble_size=5:exploration_bonus=10.0",
    "simple_model:td_lambda=0.8",
]


def parse_agent(spec: str) -> tuple[str, dict]:
    """`name:key=value:...` -> (name, settings)."""
    name, *pairs = spec.split(":")
    settings = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        settings[key] = yaml.safe_load(value)
    return name, settings


def replay_bytes(agent_state) -> int:
    """Bytes of every replay buffer in an agent state (fields holding a Replay)."""
    buffers = [v for v in agent_state if type(v).__name__ == "Replay"]
    return sum(leaf.nbytes for leaf in jax.tree.leaves(buffers))


def with_full_buffer(state, env, key):
    """Every member's agent state (leading axis: members) with a full buffer of random real
    transitions: the steady state of a long run, where sampling reads the whole buffer."""
    members, capacity = jax.tree.leaves(state.replay.items)[0].shape[:2]
    packed = replay.pack_bits(jax.random.bernoulli(key, 0.3, (members, capacity, env.obs_size)))
    items = state.replay.items._replace(obs=packed, next_obs=packed[:, ::-1])
    full = jnp.full(members, capacity, jnp.int32)
    return state._replace(replay=replay.Replay(items, full, jnp.zeros(members, jnp.int32)))


def env_and_agent(agent_name: str, env_name: str, size: int, env_settings: dict | None):
    settings = {envs.REGISTRY[env_name].complexity_key: size, **(env_settings or {})}
    env = envs.make(env_name, **settings)
    name, agent_settings = parse_agent(agent_name)
    return env, agents.make(name, env, **agent_settings)


def timed_regime(steps: int) -> Regime:
    """High data, learning from the first step, one interval of `steps`, and evaluation shrunk
    to one step so that it does not count."""
    return Regime(
        total_steps=steps,
        updates_per_step=1,
        target_update_frequency=100,
        eval_interval=steps,
        learning_starts=0,
        eval_runs=1,
        eval_steps=1,
    )


def measure(
    agent_name: str,
    num_seeds: int,
    steps: int,
    env_name: str,
    size: int,
    repeats: int,
    block: int | None,
    env_settings: dict | None = None,
    full_buffer: bool = False,
    speed: Speed = Speed(),
) -> dict:
    """One agent's throughput at `num_seeds` members; the compiled program comes back too
    (scripts/gpu_check.py counts its kernels)."""
    env, agent = env_and_agent(agent_name, env_name, size, env_settings)
    block = default_block() if block is None else block
    regime = timed_regime(steps)
    start = time.perf_counter()
    program = compile_program(env, agent, regime, num_seeds, block, speed=speed)
    compile_seconds = time.perf_counter() - start
    hyper = dqn.Hyper(jnp.full(num_seeds, 1e-4), jnp.full(num_seeds, 0.5))
    runner = program.init(member_keys(0, num_seeds), hyper)
    if full_buffer:
        runner = runner._replace(agent=with_full_buffer(runner.agent, env, jax.random.key(1)))
    memory = replay_bytes(runner.agent) / num_seeds
    compiled = program.interval
    runner, _ = compiled(runner, jnp.int32(0))  # warm-up
    jax.block_until_ready(runner)
    start = time.perf_counter()
    for i in range(repeats):
        runner, _ = compiled(runner, jnp.int32((i + 1) * steps))
    jax.block_until_ready(runner)
    seconds = time.perf_counter() - start
    return {
        "agent": agent_name,
        "seeds": num_seeds,
        "seed_steps_per_s": num_seeds * steps * repeats / seconds,
        "compile_s": compile_seconds,
        "replay_mb_per_seed": memory / 2**20,
        "program": program,
    }


def paired_rates(programs: dict, num_seeds: int, steps: int, rounds: int, say=print) -> dict:
    """Per-member throughput of each of `programs` (label: a Program of `num_seeds` members
    and `timed_regime(steps)`), their calls taken in turn (the order reversed every other
    round) so that a host whose speed drifts by tens of percent within minutes slows every
    program alike. Returns each label's rates, one a round; `say` gets each round's line."""
    hyper = dqn.Hyper(jnp.full(num_seeds, 1e-4), jnp.full(num_seeds, 0.5))
    states = {}
    for label, program in programs.items():
        runner, _ = program.interval(program.init(member_keys(0, num_seeds), hyper), jnp.int32(0))
        states[label] = [program.interval, jax.block_until_ready(runner)]  # warmed up
    labels = list(programs)
    rates = {label: [] for label in labels}
    for i in range(rounds):
        for label in labels if i % 2 == 0 else labels[::-1]:
            interval, runner = states[label]
            start = time.perf_counter()
            runner, _ = interval(runner, jnp.int32((i + 1) * steps))
            states[label][1] = jax.block_until_ready(runner)
            rates[label].append(num_seeds * steps / (time.perf_counter() - start))
        say(f"round {i + 1}: " + ", ".join(f"{b} {rates[b][-1]:.0f}" for b in labels))
    return rates


def paired_blocks(
    agent_name: str, num_seeds: int, steps: int, blocks: list[int], rounds: int, env, agent
):
    """paired_rates of one agent's program at each block size; prints, per block, the median
    of its rates and of its ratios to the first block's in the same round."""
    regime = timed_regime(steps)
    programs = {
        f"block {block}": compile_program(env, agent, regime, num_seeds, block) for block in blocks
    }
    labelled = paired_rates(programs, num_seeds, steps, rounds)
    rates = {block: labelled[f"block {block}"] for block in blocks}
    for block in blocks:
        ratios = [r / f for r, f in zip(rates[block], rates[blocks[0]])]
        print(f"{agent_name}: block {block}: median {statistics.median(rates[block]):.0f} "
              f"seed-steps/s, to block {blocks[0]} in the same round: median "
              f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")


def gflop_per_seed_step(agent_name: str, env_name: str, size: int, env_settings: dict):
    """flops.py's per-part count for a paper agent at its paper settings; None otherwise."""
    if agent_name not in PARTS:
        return None
    env, _ = env_and_agent(agent_name, env_name, size, env_settings)
    return per_seed_step(agent_name, env) / 1e9


def counted(value, width: int, decimals: int) -> str:
    """A FLOP figure, or "-" where flops.py does not count the agent."""
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{decimals}f}"


def main() -> None:
    sampling.unroll_threefry_on_cpu()  # as mbgen does, at program start (agents/sampling.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", nargs="+", default=[*sorted(agents.REGISTRY), *VARIANTS])
    parser.add_argument("--seeds", nargs="+", type=int, default=[30])
    parser.add_argument("--env", default="procmaze")
    parser.add_argument("--size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=200, help="env steps per timed call")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--block",
        type=int,
        default=None,
        help="members vmapped together (0 = all; default: the driver's choice for this device)",
    )
    parser.add_argument(
        "--full-buffer",
        action="store_true",
        help="time steps at a full buffer of random transitions (a long run's steady state)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an env setting (repeatable), e.g. gps=true, distractors=16, distractor_kind=counter",
    )
    parser.add_argument(
        "--compare-blocks",
        type=int,
        nargs="+",
        metavar="B",
        help="time these block sizes against each other, calls in turn (the first --seeds "
        "width), instead of the table",
    )
    parser.add_argument("--rounds", type=int, default=8, help="rounds of --compare-blocks")
    args = parser.parse_args()
    if args.rounds < 1 or any(b < 0 for b in args.compare_blocks or []):
        parser.error("--rounds must be at least 1 and --compare-blocks sizes 0 (all) or more")
    env_settings = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}
    if args.compare_blocks:
        for name in args.agents:
            env, agent = env_and_agent(name, args.env, args.size, env_settings)
            paired_blocks(name, args.seeds[0], args.steps, args.compare_blocks, args.rounds,
                          env, agent)
        return
    block = default_block() if args.block is None else args.block
    shown = "".join(f" {k}={v}" for k, v in env_settings.items())
    devices = jax.devices()
    print(
        f"{args.env} {args.size}{shown}, high data, paper networks; {len(devices)} x "
        f"{devices[0].device_kind} device(s) (members split over as many as divide them); "
        f"members vmapped in blocks of {block or 'the whole width'}"
    )
    print(
        f"{'agent':<44}{'seeds':>6}{'seed-steps/s':>14}{'vs first':>9}{'compile s':>11}"
        f"{'replay MB/seed':>16}{'GFLOP/seed-step':>17}{'GFLOP/s':>9}"
    )
    for name in args.agents:
        first = None
        gflop = gflop_per_seed_step(name, args.env, args.size, env_settings)
        for seeds in args.seeds:
            r = measure(
                name, seeds, args.steps, args.env, args.size, args.repeats, block, env_settings,
                args.full_buffer,
            )
            first = first or r["seed_steps_per_s"]
            print(
                f"{r['agent']:<44}{r['seeds']:>6}{r['seed_steps_per_s']:>14.0f}"
                f"{r['seed_steps_per_s'] / first:>9.0%}"
                f"{r['compile_s']:>11.1f}{r['replay_mb_per_seed']:>16.2f}"
                f"{counted(gflop, 17, 3)}"
                f"{counted(None if gflop is None else gflop * r['seed_steps_per_s'], 9, 0)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
