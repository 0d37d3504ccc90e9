"""What Q trains on, in the agent that the command line builds (experiments.config.build, as
`mbgen` does) and that agents.make builds: every Q update takes 320 transitions, real ones
from replay or `rollout_length` steps of imagination from `num_rollouts` starts, at 10 x 32
and 1 x 320 (Appendix I); the configured discount is the one the update uses; and every
fidelity switch (configs/fidelity/) reaches the agent or the loop.

One update is traced with jax.eval_shape (nothing compiles): the sizes are static, and spies
on the learner, the rollout and the replay batch record them while tracing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from spies import one_update

import agents
import envs
from experiments import config

MODEL_AGENTS = ["simple_model", "perfect_model", "gaussian_latent", "categorical_latent",
                "deepmdp", "mpc"]
SMALL = ["env=procmaze", "env.grid_size=3", "agent.hidden=[8]", "step_size=1e-3",
         "temperature=1"]


def built(*overrides):
    """The agent and regime `mbgen` builds from these overrides."""
    with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
        cfg = config.apply_level(compose("config", overrides=[*SMALL, *overrides]))
    job = config.build(cfg)
    return job.agent, job.regime


# ----------------------------------------------------------------------------- the Q batch


@pytest.mark.parametrize("name", MODEL_AGENTS)
@pytest.mark.parametrize("rollouts, length, starts", [("ten_step", 10, 32), ("one_step", 1, 320)])
def test_a_model_agent_trains_q_on_320_imagined_transitions(
    monkeypatch, name, rollouts, length, starts
):
    agent, _ = built(f"agent={name}", f"rollouts={rollouts}")
    seen = one_update(monkeypatch, agent)
    assert seen["q_rows"] == [320]
    assert seen["rollouts"] == [(length, starts, 320)]  # steps of imagination, starts, rows
    assert seen["real_rows"] == []  # no real transition reaches Q
    assert seen["draws"] == [starts]  # one draw from the buffer: the starts (and model batch)
    if name != "perfect_model":
        assert seen["model_rows"] == [32]  # the model trains on 32 replayed transitions


def test_er_trains_q_on_320_replayed_transitions(monkeypatch):
    seen = one_update(monkeypatch, built("agent=er")[0])
    assert (seen["q_rows"], seen["real_rows"], seen["rollouts"]) == ([320], [320], [])
    assert seen["draws"] == [320]


@pytest.mark.parametrize("length, rollout, draws", [
    (10, (10, 16, 160), [160, 32]),  # the replayed 160, then the model batch (16 starts)
    (1, (1, 160, 160), [160, 160]),  # the replayed 160, then the 160 starts
])
def test_dyna_mix_trains_q_on_160_replayed_and_160_imagined_transitions(
    monkeypatch, length, rollout, draws
):
    agent, _ = built("agent=dyna_mix", f"agent.rollout_length={length}")
    seen = one_update(monkeypatch, agent)
    assert (seen["q_rows"], seen["real_rows"], seen["rollouts"]) == ([320], [160], [rollout])
    assert seen["draws"] == draws


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize("name", sorted(agents.REGISTRY))
def test_the_configured_discount_is_the_one_q_learns_with(monkeypatch, name):
    assert one_update(monkeypatch, built(f"agent={name}", "agent.discount=0.5")[0])[
        "discount"] == [0.5]
    made = agents.make(name, envs.make("procmaze", grid_size=3), hidden=(8,), discount=0.25)
    assert one_update(monkeypatch, made)["discount"] == [0.25]


def imagined_bits(agent, logit=-0.5, draws=2000):
    """The next-observation bits the agent's model imagines when every bit's logit is
    `logit` whatever the input (every weight 0, the output biases `logit`)."""
    model = agent.model
    params = jax.tree.map(jnp.zeros_like, model.init(jax.random.key(0)))
    last = sorted(params.next_obs)[-1]
    params.next_obs[last]["b"] = jnp.full(model.features_size, logit)
    obs = jnp.zeros((draws, model.features_size), bool)
    bits = model.transition(params, jax.random.key(1), obs, jnp.zeros(draws, jnp.int32))[0]
    return np.asarray(bits, float)


@pytest.mark.parametrize("name", ["simple_model", "dyna_mix", "mpc"])
def test_bit_sampling_reaches_the_model_the_agent_rolls_out(name):
    # logit -0.5: clip(-0.5, 0, 1) = 0 never switches a bit on; sigmoid(-0.5) = 0.378 does.
    authors, _ = built(f"agent={name}", "fidelity=authors")
    fixed, _ = built(f"agent={name}")
    made = agents.make(name, envs.make("procmaze", grid_size=3), hidden=(8,),
                       bit_sampling="clipped_logit")
    assert imagined_bits(authors).sum() == 0 and imagined_bits(made).sum() == 0
    assert abs(imagined_bits(fixed).mean() - 0.378) < 0.02  # 2000 x 27 draws


@pytest.mark.parametrize("name, fidelity, draws, model_rows", [
    ("simple_model", "authors", [320], [320]),  # the model trains on all 320 starts
    ("simple_model", "fixed", [320], [32]),  # on the first 32 of them
    ("gaussian_latent", "authors", [32, 320], [32]),  # on 32; the 320 starts a second draw
    ("gaussian_latent", "fixed", [320], [32]),
])
def test_rollout_starts_reach_the_agent_the_command_line_builds(
    monkeypatch, name, fidelity, draws, model_rows
):
    agent, _ = built(f"agent={name}", "rollouts=one_step", f"fidelity={fidelity}")
    seen = one_update(monkeypatch, agent)
    assert (seen["draws"], seen["model_rows"]) == (draws, model_rows)
    assert (seen["rollouts"], seen["q_rows"]) == ([(1, 320, 320)], [320])


def test_after_terminal_and_learning_starts_reach_the_loop():
    _, authors = built("agent=er", "fidelity=authors")
    _, fixed = built("agent=er")
    assert (authors.after_terminal, fixed.after_terminal) == ("terminal_obs", "reset_obs")
    assert (authors.learning_starts, fixed.learning_starts) == (1001, 1000)
