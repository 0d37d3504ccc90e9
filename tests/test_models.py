"""The pieces of the agents against numbers worked out by hand (SPEC section 2): likelihoods,
KLs and KL balancing, straight-through samples, the model losses' masking, rollout weights,
perfect-model rollouts, the optimizer, the TD loss; and a simple model that learns ProcMaze."""

import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents
import envs
from agents import dqn, models
from agents.base import Transition
from agents.dyna import AgentState
from agents.latent import (
    CATEGORICAL,
    GAUSSIAN,
    LATENT_FEATURES,
    LatentModel,
    LatentParams,
    balanced_kl,
    categorical_kl,
    gaussian_distribution,
    gaussian_kl,
    straight_through,
)
from agents.models import bernoulli_nll, gaussian_nll, prediction_metrics
from agents.perfect_model import true_transition
from agents.rollout import rollout
from agents.simple_model import SimpleModel
from experiments.evaluation import random_transitions

KEY = jax.random.key(0)
LOG2 = math.log(2)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def zeros_like(tree):
    return jax.tree.map(jnp.zeros_like, tree)


def transitions(obs, action, reward, terminal, next_obs):
    return Transition(jnp.array(obs, bool), jnp.array(action, jnp.int32),
                      jnp.array(reward, jnp.float32), jnp.array(terminal, bool),
                      jnp.array(next_obs, bool), None)


# ----------------------------------------------------------------------------- likelihoods


def test_bernoulli_nll():
    logits = jnp.array([0.0, 2.0, -1.0, 30.0, -30.0])
    targets = jnp.array([1, 0, 1, 1, 0], bool)
    expected = [LOG2,                      # -log sigmoid(0)
                math.log(1 + math.e**2),   # -log(1 - sigmoid(2))
                math.log(1 + math.e),      # -log sigmoid(-1)
                math.log1p(math.exp(-30)),  # confident and right: about 0, no overflow
                math.log1p(math.exp(-30))]
    np.testing.assert_allclose(bernoulli_nll(logits, targets), expected, rtol=1e-6, atol=1e-12)


def test_gaussian_nll_has_unit_variance():
    got = gaussian_nll(jnp.array([1.5, 0.0, -1.0]), jnp.array([0.5, 0.0, 2.0]))
    expected = [0.5 + HALF_LOG_2PI, HALF_LOG_2PI, 4.5 + HALF_LOG_2PI]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


# ----------------------------------------------------------------------------- latents


def test_gaussian_std_parameterization():
    outputs = jnp.array([[3.0, 0.0], [0.0, -40.0]])  # one feature: (mean, raw std) per row
    prior_mean, prior_std = gaussian_distribution(outputs, posterior=False)
    _, posterior_std = gaussian_distribution(outputs, posterior=True)
    np.testing.assert_allclose(prior_mean[:, 0], [3.0, 0.0])
    # 2 sigmoid(0 / 2) = 1; 2 sigmoid(-20) = 4e-9 is clipped up to 1e-6; the encoder adds 0.1.
    np.testing.assert_allclose(prior_std[:, 0], [1.0, 1e-6], rtol=1e-5)
    np.testing.assert_allclose(posterior_std[:, 0], [1.1, 0.1 + 1e-6], rtol=1e-5)


def test_gaussian_kl():
    q = (jnp.array([0.0, 1.0]), jnp.array([1.0, 0.5]))
    p = (jnp.array([1.0, 1.0]), jnp.array([2.0, 0.5]))
    # Per feature: log(sp / sq) + (sq^2 + (mq - mp)^2) / (2 sp^2) - 1/2; the second is 0.
    expected = math.log(2) + (1 + 1) / 8 - 0.5
    np.testing.assert_allclose(gaussian_kl(q, p), expected, rtol=1e-6)


def test_categorical_kl():
    q = jnp.log(jnp.array([[0.5, 0.5], [0.2, 0.8]]))  # two variables of two classes
    p = jnp.log(jnp.array([[0.25, 0.75], [0.2, 0.8]]))
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)  # the second is 0
    np.testing.assert_allclose(categorical_kl(q, p), expected, rtol=1e-6)


