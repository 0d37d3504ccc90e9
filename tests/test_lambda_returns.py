"""TD(lambda) in imagination (issue 39 item 4): Dreamer's lambda-returns along the rollouts,
worked by hand, and lambda = 0 as the paper's one-step agent."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents
import envs
from agents import dqn, dyna
from agents.base import Transition
from agents.rollout import lambda_returns

# Two rollouts of 3 steps, step-major: rows (step 0: a, b), (step 1: a, b), (step 2: a, b).
REWARD = jnp.array([1.0, 0.0, 2.0, 0.0, 3.0, 0.0])
CONTINUATION = jnp.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])  # rollout b ends at its step 1
NEXT_VALUE = jnp.array([10.0, 4.0, 20.0, 4.0, 30.0, 4.0])


@pytest.mark.parametrize("lam, expected_a", [
    # G2 = 3 + .5 30 = 18; G1 = 2 + .5 (.5 20 + .5 18) = 11.5; G0 = 1 + .5 (.5 10 + .5 11.5)
    (0.5, [6.375, 11.5, 18.0]),
    (0.0, [6.0, 12.0, 18.0]),  # the one-step targets r + .5 v
    (1.0, [6.5, 11.0, 18.0]),  # the discounted return, bootstrapped at the end
])
def test_lambda_returns_by_hand(lam, expected_a):
    targets = lambda_returns(REWARD, CONTINUATION, NEXT_VALUE, 0.5, lam, 3)
    np.testing.assert_allclose(targets[0::2], expected_a, rtol=1e-6)
    # rollout b: its step 1 does not continue, so nothing after it reaches step 0's target
    b1 = 0.0
    np.testing.assert_allclose(targets[1::2], [0.5 * ((1 - lam) * 4 + lam * b1), b1, 2.0])


def test_the_learner_trains_toward_a_batch_s_own_target():
    q = dqn.q_learner(num_actions=2, hidden=(4,), discount=0.9)
    learner = q.init(jax.random.key(0), jnp.zeros(3), dqn.Hyper(jnp.float32(1e-3), 1.0))
    obs = jnp.eye(3)
    batch = dqn.Batch(obs, jnp.array([0, 1, 0]), jnp.ones(3), jnp.ones(3), obs, jnp.ones(3))
    q_taken = q.q_values(learner, obs)[jnp.arange(3), batch.action]
    own = jnp.array([5.0, -1.0, 0.25])
    _, errors = q.loss_and_errors(learner.params, learner.target_params,
                                  batch._replace(target=own))
    np.testing.assert_allclose(errors, own - q_taken, rtol=1e-6)
    _, one_step = q.loss_and_errors(learner.params, learner.target_params, batch)
    expected = 1.0 + 0.9 * q.next_value(learner.target_params, batch) - q_taken
    np.testing.assert_allclose(one_step, expected, rtol=1e-6)


def test_lambda_0_keeps_the_one_step_target_and_computes_nothing():
    batch = dqn.Batch(*(jnp.zeros(4) for _ in range(6)))
    assert dyna.Returns(0.0).targets(None, None, batch, 2) is batch  # the paper's agent


@pytest.mark.parametrize("name", [
    "simple_model", pytest.param("categorical_latent", marks=pytest.mark.slow)])
def test_an_updates_imagined_targets_are_the_lambda_returns_of_its_rollout(name):
    env = envs.make("procmaze", grid_size=3)
    _, obs = env.reset(jax.random.key(1))
    step = Transition(obs, jnp.int32(0), jnp.float32(0), jnp.bool_(False), obs, None)
    agent = agents.make(name, env, hidden=(8,), td_lambda=0.7)
    state = agent.init(jax.random.key(0), dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0)))
    state = agent.observe(state, step)
    real, seen = dyna.Returns.targets, {}

    def spy(self, q, learner, batch, length):
        given = real(self, q, learner, batch, length)
        value = q.next_value(learner.target_params, batch)
        seen.update(given=given.target, length=length, expected=lambda_returns(
            batch.reward, batch.continuation, value, 0.9, 0.7, length))
        return given

    dyna.Returns.targets = spy
    try:
        agent.update(state, jax.random.key(2))  # eager: one update compiles nothing whole
    finally:
        dyna.Returns.targets = real
    assert seen["length"] == 10
    np.testing.assert_allclose(seen["given"], seen["expected"], rtol=1e-6)


@pytest.mark.parametrize("settings, message", [
    ({"td_lambda": 1.5}, "agent.td_lambda must be a number from 0 to 1"),
    ({"td_lambda": 0.5, "rollout_schedule": [0, 10, 1, 10]},
     "agent.td_lambda must be 0 when agent.rollout_schedule is set"),
])
def test_bad_lambda_settings_are_refused_naming_the_key(settings, message):
    env = envs.make("procmaze", grid_size=3)
    with pytest.raises(ValueError, match=message):
        agents.make("simple_model", env, **settings)
