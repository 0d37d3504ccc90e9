"""The latent models (paper section 4, SPEC section 2): Dreamer-like but without recurrence,
since the environments are Markov, and with DQN in place of actor-critic.

An encoder q(z|obs), a transition prior p(z'|z,a), a decoder p(obs|z) (a Bernoulli per bit),
and reward and continuation heads on (z, a); every network is a 3 x 200 ELU MLP. The
Q-network's input is a latent sample: acting encodes the current observation and samples;
rollouts start from a posterior sample of each replayed observation and step by sampling
the prior. One module serves both latent types, which differ only in the distribution:

- gaussian_latent: 32 features, std = 2 sigmoid(x / 2) >= 1e-6 (+ 0.1 in the encoder),
  reparameterized samples;
- categorical_latent: 32 variables of 32 classes, one-hot samples with straight-through
  gradients, the Q-network seeing the 1024 flattened one-hot bits.
"""

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn, dyna, models, register, sampling
from agents.base import Agent
from agents.models import bernoulli_nll, gaussian_nll, with_action
from envs import checks

LATENT_FEATURES = 32
LATENT_CLASSES = 32  # categorical only
MIN_STD = 1e-6
POSTERIOR_MIN_STD = 0.1  # keeps the encoder from collapsing onto points
POSTERIOR_KL_WEIGHT = 0.2  # KL balancing: the prior moves towards the posterior 4x faster


class Latent(NamedTuple):
    """A latent type: how a network's outputs become a distribution, its samples and KL."""

    size: int  # features of a sample, the Q-network's input
    outputs: int  # network outputs that parameterize one distribution
    distribution: Callable  # (outputs, posterior: bool) -> distribution parameters
    sample: Callable  # (key, distribution) -> flat sample, differentiable
    kl: Callable  # (q, p) -> KL(q || p), summed over the latent


def gaussian_distribution(outputs, posterior: bool):
    mean, x = jnp.split(outputs, 2, axis=-1)
    std = jnp.maximum(2 * jax.nn.sigmoid(x / 2), MIN_STD)
    if posterior:
        std = std + POSTERIOR_MIN_STD
    return mean, std


def gaussian_sample(key, distribution):
    mean, std = distribution
    return mean + std * jax.random.normal(key, mean.shape)  # reparameterized


def gaussian_kl(q, p):
    (q_mean, q_std), (p_mean, p_std) = q, p
    return jnp.sum(
        jnp.log(p_std / q_std) + (q_std**2 + (q_mean - p_mean) ** 2) / (2 * p_std**2) - 0.5, axis=-1
    )


def categorical_distribution(outputs, posterior: bool):
    del posterior  # no minimum spread for categoricals
    return outputs.reshape(*outputs.shape[:-1], LATENT_FEATURES, LATENT_CLASSES)  # logits


def straight_through(key, logits):
    """A one-hot sample whose gradient is that of the class probabilities."""
    probs = jax.nn.softmax(logits)
    one_hot = jax.nn.one_hot(sampling.categorical(key, logits), logits.shape[-1])
    return probs + jax.lax.stop_gradient(one_hot - probs)


def categorical_sample(key, logits):
    sample = straight_through(key, logits)
    return sample.reshape(*sample.shape[:-2], -1)


def categorical_kl(q_logits, p_logits):
    log_q, log_p = jax.nn.log_softmax(q_logits), jax.nn.log_softmax(p_logits)
    return jnp.sum(jnp.exp(log_q) * (log_q - log_p), axis=(-2, -1))


GAUSSIAN = Latent(
    LATENT_FEATURES, 2 * LATENT_FEATURES, gaussian_distribution, gaussian_sample, gaussian_kl
)
CATEGORICAL = Latent(
    LATENT_FEATURES * LATENT_CLASSES,
    LATENT_FEATURES * LATENT_CLASSES,
    categorical_distribution,
    categorical_sample,
    categorical_kl,
)


def balanced_kl(kl: Callable, posterior, prior) -> jax.Array:
    """KL balancing: 0.2 KL(q || sg(p)) + 0.8 KL(sg(q) || p). Its value is KL(q || p); its
    gradient trains the prior towards the posterior more than the reverse, so the posterior
    is not pulled towards a still-poor prior."""
    stop = jax.lax.stop_gradient
    return POSTERIOR_KL_WEIGHT * kl(posterior, stop(prior)) + (1 - POSTERIOR_KL_WEIGHT) * kl(
        stop(posterior), prior
    )


class LatentParams(NamedTuple):
    encoder: dict
    transition: dict
    decoder: dict
    reward: dict
    continuation: dict