def test_kl_balancing_gaussian_gradients():
    """Value KL(q || p); the posterior gets 0.2 of the KL's gradient, the prior 0.8."""

    def loss(q_mean, q_std, p_mean, p_std):
        return balanced_kl(gaussian_kl, (q_mean[None], q_std[None]), (p_mean[None], p_std[None]))

    args = (0.0, 1.0, 1.0, 2.0)  # q = N(0, 1), p = N(1, 2^2)
    value, grads = jax.value_and_grad(loss, argnums=(0, 1, 2, 3))(*map(jnp.float32, args))
    np.testing.assert_allclose(value, math.log(2) + 2 / 8 - 0.5, rtol=1e-6)
    # dKL/dmq = (mq - mp) / sp^2 = -1/4      dKL/dsq = -1/sq + sq / sp^2 = -3/4
    # dKL/dmp = (mp - mq) / sp^2 = 1/4       dKL/dsp = 1/sp - (sq^2 + (mq - mp)^2) / sp^3 = 1/4
    expected = (0.2 * -0.25, 0.2 * -0.75, 0.8 * 0.25, 0.8 * 0.25)
    np.testing.assert_allclose(grads, expected, rtol=1e-5)


def test_kl_balancing_categorical_gradients():
    q = jnp.log(jnp.array([[0.5, 0.5]]))
    p = jnp.log(jnp.array([[0.25, 0.75]]))
    q_grad, p_grad = jax.grad(lambda q, p: balanced_kl(categorical_kl, q, p), argnums=(0, 1))(q, p)
    # d KL / d prior logits = p - q;  d KL / d posterior logit j = q_j (log q_j/p_j - KL).
    kl = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    np.testing.assert_allclose(p_grad, 0.8 * np.array([[0.25 - 0.5, 0.75 - 0.5]]), atol=1e-6)
    posterior = [0.5 * (math.log(2) - kl), 0.5 * (math.log(2 / 3) - kl)]
    np.testing.assert_allclose(q_grad, 0.2 * np.array([posterior]), atol=1e-6)


def test_straight_through_sample():
    logits = jnp.log(jnp.array([1.0, 2.0, 3.0]))  # probabilities 1/6, 2/6, 3/6
    weights = jnp.array([1.0, 2.0, 4.0])
    for key in jax.random.split(KEY, 5):
        sample = straight_through(key, logits)
        assert np.isclose(np.asarray(sample), 1.0, atol=1e-6).sum() == 1  # one-hot in value
        np.testing.assert_allclose(np.sort(np.asarray(sample)), [0, 0, 1], atol=1e-6)
        # Its gradient is that of the probabilities: d/du_j sum_k w_k p_k = p_j (w_j - sum w p).
        grad = jax.grad(lambda u: (weights * straight_through(key, u)).sum())(logits)
        mean = 17 / 6
        np.testing.assert_allclose(
            grad, [(1 / 6) * (1 - mean), (2 / 6) * (2 - mean), (3 / 6) * (4 - mean)], rtol=1e-5)


@pytest.mark.slow  # 10 s of compiling for shapes and one-hot classes
def test_latent_sample_shapes():
    model = LatentModel(CATEGORICAL, 6, 3, (8,))
    params = jax.jit(model.init)(KEY)
    z = jax.jit(model.start)(params, KEY, jnp.zeros((5, 6), bool))
    assert z.shape == (5, CATEGORICAL.size) == (5, 32 * 32)
    np.testing.assert_allclose(z.reshape(5, 32, 32).sum(-1), 1.0, atol=1e-5)  # one class each
    actions = jnp.zeros(5, jnp.int32)
    z_next, reward, continuation = jax.jit(model.transition)(params, KEY, z, actions)
    assert z_next.shape == z.shape and reward.shape == continuation.shape == (5,)
    assert GAUSSIAN.size == LATENT_FEATURES == 32


