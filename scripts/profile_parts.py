"""Where a training step's time goes: the parts of one env step + update, timed apart.

    python scripts/profile_parts.py                      # ER and the simple model, ProcMaze 4
    python scripts/profile_parts.py --agents er --seeds 30 --iters 200
    python scripts/profile_parts.py --agents categorical_latent --iters 30   # a latent model
    python scripts/profile_parts.py --one-device   # JAX's default: one CPU device

Each part is the agent's own code on the paper configuration (30 members vmapped, paper
networks, a full buffer), run `iters` times in one compiled `lax.scan` so dispatch does not
count, on the same devices as the whole step (experiments/cores.py: by default one device
per core, members split over them); its time per step is divided by the whole step's
(scripts/benchmark.py's program, one interval). The parts overlap nothing and need not sum
to 100%: the remainder is what the fused program does between them (the target-copy
branch, metrics, carrying the state). Also the rate of 4096 x 4096 float32 products on
every device at once, and each part's GFLOP/s as a share of it.
"""

import argparse
import functools
import sys
import time

from experiments import cores

if "--one-device" not in sys.argv:
    cores.use_every_core()

import jax
import jax.numpy as jnp
from benchmark import measure, with_full_buffer  # scripts/benchmark.py, beside this script
from jax.sharding import PartitionSpec as P

import agents
import envs
from agents import dqn, latent, models, replay, sampling
from agents.base import Transition
from agents.rollout import rollout
from envs.core import auto_reset
from experiments.driver import MEMBERS, member_devices, member_keys


def timed(fn, *args, repeats: int = 3) -> tuple[float, float]:
    """(best wall seconds of `repeats` calls of the compiled `fn(*args)` after a warm-up,
    XLA's FLOP count of it)."""
    compiled = jax.jit(fn).lower(*args).compile()
    jax.block_until_ready(compiled(*args))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        best = min(best, time.perf_counter() - start)
    flops = compiled.cost_analysis()
    flops = (flops[0] if isinstance(flops, list) else flops).get("flops", float("nan"))
    return best, flops


def peak_gflops() -> float:
    """This CPU's float32 matmul rate: one 4096 x 4096 by 4096 x 4096 product per device, all
    devices at once (with one device, every core works inside the one product)."""
    devices = jax.devices()
    mesh = jax.sharding.Mesh(devices, (MEMBERS,))
    a = jax.device_put(jnp.ones((len(devices), 4096, 4096), jnp.float32),
                       jax.sharding.NamedSharding(mesh, P(MEMBERS)))
    product = jax.shard_map(lambda a: a @ a, mesh=mesh, in_specs=P(MEMBERS),
                            out_specs=P(MEMBERS))
    seconds, _ = timed(product, a)
    return len(devices) * 2 * 4096**3 / seconds / 1e9


def scanned(part, num_seeds: int):
    """`part(state, key) -> state` of every member, once per key in one scan; keys have
    shape (members, iters), and the members are split over the devices as in a run."""

    def run(state, keys):
        def body(state, key):
            return jax.vmap(part)(state, key), None

        return jax.lax.scan(body, state, keys.T)[0]

    mesh = jax.sharding.Mesh(member_devices(num_seeds), (MEMBERS,))
    return jax.shard_map(run, mesh=mesh, in_specs=P(MEMBERS), out_specs=P(MEMBERS),
                         check_vma=False)


