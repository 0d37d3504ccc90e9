"""The agent seam: a record of pure functions over an agent-state pytree.

Every agent state is a NamedTuple with a `learner` field (the one DQN learner of
agents/dqn.py); the online loop copies its target network on the env-step schedule.
"""

from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from agents import dqn, replay


class Transition(NamedTuple):
    """One real environment step, as the online loop hands it to `observe`."""

    obs: jax.Array  # bool bits
    action: jax.Array
    reward: jax.Array
    terminal: jax.Array
    next_obs: jax.Array
    state: Any  # the environment state the action was taken in (the perfect model keeps it)


class Agent(NamedTuple):
    init: Callable[[jax.Array, dqn.Hyper], Any]  # (key, hyper) -> state
    act: Callable[..., jax.Array]  # (state, obs, key, greedy: bool) -> action
    observe: Callable[[Any, Transition], Any]  # (state, transition) -> state
    update: Callable[[Any, jax.Array], tuple[Any, dict]]  # (state, key) -> (state, metrics)
    # Learned-model agents: (state, real transitions batch, key) -> the model's predictions
    # for them: (next-observation logits, reward mean, continuation logit). The loop scores
    # them (agents.models.prediction_metrics) and the Figure 4 analyses read them.
    predict: Optional[Callable[[Any, Transition, jax.Array], tuple]] = None


class Stored(NamedTuple):
    """A real transition as a replay buffer keeps it: observations as packed bits."""

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    terminal: jax.Array
    next_obs: jax.Array


def store(transition: Transition) -> Stored:
    return Stored(
        replay.pack_bits(transition.obs),
        transition.action.astype(jnp.int32),
        transition.reward.astype(jnp.float32),
        transition.terminal,
        replay.pack_bits(transition.next_obs),
    )


def stored_example(obs_size: int) -> Stored:
    """A zero transition with the shapes and dtypes a replay buffer stores."""
    bits = jnp.zeros(obs_size, bool)
    return store(Transition(bits, jnp.int32(0), jnp.float32(0), jnp.bool_(False), bits, None))


def unstore(stored: Stored, obs_size: int) -> Transition:
    """Stored transitions with their bits unpacked (the env state is not kept)."""
    return Transition(
        replay.unpack_bits(stored.obs, obs_size),
        stored.action,
        stored.reward,
        stored.terminal,
        replay.unpack_bits(stored.next_obs, obs_size),
        None,
    )


def real_batch(transitions: Transition) -> dqn.Batch:
    """Real transitions as Q-training data: continuation 1 - terminal, weight 1."""
    continuation = 1.0 - transitions.terminal.astype(jnp.float32)
    return dqn.Batch(
        transitions.obs,
        transitions.action,
        transitions.reward,
        continuation,
        transitions.next_obs,
        jnp.ones_like(continuation),
    )


def check_settings(**settings) -> None:
    """Agent settings that count things must be positive integers, `hidden` a list of them,
    and step sizes positive numbers; a bad one raises ValueError naming `agent.<key>`."""
    for key, value in settings.items():
        if key == "hidden":
            ok = len(value) > 0 and all(_positive_int(v) for v in value)
            want = "a non-empty list of positive integers"
        elif key.endswith("step_size"):
            ok = not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0
            want = "a positive number"
        else:
            ok, want = _positive_int(value), "a positive integer"
        if not ok:
            raise ValueError(f"agent.{key} must be {want}; got {value!r}.")


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