# ----------------------------------------------------------------------------- model losses

# Two transitions of a 4-bit world: one that continues, one terminal.
BATCH = transitions(obs=[[1, 0, 0, 1], [0, 1, 1, 0]], action=[0, 1], reward=[-1.0, 0.5],
                    terminal=[False, True], next_obs=[[0, 1, 0, 1], [1, 1, 1, 1]])


def test_simple_model_loss_by_hand():
    """With all parameters 0 every output is 0: reward mean 0, and probability 1/2 for the
    continuation and for each of the 4 next bits, which count only when not terminal."""
    model = SimpleModel(obs_size=4, num_actions=2, hidden=(8,))
    params = zeros_like(model.init(KEY))
    continuing = (0.5 * 1.0 + HALF_LOG_2PI) + LOG2 + 4 * LOG2
    terminal = (0.5 * 0.25 + HALF_LOG_2PI) + LOG2  # no next-observation term
    expected = (continuing + terminal) / 2
    np.testing.assert_allclose(model.loss(params, None, BATCH), expected, rtol=1e-6)


def test_simple_model_masks_next_obs_on_terminal_transitions():
    model = SimpleModel(obs_size=4, num_actions=2, hidden=(8,))
    params = model.init(KEY)
    flip = lambda i: BATCH._replace(next_obs=BATCH.next_obs.at[i].set(~BATCH.next_obs[i]))  # noqa: E731
    base = model.loss(params, None, BATCH)
    assert model.loss(params, None, flip(1)) == base  # the terminal one's next obs is ignored
    assert model.loss(params, None, flip(0)) != base


def test_bit_temperature_divides_the_imagined_logits_and_1_leaves_them_as_they_were():
    # As an expectation model the step returns the bit probabilities it would sample from.
    model = SimpleModel(obs_size=4, num_actions=2, hidden=(8,), next_obs="mean")
    params = model.init(KEY)
    logits = model.predict(params, BATCH.obs, BATCH.action)[2]
    cool = model.transition(params, KEY, BATCH.obs, BATCH.action)[0]
    hot = model._replace(bit_temperature=2.0).transition(params, KEY, BATCH.obs, BATCH.action)[0]
    np.testing.assert_array_equal(cool, jax.nn.sigmoid(logits))
    np.testing.assert_allclose(hot, jax.nn.sigmoid(logits / 2.0), rtol=1e-6)
    assert not np.allclose(hot, cool)


@pytest.mark.parametrize("latent", ["gaussian", "categorical"])
def test_latent_model_loss_by_hand(latent):
    """With all parameters 0: reward mean 0, continuation and every bit probability 1/2, the
    prior N(0, 1) (Gaussian; uniform categorical) and the posterior N(0, 1.1^2) (uniform).
    The reconstruction of obs is masked on the terminal transition."""
    model = LatentModel(GAUSSIAN if latent == "gaussian" else CATEGORICAL, 4, 2, (8,))
    params = zeros_like(model.init(KEY))
    kl = 32 * (math.log(1 / 1.1) + 1.1**2 / 2 - 0.5) if latent == "gaussian" else 0.0
    continuing = 4 * LOG2 + (0.5 * 1.0 + HALF_LOG_2PI) + LOG2 + kl
    terminal = (0.5 * 0.25 + HALF_LOG_2PI) + LOG2 + kl
    expected = (continuing + terminal) / 2
    np.testing.assert_allclose(model.loss(params, KEY, BATCH), expected, rtol=1e-5)


def linear(w, b) -> dict:
    """A one-layer network's parameters (hidden=()) set to weights `w` and bias `b`."""
    return {"mlp/~/linear_0": {"w": jnp.asarray(w, jnp.float32), "b": jnp.asarray(b, jnp.float32)}}