def profile(agent_name: str, num_seeds: int, iters: int, peak: float) -> None:
    env = envs.make("procmaze", grid_size=4)
    settings = agents.defaults(agent_name)
    agent = agents.make(agent_name, env)
    q = dqn.q_learner(env.num_actions, settings["hidden"], settings["discount"])
    key = jax.random.key(0)
    hyper = dqn.Hyper(jnp.full(num_seeds, 1e-4), jnp.full(num_seeds, 0.5))
    state = with_full_buffer(jax.vmap(agent.init)(member_keys(0, num_seeds), hyper), env, key)
    keys = jax.random.split(key, (num_seeds, iters))
    # the whole step: scripts/benchmark.py's program, one interval, at a full buffer too
    whole = measure(agent_name, num_seeds, iters, "procmaze", 4, 1, None, full_buffer=True)
    step_s = num_seeds / whole["seed_steps_per_s"]

    batch = dqn.real_batch(
        replay.unstore(jax.vmap(lambda r, k: replay.sample(r, k, 320))(state.replay, keys[:, 0]),
                       env.obs_size)
    )
    learner = state.learner
    model = agent.model  # None for ER and the perfect model
    parts_of_model, starts = model_parts(model, settings, env, q, state, batch)
    if model is not None and model.features_size != env.obs_size:
        # a latent agent's Q-network sees latent samples: learn on one imagined batch
        batch = jax.jit(jax.vmap(functools.partial(imagine_once, model, settings, env, q)))(
            state.model, state.learner, starts, jax.random.split(key, num_seeds))

    def update(s, k):
        return agent.update(s, k)[0]

    # Every part carries what it computes into its next iteration, or XLA would hoist the
    # loop-invariant work (a target forward on a fixed batch) out of the scan.
    def learn(learner_batch, k):
        learner, batch = learner_batch
        learner = q.learn(learner, batch)[0]
        return learner._replace(target_params=learner.params), batch

    def grads(learner_batch, k):
        learner, batch = learner_batch
        g = jax.grad(q.loss)(learner.params, learner.target_params, batch)
        # keep the gradient alive without an optimizer step
        params = jax.tree.map(lambda p, g: p - 1e-9 * g, learner.params, g)
        return learner._replace(params=params), batch

    def adam(learner_batch, k):
        learner, batch = learner_batch
        params, opt_state = dqn.adam_step(
            learner.params, learner.opt_state, learner.params, learner.hyper.step_size
        )
        return learner._replace(params=params, opt_state=opt_state), batch

    def target_forward(learner_batch, k):
        learner, batch = learner_batch
        value = q.network.apply(learner.target_params, batch.next_obs).max(-1)
        target = jax.tree.map(lambda p: p + 1e-9 * value.mean(), learner.target_params)
        return learner._replace(target_params=target), batch

    def sample(s, k):
        sampled = replay.unstore(replay.sample(s.replay, k, 320), env.obs_size)
        # fold the sample into the state so it is not dead code
        items = s.replay.items._replace(action=s.replay.items.action.at[0].add(
            sampled.obs.sum() + sampled.next_obs.sum() + sampled.action.sum()))
        return s._replace(replay=s.replay._replace(items=items))

    env_state, obs = jax.vmap(env.reset)(jax.random.split(key, num_seeds))

    def act_step(carry, k):
        s, env_state, obs = carry
        a_key, e_key, r_key = jax.random.split(k, 3)
        action = agent.act(s, obs, a_key, False)
        env_state2, next_obs, reward, terminal = env.step(e_key, env_state, action)
        s = agent.observe(s, Transition(obs, action, reward, terminal, next_obs, env_state))
        env_state2, obs2 = auto_reset(env, r_key, terminal, env_state2, next_obs)
        return s, env_state2, obs2

    def split5(k_carry, k):
        return jax.random.split(k_carry, 5)[0]

    parts = {
        "whole update (draw + learn)": (update, state),
        **parts_of_model,
        "  learn: Q fwd+bwd, target fwd, Adam": (learn, (learner, batch)),
        "    Q forward + backward": (grads, (learner, batch)),
        "    target forward": (target_forward, (learner, batch)),
        "    Adam": (adam, (learner, batch)),
        "  replay sample + unpack bits (320)": (sample, state),
        "act + env step + observe + reset": (act_step, (state, env_state, obs)),
        "split a key in 5": (split5, keys[:, 0]),
    }
    print(f"\n{agent_name}, ProcMaze 4, {num_seeds} members: whole step {step_s * 1e3:.2f} ms "
          f"({num_seeds / step_s:.0f} seed-steps/s)")
    print(f"{'part':<40}{'ms/step':>9}{'share':>8}{'GFLOP/s':>9}{'of peak':>9}")
    for name, (part, init, *steps) in parts.items():
        seconds, flops = timed(scanned(part, num_seeds), init, keys)
        per_step = seconds / iters
        # XLA counts a scan body once (the rollout's 10 steps as one), on one device
        gflops = flops * (steps or [1])[0] * len(member_devices(num_seeds)) / per_step / 1e9
        print(f"{name:<40}{per_step * 1e3:>9.3f}{per_step / step_s:>8.0%}{gflops:>9.1f}"
              f"{gflops / peak:>9.0%}", flush=True)


