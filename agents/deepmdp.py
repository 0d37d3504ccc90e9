"""DeepMDP (Gelada et al. 2019; beyond the paper, issue 13): a latent-space model trained only
on what matters to the task: reward and latent-transition losses, NO decoder.

An encoder phi maps an observation to a latent z; a transition network maps (z, a) to the
predicted next latent; reward and continuation heads read (z, a). The Q-network's input is
z: acting encodes the current observation, rollouts start from the encodings of replayed
observations and step through the transition network, through the one rollout function
(agents.dyna.model_agent), exactly as the paper's latent models do.

Choices, and why (also in docs/deviations.md):

- Deterministic latent of `latent_size` features, RMS-normalized: z = e / rms(e), so every
  latent lies on the sphere of radius sqrt(latent_size) (features of scale 1 for the
  Q-network). The blog's DeepMDP is deterministic; a sample would add noise the Q-network
  sees and nothing the loss needs.
- Latent loss: the mean squared difference between the predicted next latent and the
  target encoding of the next observation, over features. With both normalized this is
  2 - 2 cos(predicted, target): a cosine loss. Masked on terminal transitions (their next
  observation is no successor), like the simple model's next-observation loss.
- Stop-gradient target from a slowly updated copy of the encoder: after every model step
  target <- (1 - target_rate) target + target_rate encoder (an EMA / Polyak copy, kept in
  the model's parameters; agents.models.train_step applies it through the model's
  `after_step`). The target is not trained by gradient: Adam's step on it is discarded.
- Collapse: a constant encoder makes any transition loss 0. Three things stand against it:
  (1) the normalization removes the easy way down, shrinking every latent towards 0 (a
  scale-free loss cannot be lowered by scale); (2) the reward and continuation losses train
  the encoder too, so states with different rewards or terminations cannot share a latent;
  (3) the slowly moving target (as in BYOL/SPR) keeps the prediction target from following
  the encoder into a trivial solution within a step. No decoder and no contrastive term:
  the issue asks for a model trained only on what matters (reward and latent transition).
  tests/test_deepmdp.py checks that the latents' spread stays away from 0 while the
  transition loss falls.
- All loss weights 1: Gaussian reward NLL + Bernoulli continuation NLL + latent loss.
- `predict` for the loop's model metrics: reward and continuation on real transitions as
  the other models; there is no next-observation prediction (no decoder), so its first
  output is None and `model_obs_accuracy` is left out of its metrics
  (agents.models.prediction_metrics).
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn, dyna, models, register
from agents.base import Agent
from agents.models import bernoulli_nll, gaussian_nll, with_action
from envs import checks

NORM_EPS = 1e-8  # inside the root of the RMS normalization


def normalize(e: jax.Array) -> jax.Array:
    """e / rms(e) over the last axis: a latent with root-mean-square 1."""
    return e * jax.lax.rsqrt(jnp.mean(e**2, axis=-1, keepdims=True) + NORM_EPS)


def objective(predicted_next, target_next, reward, continuation_logit, transitions) -> jax.Array:
    """The DeepMDP loss of a batch from its networks' outputs: per transition, the latent
    loss mean((predicted - target)^2) masked on terminal transitions, plus the reward's
    unit-Gaussian NLL and the continuation's Bernoulli NLL; mean over the batch."""
    continues = 1.0 - transitions.terminal.astype(jnp.float32)
    latent = jnp.mean((predicted_next - target_next) ** 2, axis=-1)
    return jnp.mean(
        continues * latent
        + gaussian_nll(reward, transitions.reward)
        + bernoulli_nll(continuation_logit, continues)
    )


class DeepMDPParams(NamedTuple):
    encoder: dict
    transition: dict
    reward: dict
    continuation: dict
    target_encoder: dict  # the EMA copy of `encoder`; not trained by gradient


