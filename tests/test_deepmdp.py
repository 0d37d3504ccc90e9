"""The DeepMDP agent (agents/deepmdp.py): its loss against numbers worked out by hand, the
target encoder's EMA, the collapse guard on a hand-made deterministic world, the model
learning reward on PanFlute, the settings checks, and (slow) an agent that learns."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import fast_jit

import agents
import envs
from agents import dqn, models
from agents.base import Transition
from agents.deepmdp import DeepMDP, normalize, objective
from agents.models import prediction_metrics
from experiments import config
from experiments.driver import compile_program, member_keys, run_online
from experiments.evaluation import random_policy_score, random_transitions
from experiments.online import Regime
from experiments.results import final_performance

KEY = jax.random.key(0)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def transitions(obs, action, reward, terminal, next_obs) -> Transition:
    return Transition(jnp.asarray(obs, bool), jnp.asarray(action, jnp.int32),
                      jnp.asarray(reward, jnp.float32), jnp.asarray(terminal, bool),
                      jnp.asarray(next_obs, bool), None)


# ----------------------------------------------------------------------------- the loss


def test_normalize_puts_latents_on_the_sphere_of_radius_sqrt_size():
    # [3, 4]: rms = sqrt(12.5), so [3, 4] / 3.5355 = [0.8485, 1.1314]; squared norm 2.
    np.testing.assert_allclose(normalize(jnp.array([3.0, 4.0])), [0.848528, 1.131371], rtol=1e-5)
    np.testing.assert_allclose(normalize(jnp.array([[1.0, 0.0]])), [[math.sqrt(2), 0.0]], rtol=1e-6)


def test_objective_by_hand():
    """Two transitions, latents of 2 features.
    A (continues): predicted normalize([3, 4]), target normalize([1, 0]); the latent loss is
    mean((0.8485 - 1.4142)^2, 1.1314^2) = 0.8 = 2 - 2 cos, cos = 3/5. Reward 0.5 for 1:
    0.5 * 0.25 + 0.5 log 2 pi = 1.043939. Continuation logit 0 for 1: log 2 = 0.693147.
    Sum 2.537086.
    B (terminal): predicted and target opposite (latent loss 4), masked to 0. Reward 0 for 0:
    0.918939. Continuation logit 2 for 0: softplus(2) = 2.126928. Sum 3.045867.
    Mean 2.791477."""
    predicted = normalize(jnp.array([[3.0, 4.0], [1.0, 1.0]]))
    target = normalize(jnp.array([[1.0, 0.0], [-1.0, -1.0]]))
    batch = transitions(jnp.zeros((2, 1)), [0, 0], [1.0, 0.0], [False, True], jnp.zeros((2, 1)))
    got = objective(predicted, target, jnp.array([0.5, 0.0]), jnp.array([0.0, 2.0]), batch)
    np.testing.assert_allclose(got, 2.791477, rtol=1e-5)
    # the same from the formula's pieces, to five digits
    a = 0.8 + (0.125 + HALF_LOG_2PI) + math.log(2)
    b = HALF_LOG_2PI + math.log1p(math.exp(2))
    np.testing.assert_allclose(got, (a + b) / 2, rtol=1e-5)


def ring(num_states: int = 8, rewarded: bool = True) -> Transition:
    """A deterministic ring of one-hot states: action 0 steps +1, action 1 steps -1; reward 1
    on arriving at state 0 (if `rewarded`); never terminal. All 2n transitions."""
    s = jnp.repeat(jnp.arange(num_states), 2)
    a = jnp.tile(jnp.arange(2), num_states)
    nxt = (s + jnp.where(a == 0, 1, -1)) % num_states
    one_hot = lambda x: jax.nn.one_hot(x, num_states) > 0  # noqa: E731
    reward = (nxt == 0).astype(jnp.float32) * rewarded
    return transitions(one_hot(s), a, reward, jnp.zeros_like(s, bool), one_hot(nxt))


def test_model_loss_is_the_objective_of_its_networks_and_the_target_gets_no_gradient():
    model = DeepMDP(8, 2, (16,), 4, 0.1)
    params = model.init(KEY)
    params = params._replace(target_encoder=model.init(jax.random.key(1)).encoder)
    data = ring()

    @fast_jit
    def by_hand(params):
        z = model.encode(params.encoder, data.obs)
        reward, continuation = model.heads(params, z, data.action)
        return objective(model.next_latent(params, z, data.action),
                         model.encode(params.target_encoder, data.next_obs),
                         reward, continuation, data)

    expected = by_hand(params)
    loss = fast_jit(model.loss)(params, None, data)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    grads = fast_jit(jax.grad(model.loss))(params, None, data)
    assert all((g == 0).all() for g in jax.tree.leaves(grads.target_encoder))
    assert any((g != 0).any() for g in jax.tree.leaves(grads.encoder))


# ----------------------------------------------------------------------------- the target


def test_target_encoder_moves_by_exactly_the_ema_rule():
    """After one model step: target = (1 - rate) old target + rate new encoder, elementwise;
    Adam's weight decay does not touch the target."""
    rate = 0.1
    model = DeepMDP(8, 2, (16,), 4, rate)
    params = model.init(KEY)
    old_target = model.init(jax.random.key(1)).encoder
    params = params._replace(target_encoder=old_target)
    trained, _ = fast_jit(lambda t: models.train_step(
        t, model.loss, 1e-2, None, ring(), after_step=model.after_step))(
        models.start_training(params))
    new = trained.params
    for old_t, old_e, new_e, new_t in zip(*(jax.tree.leaves(p) for p in (
            old_target, params.encoder, new.encoder, new.target_encoder))):
        assert not np.allclose(new_e, old_e)  # the encoder took a step
        expected = (1 - rate) * np.asarray(old_t, np.float64) + rate * np.asarray(new_e, np.float64)
        np.testing.assert_allclose(new_t, expected, rtol=1e-6, atol=1e-7)
    # the other networks are Adam's alone: no after_step, the same params but the target
    plain, _ = fast_jit(lambda t: models.train_step(t, model.loss, 1e-2, None, ring()))(
        models.start_training(params))
    for a, b in zip(jax.tree.leaves(plain.params[:4]), jax.tree.leaves(new[:4])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


def test_the_agent_keeps_the_target_in_its_state_and_updates_it():
    """Through agents.dyna (the agent's update), the target encoder moves off its initial copy
    of the encoder, and stays apart from the encoder (rate 0.01 < 1)."""
    env = envs.make("panflute", num_pipes=3)
    agent = agents.make("deepmdp", env, hidden=(16,))

    def run(key):
        data = random_transitions(env, key, num_envs=4, num_steps=16)
        state = agent.init(key, dqn.Hyper(jnp.float32(1e-3), jnp.float32(1.0)))
        state = jax.lax.scan(lambda s, t: (agent.observe(s, t), None), state, data)[0]
        updated = jax.lax.scan(lambda s, k: (agent.update(s, k)[0], None), state,
                               jax.random.split(key, 3))[0]
        return state.model.params, updated.model.params

    before, after = fast_jit(run)(KEY)
    for e0, t0, e1, t1 in zip(*(jax.tree.leaves(p) for p in (
            before.encoder, before.target_encoder, after.encoder, after.target_encoder))):
        np.testing.assert_array_equal(e0, t0)  # starts as a copy
        assert not np.array_equal(t1, t0)  # moved
        assert not np.allclose(t1, e1)  # but only a step of 0.01 towards the encoder


# ----------------------------------------------------------------------------- collapse


def test_latents_do_not_collapse_while_the_transition_loss_falls():
    """On the 8-state ring (16 deterministic transitions, full batch, step 1e-3, 600 steps,
    rate 0.01), the latent-transition loss falls from 1.87 (to ~1e-4 in 2000 steps, measured),
    a fall that a collapsed encoder (all states on one latent) would also give; but the
    spread of the 8 states' latents, mean squared distance from their mean per feature, stays
    at ~0.5
    (measured; 0.86 at initialization, 0 if collapsed; the maximum on the sphere is 1).
    Measured too, but not asserted: with no reward at all the spread still stays at ~0.4
    (EMA rate 0.01) or ~0.27 (rate 1, a plain stop-gradient copy)."""
    model = DeepMDP(8, 2, (32,), 8, 0.01)
    data = ring()
    states = jax.nn.one_hot(jnp.arange(8), 8) > 0

    def latent_loss(p):
        z = model.encode(p.encoder, data.obs)
        target = model.encode(p.target_encoder, data.next_obs)
        return jnp.mean((model.next_latent(p, z, data.action) - target) ** 2)

    def spread(p):
        z = model.encode(p.encoder, states)
        return jnp.mean((z - z.mean(axis=0)) ** 2)

    @fast_jit
    def train(trained):
        def step(trained, _):
            trained, _ = models.train_step(trained, model.loss, 1e-3, None, data,
                                           after_step=model.after_step)
            return trained, spread(trained.params)

        return jax.lax.scan(step, trained, None, length=600)

    start = models.start_training(model.init(KEY))
    trained, spreads = train(start)
    first, last = float(latent_loss(start.params)), float(latent_loss(trained.params))
    assert last < first / 20, (first, last)
    assert float(spreads.min()) > 0.2, float(spreads.min())


# ----------------------------------------------------------------------------- learning


@pytest.mark.slow  # makes 4,096 PanFlute transitions and trains 400 steps (about 15 s quiet)
def test_model_learns_panflute_reward_without_a_decoder():
    """Trained on random-policy PanFlute 3 transitions (networks of 32, step 1e-3, 400 steps
    of 32), the model's reward error on held-out transitions falls well below that of the
    best constant guess, the mean reward (measured: 0.044, and 0.015 after 800 steps, against
    0.265); the loop's metrics leave out the observation accuracy it cannot have."""
    env = envs.make("panflute", num_pipes=3)
    model = DeepMDP(env.obs_size, env.num_actions, (32,), 32, 0.01)
    data_key, init_key, train_key = jax.random.split(KEY, 3)
    runs = random_transitions(env, data_key, num_envs=64, num_steps=64)  # 4096 transitions
    data, held_out = (jax.tree.map(lambda x: x[part], runs)
                      for part in (slice(0, 3584), slice(3584, None)))

    @fast_jit
    def train(trained, key):
        def step(trained, key):
            batch = jax.tree.map(lambda x: x[jax.random.randint(key, (32,), 0, 3584)], data)
            return models.train_step(trained, model.loss, 1e-3, None, batch,
                                     after_step=model.after_step)

        return jax.lax.scan(step, trained, jax.random.split(key, 400))

    def reward_error(params):
        predictions = model.predict(params, None, held_out)
        assert predictions[0] is None
        metrics = prediction_metrics(*predictions, held_out)
        assert set(metrics) == {"model_reward_error", "model_continuation_error"}
        return float(metrics["model_reward_error"])

    trained, losses = train(models.start_training(model.init(init_key)), train_key)
    reward = np.asarray(held_out.reward)
    constant = np.abs(reward - np.asarray(data.reward).mean()).mean()
    error = reward_error(trained.params)
    print(f"reward error {error:.3f}, constant guess {constant:.3f}")
    assert error < constant / 2, (error, constant)
    assert float(losses[-100:].mean()) < float(losses[:100].mean())


@pytest.mark.slow  # one compiled 4000-step run of 4 seeds (about 70 s quiet, 2.5 min shared)
def test_deepmdp_agent_beats_the_uniform_random_policy_on_panflute_3():
    env = envs.make("panflute", num_pipes=3)
    regime = Regime(total_steps=4000, updates_per_step=1, target_update_frequency=100,
                    eval_interval=500, learning_starts=1000)
    seeds = 4
    hyper = dqn.Hyper(jnp.full(seeds, 1e-4), jnp.full(seeds, 0.4))  # the simple model's tuned
    program = compile_program(env, agents.make("deepmdp", env, hidden=(64, 64)), regime, seeds)
    metrics = run_online(program, program.init(member_keys(0, seeds), hyper))
    finals = final_performance(metrics)["final_score"]
    random = random_policy_score(env, jax.random.key(1))
    # measured: 0.39, 0.39, 0.36, 0.39 against the random policy's 0.14
    assert (finals > random + 0.05).sum() >= 2, (finals.tolist(), random)


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize("key, value, message", [
    ("target_rate", 0.0, "agent.target_rate must be a number greater than 0 and at most 1"),
    ("target_rate", 1.5, "agent.target_rate must be a number greater than 0 and at most 1"),
    ("latent_size", 0, "agent.latent_size must be a positive integer"),
])
def test_bad_settings(key, value, message):
    env = envs.make("panflute", num_pipes=3)
    with pytest.raises(ValueError, match=message):
        agents.make("deepmdp", env, **{key: value})
    with pytest.raises(config.ConfigError, match=message):  # what the CLI turns into exit 2
        config.make_agent(config.OmegaConf.create({"name": "deepmdp", key: value}), env)


# ----------------------------------------------------------------------------- the experiment


@pytest.mark.parametrize("scale, seeds, fraction, hidden", [
    ("cpu", 5, 0.005, [64, 64]), ("paper", 30, 1.0, [200, 200, 200])])
def test_the_check_experiment_composes_and_builds(scale, seeds, fraction, hidden):
    """experiment=deepmdp_check: ER, the simple model and deepmdp on PanFlute 3 and 4, every
    network `hidden` wide at that scale; every member builds (nothing is trained)."""
    from hydra import compose, initialize_config_dir

    def compose_config(overrides, hydra_config=False):
        with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
            return compose("config", overrides=overrides, return_hydra_config=hydra_config)

    base = ["experiment=deepmdp_check", f"scale={scale}"]
    cfg = compose_config(base, hydra_config=True)
    params = config.OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=True)
    assert params == {"agent": "er,simple_model,deepmdp", "level": "panflute-3,panflute-4"}
    assert cfg.results_root == "results/deepmdp_check"
    for agent in params["agent"].split(","):
        for level in params["level"].split(","):
            member = config.apply_level(compose_config([*base, f"agent={agent}", f"level={level}"]))
            job = config.build(member)
            assert (job.num_seeds, member.scale.steps_fraction) == (seeds, fraction)
            assert list(member.agent.hidden) == hidden