@pytest.mark.parametrize("latent", ["gaussian", "categorical"])
def test_latent_model_loss_at_chosen_parameters(latent):
    """Linear networks chosen so that every term depends on the right inputs and nothing
    depends on the noise of z: the posterior's first output is obs_0 + 2 obs_1 (a mean, or
    the logit of class 0 of the first variable), the prior's is 0.5 after action 0 and -1
    after action 1, the decoder's bit logits are (1, -1, 2, 0), the reward mean is 0.25 or
    -0.5 by action and the continuation logit 1.5 or -0.5. Swapping obs and next_obs in the
    reconstruction or in the KL, or inverting the continuation target, changes the value."""
    spec = GAUSSIAN if latent == "gaussian" else CATEGORICAL
    model = LatentModel(spec, 4, 2, ())
    z_size, outputs = spec.size, spec.outputs
    by_action = np.zeros((z_size + 2, outputs))
    by_action[z_size:, 0] = [0.5, -1.0]
    encoder = np.zeros((4, outputs))
    encoder[:2, 0] = [1.0, 2.0]
    params = LatentParams(
        encoder=linear(encoder, np.zeros(outputs)),
        transition=linear(by_action, np.zeros(outputs)),
        decoder=linear(np.zeros((z_size, 4)), [1.0, -1.0, 2.0, 0.0]),
        reward=linear(np.array([[0.0]] * z_size + [[0.25], [-0.5]]), [0.0]),
        continuation=linear(np.array([[0.0]] * z_size + [[1.5], [-0.5]]), [0.0]),
    )

    def kl(q_first, p_first):  # only the first output differs from 0; the rest add a constant
        if latent == "gaussian":  # posterior std 2 sigmoid(0) + 0.1 = 1.1, prior std 1
            per_feature = lambda mq, mp: math.log(1 / 1.1) + (1.1**2 + (mq - mp) ** 2) / 2 - 0.5  # noqa: E731
            return per_feature(q_first, p_first) + 31 * per_feature(0, 0)
        q = np.exp([q_first] + [0.0] * 31)
        p = np.exp([p_first] + [0.0] * 31)
        q, p = q / q.sum(), p / p.sum()
        return float(np.sum(q * np.log(q / p)))  # the other 31 variables are both uniform

    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    # Transition 0 continues: obs (1, 0, 0, 1) is reconstructed from bit logits (1, -1, 2, 0);
    # next_obs (0, 1, 0, 1) gives the posterior 2 against the prior 0.5 of action 0.
    reconstruction = (softplus(1) - 1) + softplus(-1) + softplus(2) + LOG2
    continuing = (reconstruction + (0.5 * 1.25**2 + HALF_LOG_2PI)
                  + (softplus(1.5) - 1.5) + kl(2.0, 0.5))
    # Transition 1 is terminal: no reconstruction, continuation target 0, and next_obs
    # (1, 1, 1, 1) gives the posterior 3 against the prior -1 of action 1.
    terminal = (0.5 * 1.0**2 + HALF_LOG_2PI) + softplus(-0.5) + kl(3.0, -1.0)
    got = model.loss(params, KEY, BATCH)
    np.testing.assert_allclose(got, (continuing + terminal) / 2, rtol=1e-5)


def test_simple_model_samples_bits_from_sigmoid_of_logits():
    model = SimpleModel(obs_size=4, num_actions=2, hidden=(8,))
    params = zeros_like(model.init(KEY))
    # With zero weights the outputs are the last layer's bias: logits -30, 30, 0, 0.
    last = "mlp/~/linear_1"
    bias = jnp.array([-30.0, 30.0, 0.0, 0.0])
    next_obs = {**params.next_obs, last: {**params.next_obs[last], "b": bias}}
    params = params._replace(next_obs=next_obs)
    obs = jnp.zeros((4000, 4), bool)
    bits, reward, continuation = model.transition(params, KEY, obs, jnp.zeros(4000, jnp.int32))
    frequency = np.asarray(bits).mean(axis=0)
    assert frequency[0] == 0 and frequency[1] == 1  # a raw logit of -30 would be "true"
    np.testing.assert_allclose(frequency[2:], 0.5, atol=0.03)
    np.testing.assert_allclose(reward, 0.0)
    np.testing.assert_allclose(continuation, 0.5)  # sigmoid(0), a probability


