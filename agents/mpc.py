"""Planning at decision time (MPC; Nagabandi et al. 2018, PETS, PlaNet), an agent beyond the
paper.

It learns exactly as the simple-model agent does: its simple model trains on 32 replayed
transitions per update and its Q-network on the model's 320 imagined transitions
(agents.dyna.imagined). Only acting differs: from the current observation it rolls sequences
of `horizon` actions through the model (sampled bits, as rollouts are) and scores each by its
imagined discounted return plus the Q-network's value at its end,

    score = r_0 + g c_0 (r_1 + g c_1 (... + g c_{H-1} max_a Q(x_H, a)))

(g the discount, c_t the predicted probability of continuing: the TD target's form). Two
planners choose the sequences, on the same budget of num_sequences x horizon model steps
per decision:

  - `random_shooting`: num_sequences sequences of uniformly random actions;
  - `cem` (PlaNet's cross-entropy method, for discrete actions): `cem_iterations` rounds of
    num_sequences / cem_iterations sequences each, drawn from a categorical distribution per
    step of the horizon (uniform at first); after each round the distribution is refit to
    the action frequencies of its `cem_elites` best sequences, mixed with the uniform one
    (weight FLOOR) so that no action's probability reaches 0.

The greedy policy (evaluation) takes the first action of the best sequence scored (for
CEM, over every round, not the mode of the last distribution: the best sequence seen is the
one the model backs). Behaving, it draws one of the scored sequences with probability
softmax(score / temperature), the same tuned temperature that the other agents' softmax
over Q-values uses, and takes its first action: scores and Q-values are both discounted
returns, so exploration stays comparable (with horizon -> 0 random shooting is the
simple-model agent's softmax over Q, up to which actions the random sequences cover).

Its cost per env step is num_sequences x horizon model steps plus num_sequences Q-values,
for acting and for every greedy evaluation step (scripts/benchmark.py).
"""

import jax
import jax.numpy as jnp

from agents import dqn, register
from agents.base import Agent
from agents.simple_model import simple_model_agent
from envs import checks

PLANNERS = ("random_shooting", "cem")  # tree search through mctx: agents/search.py (muzero)
FLOOR = 0.2  # CEM's refit: (1 - FLOOR) x the elites' frequencies + FLOOR x uniform


def scorer(q: dqn.DQN, model, horizon: int):
    """score(state, obs, actions (horizon, n), start_key, roll_key) -> the n sequences'
    imagined discounted returns plus discounted max Q at their ends (module docstring). The
    score multiplies by the continuation as the TD target does, in every environment."""

    def score(state, obs, actions, start_key, roll_key):
        params = state.model.params
        n = actions.shape[1]
        x = model.start(params, start_key, jnp.broadcast_to(obs, (n, *obs.shape)))

        def step(carry, inputs):
            x, value, scale = carry
            action, key = inputs
            x, reward, continuation, *_ = model.transition(params, key, x, action)
            return (x, value + scale * reward, scale * q.discount * continuation), None

        ones = jnp.ones(n, jnp.float32)
        (x, value, scale), _ = jax.lax.scan(
            step, (x, 0.0 * ones, ones), (actions, jax.random.split(roll_key, horizon))
        )
        return value + scale * q.q_values(state.learner, x).max(axis=-1)

    return score


def planner_of(search, horizon: int):
    """planner(q, model) -> act(state, obs, key, greedy), for agents.dyna.agent, from
    `search(score, state, obs, sequence_key, start_key, roll_key)` -> (actions (horizon, n),
    scores (n,)): the first action of the best sequence, or of one drawn by softmax."""

    def planner(q: dqn.DQN, model):
        score_sequences = scorer(q, model, horizon)

        def act(state, obs, key, greedy):
            sequence_key, start_key, roll_key, pick_key = jax.random.split(key, 4)
            actions, score = search(score_sequences, state, obs, sequence_key, start_key,
                                    roll_key)
            if greedy:
                best = jnp.argmax(score)
            else:
                best = jax.random.categorical(pick_key, score / state.learner.hyper.temperature)
            return actions[0, best]

        return act

    return planner


