"""The agent seam: a record of pure functions over an agent-state pytree (DESIGN seam 2).

Every agent state has a `learner` field (the one DQN learner of agents/dqn.py); the online
loop copies its target network on the env-step schedule.
"""

from typing import Any, Callable, NamedTuple, Optional

import jax

from agents import dqn


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
    # The learned model it trains and rolls out (agents.models.LearnedModel), if any: for
    # tools that time or inspect its parts (scripts/profile_parts.py).
    model: Optional[Any] = None
