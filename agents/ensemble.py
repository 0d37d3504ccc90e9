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

Plan2Explore-style exploration (Sekar et al. 2020), the other sign: with `exploration_bonus`
b > 0 every imagined reward gains b_t x the members' disagreement about the next
observation, the mean over bits of the standard deviation over members of P(bit on) =
sigmoid(logit) (Plan2Explore's disagreement is over next-state predictions, so not the
reward's std). b_t falls linearly from b to 0 over `exploration_updates` Q updates, from
exploring to the task reward. The count is the model's own: its parameters carry the number
of model steps taken (`Explored`, one per Q update, counted by `after_step`; a frozen model
takes none, so its bonus stays b). Q learns the bonus on its rollouts, and MPC's scores
(agents/mpc.py), which roll the same transition, include it. b = 0 (the default) builds
exactly the ensemble without it.

For the loop's model metrics and Figure 4 (`predict`), the ensemble predicts as its member
mean: the mean reward, and the logits of the members' mean probabilities of every bit and of
continuing.

K = 1 is not built here: the simple model is then exactly the paper's (agents/simple_model.py).
"""

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from agents import models
from agents.base import Transition
from envs import checks

SAMPLING = ("step", "rollout")


class Exploration(NamedTuple):
    """Plan2Explore's bonus: `bonus` at the start, 0 after `updates` Q updates, linear."""

    bonus: float = 0.0
    updates: int = 2500

    def weight(self, steps: jax.Array) -> jax.Array:
        return self.bonus * jnp.clip(1.0 - steps / self.updates, 0.0, 1.0)


class Explored(NamedTuple):
    """An exploring ensemble's parameters: the members' and the model steps taken so far."""

    members: Any
    steps: jax.Array  # float32, so that the gradient step passes it through (as 0)


def check(size, sampling, penalty, exploration: Exploration = Exploration()) -> None:
    checks.positive_int("agent.ensemble_size", size)
    checks.one_of("agent.ensemble_sampling", sampling, SAMPLING)
    checks.number_at_least("agent.disagreement_penalty", penalty, 0)
    checks.number_at_least("agent.exploration_bonus", exploration.bonus, 0)
    checks.positive_int("agent.exploration_updates", exploration.updates)
    if exploration.bonus > 0 and size == 1:
        raise ValueError(
            f"agent.exploration_bonus must be 0 when agent.ensemble_size is 1 (the bonus is "
            f"the members' disagreement); got {exploration.bonus!r}."
        )


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
    member: models.LearnedModel,
    size: int,
    sampling: str,
    penalty: float,
    exploration: Exploration = Exploration(),
) -> models.LearnedModel:
    """`size` copies of `member` as one LearnedModel (module docstring), exploring by their
    disagreement when `exploration.bonus` > 0."""
    check(size, sampling, penalty, exploration)

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

    model = models.LearnedModel(
        init=init,
        loss=bootstrapped(member.loss),
        start=start,
        transition=transition,
        predict=predict,
        features_size=member.features_size,
        sequence_loss=None if member.sequence_loss is None else bootstrapped(member.sequence_loss),
    )
    return model if exploration.bonus == 0 else exploring(model, member, exploration)


def disagreement(member: models.LearnedModel, params, key, x, action) -> jax.Array:
    """Per row: the mean over bits of the std over members of P(next bit on)."""
    transitions = Transition(x, action, None, None, None, None)
    logits = jax.vmap(member.predict, in_axes=(0, None, None))(params, key, transitions)[0]
    return jax.nn.sigmoid(logits).std(axis=0).mean(axis=-1)


def exploring(
    model: models.LearnedModel, member: models.LearnedModel, exploration: Exploration
) -> models.LearnedModel:
    """The ensemble `model` whose imagined rewards gain the scheduled bonus x disagreement;
    its parameters count its model steps (`Explored`)."""

    def on_members(fn):
        return lambda params, *args: fn(params.members, *args)

    def init(key):
        return Explored(model.init(key), jnp.zeros((), jnp.float32))

    def transition(params, key, x, action):
        x_next, reward, continuation = model.transition(params.members, key, x, action)
        bonus = exploration.weight(params.steps) * disagreement(
            member, params.members, key, x, action
        )
        return x_next, reward + bonus, continuation

    def count_step(before, after):
        return Explored(after.members, before.steps + 1)

    return model._replace(
        init=init,
        loss=on_members(model.loss),
        start=on_members(model.start),
        transition=transition,
        predict=on_members(model.predict),
        after_step=count_step,
        sequence_loss=None if model.sequence_loss is None else on_members(model.sequence_loss),
    )