def random_shooting(num_sequences: int, horizon: int, num_actions: int):
    """Random shooting's planner: num_sequences uniformly random sequences, scored once."""
    return planner_of(random_search(num_sequences, horizon, num_actions), horizon)


def random_search(num_sequences: int, horizon: int, num_actions: int):
    """search(...) -> (num_sequences uniformly random sequences, their scores)."""

    def search(score, state, obs, sequence_key, start_key, roll_key):
        actions = jax.random.randint(
            sequence_key, (horizon, num_sequences), 0, num_actions, jnp.int32
        )
        return actions, score(state, obs, actions, start_key, roll_key)

    return search


def refit(actions: jax.Array, score: jax.Array, elites: int, num_actions: int) -> jax.Array:
    """CEM's new log-probabilities (horizon, num_actions): per step, the action frequencies
    among the `elites` best-scored sequences of `actions` (horizon, n), floored."""
    best = jax.lax.top_k(score, elites)[1]
    frequencies = jax.nn.one_hot(actions[:, best], num_actions).mean(axis=1)
    return jnp.log((1 - FLOOR) * frequencies + FLOOR / num_actions)


def check_cem(num_sequences: int, iterations: int, elites: int) -> int:
    """The population per round, num_sequences / iterations, after refusing bad settings."""
    checks.positive_int("agent.cem_iterations", iterations)
    if num_sequences % iterations:
        raise ValueError(
            f"agent.cem_iterations must divide agent.num_sequences ({num_sequences}), so that "
            f"CEM's rounds spend random shooting's budget exactly; got {iterations}."
        )
    population = num_sequences // iterations
    checks.integer_in("agent.cem_elites", elites, 1, population,
                      "agent.num_sequences / agent.cem_iterations")
    return population


def cem(num_sequences: int, horizon: int, num_actions: int, iterations: int, elites: int):
    """The cross-entropy method's planner (module docstring)."""
    search = cem_search(num_sequences, horizon, num_actions, iterations, elites)
    return planner_of(search, horizon)


def cem_search(num_sequences: int, horizon: int, num_actions: int, iterations: int,
               elites: int):
    """CEM over categorical action sequences: every round's sequences are returned with
    their scores, so the pick is over all of them."""
    population = check_cem(num_sequences, iterations, elites)

    def search(score_sequences, state, obs, sequence_key, start_key, roll_key):
        def round_(log_p, keys):
            sample_key, start_key, roll_key = keys
            actions = jax.random.categorical(sample_key, log_p, axis=-1,
                                             shape=(population, horizon)).T
            score = score_sequences(state, obs, actions, start_key, roll_key)
            return refit(actions, score, elites, num_actions), (actions, score)

        uniform = jnp.full((horizon, num_actions), -jnp.log(num_actions))
        keys = [jax.random.split(k, iterations) for k in (sequence_key, start_key, roll_key)]
        _, (actions, score) = jax.lax.scan(round_, uniform, keys)
        # (rounds, horizon, population) -> (horizon, rounds x population)
        return jnp.moveaxis(actions, 1, 0).reshape(horizon, num_sequences), score.ravel()

    return search


@register("mpc", "MPC")
def make_mpc(
    env,
    *,
    planner: str,
    num_sequences: int,
    horizon: int,
    cem_iterations: int,
    cem_elites: int,
    **settings,
) -> Agent:
    """The simple-model agent (all its settings) acting by planning with its model."""
    checks.one_of("agent.planner", planner, PLANNERS)
    checks.positive_int("agent.num_sequences", num_sequences)
    checks.positive_int("agent.horizon", horizon)
    if planner == "cem":
        plan = cem(num_sequences, horizon, env.num_actions, cem_iterations, cem_elites)
    else:
        plan = random_shooting(num_sequences, horizon, env.num_actions)
    return simple_model_agent(env, planner=plan, **settings)
