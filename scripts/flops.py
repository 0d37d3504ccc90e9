"""Floating-point work per seed-step (one env step and its update, high data), counted per
part of ER and the simple model, with a check by hand from the layer sizes.

    python scripts/flops.py                 # ProcMaze 4, paper networks
    python scripts/flops.py --size 8

XLA's cost analysis of a whole compiled interval counts a loop body once: a 10-step
rollout shows as one step, and the once-per-interval evaluation and model check count in
full. Here each part is compiled alone (one member, no loop left inside it), read from its
cost analysis, and multiplied by how often it runs per env step.
"""

import argparse

import jax
import jax.numpy as jnp

import envs
from agents import dqn, models
from agents.base import Transition
from agents.simple_model import simple_model

HIDDEN = (200, 200, 200)
ROLLOUTS, ROLLOUT_LENGTH, MODEL_BATCH = 32, 10, 32
EVAL_RUNS, EVAL_STEPS, EVAL_INTERVAL, HELD_OUT = 32, 100, 500, 1024  # high data


def xla_flops(fn, *args) -> float:
    cost = jax.jit(fn).lower(*args).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return cost["flops"]


def batch(env, size: int) -> dqn.Batch:
    bits = jnp.zeros((size, env.obs_size), jnp.bool_)
    zeros = jnp.zeros(size)
    return dqn.Batch(bits, jnp.zeros(size, jnp.int32), zeros, zeros, bits, zeros)


def parts(env) -> dict[str, list[tuple[str, float, float]]]:
    """Per agent: (part, XLA flops of one call, calls per env step)."""
    q = dqn.q_learner(env.num_actions, HIDDEN, dqn.DISCOUNT)
    hyper = dqn.Hyper(jnp.float32(1e-4), jnp.float32(1.0))
    learner = q.init(jax.random.key(0), jnp.zeros(env.obs_size), hyper)
    q_batch = batch(env, dqn.Q_BATCH_SIZE)
    forward = xla_flops(q.network.apply, learner.params, q_batch.obs)
    grad = xla_flops(jax.grad(q.loss), learner.params, learner.target_params, q_batch)
    learn = xla_flops(q.learn, learner, q_batch)
    obs = jnp.zeros((1, env.obs_size), jnp.bool_)
    act = xla_flops(lambda o: q.act(learner, o, jax.random.key(0), False), obs)
    evaluation = jnp.zeros((EVAL_RUNS, env.obs_size), jnp.bool_)
    greedy = xla_flops(lambda o: q.act(learner, o, None, True), evaluation)
    er = [
        ("Q forward + backward on 320", grad - forward, 1),
        ("target forward on 320", forward, 1),
        ("Adam step of Q", learn - grad, 1),
        ("acting forward on 1", act, 1),
        ("evaluation forward on 32 (amortized)", greedy, EVAL_STEPS / EVAL_INTERVAL),
    ]

    model = simple_model(env, HIDDEN)
    trained = models.start_training(model.init(jax.random.key(1)))
    real = models_batch(env, MODEL_BATCH)
    step = xla_flops(
        lambda t: models.train_step(t, model.loss, 2e-4, jax.random.key(0), real), trained
    )
    starts = jnp.zeros((ROLLOUTS, env.obs_size), jnp.bool_)
    actions = jnp.zeros(ROLLOUTS, jnp.int32)
    imagine = xla_flops(
        lambda o: model.transition(trained.params, jax.random.key(0), o, actions), starts
    )
    rollout_act = xla_flops(lambda o: q.act(learner, o, jax.random.key(0), False), starts)
    check = xla_flops(lambda t: model.predict(trained.params, None, t), models_batch(env, HELD_OUT))
    simple = [
        er[0],
        er[1],
        er[2],
        ("model step on 32 (forward, backward, Adam)", step, 1),
        ("rollout: model forward on 32", imagine, ROLLOUT_LENGTH),
        ("rollout: Q forward on 32", rollout_act, ROLLOUT_LENGTH),
        er[3],
        er[4],
        ("model check on 1,024 (amortized)", check, 1 / EVAL_INTERVAL),
    ]
    return {"er": er, "simple_model": simple}


def models_batch(env, size: int):
    """`size` real transitions (all zero) in the form the replay buffer hands out."""
    bits = jnp.zeros((size, env.obs_size), jnp.bool_)
    zeros = jnp.zeros(size)
    return Transition(bits, jnp.zeros(size, jnp.int32), zeros, zeros.astype(bool), bits, None)


def by_hand(obs_size: int, num_actions: int) -> dict[str, float]:
    """Multiply-adds of the matrix products only, 2 flops each (biases, ELU and Adam are a
    few percent more). A backward pass costs twice its forward, less the first layer's
    gradient with respect to the input, which no one needs."""

    def macs(sizes):
        return sum(a * b for a, b in zip(sizes, sizes[1:]))

    def train(sizes, n):  # forward + backward
        return 2 * n * (2 * macs(sizes) + macs(sizes[1:]))

    q = [obs_size, *HIDDEN, num_actions]
    x = obs_size + num_actions
    model = [[x, *HIDDEN, 1], [x, *HIDDEN, 1], [x, *HIDDEN, obs_size]]
    model_forward = sum(2 * macs(m) for m in model)
    er = train(q, 320) + 2 * macs(q) * (320 + 1 + EVAL_RUNS * EVAL_STEPS / EVAL_INTERVAL)
    simple = (
        er
        + sum(train(m, MODEL_BATCH) for m in model)
        + ROLLOUT_LENGTH * ROLLOUTS * (model_forward + 2 * macs(q))
        + model_forward * HELD_OUT / EVAL_INTERVAL
    )
    return {"er": er, "simple_model": simple}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4, help="ProcMaze grid size")
    args = parser.parse_args()
    env = envs.make("procmaze", grid_size=args.size)
    print(
        f"ProcMaze {args.size} (obs {env.obs_size} bits, {env.num_actions} actions), "
        f"Q-network and model MLPs {'x'.join(map(str, HIDDEN))} ELU; MFLOP per seed-step"
    )
    hand = by_hand(env.obs_size, env.num_actions)
    for agent, rows in parts(env).items():
        print(f"\n{agent}")
        total = 0.0
        for name, flops, per_step in rows:
            total += flops * per_step
            print(
                f"  {name:<44}{flops / 1e6:>10.2f} x {per_step:<6g}{flops * per_step / 1e6:>9.2f}"
            )
        print(f"  {'total (XLA, per part)':<62}{total / 1e6:>9.1f}")
        print(f"  {'by hand (matrix products only)':<62}{hand[agent] / 1e6:>9.1f}")


if __name__ == "__main__":
    main()
