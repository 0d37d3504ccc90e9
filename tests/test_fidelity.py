"""The fidelity switch (configs/fidelity/): under `authors` each difference behaves as the
public code (../shared/reference/authors/) does, checked on hand-made inputs; `fixed` keeps
the suite's behaviour and its run names."""

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import yaml
from fast import fast_jit
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from spies import one_update
from toys import Countdown

import agents
import envs
from agents import dqn
from agents.simple_model import SimpleModel
from experiments import config, results
from experiments.online import Regime, make_train

HYPER = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0))


def composed(*overrides):
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        return config.apply_level(compose("config", overrides=list(overrides)))


# ------------------------------------------------------------------ bit sampling


def bits_drawn(bit_sampling, logits, draws=10_000):
    """`draws` imagined next observations of a simple model whose next-bit logits are
    `logits` whatever the input: every weight 0, the last layer's biases set."""
    model = SimpleModel(obs_size=len(logits), num_actions=2, hidden=(8,), bit_sampling=bit_sampling)
    params = jax.tree.map(jnp.zeros_like, model.init(jax.random.key(0)))
    last = sorted(params.next_obs)[-1]
    params.next_obs[last]["b"] = jnp.asarray(logits, jnp.float32)
    obs = jnp.zeros((draws, len(logits)), bool)
    bits, _, _ = model.transition(params, jax.random.key(1), obs, jnp.zeros(draws, jnp.int32))
    return np.asarray(bits, float)


def test_authors_bit_sampling_switches_a_bit_on_with_probability_clip_of_its_logit():
    # bernoulli(key, logit) in the public rollout: P(on) = clip(logit, 0, 1).
    on = bits_drawn("clipped_logit", [-0.5, 1.5, 0.3])
    assert on[:, 0].sum() == 0 and on[:, 1].all()
    # 10,000 draws of p = 0.3: standard error 0.0046; 5 of them is 0.023.
    assert abs(on[:, 2].mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / 10_000)


def test_fixed_bit_sampling_switches_a_bit_on_with_probability_sigmoid_of_its_logit():
    on = bits_drawn("sigmoid", [-0.5, 1.5, 0.3])
    for column, logit in enumerate([-0.5, 1.5, 0.3]):
        p = 1 / (1 + np.exp(-logit))  # 0.378, 0.818, 0.574: far from the authors' 0, 1, 0.3
        assert abs(on[:, column].mean() - p) < 5 * np.sqrt(p * (1 - p) / 10_000)


# ------------------------------------------------------------------ after a terminal step


def stored(agent_name, after_terminal, eval_interval=8, intervals=1, **settings):
    """What the agent stores of the first `intervals` x `eval_interval` steps of Countdown(3),
    terminal on steps 3, 6, 9, ..."""
    env = Countdown(length=3)
    agent = agents.make(agent_name, env, capacity=64, hidden=(16,), **settings)
    regime = Regime(
        total_steps=intervals * eval_interval,
        updates_per_step=1,
        target_update_frequency=1,
        eval_interval=eval_interval,
        learning_starts=100,
        eval_runs=1,
        eval_steps=1,
        after_terminal=after_terminal,
    )
    init, run_interval = make_train(env, agent, regime)
    run_interval, runner = fast_jit(run_interval), init(jax.random.key(0), HYPER)
    for interval in range(intervals):
        runner, _ = run_interval(runner, jnp.int32(interval * eval_interval))
    return runner.agent.replay.items


def times(packed, steps=8):
    return np.argmax(np.unpackbits(np.asarray(packed), axis=-1)[:steps, :16], axis=-1).tolist()


def test_authors_after_a_terminal_step_the_next_transition_starts_from_the_terminal_observation():
    # The env resets to time 0 but the agent acts from the terminal observation (time 3):
    # the stored transition goes from time 3 to time 1, from the old episode into the new.
    items = stored("er", "terminal_obs", batch_size=8)
    assert times(items.obs) == [0, 1, 2, 3, 1, 2, 3, 1]
    assert times(items.next_obs) == [1, 2, 3, 1, 2, 3, 1, 2]
    assert np.asarray(items.terminal)[:8].tolist() == [0, 0, 1, 0, 0, 1, 0, 0]
    # fixed: the next action is chosen from the reset observation.
    fixed = stored("er", "reset_obs", batch_size=8)
    assert times(fixed.obs) == [0, 1, 2, 0, 1, 2, 0, 1]
    assert np.asarray(fixed.terminal)[:8].tolist() == [0, 0, 1, 0, 0, 1, 0, 0]


