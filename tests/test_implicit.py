"""The implicit model and its search (agents/implicit.py, agents/search.py): the value targets
worked out by hand, a loss with no observation term, a known reward chain learned through
the unrolled dynamics, Gumbel MuZero's search through a perfect model of a chain, and the
settings checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import fast_jit

import agents
import envs
from agents import dqn, dyna, models, search
from agents.base import Transition
from agents.implicit import ImplicitModel, value_targets
from experiments import config

KEY = jax.random.key(0)


# ----------------------------------------------------------------------------- value targets


def test_value_targets_by_hand():
    """Discount 0.5, two runs of k = 3.
    Run A, all valid, no terminal, rewards (1, 2, 4), bootstraps (10, 20, 40):
    Y_3 = 40, Y_2 = 4 + 20 = 24, Y_1 = 2 + 12 = 14, Y_0 = 1 + 7 = 8; masks all 1.
    Run B, step 1 terminal (reward 3, bootstrap 0), step 2 not valid (reward 100):
    Y_2 = B's step-1 bootstrap 0 (the return after the terminal), Y_1 = 3, Y_0 = 1 + 1.5
    = 2.5, Y_3 (after the invalid step) masked; masks (1, 1, 0, 0): the latent after the
    terminal step and after the invalid one get no value loss."""
    rewards = jnp.array([[1.0, 2.0, 4.0], [1.0, 3.0, 100.0]])
    terminal = jnp.array([[False, False, False], [False, True, False]])
    valid = jnp.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    bootstrap = jnp.array([[10.0, 20.0, 40.0], [5.0, 0.0, 7.0]])
    targets, masks = value_targets(rewards, terminal, valid, bootstrap, 0.5)
    np.testing.assert_allclose(targets[0], [8.0, 14.0, 24.0, 40.0])
    np.testing.assert_allclose(targets[1, :3], [2.5, 3.0, 0.0])
    np.testing.assert_array_equal(masks, [[1, 1, 1, 1], [1, 1, 0, 0]])


# ----------------------------------------------------------------------------- the loss


def runs(obs, actions, rewards, terminal, next_obs) -> Transition:
    return Transition(jnp.asarray(obs, bool), jnp.asarray(actions, jnp.int32),
                      jnp.asarray(rewards, jnp.float32), jnp.asarray(terminal, bool),
                      jnp.asarray(next_obs, bool), None)


def chain_runs(length: int = 3, num_states: int = 4):
    """Every run of `length` steps on a chain of one-hot states from every start: action 0
    steps right, action 1 left (both clipped at the ends); reward 1 only for action 0 in
    state num_states - 2 (arriving at the last state); never terminal."""
    starts, sequences = np.meshgrid(np.arange(num_states), np.arange(2**length), indexing="ij")
    actions = (sequences.reshape(-1, 1) >> np.arange(length)) & 1
    states = [starts.reshape(-1)]
    for t in range(length):
        states.append(np.clip(states[-1] + np.where(actions[:, t] == 0, 1, -1), 0, num_states - 1))
    states = np.stack(states, axis=1)
    rewards = (states[:, :-1] == num_states - 2) & (actions == 0)
    one_hot = np.eye(num_states, dtype=bool)
    data = runs(one_hot[states[:, :-1]], actions, rewards, np.zeros_like(rewards),
                one_hot[states[:, 1:]])
    return data, jnp.ones(actions.shape, jnp.float32)


def test_the_loss_has_no_observation_term():
    """With a value head that is constant (its last layer's weights 0), the bootstraps are the
    same whatever the next observations: permuting them (and every observation after a run's
    first) across the batch, rewards and terminals kept, leaves the gradient of every
    parameter exactly as it was. A reconstruction or latent-matching loss (a decoder, the
    DeepMDP's next-latent term) would change it. With the value head as initialized the same
    permutation does change the gradient: the bootstrap is the loss's one use of o'."""
    model = ImplicitModel(4, 2, (16,), 8, 0.9)
    params = model.init(KEY)
    data, valid = chain_runs()
    order = jax.random.permutation(jax.random.key(1), len(valid))
    shuffled = data._replace(next_obs=data.next_obs[order],
                             obs=data.obs.at[:, 1:].set(data.obs[order, 1:]))
    grad = fast_jit(jax.grad(model.sequence_loss))

    def gradients(params, data):
        return jax.tree.leaves(grad(params, None, (data, valid)))

    last = sorted(params.value)[-1]
    constant = params._replace(value={**params.value, last: {
        "w": jnp.zeros_like(params.value[last]["w"]), "b": jnp.full(1, 0.7)}})
    for a, b in zip(gradients(constant, data), gradients(constant, shuffled)):
        np.testing.assert_array_equal(a, b)
    changed = [not np.array_equal(a, b)
               for a, b in zip(gradients(params, data), gradients(params, shuffled))]
    assert any(changed)


def test_one_step_loss_is_the_sequence_loss_of_runs_of_one():
    model = ImplicitModel(4, 2, (16,), 8, 0.9)
    params = model.init(KEY)
    data, _ = chain_runs(length=1)
    first = jax.tree.map(lambda x: x[:, 0], data)
    np.testing.assert_allclose(
        model.loss(params, None, first),
        model.sequence_loss(params, None, (data, jnp.ones((len(first.action), 1)))), rtol=1e-6)


def test_a_known_reward_chain_is_predicted_by_the_unrolled_model():
    """Trained on every 3-step run of the 4-state chain, the model unrolled from h(o_0)
    through its own latents predicts reward 1 exactly where action 0 is taken in state 2,
    however many steps in, and about 0 elsewhere: the reward at step 3 of (0, 0, 0) from
    state 0 is read off g(g(h(o_0), 0), 0), a latent no observation was ever matched to."""
    model = ImplicitModel(4, 2, (32,), 8, 0.9)
    data, valid = chain_runs()

    @jax.jit
    def train(key):
        def step(trained, _):
            return models.train_step(trained, model.sequence_loss, 3e-3, None, (data, valid))

        trained, _ = jax.lax.scan(step, models.start_training(model.init(key)), None, 600)
        return trained.params

    params = train(KEY)

    def unrolled_rewards(state, actions):
        z = model.represent(params, jax.nn.one_hot(state, 4))
        rewards = []
        for a in actions:
            z, reward, _ = model.dynamics(params, z, jnp.int32(a))
            rewards.append(float(reward))
        return np.array(rewards)

    cases = {(0, (0, 0, 0)): [0, 0, 1], (0, (0, 1, 0)): [0, 0, 0], (1, (0, 0, 1)): [0, 1, 0],
             (3, (1, 0, 0)): [0, 1, 0], (2, (1, 1, 0)): [0, 0, 0]}
    for (state, actions), expected in cases.items():
        np.testing.assert_allclose(unrolled_rewards(state, actions), expected, atol=0.2)


# ----------------------------------------------------------------------------- the search


def perfect_chain_model() -> models.LearnedModel:
    """A perfect model of a 4-state line, latent = the one-hot state: action 0 steps left,
    action 1 right. Arriving at state 0 pays 0.5 and ends the episode; arriving at state 3
    pays 1 and ends it; every other step pays 0. Every reward is multiplied by the model's
    params (1: the line; 0: nothing tells the actions apart). From state 1 the best action
    is right (0 + 0.9 x 1 = 0.9 > 0.5), though left pays more at once."""

    def transition(pay, key, x, action):
        state = jnp.argmax(x, axis=-1) + 2 * action - 1
        reward = jnp.where(state == 0, 0.5, jnp.where(state == 3, 1.0, 0.0))
        continues = ((state != 0) & (state != 3)).astype(jnp.float32)
        return jax.nn.one_hot(jnp.clip(state, 0, 3), 4), pay * reward, continues

    start = lambda params, key, obs: obs.astype(jnp.float32)  # noqa: E731
    return models.LearnedModel(None, None, start, transition, None, 4)


def search_actions(num_simulations: int, greedy: bool, states, keys, pay=1.0) -> list:
    """The search's action from each of `states` with its key, Q = 0 everywhere (a uniform
    prior, value 0): one compiled program per (num_simulations, greedy)."""
    q = dqn.DQN(dqn.mlp(2, (8,)), 0.9)
    learner = q.init(KEY, jnp.zeros(4), dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0)))
    learner = learner._replace(params=jax.tree.map(jnp.zeros_like, learner.params))
    act = search.gumbel_muzero(num_simulations)(q, perfect_chain_model())
    agent_state = dyna.AgentState(learner, None, models.Trained(jnp.float32(pay), None))

    def one(state, key):
        return act(agent_state, jax.nn.one_hot(state, 4), key, greedy)

    return fast_jit(jax.vmap(one))(jnp.asarray(states), jnp.stack(keys)).tolist()


KEYS = [jax.random.key(i) for i in range(12)]


def test_search_with_a_perfect_model_picks_the_optimal_action():
    # right from states 1 and 2: the larger reward two steps away, reward 1 at once
    assert search_actions(16, True, [1, 2], KEYS[:2]) == [1, 1]
    # two simulations see one step of each action only: the myopic choice, left
    assert search_actions(2, True, [1], KEYS[:1]) == [0]


def test_behaving_search_samples_and_greedy_search_does_not():
    """With nothing to tell the actions apart (no rewards, Q = 0), behaving draws the
    Gumbel noise, so the action varies with the key; evaluated, the search is
    deterministic; behaving on the line, the search's values still win (right from 1)."""
    assert set(search_actions(16, False, [1] * 12, KEYS, pay=0.0)) == {0, 1}
    assert len(set(search_actions(16, True, [1] * 12, KEYS, pay=0.0))) == 1
    assert search_actions(16, False, [1] * 4, KEYS[:4]) == [1] * 4


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize("name, key, value", [
    ("implicit_model", "latent_size", 0), ("muzero", "num_simulations", 0),
    ("muzero", "latent_size", -1), ("implicit_model", "model_horizon", 0),
])
def test_bad_settings_are_refused_naming_the_key(name, key, value):
    env = envs.make("procmaze", grid_size=3)
    with pytest.raises(config.ConfigError, match=rf"agent\.{key}"):
        config.make_agent(config.OmegaConf.create({"name": name, key: value}), env)


@pytest.mark.parametrize("name", ["implicit_model", "muzero"])
def test_agent_configs_build(name):
    cfg = config.OmegaConf.load(config.CONFIG_DIR / "agent" / f"{name}.yaml")
    assert cfg.name == name and agents.display(name)
    agent = config.make_agent(cfg, envs.make("procmaze", grid_size=3))
    assert agent.model.features_size == cfg.latent_size


# ----------------------------------------------------------------------------- offline runs


def test_offline_runs_chain_dataset_transitions_and_stop_at_ends():
    """Figure 1's dataset holds (cell, action) pairs: the implicit model's k-step runs chain
    them. Step 0 is replay.sample's draw with the same key; where a step is valid it starts
    where the step before ended; after a terminal nothing is valid; and most runs of the
    Path-to-Goal data go on past step 0 (a defect that never chains would leave 0)."""
    from agents import replay
    from experiments.offline import dataset, training

    data = dataset.as_replay(dataset.training_set("path_to_goal"))
    key = jax.random.key(3)
    runs, valid = training.dataset_runs(data, training.successors(data), key, 64, 5)
    runs, valid = jax.tree.map(np.asarray, runs), np.asarray(valid)
    np.testing.assert_array_equal(runs.obs[:, 0], replay.sample(data, key, 64).obs)
    chained = np.all(runs.next_obs[:, :-1] == runs.obs[:, 1:], axis=-1)
    assert chained[valid[:, 1:] > 0].all()
    assert (valid[:, 1:][runs.terminal[:, :-1]] == 0).all()
    assert (np.diff(valid, axis=1) <= 0).all() and valid[:, 1].mean() > 0.5