class LatentModel(NamedTuple):
    latent: Latent
    obs_size: int
    num_actions: int
    hidden: tuple

    def networks(self) -> LatentParams:
        mlp = functools.partial(dqn.mlp, hidden=self.hidden)
        outputs = self.latent.outputs
        return LatentParams(mlp(outputs), mlp(outputs), mlp(self.obs_size), mlp(1), mlp(1))

    def init(self, key) -> LatentParams:
        obs = jnp.zeros(self.obs_size)
        z = jnp.zeros(self.latent.size)
        z_action = jnp.zeros(self.latent.size + self.num_actions)
        examples = LatentParams(obs, z_action, z, z_action, z_action)
        keys = jax.random.split(key, len(examples))
        return LatentParams(*(net.init(k, x) for net, k, x in zip(self.networks(), keys, examples)))

    def encode(self, params: LatentParams, obs):
        """The posterior q(z | obs)."""
        return self.latent.distribution(self.networks().encoder.apply(params.encoder, obs), True)

    def prior(self, params: LatentParams, z, action):
        """The transition p(z' | z, a)."""
        x = with_action(z, action, self.num_actions)
        outputs = self.networks().transition.apply(params.transition, x)
        return self.latent.distribution(outputs, False)

    def heads(self, params: LatentParams, z, action):
        """(reward mean, continuation logit) on (z, a)."""
        x = with_action(z, action, self.num_actions)
        nets = self.networks()
        return (
            nets.reward.apply(params.reward, x)[..., 0],
            nets.continuation.apply(params.continuation, x)[..., 0],
        )

    def decode(self, params: LatentParams, z):
        """Bernoulli logits of every observation bit."""
        return self.networks().decoder.apply(params.decoder, z)

    def start(self, params: LatentParams, key, obs):
        return self.latent.sample(key, self.encode(params, obs))

    def loss(self, params: LatentParams, key, transitions) -> jax.Array:
        """Per transition, z ~ q(.|obs): reconstruction NLL of obs from z, reward and
        continuation NLL on (z, a), and the balanced KL between q(.|obs') and p(.|z, a); all
        weights 1; mean over the batch. As SPEC words it, the reconstruction masked to 0 on
        terminal transitions is that of the CURRENT observation; the KL term, the only one
        that sees obs', is not masked ("all other weights 1")."""
        z = self.start(params, key, transitions.obs)
        continues = 1.0 - transitions.terminal.astype(jnp.float32)
        reconstruction = bernoulli_nll(self.decode(params, z), transitions.obs).sum(axis=-1)
        reward, continuation = self.heads(params, z, transitions.action)
        kl = balanced_kl(
            self.latent.kl,
            self.encode(params, transitions.next_obs),
            self.prior(params, z, transitions.action),
        )
        return jnp.mean(
            continues * reconstruction
            + gaussian_nll(reward, transitions.reward)
            + bernoulli_nll(continuation, continues)
            + kl
        )

    def transition(self, params: LatentParams, key, z, action):
        """One imagined step in latent space: a prior sample, the predicted mean reward and the
        predicted probability of continuing."""
        reward, continuation = self.heads(params, z, action)
        z_next = self.latent.sample(key, self.prior(params, z, action))
        return z_next, reward, jax.nn.sigmoid(continuation)

    def predict(self, params: LatentParams, key, transitions):
        """For the model metrics: the next observation decoded from a prior sample."""
        z_key, next_key = jax.random.split(key)
        z = self.start(params, z_key, transitions.obs)
        z_next = self.latent.sample(next_key, self.prior(params, z, transitions.action))
        reward, continuation = self.heads(params, z, transitions.action)
        return self.decode(params, z_next), reward, continuation

    def learned_model(self) -> models.LearnedModel:
        return models.LearnedModel(
            self.init, self.loss, self.start, self.transition, self.predict, self.latent.size
        )


def latent_model(latent: Latent, env, hidden: tuple) -> models.LearnedModel:
    return LatentModel(latent, env.obs_size, env.num_actions, hidden).learned_model()


def latent_agent(latent: Latent, env, *, rollout_starts: str, **settings) -> Agent:
    """Q learns only on the latent model's rollouts (agents.dyna.model_agent). With
    rollout_starts "authors", rollouts start from a second replay sample when their number
    differs from the model batch, as the public latent script does (1-step ablation)."""
    checks.one_of("agent.rollout_starts", rollout_starts, dyna.ROLLOUT_STARTS)
    return dyna.model_agent(
        env,
        functools.partial(latent_model, latent),
        separate_starts=rollout_starts == "authors",
        **settings,
    )


# Two agents, one model: the latent type is the only difference.
register("gaussian_latent", "Gaussian latent")(functools.partial(latent_agent, GAUSSIAN))
register("categorical_latent", "categorical latent")(
    functools.partial(latent_agent, CATEGORICAL)
)
