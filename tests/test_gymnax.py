"""The gymnax face of the environments, tested against the installed gymnax package."""

# No importorskip: gymnax comes with `.[dev]`, so a failed import fails (tests/test_extras.py).
import flax.linen as nn  # gymnax brings flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from gymnax.wrappers import FlattenObservationWrapper, LogWrapper

import envs
from envs.gymnax_env import HORIZON, GymnaxEnv, make

NAMES = ("ProcMaze-4", "ButtonGrid-2", "PanFlute-4", "OpenGrid-3")


def test_make_builds_the_suite_env_with_its_settings():
    env, params = make("PanFlute-7", spontaneous=False)
    assert isinstance(env, GymnaxEnv) and env.env == envs.PanFlute(num_pipes=7, spontaneous=False)
    assert env.name == "PanFlute-7" and env.num_actions == 7
    assert params.max_steps_in_episode == HORIZON
    assert env.action_space(params).n == 7
    assert env.observation_space(params).shape == (28,)  # 1 + 2 + ... + 7 cells
    assert make("PanFlute-7", spontaneous=False)[0] == env  # same settings, same jit cache


def test_make_refuses_unknown_names():
    with pytest.raises(ValueError, match=r"env name must be one of ProcMaze-<grid_size>, .*"):
        make("CartPole-v1")
    with pytest.raises(ValueError, match="env.grid_size must be an integer >= 2; got 1."):
        make("ProcMaze-1")


def rollout(step, reset, key, num_actions, steps):
    """A uniform random rollout: (obs, reward, done) per step, keys split as given."""
    reset_key, key = jax.random.split(key)
    obs, state = reset(reset_key)

    def body(carry, key):
        state, _ = carry
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (), 0, num_actions)
        obs, state, reward, done = step(step_key, state, action)
        return (state, obs), (obs, reward, done)

    return jax.lax.scan(body, (state, obs), jax.random.split(key, steps))[1]


@pytest.mark.parametrize("name", NAMES)
def test_random_rollout_matches_the_suite_env_step_for_step(name):
    env, params = make(name)
    params = params.replace(max_steps_in_episode=20)  # short episodes: many auto-resets
    suite = env.env

    def gymnax_step(key, state, action):
        obs, state, reward, terminated, truncated, _ = env.step(key, state, action, params)
        return obs, state, reward, terminated | truncated

    def suite_step(key, state, action):  # gymnax's key split and auto-reset, by hand
        step_key, reset_key = jax.random.split(key)
        time, inner = state
        inner, obs, reward, terminal = suite.step(step_key, inner, action)
        done = terminal | (time + 1 >= 20)
        fresh, fresh_obs = suite.reset(reset_key)
        inner = jax.tree.map(lambda a, b: jnp.where(done, a, b), fresh, inner)
        return jnp.where(done, fresh_obs, obs), (jnp.where(done, 0, time + 1), inner), reward, done

    def suite_reset(key):
        inner, obs = suite.reset(key)
        return obs, (jnp.int32(0), inner)

    def both(key):
        ours = rollout(gymnax_step, lambda k: env.reset(k, params), key, env.num_actions, 50)
        return ours, rollout(suite_step, suite_reset, key, suite.num_actions, 50)

    keys = jax.random.split(jax.random.key(7), 4)
    ours, theirs = jax.jit(jax.vmap(both))(keys)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(a, float), np.asarray(b, float))
    assert np.asarray(ours[2]).sum() >= 2 * len(keys)  # every lane crossed episode ends


def test_gymnax_wrappers_run_it_and_log_episodes():
    env, params = make("OpenGrid-2")
    env = LogWrapper(FlattenObservationWrapper(env))

    def run(key):
        obs, state = env.reset(key, params)

        def body(state, key):
            action_key, step_key = jax.random.split(key)
            action = env.action_space(params).sample(action_key)
            _, state, _, _, _, info = env.step(step_key, state, action, params)
            return state, info

        return jax.lax.scan(body, state, jax.random.split(key, 300))[1]

    info = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(0), 4))
    ended = np.asarray(info["returned_episode"])
    returns = np.asarray(info["returned_episode_returns"])[ended]
    lengths = np.asarray(info["returned_episode_lengths"])[ended]
    assert ended.sum() > 20  # a 2x2 grid ends often under a random policy
    np.testing.assert_array_equal(returns, -lengths)  # -1 per step, the terminal one included
    assert lengths.max() <= HORIZON


