"""The online loop: a whole run as pure functions, PureJaxRL-style (DESIGN seam 3).

`make_train` returns `init(key, hyper)` and `run_interval(runner, t)`: one evaluation
interval of env steps under `lax.scan`, then a greedy evaluation. Both are meant to be
`vmap`ped over seeds (and hyperparameter settings) and jitted; the step counter `t` stays
unbatched, so the learning-start and target-copy conditions remain real branches under vmap.
The host advances the run one interval at a time (experiments/driver.py).

`Speed` holds the settings of how that program is built (configs/speed/): the same
computation in another schedule. On a CPU scan_unroll leaves every agent's results bit for bit;
branches=select moves the last bits of the model-based agents' (XLA fuses the selected update
differently, as it does for another member block size), so their runs are statistically
indistinguishable from the default's, not identical (docs/gpu.md). They exist for GPUs, where
a step costs kernels and host round trips more than arithmetic; which is fastest there is
measured by scripts/gpu_check.py.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from agents import dqn
from agents.base import Agent, Transition
from agents.models import prediction_metrics
from envs.core import auto_reset
from experiments.evaluation import evaluate, random_transitions
from experiments.settings import Regime

BRANCHES = ("cond", "select")


class Speed(NamedTuple):
    """scan_unroll: env steps per iteration of the interval's compiled while loop (lax.scan's
    `unroll`); a GPU evaluates the loop's condition on the device and reads it back every
    iteration, so k steps an iteration read it back 1/k as often.
    branches: how a step chooses to learn (from `learning_starts`) and to copy the target
    network: "cond" runs one branch (a real conditional, whose predicate a GPU reads back every
    step); "select" computes both and selects, which needs no read-back but updates before
    learning starts too and throws the result away (the first 1,000 of 1M steps); on a CPU it
    moves the last bits of the model-based agents' results (ER's and the perfect model's stay
    the same)."""

    scan_unroll: int = 1
    branches: str = "cond"


class Runner(NamedTuple):
    agent: Any
    env_state: Any
    obs: jax.Array
    key: jax.Array


def make_train(env, agent: Agent, regime: Regime, speed: Speed = Speed()):
    def init(key, hyper: dqn.Hyper) -> Runner:
        agent_key, env_key, key = jax.random.split(key, 3)
        env_state, obs = env.reset(env_key)
        return Runner(agent.init(agent_key, hyper), env_state, obs, key)

    def learn(agent_state, key):
        def one_update(agent_state, key):
            return agent.update(agent_state, key)

        agent_state, metrics = jax.lax.scan(
            one_update, agent_state, jax.random.split(key, regime.updates_per_step)
        )
        return agent_state, jax.tree.map(jnp.mean, metrics)

    branch = jax.lax.cond if speed.branches == "cond" else selected

    def random_action(key):
        # its own draw from the act key: the agent's action is drawn from the same key, and
        # is discarded while the random policy collects
        return jax.random.randint(jax.random.fold_in(key, 1), (), 0, env.num_actions)

    def env_step(carry, _):
        runner, t = carry
        key, act_key, env_key, reset_key, learn_key = jax.random.split(runner.key, 5)
        action = agent.act(runner.agent, runner.obs, act_key, False)
        if regime.random_data is not None:  # learning in a dream: random data, then none
            collecting = t < regime.random_data
            action = jnp.where(collecting, random_action(act_key), action)
        env_state, next_obs, reward, terminal = env.step(env_key, runner.env_state, action)
        transition = Transition(runner.obs, action, reward, terminal, next_obs, runner.env_state)
        if regime.random_data is None:
            agent_state = agent.observe(runner.agent, transition)
        else:
            agent_state = branch(  # as the learning switch: speed.branches decides how
                collecting, agent.observe, lambda state, _: state, runner.agent, transition
            )
        t = t + 1

        # Updates begin once the buffer holds `learning_starts` transitions.
        metric_shapes = jax.eval_shape(learn, agent_state, learn_key)[1]
        no_metrics = jax.tree.map(lambda s: jnp.full(s.shape, jnp.nan, s.dtype), metric_shapes)
        agent_state, metrics = branch(
            t >= regime.learning_starts,
            learn,
            lambda state, _: (state, no_metrics),
            agent_state,
            learn_key,
        )
        learner = dqn.sync_target(agent_state.learner, t, regime.target_update_frequency, branch)
        agent_state = agent_state._replace(learner=learner)

        # After a terminal step the next action is chosen from the reset observation, or
        # (after_terminal "terminal_obs", the public code's way) from the terminal one, so
        # that the next stored transition starts in the old episode and lands in the new
        # (unless the step ended an interval: see run_interval).
        env_state, obs = auto_reset(env, reset_key, terminal, env_state, next_obs)
        if regime.after_terminal == "terminal_obs":
            obs = next_obs
        return (Runner(agent_state, env_state, obs, key), t), metrics

    def run_interval(runner: Runner, t: jax.Array) -> tuple[Runner, dict]:
        if regime.after_terminal == "terminal_obs":
            # The public code reads the observation from the env state at the start of every
            # interval: after a terminal step that ended the last one, it acts from the reset.
            runner = runner._replace(obs=env.observe(runner.env_state))
        (runner, _), metrics = jax.lax.scan(
            env_step, (runner, t), None, length=regime.eval_interval, unroll=speed.scan_unroll
        )
        key, eval_key, model_key = jax.random.split(runner.key, 3)
        metrics = jax.tree.map(jnp.nanmean, metrics)  # NaN before learning starts
        metrics["score"] = evaluate(
            env, agent, runner.agent, eval_key, regime.eval_runs, regime.eval_steps
        )
        if agent.predict is not None:
            data_key, predict_key = jax.random.split(model_key)
            held_out = random_transitions(env, data_key)
            predictions = agent.predict(runner.agent, held_out, predict_key)
            metrics.update(prediction_metrics(*predictions, held_out))
        leaves = jax.tree.leaves(runner.agent.learner.params)
        metrics["diverged"] = ~jnp.stack([jnp.isfinite(p).all() for p in leaves]).all()
        return runner._replace(key=key), metrics

    return init, run_interval


def selected(predicate, if_true, if_false, *operands):
    """lax.cond's meaning with both branches computed and their results selected."""
    return jax.tree.map(
        lambda a, b: jnp.where(predicate, a, b), if_true(*operands), if_false(*operands)
    )
