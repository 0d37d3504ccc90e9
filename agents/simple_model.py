"""The simple model (paper sections 2 and 4, SPEC section 2).

Three separate MLPs on [observation, one-hot action] predict the reward (mean of a unit
Gaussian), whether the episode continues (a Bernoulli logit of NOT terminal) and every bit
of the next observation (independent Bernoulli logits). Each update trains them one step on
32 replayed transitions, then rolls the updated model out for 10 steps from those
transitions' observations; the Q-network learns from the 32 x 10 imagined transitions.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn, dyna, models, register
from agents.base import Agent
from agents.models import bernoulli_nll, gaussian_nll, with_action


class SimpleModelParams(NamedTuple):
    reward: dict
    continuation: dict
    next_obs: dict


class SimpleModel(NamedTuple):
    obs_size: int
    num_actions: int
    hidden: tuple

    def networks(self):
        return SimpleModelParams(
            dqn.mlp(1, self.hidden), dqn.mlp(1, self.hidden), dqn.mlp(self.obs_size, self.hidden)
        )

    def init(self, key) -> SimpleModelParams:
        example = jnp.zeros(self.obs_size + self.num_actions)
        keys = jax.random.split(key, 3)
        return SimpleModelParams(*(net.init(k, example) for net, k in zip(self.networks(), keys)))

    def predict(self, params: SimpleModelParams, obs, action):
        """(reward mean, continuation logit, next-observation logits) for (obs, action)."""
        x = with_action(obs, action, self.num_actions)
        reward, continuation, next_obs = (
            net.apply(p, x) for net, p in zip(self.networks(), params)
        )
        return reward[..., 0], continuation[..., 0], next_obs

    def loss(self, params: SimpleModelParams, key, transitions) -> jax.Array:
        """Reward NLL + continuation NLL + next-observation NLL (summed over bits), the last
        masked to 0 on terminal transitions, whose next observation is not a successor."""
        del key  # the simple model's loss is deterministic
        reward, continuation, next_obs = self.predict(params, transitions.obs, transitions.action)
        continues = 1.0 - transitions.terminal.astype(jnp.float32)
        obs_nll = bernoulli_nll(next_obs, transitions.next_obs).sum(axis=-1)
        return jnp.mean(
            gaussian_nll(reward, transitions.reward)
            + bernoulli_nll(continuation, continues)
            + continues * obs_nll
        )

    def transition(self, params: SimpleModelParams, key, obs, action):
        """One imagined step: a Bernoulli sample of every next bit, the predicted mean reward
        and the predicted probability of continuing (the public code sampled from raw logits
        here; that is a defect we do not reproduce)."""
        reward, continuation, next_obs = self.predict(params, obs, action)
        next_bits = jax.random.bernoulli(key, jax.nn.sigmoid(next_obs))
        return next_bits, reward, jax.nn.sigmoid(continuation)

    def learned_model(self) -> models.LearnedModel:
        def predict(params, key, transitions):
            del key
            reward, continuation, next_obs = self.predict(
                params, transitions.obs, transitions.action
            )
            return next_obs, reward, continuation

        return models.LearnedModel(
            init=self.init,
            loss=self.loss,
            start=lambda params, key, obs: obs,  # rollouts and acting use observations
            transition=self.transition,
            predict=predict,
            features_size=self.obs_size,
        )


def simple_model(env, hidden: tuple) -> models.LearnedModel:
    return SimpleModel(env.obs_size, env.num_actions, hidden).learned_model()


@register("simple_model")
def make_simple_model(env, **settings) -> Agent:
    """Q learns only on the simple model's rollouts (agents.dyna.model_agent's settings)."""
    return dyna.model_agent(env, simple_model, **settings)
