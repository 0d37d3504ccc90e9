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

import agents
import envs
from agents import dqn, dyna, models, perfect_model, replay
from agents.base import Transition
from experiments import config

HYPER = dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0))
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


def one_update(monkeypatch, agent):
    """What one update of `agent` (after observing one ProcMaze transition) trains on: the Q
    batch's rows and discount, the rows of real transitions, each rollout's (steps, starts,
    rows), each model step's batch rows and the size of each draw from the buffer."""
    env = envs.make("procmaze", grid_size=3)  # as SMALL
    seen = {"q_rows": [], "discount": [], "real_rows": [], "rollouts": [], "model_rows": [],
            "draws": []}
    learn, real_batch, train_step, draw = (
        dqn.DQN.learn_with_errors, dqn.real_batch, models.train_step, replay.sample_indices)

    def spy_learn(self, learner, batch):
        rows = {x.shape[0] for x in jax.tree.leaves(batch)}
        assert len(rows) == 1, f"the batch's fields disagree on its rows: {rows}"
        seen["q_rows"].append(rows.pop())
        seen["discount"].append(self.discount)
        return learn(self, learner, batch)

    def spy_real_batch(transitions):
        seen["real_rows"].append(transitions.obs.shape[0])
        return real_batch(transitions)

    def spy_rollout(rollout):
        def spied(key, q, learner, start, features, transition, length, *args, **kwargs):
            batch = rollout(key, q, learner, start, features, transition, length, *args, **kwargs)
            starts = jax.tree.leaves(start)[0].shape[0]
            seen["rollouts"].append((length, starts, batch.obs.shape[0]))
            return batch

        return spied

    def spy_draw(memory, key, size):
        seen["draws"].append(size)
        return draw(memory, key, size)

    def spy_train_step(trained, loss, step_size, key, data, **hooks):
        seen["model_rows"].append(jax.tree.leaves(data)[0].shape[0])
        return train_step(trained, loss, step_size, key, data, **hooks)

    monkeypatch.setattr(dqn.DQN, "learn_with_errors", spy_learn)
    monkeypatch.setattr(dqn, "real_batch", spy_real_batch)
    monkeypatch.setattr(models, "train_step", spy_train_step)
    monkeypatch.setattr(replay, "sample_indices", spy_draw)
    monkeypatch.setattr(dyna, "rollout", spy_rollout(dyna.rollout))
    monkeypatch.setattr(perfect_model, "rollout", spy_rollout(perfect_model.rollout))

    def update():
        state = agent.init(jax.random.key(0), HYPER)
        env_state, obs = env.reset(jax.random.key(1))
        action = jnp.int32(0)
        _, next_obs, reward, terminal = env.step(jax.random.key(2), env_state, action)
        transition = Transition(obs, action, reward, terminal, next_obs, env_state)
        return agent.update(agent.observe(state, transition), jax.random.key(3))

    jax.eval_shape(update)
    return seen


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