class QNetwork(nn.Module):
    num_actions: int

    @nn.compact
    def __call__(self, obs):
        hidden = nn.relu(nn.Dense(64)(obs))
        return nn.Dense(self.num_actions)(nn.relu(nn.Dense(64)(hidden)))


def purejaxrl_dqn(name: str, key, num_envs=8, steps=600, buffer_size=4096, batch=32):
    """A PureJaxRL-style DQN written against gymnax's API only: vmapped envs, a circular
    replay buffer and the whole run in one jitted scan."""
    env, params = make(name)
    env = LogWrapper(env)
    network = QNetwork(env.action_space(params).n)
    optimizer = optax.adam(1e-3)
    obs_size = env.observation_space(params).shape[0]
    key, init_key, reset_key = jax.random.split(key, 3)
    q_params = network.init(init_key, jnp.zeros(obs_size))
    obs, env_state = jax.vmap(env.reset, (0, None))(jax.random.split(reset_key, num_envs), params)
    buffer = dict(
        obs=jnp.zeros((buffer_size, obs_size)),
        action=jnp.zeros(buffer_size, jnp.int32),
        reward=jnp.zeros(buffer_size),
        next_obs=jnp.zeros((buffer_size, obs_size)),
        terminated=jnp.zeros(buffer_size, bool),
    )

    def loss(q_params, target_params, sample):
        q = network.apply(q_params, sample["obs"])
        q = jnp.take_along_axis(q, sample["action"][:, None], axis=1)[:, 0]
        next_q = network.apply(target_params, sample["next_obs"]).max(axis=1)
        target = sample["reward"] + 0.9 * (1 - sample["terminated"]) * next_q
        return jnp.mean((q - jax.lax.stop_gradient(target)) ** 2)

    def body(carry, t):
        q_params, target_params, opt_state, obs, env_state, buffer, key = carry
        key, act_key, explore_key, step_key, sample_key = jax.random.split(key, 5)
        epsilon = jnp.maximum(0.05, 1.0 - t / (0.5 * steps))
        greedy = network.apply(q_params, obs).argmax(axis=1)
        random_action = jax.random.randint(act_key, (num_envs,), 0, env.num_actions)
        explore = jax.random.uniform(explore_key, (num_envs,)) < epsilon
        action = jnp.where(explore, random_action, greedy)
        next_obs, env_state, reward, terminated, _, info = jax.vmap(env.step, (0, 0, 0, None))(
            jax.random.split(step_key, num_envs), env_state, action, params
        )
        slots = (t * num_envs + jnp.arange(num_envs)) % buffer_size
        new = dict(obs=obs, action=action, reward=reward, terminated=terminated,
                   next_obs=info["final_observation"])  # fmt: skip
        buffer = jax.tree.map(lambda b, x: b.at[slots].set(x), buffer, new)
        filled = jnp.minimum((t + 1) * num_envs, buffer_size)
        sample = jax.tree.map(
            lambda b: b[jax.random.randint(sample_key, (batch,), 0, filled)], buffer
        )
        grads = jax.grad(loss)(q_params, target_params, sample)
        updates, opt_state = optimizer.update(grads, opt_state)
        q_params = optax.apply_updates(q_params, updates)
        target_params = jax.tree.map(
            lambda q, old: jnp.where(t % 50 == 0, q, old), q_params, target_params
        )
        carry = (q_params, target_params, opt_state, next_obs, env_state, buffer, key)
        return carry, info

    carry = (q_params, q_params, optimizer.init(q_params), obs, env_state, buffer, key)
    _, info = jax.jit(lambda c: jax.lax.scan(body, c, jnp.arange(steps)))(carry)
    return info


@pytest.mark.slow  # a learning run (10 s here); the step-for-step rollouts stay in the default run
def test_a_purejaxrl_style_dqn_learns_opengrid():
    info = purejaxrl_dqn("OpenGrid-3", jax.random.key(0))
    ended = np.asarray(info["returned_episode"])
    returns = np.asarray(info["returned_episode_returns"])
    first = returns[:100][ended[:100]].mean()  # near-random play at the start
    last = returns[-100:][ended[-100:]].mean()  # 5% exploration at the end
    # The uniform random policy's return on OpenGrid 3 is about -14, the optimum about -3.
    assert first < -8
    assert last > -5