def test_prediction_metrics_by_hand():
    batch = transitions(obs=[[0, 0, 0, 0]] * 3, action=[0, 0, 0], reward=[-1.0, -1.0, 0.0],
                        terminal=[False, False, True],
                        next_obs=[[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]])
    logits = jnp.array([[2.0, 1.0, -1.0, -3.0],   # 4 of 4 bits right
                        [2.0, -1.0, -1.0, 3.0],   # 2 of 4 right
                        [5.0, 5.0, 5.0, 5.0]])    # terminal: not scored
    reward = jnp.array([-0.5, -1.0, 1.0])
    continuation = jnp.log(jnp.array([3.0, 1.0, 1 / 3]))  # sigmoid: 3/4, 1/2, 1/4
    got = prediction_metrics(logits, reward, continuation, batch)
    np.testing.assert_allclose(got["model_obs_accuracy"], (1.0 + 0.5) / 2)
    np.testing.assert_allclose(got["model_reward_error"], (0.5 + 0 + 1) / 3)
    np.testing.assert_allclose(got["model_continuation_error"], (0.25 + 0.5 + 0.25) / 3, rtol=1e-6)


# ----------------------------------------------------------------------------- rollouts


def tiny_learner(num_actions: int, input_size: int):
    q = dqn.DQN(dqn.mlp(num_actions, (4,)))
    return q, q.init(KEY, jnp.zeros(input_size), dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0)))


@pytest.mark.parametrize("episodic", [True, False])
def test_rollout_weights(episodic):
    """A toy world: the state counts up, the reward is the state, and rollout 0 continues
    with probability 1/2 per step, rollout 1 with 4/5."""
    q, learner = tiny_learner(2, 1)

    def transition(key, x, action):
        return x + 1, x[:, 0], jnp.array([0.5, 0.8])

    start = jnp.array([[0.0], [10.0]])
    batch = rollout(KEY, q, learner, start, lambda x: x, transition, 3, episodic)
    # Time-major: row t * 2 + b is step t of rollout b.
    np.testing.assert_allclose(batch.obs[:, 0], [0, 10, 1, 11, 2, 12])
    np.testing.assert_allclose(batch.next_obs[:, 0], [1, 11, 2, 12, 3, 13])
    np.testing.assert_allclose(batch.reward, [0, 10, 1, 11, 2, 12])
    np.testing.assert_allclose(batch.continuation, [0.5, 0.8] * 3)
    expected = [1, 1, 0.5, 0.8, 0.25, 0.64] if episodic else [1] * 6
    np.testing.assert_allclose(batch.weight, expected, rtol=1e-6)


def test_perfect_model_rollout_is_the_true_environment():
    """The rollout equals stepping env.step one state at a time with the keys the rollout
    hands out (per step: an action key, then one env key per rollout), weights included."""
    env = envs.make("procmaze", grid_size=3)
    q, learner = tiny_learner(env.num_actions, env.obs_size)
    starts = jax.vmap(env.reset)(jax.random.split(KEY, 3))[0]
    starts = starts._replace(agent=starts.agent.at[0].set(starts.goal[0]))  # 0 starts on the goal
    length = 4
    key = jax.random.key(7)
    batch = rollout(key, q, learner, starts, jax.vmap(env.observe), true_transition(env), length,
                    env.episodic)

    env_step, observe = jax.jit(env.step), jax.jit(env.observe)
    states = [jax.tree.map(lambda x: x[b], starts) for b in range(3)]
    weights = [1.0] * 3
    for t, step_key in enumerate(jax.random.split(key, length)):
        act_key, env_key = jax.random.split(step_key)
        obs = jnp.stack([observe(s) for s in states])
        actions = q.act(learner, obs, act_key, greedy=False)
        for b, b_key in enumerate(jax.random.split(env_key, 3)):
            row = t * 3 + b
            next_state, next_obs, reward, terminal = env_step(b_key, states[b], actions[b])
            np.testing.assert_array_equal(batch.obs[row], obs[b])
            assert batch.action[row] == actions[b]
            np.testing.assert_array_equal(batch.next_obs[row], next_obs)
            assert batch.reward[row] == reward
            assert batch.continuation[row] == 1.0 - float(terminal)
            assert batch.weight[row] == weights[b]
            weights[b] *= 1.0 - float(terminal)
            states[b] = next_state
    assert batch.continuation[0] == 0.0 and batch.weight[3::3].sum() == 0  # after a true terminal


