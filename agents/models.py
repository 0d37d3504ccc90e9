"""What the learned-model agents share (SPEC section 2): likelihoods, one model training
step, and the update that samples 32 real transitions, trains the model on them, rolls the
updated model out from them and feeds the rollouts to the DQN learner.

A learned model is a `LearnedModel` record of pure functions (agents/simple_model.py,
agents/latent.py); `ModelBased` turns one into an agent. The perfect model trains nothing
and keeps environment states, so it uses agents/rollout.py directly.
"""

import math
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from agents import dqn, replay
from agents.base import Agent, Transition, check_settings, store, stored_example, unstore
from agents.replay import Replay
from agents.rollout import rollout

Q_BATCH_SIZE = 320  # transitions per Q update, for every agent (the controlled budget)
MODEL_STEP_SIZE = 2e-4  # every learned model; not tuned


# ----------------------------------------------------------------------------- likelihoods


def bernoulli_nll(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """-log Bernoulli(targets | sigmoid(logits)), elementwise; stable for large |logits|."""
    return jax.nn.softplus(logits) - targets.astype(jnp.float32) * logits


def gaussian_nll(mean: jax.Array, target: jax.Array) -> jax.Array:
    """-log Normal(target | mean, 1), elementwise, constant included so it is a true NLL."""
    return 0.5 * (target - mean) ** 2 + 0.5 * math.log(2 * math.pi)


def with_action(x: jax.Array, action: jax.Array, num_actions: int) -> jax.Array:
    """A model network's input: features (bits or a latent) and the one-hot action."""
    return jnp.concatenate(
        [x.astype(jnp.float32), jax.nn.one_hot(action, num_actions, dtype=jnp.float32)], axis=-1
    )


# ----------------------------------------------------------------------------- training


class Trained(NamedTuple):
    """A learned model's parameters and its optimizer state."""

    params: Any
    opt_state: Any


def start_training(params) -> Trained:
    # The optimizer state does not depend on the step size, so any one initializes it.
    return Trained(params, dqn.adam(MODEL_STEP_SIZE).init(params))


def train_step(
    trained: Trained, loss: Callable, step_size: float, *args
) -> tuple[Trained, jax.Array]:
    """One step of the same Adam the Q-network uses, on `loss(params, *args)`."""
    value, grads = jax.value_and_grad(loss)(trained.params, *args)
    params, opt_state = dqn.adam_step(trained.params, trained.opt_state, grads, step_size)
    return Trained(params, opt_state), value


def check_rollout_budget(rollout_length: int, num_rollouts: int) -> None:
    if rollout_length * num_rollouts != Q_BATCH_SIZE:
        raise ValueError(
            f"agent.rollout_length x agent.num_rollouts must equal the Q batch of {Q_BATCH_SIZE} "
            f"transitions per update (e.g. 10 x 32, or 1 x 320); got {rollout_length} x "
            f"{num_rollouts} = {rollout_length * num_rollouts}."
        )


# ----------------------------------------------------------------------------- metrics


def prediction_metrics(
    next_obs_logits: jax.Array,
    reward_mean: jax.Array,
    continuation_logit: jax.Array,
    transitions: Transition,
) -> dict:
    """How well predictions match real transitions. The next observation is predicted bit by
    bit by thresholding the predicted probability at 0.5 (logit > 0), and scored only on
    non-terminal transitions, whose next observation is a real successor."""
    continues = 1.0 - transitions.terminal.astype(jnp.float32)
    correct = ((next_obs_logits > 0) == transitions.next_obs).mean(axis=-1)
    return {
        "model_obs_accuracy": (continues * correct).sum() / jnp.maximum(continues.sum(), 1.0),
        "model_reward_error": jnp.abs(reward_mean - transitions.reward).mean(),
        "model_continuation_error": jnp.abs(jax.nn.sigmoid(continuation_logit) - continues).mean(),
    }


# ----------------------------------------------------------------------------- the agent


class LearnedModel(NamedTuple):
    """A learned world model as the agent uses it. A rollout state `x` is what the Q-network
    sees: an observation (simple model) or a latent sample (latent models)."""

    init: Callable  # key -> params
    loss: Callable  # (params, key, transitions) -> mean loss over the batch
    start: Callable  # (params, key, obs) -> x, for a batch of observations (or one)
    transition: Callable  # (params, key, x, action) -> (x_next, reward, continuation)
    predict: Callable  # (params, key, transitions) -> (next-obs logits, reward, continuation logit)
    features_size: int  # size of x, the Q-network's input


class ModelState(NamedTuple):
    learner: dqn.Learner
    replay: Replay  # real transitions, observations as packed bits
    model: Optional[Trained]


class ModelBased(NamedTuple):
    """Static parts of a learned-model agent. Each update: sample `model_batch_size` real
    transitions, take one model step on them, roll the UPDATED model out from the first
    `num_rollouts` of them for `rollout_length` steps, and train Q on those transitions.

    When the model batch and the rollout starts differ in size (the 1-step ablation: 32 and
    320), one sample of the larger size is drawn and both take its leading part, so the model
    still trains on transitions that start rollouts, and it trains on 32 in both arms.

    A `frozen` model takes no steps: it stays as initialized or loaded (`load_model`), and
    only the Q-network learns from its rollouts (Figure 4 right)."""

    env: Any
    q: dqn.DQN
    model: LearnedModel
    rollout_length: int
    num_rollouts: int
    model_batch_size: int
    model_step_size: float
    capacity: int
    frozen: bool = False

    def init(self, key, hyper: dqn.Hyper) -> ModelState:
        q_key, model_key = jax.random.split(key)
        return ModelState(
            self.q.init(q_key, jnp.zeros(self.model.features_size), hyper),
            replay.init(stored_example(self.env.obs_size), self.capacity),
            start_training(self.model.init(model_key)),
        )

    def act(self, state: ModelState, obs, key, greedy: bool):
        # The latent agents act on a latent sample of the current observation.
        start_key, act_key = jax.random.split(key)
        x = self.model.start(state.model.params, start_key, obs)
        return self.q.act(state.learner, x, act_key, greedy)

    def observe(self, state: ModelState, transition: Transition) -> ModelState:
        return state._replace(replay=replay.add(state.replay, store(transition)))

    def imagine(self, state: ModelState, key) -> tuple[Trained, dqn.Batch, jax.Array | None]:
        """Train the model one step (unless frozen) and return it with its rollouts and its
        loss (None when frozen)."""
        sample_key, loss_key, start_key, rollout_key = jax.random.split(key, 4)
        size = max(self.model_batch_size, self.num_rollouts)
        real = unstore(replay.sample(state.replay, sample_key, size), self.env.obs_size)
        model_batch = jax.tree.map(lambda x: x[: self.model_batch_size], real)
        if self.frozen:
            trained, model_loss = state.model, None
        else:
            trained, model_loss = train_step(
                state.model, self.model.loss, self.model_step_size, loss_key, model_batch
            )
        start = self.model.start(trained.params, start_key, real.obs[: self.num_rollouts])

        def transition(key, x, action):
            return self.model.transition(trained.params, key, x, action)

        batch = rollout(
            rollout_key,
            self.q,
            state.learner,
            start,
            lambda x: x,
            transition,
            self.rollout_length,
            self.env.episodic,
        )
        return trained, batch, model_loss

    def update(self, state: ModelState, key) -> tuple[ModelState, dict]:
        trained, batch, model_loss = self.imagine(state, key)
        learner, td_loss = self.q.learn(state.learner, batch)
        metrics = {"td_loss": td_loss}
        if model_loss is not None:
            metrics["model_loss"] = model_loss
        return state._replace(learner=learner, model=trained), metrics

    def predict(self, state: ModelState, transitions: Transition, key):
        return self.model.predict(state.model.params, key, transitions)

    def agent(self) -> Agent:
        return Agent(self.init, self.act, self.observe, self.update, self.predict)


def model_based(
    env,
    model: LearnedModel,
    *,
    rollout_length: int,
    num_rollouts: int,
    model_batch_size: int,
    model_step_size: float,
    capacity: int,
    hidden,
    discount: float,
    frozen: bool = False,
) -> ModelBased:
    """A learned-model agent's machinery from its settings (the Q-network's included)."""
    q = dqn.DQN(dqn.mlp(env.num_actions, tuple(hidden)), discount)
    return ModelBased(
        env,
        q,
        model,
        rollout_length,
        num_rollouts,
        model_batch_size,
        model_step_size,
        capacity,
        frozen,
    )


def learned_model_agent(make_model: Callable[[Any, tuple], LearnedModel]) -> Callable[..., Agent]:
    """The factory of a learned-model agent, given `make_model(env, hidden)`: the settings
    with the paper's defaults (the config layer reads this signature), checked, and the one
    ModelBased update. The simple and latent models differ only in `make_model`."""

    def factory(
        env,
        *,
        rollout_length: int = 10,
        num_rollouts: int = 32,
        model_batch_size: int = 32,
        model_step_size: float = MODEL_STEP_SIZE,
        capacity: int = 100_000,
        hidden: tuple = dqn.HIDDEN,
        discount: float = dqn.DISCOUNT,
        frozen: bool = False,
    ) -> Agent:
        if not isinstance(frozen, bool):
            raise ValueError(f"agent.frozen must be true or false; got {frozen!r}.")
        settings = dict(
            rollout_length=rollout_length,
            num_rollouts=num_rollouts,
            model_batch_size=model_batch_size,
            model_step_size=model_step_size,
            capacity=capacity,
            hidden=hidden,
        )
        check_settings(**settings)
        check_rollout_budget(rollout_length, num_rollouts)
        model = make_model(env, tuple(hidden))
        return model_based(env, model, discount=discount, frozen=frozen, **settings).agent()

    return factory
