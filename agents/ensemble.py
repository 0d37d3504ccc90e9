"""Ensembles of learned models (PETS, Chua et al. 2018; ME-TRPO, Kurutach et al. 2018), a
setting of the simple model beyond the paper (`agent.ensemble_size`).

K members with their own initializations, their parameters stacked on a leading member axis
and every function vmapped over it (never a Python loop). Each model step trains every member
on its own bootstrap of the model batch: the 32 transitions resampled with replacement by
indices of its own, the members' losses summed, so that each member takes exactly the Adam
step it would take alone on its resample (their parameters are disjoint).

A rollout step takes its next bits, reward and continuation from one member:
  - `step` (PETS's trajectory sampling, TS-1): a member drawn uniformly for every row at
    every step;
  - `rollout` (TS-infinity, and ME-TRPO's rollouts): row b of the rollout batch keeps member
    b mod K throughout. Rollout starts are a uniform sample, so this is a uniformly random
    fixed member per rollout, with no state to carry.
With `disagreement_penalty` lambda > 0 the imagined reward is the chosen member's minus
lambda x the standard deviation of the K members' predicted rewards (MOPO-style pessimism;
PETS itself has no penalty).

For the loop's model metrics and Figure 4 (`predict`), the ensemble predicts as its member
mean: the mean reward, and the logits of the members' mean probabilities of every bit and of
continuing.

K = 1 is not built here: the simple model is then exactly the paper's (agents/simple_model.py).
"""

import math

import jax
import jax.numpy as jnp

from agents import models
from envs import checks

SAMPLING = ("step", "rollout")


def check(size, sampling, penalty) -> None:
    checks.positive_int("agent.ensemble_size", size)
    checks.one_of("agent.ensemble_sampling", sampling, SAMPLING)
    checks.number_at_least("agent.disagreement_penalty", penalty, 0)


def bootstrap(key, data):
    """`data` (a pytree with a leading batch axis) resampled with replacement."""
    n = jax.tree.leaves(data)[0].shape[0]
    index = jax.random.randint(key, (n,), 0, n)
    return jax.tree.map(lambda x: x[index], data)


def mean_logit(logits: jax.Array) -> jax.Array:
    """logit of the mean of sigmoid(logits) over the leading (member) axis, computed stably."""
    k = math.log(logits.shape[0])
    on = jax.nn.logsumexp(jax.nn.log_sigmoid(logits), axis=0) - k
    off = jax.nn.logsumexp(jax.nn.log_sigmoid(-logits), axis=0) - k
    return on - off


def ensemble(
    member: models.LearnedModel, size: int, sampling: str, penalty: float
) -> models.LearnedModel:
    """`size` copies of `member` as one LearnedModel (module docstring)."""
    check(size, sampling, penalty)

    def init(key):
        return jax.vmap(member.init)(jax.random.split(key, size))

    def bootstrapped(member_loss):
        def loss(params, key, data):
            def one(p, key):
                resample_key, loss_key = jax.random.split(key)
                return member_loss(p, loss_key, bootstrap(resample_key, data))

            return jax.vmap(one)(params, jax.random.split(key, size)).sum()

        return loss

    def first(params):
        return jax.tree.map(lambda p: p[0], params)

    def start(params, key, obs):
        return member.start(first(params), key, obs)  # the simple model's is the identity

    def transition(params, key, x, action):
        member_key, pick_key = jax.random.split(key)
        # every member's step with one key; a row keeps only its member's
        x_next, reward, continuation = jax.vmap(member.transition, in_axes=(0, None, None, None))(
            params, member_key, x, action
        )
        rows = jnp.arange(action.shape[0])
        if sampling == "step":
            chosen = jax.random.randint(pick_key, action.shape, 0, size)
        else:
            chosen = rows % size
        imagined_reward = reward[chosen, rows]
        if penalty > 0:
            imagined_reward = imagined_reward - penalty * reward.std(axis=0)
        return x_next[chosen, rows], imagined_reward, continuation[chosen, rows]

    def predict(params, key, transitions):
        keys = jax.random.split(key, size)
        next_obs, reward, continuation = jax.vmap(member.predict, in_axes=(0, 0, None))(
            params, keys, transitions
        )
        return mean_logit(next_obs), reward.mean(axis=0), mean_logit(continuation)

    return models.LearnedModel(
        init=init,
        loss=bootstrapped(member.loss),
        start=start,
        transition=transition,
        predict=predict,
        features_size=member.features_size,
        sequence_loss=None if member.sequence_loss is None else bootstrapped(member.sequence_loss),
    )