# ----------------------------------------------------------------------------- the learner


def test_adam_with_unscaled_weight_decay():
    """x <- x - lr m_hat / (sqrt(v_hat) + eps) - 1e-6 x, with b1 .9, b2 .99, eps 1e-5."""
    lr, b1, b2, eps, decay = 0.1, 0.9, 0.99, 1e-5, 1e-6
    x = np.array([1.0, -2.0, 0.5])
    grads = [np.array([0.5, -1.0, 0.0]), np.array([0.1, 2.0, 0.3]), np.array([-0.4, 0.0, 1e-3])]
    params = {"x": jnp.array(x, jnp.float32)}
    opt_state = dqn.adam(lr).init(params)
    m = v = np.zeros(3)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + eps) - decay * x
        params, opt_state = dqn.adam_step(params, opt_state, {"x": jnp.array(g, jnp.float32)}, lr)
        np.testing.assert_allclose(params["x"], x, rtol=1e-6, atol=1e-7)


def test_td_loss_by_hand():
    """A linear Q-network Q(s) = s W + b on two transitions, discount 0.9."""
    q = dqn.DQN(dqn.mlp(2, hidden=()))
    layer = "mlp/~/linear_0"
    params = {layer: {"w": jnp.array([[1.0, 0.0], [0.0, 2.0]]), "b": jnp.array([0.5, -0.5])}}
    target = {layer: {"w": jnp.array([[2.0, 0.0], [0.0, 1.0]]), "b": jnp.zeros(2)}}
    batch = dqn.Batch(obs=jnp.array([[1.0, 0.0], [0.0, 1.0]]), action=jnp.array([0, 1]),
                      reward=jnp.array([1.0, -1.0]), continuation=jnp.array([1.0, 0.0]),
                      next_obs=jnp.array([[0.0, 1.0], [1.0, 1.0]]), weight=jnp.array([1.0, 0.5]))
    # Q(s0) = (1.5, -0.5), a = 0: 1.5;  Q(s1) = (0.5, 1.5), a = 1: 1.5.
    # Target net: max Q'(s0') = max(0, 1) = 1; max Q'(s1') = max(2, 1) = 2 (not used: c = 0).
    # Targets 1 + 0.9 * 1 = 1.9 and -1; TD errors 0.4 and -2.5.
    loss, grads = jax.value_and_grad(q.loss)(params, target, batch)
    np.testing.assert_allclose(loss, (1.0 * 0.4**2 + 0.5 * 2.5**2) / 2, rtol=1e-6)
    # d loss / d b_a = mean(-2 weight td [a taken]); the target is a constant.
    np.testing.assert_allclose(grads[layer]["b"], [-2 * 0.4 / 2, -2 * 0.5 * -2.5 / 2], rtol=1e-6)


# ----------------------------------------------------------------------------- learning