class DeepMDP(NamedTuple):
    obs_size: int
    num_actions: int
    hidden: tuple
    latent_size: int
    target_rate: float

    def networks(self):
        mlp = functools.partial(dqn.mlp, hidden=self.hidden)
        return mlp(self.latent_size), mlp(self.latent_size), mlp(1), mlp(1)

    def init(self, key) -> DeepMDPParams:
        encoder, transition, reward, continuation = self.networks()
        z_action = jnp.zeros(self.latent_size + self.num_actions)
        keys = jax.random.split(key, 4)
        encoder_params = encoder.init(keys[0], jnp.zeros(self.obs_size))
        return DeepMDPParams(
            encoder_params,
            transition.init(keys[1], z_action),
            reward.init(keys[2], z_action),
            continuation.init(keys[3], z_action),
            encoder_params,  # the target starts as a copy
        )

    def encode(self, encoder_params, obs):
        return normalize(self.networks()[0].apply(encoder_params, obs))

    def next_latent(self, params: DeepMDPParams, z, action):
        x = with_action(z, action, self.num_actions)
        return normalize(self.networks()[1].apply(params.transition, x))

    def heads(self, params: DeepMDPParams, z, action):
        """(reward mean, continuation logit) on (z, a)."""
        x = with_action(z, action, self.num_actions)
        _, _, reward, continuation = self.networks()
        return (
            reward.apply(params.reward, x)[..., 0],
            continuation.apply(params.continuation, x)[..., 0],
        )

    def start(self, params: DeepMDPParams, key, obs):
        del key  # deterministic
        return self.encode(params.encoder, obs)

    def loss(self, params: DeepMDPParams, key, transitions) -> jax.Array:
        z = self.start(params, key, transitions.obs)
        target = jax.lax.stop_gradient(self.encode(params.target_encoder, transitions.next_obs))
        reward, continuation = self.heads(params, z, transitions.action)
        predicted = self.next_latent(params, z, transitions.action)
        return objective(predicted, target, reward, continuation, transitions)

    def after_step(self, before: DeepMDPParams, after: DeepMDPParams) -> DeepMDPParams:
        """The EMA: target <- (1 - rate) target + rate encoder, from the target before the
        step (Adam's zero-gradient step on it, with its weight decay, is discarded) and the
        encoder after it."""
        rate = self.target_rate
        target = jax.tree.map(
            lambda t, e: (1 - rate) * t + rate * e, before.target_encoder, after.encoder
        )
        return after._replace(target_encoder=target)

    def transition(self, params: DeepMDPParams, key, z, action):
        """One imagined step in latent space: the predicted next latent, the predicted mean
        reward and the predicted probability of continuing."""
        del key
        reward, continuation = self.heads(params, z, action)
        return self.next_latent(params, z, action), reward, jax.nn.sigmoid(continuation)

    def predict(self, params: DeepMDPParams, key, transitions):
        """For the model metrics: no next-observation logits (no decoder), the reward and the
        continuation logit of each real transition."""
        z = self.start(params, key, transitions.obs)
        reward, continuation = self.heads(params, z, transitions.action)
        return None, reward, continuation

    def learned_model(self) -> models.LearnedModel:
        return models.LearnedModel(
            self.init,
            self.loss,
            self.start,
            self.transition,
            self.predict,
            self.latent_size,
            after_step=self.after_step,
        )


def deepmdp_model(env, hidden: tuple, *, latent_size: int, target_rate: float):
    return DeepMDP(env.obs_size, env.num_actions, hidden, latent_size, target_rate).learned_model()


@register("deepmdp", "DeepMDP")
def make_deepmdp(env, *, latent_size: int, target_rate: float, **settings) -> Agent:
    """Q learns only on the DeepMDP's latent rollouts (agents.dyna.model_agent's settings)."""
    checks.positive_int("agent.latent_size", latent_size)
    checks.fraction("agent.target_rate", target_rate)
    make_model = functools.partial(deepmdp_model, latent_size=latent_size, target_rate=target_rate)
    return dyna.model_agent(env, make_model, **settings)