def real_transitions(batch, size: int) -> Transition:
    real = jax.tree.map(lambda x: x[:, :size], batch)
    return Transition(real.obs, real.action, real.reward, real.continuation < 1,
                      real.next_obs, None)


def imagine_once(model, settings, env, q, trained, learner, x, key) -> dqn.Batch:
    """One member's 10 x 32 rollout of its model from the rollout states `x`."""
    return rollout(key, q, learner, x, lambda x: x,
                   lambda k, x, a: model.transition(trained.params, k, x, a),
                   settings["rollout_length"], env.episodic)


def model_parts(model, settings: dict, env, q: dqn.DQN, state, batch) -> tuple[dict, object]:
    """(parts, the rollout start states) of a learned model's draw (the agent's own model,
    `Agent.model`): one model step on 32 real transitions, the start of the rollouts (a
    latent model encodes and samples its 32 starts), and the 10-step rollout from them
    (model forward, softmax act on Q, sampling the next state), with the sampling of each
    step's next states alone (the simple model's bits, the categorical latent's one-hot
    classes; the Gaussian's is one normal draw, not timed apart)."""
    if model is None:
        return {}, None
    starts = settings["num_rollouts"]
    real = real_transitions(batch, settings["model_batch_size"])

    def model_step(trained_real, k):
        trained, real = trained_real
        return models.train_step(trained, model.loss, 1e-4, k, real)[0], real

    def start(trained_obs, k):
        trained, obs = trained_obs
        x = model.start(trained.params, k, obs)
        # fold the start into the next observations so it is not dead code
        return trained, obs ^ (jnp.sum(x) > 1e30)

    def imagine(carry, k):
        trained, learner, x = carry
        imagined = imagine_once(model, settings, env, q, trained, learner, x, k)
        # the next rollout starts from this one's last states, and every output feeds
        # them, so XLA neither hoists the loop nor drops a head whose result is unused
        alive = sum(jnp.sum(x) for x in jax.tree.leaves(imagined)) > 1e30
        last = imagined.next_obs[-starts:]
        return trained, learner, last ^ alive if last.dtype == jnp.bool_ else last + alive

    def sample_bits(obs_logits, k):
        obs, logits = obs_logits
        for step_key in jax.random.split(k, settings["rollout_length"]):
            obs = obs ^ jax.random.bernoulli(step_key, jax.nn.sigmoid(logits))
        return obs, logits

    def sample_classes(z_logits, k):
        z, logits = z_logits
        for step_key in jax.random.split(k, settings["rollout_length"]):
            z = z + latent.categorical_sample(step_key, logits)
        return z, logits

    obs = batch.obs[:, :starts] > 0.5
    x = jax.jit(jax.vmap(lambda t, o, k: model.start(t.params, k, o)))(
        state.model, obs, jax.random.split(jax.random.key(1), obs.shape[0]))
    parts = {
        "  model step: fwd+bwd+Adam (32)": (model_step, (state.model, real)),
        "  rollout: 10 x (model fwd, act, sample)": (imagine, (state.model, state.learner, x),
                                                     settings["rollout_length"]),
    }
    if model.features_size != env.obs_size:
        parts["  rollout starts: encode + sample (32)"] = (start, (state.model, obs))
    if x.dtype == jnp.bool_:
        logits = jnp.zeros(obs.shape, jnp.float32)
        parts["    bit sampling alone (10 x 32)"] = (sample_bits, (obs, logits))
    elif model.features_size == latent.CATEGORICAL.size:
        logits = jnp.zeros((*x.shape[:2], latent.LATENT_FEATURES, latent.LATENT_CLASSES))
        parts["    one-hot sampling alone (10 x 32)"] = (sample_classes, (x, logits))
    return parts, x


def main() -> None:
    sampling.unroll_threefry_on_cpu()  # as mbgen does, at program start (agents/sampling.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", nargs="+", default=["er", "simple_model"])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--one-device", action="store_true",
                        help="JAX's default layout: one CPU device")
    args = parser.parse_args()
    peak = peak_gflops()
    devices = jax.devices()
    print(f"float32 peak (4096^3 matmuls) on {devices[0].device_kind}: {peak:.0f} "
          f"GFLOP/s; parts run on {len(devices)} device(s)")
    for name in args.agents:
        profile(name, args.seeds, args.iters, peak)


if __name__ == "__main__":
    main()