def test_simple_model_learns_procmaze():
    """Trained on random-policy ProcMaze n=3 transitions with the agent's own model step
    (batch 32, step size 2e-4, full 3 x 200 networks), the simple model predicts held-out
    next observations with a per-bit error rate below a fifth of the "copy the current
    observation" baseline's (which is already ~98% accurate, since a move changes 2 of 36
    bits), and its reward and continuation errors are small."""
    env = envs.make("procmaze", grid_size=3)
    agent = agents.make("simple_model", env)
    settings = agents.defaults("simple_model")
    model = SimpleModel(env.obs_size, env.num_actions, tuple(settings["hidden"]))
    step_size = settings["model_step_size"]
    data_key, init_key, train_key, metrics_key = jax.random.split(KEY, 4)
    # Runs of 32 steps in fresh mazes: 256 runs to train on (8192 transitions), 32 held out.
    runs = random_transitions(env, data_key, num_envs=288, num_steps=32)
    data, held_out = (jax.tree.map(lambda x: x[part], runs)
                      for part in (slice(0, 8192), slice(8192, None)))
    num_steps = 4000

    @jax.jit
    def train(trained, data, key):
        def step(trained, key):
            index = jax.random.randint(key, (32,), 0, data.reward.shape[0])
            batch = jax.tree.map(lambda x: x[index], data)
            return models.train_step(trained, model.loss, step_size, None, batch)

        return jax.lax.scan(step, trained, jax.random.split(key, num_steps))

    start = time.perf_counter()
    trained, losses = train(models.start_training(model.init(init_key)), data, train_key)
    state = AgentState(learner=None, replay=None, model=trained)  # predict reads .model
    predictions = agent.predict(state, held_out, metrics_key)
    metrics = jax.tree.map(float, models.prediction_metrics(*predictions, held_out))
    print(f"{num_steps} model steps in {time.perf_counter() - start:.1f}s: {metrics}")

    continues = ~np.asarray(held_out.terminal)
    copy_accuracy = (np.asarray(held_out.obs) == np.asarray(held_out.next_obs))[continues].mean()
    assert copy_accuracy > 0.95
    assert 1 - metrics["model_obs_accuracy"] < (1 - copy_accuracy) / 5
    assert metrics["model_reward_error"] < 0.05  # the reward is always -1
    assert metrics["model_continuation_error"] < 0.05
    assert float(losses[-200:].mean()) < float(losses[:200].mean()) / 4


@pytest.mark.parametrize("latent", [pytest.param("gaussian", marks=pytest.mark.slow),
                                    "categorical"])
def test_latent_model_learns_panflute(latent):
    """Trained with the agents' model step on random-policy PanFlute 3 transitions (small
    networks, step size 1e-3 to be quick), a latent model predicts held-out next observations
    (decoded from a prior sample, as the loop scores them) far better than the best constant
    guess of each bit (~63% here); measured: ~94% after 800 steps for both latent types,
    from ~50% at initialization. Its loss falls by more than a third (measured: to 0.29 of
    its start, Gaussian; 0.47, categorical)."""
    env = envs.make("panflute", num_pipes=3)
    model = LatentModel(GAUSSIAN if latent == "gaussian" else CATEGORICAL,
                        env.obs_size, env.num_actions, (32,))
    data_key, init_key, train_key, metrics_key = jax.random.split(KEY, 4)
    runs = random_transitions(env, data_key, num_envs=64, num_steps=64)  # 4096 transitions
    data, held_out = (jax.tree.map(lambda x: x[part], runs)
                      for part in (slice(0, 3584), slice(3584, None)))

    @jax.jit
    def train(trained, key):
        def step(trained, key):
            index_key, loss_key = jax.random.split(key)
            batch = jax.tree.map(lambda x: x[jax.random.randint(index_key, (32,), 0, 3584)], data)
            return models.train_step(trained, model.loss, 1e-3, loss_key, batch)

        return jax.lax.scan(step, trained, jax.random.split(key, 800))

    trained, losses = train(models.start_training(model.init(init_key)), train_key)
    predictions = model.predict(trained.params, metrics_key, held_out)
    accuracy = float(prediction_metrics(*predictions, held_out)["model_obs_accuracy"])
    on = np.asarray(held_out.next_obs).mean(axis=0)
    constant_guess = np.maximum(on, 1 - on).mean()
    assert accuracy > constant_guess + 0.2, (accuracy, constant_guess)
    assert float(losses[-100:].mean()) < float(losses[:100].mean()) * 2 / 3