def test_authors_act_from_the_reset_observation_after_a_terminal_step_that_ends_an_interval():
    # The public loop reads the observation from the env state at the start of every
    # evaluation interval (of 6 steps here). Step 6 is terminal and ends the first interval:
    # step 7 acts from the reset observation (time 0). Steps 3 and 9 are terminal
    # mid-interval: steps 4 and 10 act from the terminal one (time 3).
    items = stored("er", "terminal_obs", eval_interval=6, intervals=2, batch_size=8)
    assert times(items.obs, 12) == [0, 1, 2, 3, 1, 2, 0, 1, 2, 3, 1, 2]
    assert np.asarray(items.terminal)[:12].tolist() == [0, 0, 1, 0, 0, 1] * 2
    # fixed: every episode starts from the reset observation, whatever the interval.
    fixed = stored("er", "reset_obs", eval_interval=6, intervals=2, batch_size=8)
    assert times(fixed.obs, 12) == [0, 1, 2] * 4


def test_authors_perfect_model_stores_the_reset_state_while_acting_from_the_terminal_observation():
    # The public perfect-model script stores the env state at the top of each step, which
    # after a terminal step is already the reset one.
    for after_terminal in ("terminal_obs", "reset_obs"):
        states = stored("perfect_model", after_terminal).state  # kept beside the action
        assert np.asarray(states.time)[:8].tolist() == [0, 1, 2, 0, 1, 2, 0, 1]


# ------------------------------------------------------------------ learning starts


def authors_first_update(learning_starts, eval_interval):
    """The public loop trains interval i (steps i*I+1 .. (i+1)*I) iff i*I >= training_start_time."""
    step = 1
    while (step - 1) // eval_interval * eval_interval < learning_starts:
        step += 1
    return step


@pytest.mark.parametrize(
    "learning_starts,eval_interval", [(1000, 500), (1000, 50), (10, 4), (0, 4)]
)
def test_authors_first_update_comes_at_the_step_the_public_code_trains_first(
    learning_starts, eval_interval
):
    overrides = [
        f"regime.learning_starts={learning_starts}",
        f"regime.eval_interval={eval_interval}",
        "regime.total_steps=2000",
        "scale.steps_fraction=1",
    ]
    authors = config.make_regime(composed(*overrides, "fidelity=authors"))
    fixed = config.make_regime(composed(*overrides))
    # The loop's first update is at the step t with t >= Regime.learning_starts (test_loop).
    assert authors.learning_starts == authors_first_update(learning_starts, eval_interval)
    assert fixed.learning_starts == learning_starts


def test_the_paper_regimes_first_update_is_at_step_1001_under_authors_and_1000_under_fixed():
    for regime in ("high_data", "low_data"):
        authors = config.make_regime(composed(f"regime={regime}", "fidelity=authors"))
        assert authors.learning_starts == 1001
        assert config.make_regime(composed(f"regime={regime}")).learning_starts == 1000


# ------------------------------------------------------------------ rollout starts


def replay_use(monkeypatch, agent_name, rollout_starts, rollout_length, num_rollouts):
    """(sizes of the draws from the buffer, sizes of the model batches) of one update."""
    agent = agents.make(
        agent_name,
        envs.make("procmaze", grid_size=3),
        hidden=(8,),
        rollout_length=rollout_length,
        num_rollouts=num_rollouts,
        rollout_starts=rollout_starts,
    )
    seen = one_update(monkeypatch, agent)
    return seen["draws"], seen["model_rows"]


@pytest.mark.parametrize("agent_name", ["simple_model", "gaussian_latent"])
def test_fixed_one_step_ablation_draws_one_sample_and_trains_the_model_on_its_first_32(
    monkeypatch, agent_name
):
    assert replay_use(monkeypatch, agent_name, "shared", 1, 320) == ([320], [32])


def test_authors_simple_model_trains_on_all_320_starts_in_the_one_step_ablation(monkeypatch):
    # train_simple_model_DQN.py: one batch_size for the model step and the rollout starts.
    assert replay_use(monkeypatch, "simple_model", "authors", 1, 320) == ([320], [320])
    assert replay_use(monkeypatch, "simple_model", "authors", 10, 32) == ([32], [32])


def test_authors_latent_model_trains_on_32_and_samples_320_starts_separately(monkeypatch):
    # train_latent_model_DQN.py, seperate_rollout_batch_size: a second sample for the starts;
    # with 32 starts it rolls out from the model batch itself.
    assert replay_use(monkeypatch, "gaussian_latent", "authors", 1, 320) == ([32, 320], [32])
    assert replay_use(monkeypatch, "gaussian_latent", "authors", 10, 32) == ([32], [32])


