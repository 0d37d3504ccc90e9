"""Plant small defects one at a time in a scratch copy of the suite and run the tests that
should catch each: whether the default tests still catch the defects that would change a
verdict (docs/testing.md has the list, the count and when it was last run).

    python scripts/planted_defects.py                 # every defect, about 20 minutes
    python scripts/planted_defects.py --only "softmax evaluation"  --list
    python scripts/planted_defects.py --clean         # the same tests with nothing planted

A defect is (name, file, the exact text it replaces, the new text, the tests to run). The
copy is the working tree's files that git tracks or would track, so it tests what is here
now. A defect's old text must occur exactly once in its file: if a change moved it, the
script stops and says so, so the list cannot silently rot. Each run is
`pytest -x -q -m "not slow" <tests>` in the copy (which Python imports first, ahead of the
editable install): failing tests mean caught; passing ones, not caught; anything else
(a collection error, no tests selected) is reported as broken and counts as not caught.
Exit code: 0 when every defect is caught, 1 otherwise. With --clean nothing is planted and
each defect's tests must pass, or "caught" would mean nothing: exit code 0 when all pass.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent


class Defect(NamedTuple):
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


TB = "tests/test_training_batch.py"
ONE_UPDATE = ("tests/test_agent_contract.py::test_one_update_moves_q_one_adam_step_towards_the_"
              "hand_computed_targets")

DEFECTS = [
    # --- issue 36's uncaught defects
    Defect("imagined rollouts one step short", "agents/dyna.py",
           "            rollout_length,\n            env.episodic,",
           "            rollout_length - 1,\n            env.episodic,",
           (f"{TB}::test_a_model_agent_trains_q_on_320_imagined_transitions",)),
    Defect("softmax evaluation", "experiments/evaluation.py",
           "agent.act(agent_state, obs, k, True)", "agent.act(agent_state, obs, k, False)",
           ("tests/test_evaluation.py",)),
    Defect("bit_sampling dropped by the simple model's factory", "agents/simple_model.py",
           "        bit_sampling=bit_sampling,\n", "",
           (f"{TB}::test_bit_sampling_reaches_the_model_the_agent_rolls_out",)),
    Defect("rollout_starts dropped by the latent factory", "agents/latent.py",
           'separate_starts=rollout_starts == "authors",', "separate_starts=False,",
           (f"{TB}::test_rollout_starts_reach_the_agent_the_command_line_builds",)),
    Defect("configured discount dropped", "agents/dqn.py",
           "return DQN(mlp(num_actions, tuple(hidden)), discount)",
           "return DQN(mlp(num_actions, tuple(hidden)))",
           (f"{TB}::test_the_configured_discount_is_the_one_q_learns_with",)),
    Defect("members permuted across devices", "experiments/driver.py",
           "return Program(init, compiled, width, regime, mesh.size)",
           "rolled = lambda *a: jax.tree.map(lambda x: jnp.roll(x, width // mesh.size, 0), "
           "init(*a))  # noqa\n    return Program(rolled, compiled, width, regime, mesh.size)",
           ("tests/test_sharding.py::test_two_devices_run_each_member_as_one_device_does",)),
    Defect("majority rule flipped", "experiments/offline/report.py",
           "return 2 * (num_seeds - num_optimal) > num_seeds",
           "return 2 * (num_seeds - num_optimal) >= num_seeds",
           ("tests/test_offline_report.py",)),
    Defect("last bit lost when unpacking an odd width", "agents/replay.py",
           "return jnp.unpackbits(packed, axis=-1, count=size).astype(bool)",
           "bits = jnp.unpackbits(packed, axis=-1, count=size).astype(bool)\n"
           "    return bits & ((jnp.arange(size) < size - 1) | (size % 8 == 0))",
           ("tests/test_packed_bits.py",)),
    # --- caught before issue 36
    Defect("target never synced", "agents/dqn.py",
           "lambda learner: learner._replace(target_params=learner.params),",
           "lambda learner: learner,",
           ("tests/test_loop.py::test_updates_start_at_learning_starts_and_the_target_is_copied_"
            "on_the_step_schedule",)),
    Defect("wrong discount in the TD target", "agents/dqn.py",
           "target = batch.reward + self.discount * batch.continuation * next_value",
           "target = batch.reward + 0.99 * batch.continuation * next_value",
           ("tests/test_models.py::test_td_loss_by_hand",)),
    Defect("no terminal mask", "agents/dqn.py",
           "continuation = 1.0 - transitions.terminal.astype(jnp.float32)",
           "continuation = jnp.ones_like(transitions.reward)",
           (ONE_UPDATE,)),
    Defect("replay always the newest item", "agents/replay.py",
           "return jax.random.randint(key, (batch_size,), 0, replay.size)",
           "return jnp.full((batch_size,), replay.cursor - 1)",
           ("tests/test_replay.py",)),
    Defect("spontaneous events doubled", "envs/buttongrid.py",
           "return 1.0 / (10 * self.grid_size**2) if self.spontaneous else 0.0",
           "return 2.0 / (10 * self.grid_size**2) if self.spontaneous else 0.0",
           ("tests/test_envs.py",)),
    Defect("GPS bits swapped", "envs/variants.py",
           "targets = agent + GRID_MOVES[1:]", "targets = agent + GRID_MOVES[[1, 3, 2, 4]]",
           ("tests/test_procmaze_variants.py::test_gps_bits_by_hand",)),
    Defect("diverged seeds dropped", "experiments/results.py",
           'tail = group[group["step"].isin(last)]',
           'tail = group[group["step"].isin(last) & ~group["diverged"].astype(bool)]',
           ("tests/test_results.py",)),
    Defect("a judge inverted", "experiments/analysis/claims/rule.py",
           'return "ahead" if beats(a, b) else ("behind" if beats(b, a)',
           'return "behind" if beats(a, b) else ("ahead" if beats(b, a)',
           ("tests/test_claims.py",)),
    Defect("priorities ignored", "agents/priority.py",
           "u = jax.random.uniform(key, (n,)) * total",
           "u = jax.random.uniform(key, (n,)) * total  # noqa\n"
           "    cumulative = jnp.arange(1, cumulative.size + 1) * total / cumulative.size",
           ("tests/test_dyna_design.py::test_prioritized_draws_follow_the_priorities_chi_square",)),
    Defect("one ensemble member", "agents/ensemble.py",
           "chosen = jax.random.randint(pick_key, action.shape, 0, size)",
           "chosen = jnp.zeros(action.shape, jnp.int32)",
           ("tests/test_model_families.py::test_ensemble_rollouts_take_each_row_from_one_member",)),
    Defect("random MPC action", "agents/mpc.py",
           "best = jnp.argmax(score)", "best = jax.random.randint(pick_key, (), 0, score.size)",
           ("tests/test_model_families.py::test_random_shooting_takes_the_first_action_of_the_"
            "best_sequence",)),
    Defect("the KL term dropped", "agents/latent.py",
           "            + kl\n", "",
           ("tests/test_models.py::test_latent_model_loss_by_hand",)),
    Defect("resume without the key", "experiments/checkpoint.py",
           "runner = from_arrays(saved, template)",
           "runner = from_arrays(saved, template)._replace(key=template.key)",
           ("tests/test_loop.py::test_hooks_see_every_interval_and_a_checkpoint_resumes_to_the_"
            "same_metrics",)),
    Defect("NaN in JSON", "experiments/results.py",
           "if isinstance(value, float | np.floating) and not math.isfinite(value):",
           "if False:",
           ("tests/test_results.py::test_json_files_hold_null_where_a_number_is_undefined",)),
    # issue 39's pieces beyond the paper
    Defect("lambda ignored in the imagined targets", "agents/rollout.py",
           "target = r + discount * c * ((1 - lam) * v + lam * later)",
           "target = r + discount * c * v",
           ("tests/test_lambda_returns.py::test_lambda_returns_by_hand",)),
    Defect("undiscounted implicit value targets", "agents/implicit.py",
           "current = rewards[:, t] + discount * later", "current = rewards[:, t] + later",
           ("tests/test_implicit.py::test_value_targets_by_hand",)),
    Defect("search evaluated with its exploration noise", "agents/search.py",
           "gumbel_scale=0.0 if greedy else 1.0,", "gumbel_scale=1.0,",
           ("tests/test_implicit.py::test_behaving_search_samples_and_greedy_search_does_not",)),
    Defect("CEM refit to the worst sequences", "agents/mpc.py",
           "best = jax.lax.top_k(score, elites)[1]", "best = jax.lax.top_k(-score, elites)[1]",
           ("tests/test_mpc.py::test_refit_is_the_elites_frequencies_with_a_floor",)),
]


def copy_tree(destination: Path) -> None:
    """The files git tracks or would track, as they are in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def read_applicable(root: Path, defect: Defect) -> str:
    """The text of the defect's file under `root`; stops the script unless its old text
    occurs there exactly once."""
    path = root / defect.path
    text = path.read_text() if path.is_file() else ""
    if text.count(defect.old) != 1:
        sys.exit(f"defect {defect.name!r}: its old text occurs {text.count(defect.old)} times "
                 f"in {defect.path}, not once; update the list in {Path(__file__).name}.")
    return text


