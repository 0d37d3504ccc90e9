"""CEM planning beside random shooting (agents/mpc.py), on hand-made models: CEM finds the
one best action sequence more often on the same budget, both spend the same number of model
steps, and the refit is the elites' floored frequencies. No networks except the acting
test's tiny one."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import fast_jit

import envs
from agents import dqn, dyna, models, mpc
from experiments import config

NUM_ACTIONS, HORIZON = 4, 4
TARGET = jnp.array([3, 1, 0, 2])  # the best of the 4^4 = 256 sequences


def trail_model(count=None):
    """A model whose state is (step, still on TARGET): the reward is 1 at every step while
    the sequence so far is TARGET's prefix, 0 from its first wrong action on; it always
    continues. TARGET alone earns at every step; its prefixes earn part of it, the trail
    that makes it findable by refitting. `count(rows)` is told every transition's batch."""

    def start(params, key, obs):
        return jnp.zeros((obs.shape[0], 2)).at[:, 1].set(1.0)

    def transition(params, key, x, action):
        if count is not None:
            jax.debug.callback(count, action.shape[0])
        step = x[:, 0].astype(jnp.int32)
        on = x[:, 1] * (action == TARGET[jnp.minimum(step, HORIZON - 1)])
        return jnp.stack([step + 1.0, on], axis=1), on, jnp.ones(action.shape[0])

    return models.LearnedModel(init=None, loss=None, start=start, transition=transition,
                               predict=None, features_size=2)


ZERO_Q = types.SimpleNamespace(
    discount=0.9, q_values=lambda learner, x: jnp.zeros((x.shape[0], NUM_ACTIONS)))
STATE = dyna.AgentState(None, None, models.Trained(None, None))
OBS = jnp.zeros(3, bool)


def best_sequences(search, keys, count=None):
    """The best-scored sequence of `search` on the trail model, for each key."""
    score = mpc.scorer(ZERO_Q, trail_model(count), HORIZON)

    def best(key):
        actions, scores = search(score, STATE, OBS, *jax.random.split(key, 3))
        return actions[:, jnp.argmax(scores)]

    return np.asarray(fast_jit(jax.vmap(best))(keys))


def test_cem_finds_the_one_best_sequence_more_often_than_random_shooting():
    """128 sequences of 4 steps: random shooting draws TARGET with probability
    1 - (255/256)^128 = 0.39 (over 200 decisions about 79, sd 6.9); CEM's 8 rounds of 16,
    refit to the 4 best, follow its prefixes there in 160 (measured; 146-174 with floors
    0.2-0.3 or 4 rounds of 32, 129-140 at a floor of 0.1)."""
    keys = jax.random.split(jax.random.key(0), 200)
    found = {
        name: int((best_sequences(search, keys) == np.asarray(TARGET)).all(axis=1).sum())
        for name, search in [
            ("random", mpc.random_search(128, HORIZON, NUM_ACTIONS)),
            ("cem", mpc.cem_search(128, HORIZON, NUM_ACTIONS, iterations=8, elites=4)),
        ]
    }
    assert 55 <= found["random"] <= 105, found
    assert found["cem"] >= 140, found


def test_cem_spends_random_shootings_budget_of_model_steps():
    """num_sequences x horizon = 32 x 4 imagined steps per decision, counted row by row,
    in one round or in eight."""
    searches = [mpc.random_search(32, HORIZON, NUM_ACTIONS),
                mpc.cem_search(32, HORIZON, NUM_ACTIONS, iterations=1, elites=1),
                mpc.cem_search(32, HORIZON, NUM_ACTIONS, iterations=8, elites=1)]
    for search in searches:
        rows = []
        best_sequences(search, jax.random.split(jax.random.key(1), 1), rows.append)
        jax.effects_barrier()
        assert sum(int(r) for r in rows) == 32 * HORIZON, rows


def test_refit_is_the_elites_frequencies_with_a_floor():
    actions = jnp.array([[0, 1, 1, 2], [3, 3, 0, 3]])  # (horizon 2, 4 sequences)
    score = jnp.array([0.1, 0.9, 0.5, 0.2])  # elites: sequences 1 and 2
    p = np.exp(mpc.refit(actions, score, elites=2, num_actions=4))
    assert mpc.FLOOR == 0.2  # (1 - 0.2) x frequency + 0.2 / 4
    np.testing.assert_allclose(p, [[0.05, 0.85, 0.05, 0.05], [0.45, 0.05, 0.05, 0.45]],
                               rtol=1e-6)


BAD = [
    ({"cem_iterations": 3}, "agent.cem_iterations must divide agent.num_sequences \\(16\\)"),
    ({"cem_iterations": 0}, "agent.cem_iterations must be a positive integer"),
    ({"cem_elites": 9}, r"agent.cem_elites must be an integer from 1 to agent.num_sequences / "
                        r"agent.cem_iterations = 8"),
    ({"cem_elites": 0}, "agent.cem_elites must be an integer from 1"),
]


def mpc_config(**settings):
    cfg = config.OmegaConf.load(config.CONFIG_DIR / "agent" / "mpc.yaml")
    return config.OmegaConf.merge(cfg, {"hidden": [8], **settings})


@pytest.mark.parametrize("settings, message", BAD)
def test_bad_cem_settings_name_the_key(settings, message):
    with pytest.raises(config.ConfigError, match=message):
        config.make_agent(mpc_config(planner="cem", **settings), envs.make("procmaze",
                                                                            grid_size=3))


def test_random_shooting_ignores_the_cem_settings():
    config.make_agent(mpc_config(num_sequences=10, cem_iterations=3),
                      envs.make("procmaze", grid_size=3))


def test_the_cem_agent_acts_with_its_model():
    """agent=mpc agent.planner=cem builds and acts, greedy and behaving, on ProcMaze."""
    env = envs.make("procmaze", grid_size=3)
    agent = config.make_agent(mpc_config(planner="cem"), env)
    state = agent.init(jax.random.key(0), dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0)))
    obs = jnp.zeros(env.obs_size, bool)
    act = fast_jit(agent.act, static_argnums=3)
    for greedy in (True, False):
        action = int(act(state, obs, jax.random.key(1), greedy))
        assert 0 <= action < env.num_actions