# ------------------------------------------------------------------ config, names, checkpoints


def test_fixed_keeps_todays_run_names_and_authors_or_a_single_switch_names_itself():
    name = lambda *o: config.run_name(_root_=composed(*o))  # noqa: E731
    assert name("level=procmaze-4", "agent=er") == "procmaze4-er-high_data-cpu"
    assert name("level=procmaze-4", "agent=er", "fidelity=authors") == (
        "procmaze4-er-high_data-cpu-authors"
    )
    assert name("agent=er", "fidelity.after_terminal=terminal_obs").endswith("-cpu-terminal_obs")
    assert name("fidelity=authors", "fidelity.bit_sampling=sigmoid").endswith("-authors-sigmoid")


def test_results_label_a_run_by_its_preset_or_by_the_switches_it_sets_apart(tmp_path):
    def label(*overrides):
        return results.fidelity_label(OmegaConf.to_container(composed(*overrides).fidelity))

    assert label() == "fixed" and label("fidelity=authors") == "authors"
    assert label("fidelity.bit_sampling=clipped_logit") == "clipped_logit"
    assert label("fidelity.after_terminal=terminal_obs", "fidelity.learning_starts=interval") == (
        "terminal_obs+interval"
    )
    # load_runs groups by the label: a one-switch run never pools with `fixed`
    run = tmp_path / "run"
    run.mkdir()
    fidelity = {**yaml.safe_load((config.CONFIG_DIR / "fidelity" / "fixed.yaml").read_text()),
                "bit_sampling": "clipped_logit"}
    (run / "config.yaml").write_text(yaml.safe_dump({"seed": 0, "fidelity": fidelity}))
    (run / "summary.json").write_text("{}")
    pd.DataFrame({"member": [0], "step": [500], "score": [1.0]}).to_parquet(run / "metrics.parquet")
    table = results.load_runs(tmp_path, report=None)
    assert table["fidelity.name"].tolist() == ["clipped_logit"]

def test_the_fidelity_group_chooses_the_agent_settings_it_names():
    cfg = composed("agent=simple_model", "fidelity=authors")
    assert (cfg.agent.bit_sampling, cfg.agent.rollout_starts) == ("clipped_logit", "authors")
    assert agents.defaults("simple_model")["bit_sampling"] == "sigmoid"  # outside Hydra


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["fidelity.bit_sampling=logit"], "fidelity.bit_sampling must be one of sigmoid, clip"),
        (["fidelity.after_terminal=none"], "fidelity.after_terminal must be one of"),
        (["experiment=fig1", "fidelity=authors"], "fidelity must be fixed for experiment=fig1"),
    ],
)
def test_a_bad_fidelity_gets_one_sentence_naming_the_key(overrides, message):
    cfg = composed(*overrides)
    build = config.build_offline if cfg.kind == "offline_gridworld" else config.build
    with pytest.raises(config.ConfigError, match=message):
        build(cfg)


@pytest.mark.slow  # a real CLI run to make the checkpoint (about 25 s quiet)
def test_a_checkpoint_of_the_other_fidelity_is_refused_with_one_sentence(tmp_path):
    args = [
        "env=panflute",
        "env.num_pipes=2",
        "agent.hidden=[8]",
        "agent.batch_size=8",
        "regime.total_steps=200",
        "regime.eval_interval=100",
        "regime.learning_starts=100",
        "scale.steps_fraction=1",
        "scale.num_seeds=1",
        "progress=false",
    ]
    mbgen = [sys.executable, "-m", "experiments.run", *args]
    fixed = tmp_path / "fixed"
    subprocess.run([*mbgen, f"hydra.run.dir={fixed}"], check=True, capture_output=True, timeout=300)
    # The checkpoint a fixed run leaves while it runs carries this fingerprint (run.py).
    resolved = yaml.safe_load((fixed / "config.yaml").read_text())
    fingerprint = json.dumps(config.identity(resolved), sort_keys=True)
    run_dir = tmp_path / "other"
    run_dir.mkdir()
    np.savez(run_dir / "checkpoint.npz", fingerprint=np.array(fingerprint))

    def run(*more):
        command = [*mbgen, *more, f"hydra.run.dir={run_dir}"]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    refused = run("fidelity=authors")
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert refused.returncode == 2
    assert len(lines) == 1 and "holds a checkpoint of a different configuration" in lines[0]
    # The same fingerprint passes that check (and then fails on the empty checkpoint).
    assert "different configuration" not in run().stderr