def plant(copy: Path, defect: Defect) -> None:
    text = read_applicable(copy, defect)
    (copy / defect.path).write_text(text.replace(defect.old, defect.new))


def run_tests(copy: Path, tests) -> tuple[str, float]:
    """('caught' | 'not caught' | 'broken (pytest exit N)', seconds)."""
    env = dict(os.environ, PYTHONPATH=str(copy))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-n", "0",
               "-p", "no:randomly", "-p", "no:cacheprovider", *tests]
    start = time.perf_counter()
    code = subprocess.run(command, cwd=copy, env=env, capture_output=True).returncode
    outcome = {0: "not caught", 1: "caught"}.get(code, f"broken (pytest exit {code})")
    return outcome, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="a defect's name (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the defects and exit")
    parser.add_argument("--clean", action="store_true",
                        help="plant nothing: each defect's tests must pass")
    args = parser.parse_args()
    names = [d.name for d in DEFECTS]
    unknown = sorted(set(args.only or []) - set(names))
    if unknown:
        print(f"--only must name defects of the list ({', '.join(names)}); got "
              f"{', '.join(unknown)}.", file=sys.stderr)
        return 2
    defects = [d for d in DEFECTS if not args.only or d.name in args.only]
    if args.list:
        for d in defects:
            print(f"{d.name}: {d.path} -> {' '.join(d.tests)}")
        return 0
    for defect in defects:  # all of them before the first test run
        read_applicable(ROOT, defect)
    good = 0
    for defect in defects:
        with tempfile.TemporaryDirectory(prefix="planted-") as scratch:
            copy = Path(scratch)
            copy_tree(copy)
            if not args.clean:
                plant(copy, defect)
            outcome, seconds = run_tests(copy, defect.tests)
        if args.clean:
            outcome = {"not caught": "passes", "caught": "FAILS"}.get(outcome, outcome)
        good += outcome == ("passes" if args.clean else "caught")
        print(f"{outcome:>12}  {defect.name}  ({defect.path}, {seconds:.0f} s)", flush=True)
    if args.clean:
        print(f"{good} of {len(defects)} defects' tests pass with nothing planted")
    else:
        print(f"caught {good} of {len(defects)} planted defects")
    return 0 if good == len(defects) else 1


if __name__ == "__main__":
    sys.exit(main())
