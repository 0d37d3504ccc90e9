"""Floating-point work per seed-step (one env step and its update, high data), counted per
part of every Figure 3 agent, with a check by hand from the layer sizes.

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
from agents.latent import CATEGORICAL, GAUSSIAN, latent_model
from agents.perfect_model import true_transition
from agents.simple_model import simple_model

HIDDEN = (200, 200, 200)
ROLLOUTS, ROLLOUT_LENGTH, MODEL_BATCH = 32, 10, 32
EVAL_RUNS, EVAL_STEPS, EVAL_INTERVAL, HELD_OUT = 32, 100, 500, 1024  # high data
Q_BATCH = dqn.Q_BATCH_SIZE
KEY = jax.random.key(0)


def xla_flops(fn, *args) -> float:
    cost = jax.jit(fn).lower(*args).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return cost.get("flops", 0.0)  # absent for a program with no arithmetic (an identity)


def zeros_like_rows(example, rows: int):
    """`rows` zero rows of the Q-network's input, whose type `example` gives."""
    return jnp.zeros((rows, *example.shape[1:]), example.dtype)


def q_parts(env, example):
    """The DQN learner on inputs like `example` (observation bits, or a latent sample):
    (q, its learner, the rows of one Q update on 320)."""
    q = dqn.q_learner(env.num_actions, HIDDEN, dqn.DISCOUNT)
    hyper = dqn.Hyper(jnp.float32(1e-4), jnp.float32(1.0))
    learner = q.init(jax.random.key(0), jnp.zeros(example.shape[-1]), hyper)
    x = zeros_like_rows(example, Q_BATCH)
    zeros = jnp.zeros(Q_BATCH)
    batch = dqn.Batch(x, jnp.zeros(Q_BATCH, jnp.int32), zeros, zeros, x, zeros)
    forward = xla_flops(q.network.apply, learner.params, x)
    grad = xla_flops(jax.grad(q.loss), learner.params, learner.target_params, batch)
    learn = xla_flops(q.learn, learner, batch)
    rows = [
        (f"Q forward + backward on {Q_BATCH}", grad - forward, 1),
        (f"target forward on {Q_BATCH}", forward, 1),
        ("Adam step of Q", learn - grad, 1),
    ]
    return q, learner, rows


def acting_and_evaluation(env, q, learner, start=lambda obs: obs):
    """An action per env step (softmax) and the greedy evaluation's 32 x 100 actions per 500
    steps, each on `start(observations)`: the observations, or the latents' encoding."""

    def act(rows: int, greedy: bool) -> float:
        obs = jnp.zeros((rows, env.obs_size), jnp.bool_)
        return xla_flops(lambda o: q.act(learner, start(o), KEY, greedy), obs)

    return [
        ("acting on 1", act(1, False), 1),
        (
            f"evaluation on {EVAL_RUNS} (amortized)",
            act(EVAL_RUNS, True),
            EVAL_STEPS / EVAL_INTERVAL,
        ),
    ]


def learned_model_parts(env, model: models.LearnedModel):
    """A learned-model agent: the Q update on rollouts in the model's features, one model
    step, the rollouts (their starts, the model's and the Q-network's forwards), acting and
    evaluating through the model's `start` (identity for the simple model), the model check."""
    params = model.init(jax.random.key(1))

    def start(obs):
        return model.start(params, KEY, obs)

    starts = jnp.zeros((ROLLOUTS, env.obs_size), jnp.bool_)
    x = zeros_like_rows(jax.eval_shape(start, starts), ROLLOUTS)
    q, learner, update = q_parts(env, x)
    step = xla_flops(
        lambda t: models.train_step(t, model.loss, 2e-4, KEY, transitions(env, MODEL_BATCH)),
        models.start_training(params),
    )
    actions = jnp.zeros(ROLLOUTS, jnp.int32)
    imagine = xla_flops(lambda x: model.transition(params, KEY, x, actions), x)
    rollout_act = xla_flops(lambda x: q.act(learner, x, KEY, False), x)
    check = xla_flops(lambda t: model.predict(params, KEY, t), transitions(env, HELD_OUT))
    return [
        *update,
        (f"model step on {MODEL_BATCH} (forward, backward, Adam)", step, 1),
        (f"rollout starts on {ROLLOUTS}", xla_flops(start, starts), 1),
        (f"rollout: model forward on {ROLLOUTS}", imagine, ROLLOUT_LENGTH),
        (f"rollout: Q forward on {ROLLOUTS}", rollout_act, ROLLOUT_LENGTH),
        *acting_and_evaluation(env, q, learner, start),
        (f"model check on {HELD_OUT:,} (amortized)", check, 1 / EVAL_INTERVAL),
    ]


def er_parts(env):
    q, learner, update = q_parts(env, jnp.zeros((1, env.obs_size), jnp.bool_))
    return [*update, *acting_and_evaluation(env, q, learner)]


def perfect_model_parts(env):
    """ER's parts and the rollouts: 10 true env steps of 32 states, the Q-network acting."""
    q, learner, update = q_parts(env, jnp.zeros((1, env.obs_size), jnp.bool_))
    states = jax.vmap(env.reset)(jax.random.split(KEY, ROLLOUTS))[0]
    actions = jnp.zeros(ROLLOUTS, jnp.int32)
    env_step = xla_flops(lambda s: true_transition(env)(KEY, s, actions), states)
    rollout_act = xla_flops(lambda s: q.act(learner, jax.vmap(env.observe)(s), KEY, False), states)
    return [
        *update,
        (f"rollout: env step on {ROLLOUTS}", env_step, ROLLOUT_LENGTH),
        (f"rollout: observe + Q forward on {ROLLOUTS}", rollout_act, ROLLOUT_LENGTH),
        *acting_and_evaluation(env, q, learner),
    ]


