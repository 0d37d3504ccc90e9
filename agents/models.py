"""What the learned models share (SPEC section 2): likelihoods, one model training step, the
metrics of their predictions, and `LearnedModel`, the record of pure functions by which
agents/dyna.py trains a model and rolls it out (agents/simple_model.py, agents/latent.py).
"""

import math
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from agents import dqn
from agents.base import Transition

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


# ----------------------------------------------------------------------------- the model


class LearnedModel(NamedTuple):
    """A learned world model as an agent uses it. A rollout state `x` is what the Q-network
    sees: an observation (simple model) or a latent sample (latent models)."""

    init: Callable  # key -> params
    loss: Callable  # (params, key, transitions) -> mean loss over the batch
    start: Callable  # (params, key, obs) -> x, for a batch of observations (or one)
    transition: Callable  # (params, key, x, action) -> (x_next, reward, continuation)
    predict: Callable  # (params, key, transitions) -> (next-obs logits, reward, continuation logit)
    features_size: int  # size of x, the Q-network's input
    # (params before, params after) -> params, applied after every model step: state that is
    # not trained by gradient (the DeepMDP's EMA target encoder). None: the step's params.
    after_step: Optional[Callable] = None
    # (params, key, (transitions, valid) with axes (batch, k)) -> mean loss of k-step
    # predictions along stored trajectories (agent.model_horizon); None: 1-step only
    sequence_loss: Optional[Callable] = None


class Trained(NamedTuple):
    """A learned model's parameters and its optimizer state."""

    params: Any
    opt_state: Any


def start_training(params) -> Trained:
    # Adam's state does not depend on the step size, so any one initializes it.
    return Trained(params, dqn.adam(1.0).init(params))


def train_step(
    trained: Trained, loss: Callable, step_size: float, *args, after_step=None
) -> tuple[Trained, jax.Array]:
    """One step of the same Adam the Q-network uses, on `loss(params, *args)`; then
    `after_step(params before, params after)`, if given (LearnedModel.after_step)."""
    value, grads = jax.value_and_grad(loss)(trained.params, *args)
    params, opt_state = dqn.adam_step(trained.params, trained.opt_state, grads, step_size)
    if after_step is not None:
        params = after_step(trained.params, params)
    return Trained(params, opt_state), value


# ----------------------------------------------------------------------------- metrics


def prediction_metrics(
    next_obs_logits: jax.Array,
    reward_mean: jax.Array,
    continuation_logit: jax.Array,
    transitions: Transition,
) -> dict:
    """How well predictions match real transitions. The next observation is predicted bit by
    bit by thresholding the predicted probability at 0.5 (logit > 0), and scored only on
    non-terminal transitions, whose next observation is a real successor. A model that
    predicts no observation (the DeepMDP: logits None) has no model_obs_accuracy."""
    continues = 1.0 - transitions.terminal.astype(jnp.float32)
    metrics = {
        "model_reward_error": jnp.abs(reward_mean - transitions.reward).mean(),
        "model_continuation_error": jnp.abs(jax.nn.sigmoid(continuation_logit) - continues).mean(),
    }
    if next_obs_logits is not None:
        correct = ((next_obs_logits > 0) == transitions.next_obs).mean(axis=-1)
        accuracy = (continues * correct).sum() / jnp.maximum(continues.sum(), 1.0)
        metrics = {"model_obs_accuracy": accuracy, **metrics}
    return metrics