# Per agent at its paper settings: env -> [(part, XLA flops of one call, calls per env step)]
PARTS = {
    "er": er_parts,
    "perfect_model": perfect_model_parts,
    "simple_model": lambda env: learned_model_parts(env, simple_model(env, HIDDEN)),
    "gaussian_latent": lambda env: learned_model_parts(env, latent_model(GAUSSIAN, env, HIDDEN)),
    "categorical_latent": lambda env: learned_model_parts(
        env, latent_model(CATEGORICAL, env, HIDDEN)
    ),
}


def per_seed_step(agent: str, env) -> float:
    """FLOPs of one seed-step of a paper agent at its paper settings, summed over its parts."""
    return sum(flops * per_step for _, flops, per_step in PARTS[agent](env))


def transitions(env, size: int):
    """`size` real transitions (all zero) in the form the replay buffer hands out."""
    bits = jnp.zeros((size, env.obs_size), jnp.bool_)
    zeros = jnp.zeros(size)
    return Transition(bits, jnp.zeros(size, jnp.int32), zeros, zeros.astype(bool), bits, None)


def by_hand(obs_size: int, num_actions: int) -> dict[str, float]:
    """Multiply-adds of the matrix products only, 2 flops each (biases, activations, the
    latents' sampling and Adam are a few percent more). A backward pass costs twice its
    forward, less the first layer's gradient with respect to the input, which no one needs."""

    def macs(sizes):
        return sum(a * b for a, b in zip(sizes, sizes[1:]))

    def forward(sizes, n=1):
        return 2 * n * macs(sizes)

    def train(sizes, n, input_gradient=False):  # forward + backward
        return 2 * n * (2 * macs(sizes) + (macs(sizes) if input_gradient else macs(sizes[1:])))

    def acting(q):  # one action per env step, and the amortized evaluation
        return forward(q, 1 + EVAL_RUNS * EVAL_STEPS / EVAL_INTERVAL)

    q = [obs_size, *HIDDEN, num_actions]
    er = train(q, Q_BATCH) + forward(q, Q_BATCH) + acting(q)
    perfect = er + forward(q, ROLLOUT_LENGTH * ROLLOUTS)

    x = obs_size + num_actions  # the simple model: reward, continuation, next-obs MLPs
    model = [[x, *HIDDEN, 1], [x, *HIDDEN, 1], [x, *HIDDEN, obs_size]]
    model_forward = sum(forward(m) for m in model)
    simple = (
        er
        + sum(train(m, MODEL_BATCH) for m in model)
        + ROLLOUT_LENGTH * ROLLOUTS * (model_forward + forward(q))
        + model_forward * HELD_OUT / EVAL_INTERVAL
    )

    def latent(kind):
        """A latent agent: its Q-network sees a sample of kind.size features (the categorical's
        1,024 one-hot bits, the Gaussian's 32); encoder and prior output kind.outputs."""
        z, out = kind.size, kind.outputs
        zq = [z, *HIDDEN, num_actions]
        encoder, decoder = [obs_size, *HIDDEN, out], [z, *HIDDEN, obs_size]
        prior, head = [z + num_actions, *HIDDEN, out], [z + num_actions, *HIDDEN, 1]
        # the loss encodes obs and obs' and runs the decoder, both heads and the prior on z,
        # whose gradient flows back into the encoder
        model_step = 2 * train(encoder, MODEL_BATCH) + sum(
            train(m, MODEL_BATCH, input_gradient=True) for m in (decoder, head, head, prior)
        )
        imagined_step = forward(prior) + 2 * forward(head) + forward(zq)
        check = forward(encoder) + forward(prior) + 2 * forward(head) + forward(decoder)
        return (
            train(zq, Q_BATCH)
            + forward(zq, Q_BATCH)
            + model_step
            + forward(encoder, ROLLOUTS)
            + ROLLOUT_LENGTH * ROLLOUTS * imagined_step
            + forward(encoder, 1 + EVAL_RUNS * EVAL_STEPS / EVAL_INTERVAL)
            + acting(zq)
            + check * HELD_OUT / EVAL_INTERVAL
        )

    return {
        "er": er,
        "perfect_model": perfect,
        "simple_model": simple,
        "gaussian_latent": latent(GAUSSIAN),
        "categorical_latent": latent(CATEGORICAL),
    }


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
    for agent, parts in PARTS.items():
        rows = parts(env)
        print(f"\n{agent}")
        total = 0.0
        for name, flops, per_step in rows:
            total += flops * per_step
            print(
                f"  {name:<48}{flops / 1e6:>10.2f} x {per_step:<6g}{flops * per_step / 1e6:>9.2f}"
            )
        print(f"  {'total (XLA, per part)':<66}{total / 1e6:>9.1f}")
        print(f"  {'by hand (matrix products only)':<66}{hand[agent] / 1e6:>9.1f}")


if __name__ == "__main__":
    main()
