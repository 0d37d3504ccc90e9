"""ProcMaze's GPS and distractor variants (issue 13): the defaults are today's environment
bit for bit; the GPS bits point along the true shortest path; distractors change neither
reward, termination nor the task bits; the perfect model still runs on the variants."""

import functools
import hashlib
from collections import deque

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fast import fast_jit

import agents
import envs
from agents import dqn
from envs.procmaze import ProcMazeState, goal_distances, increment
from experiments.online import Regime, make_train

# sha256 of every observation, reward and terminal of 8 episodes x 40 random actions on
# ProcMaze(grid_size=5), computed by `trace` with the code of main before the variants
# existed (commit e3848fc).
GOLDEN = "c13e6a306b5f41fcbbcc9726ca6d4c36ce88416c91d2a5f36f29a9d49450b5ae"


def trace(env, key=jax.random.key(13), episodes=8, steps=40):
    """Reset, then `steps` uniformly random actions, for each of `episodes` keys."""

    def episode(key):
        reset_key, key = jax.random.split(key)
        state, obs = env.reset(reset_key)

        def step(state, k):
            action_key, step_key = jax.random.split(k)
            action = jax.random.randint(action_key, (), 0, 5)
            state, obs, reward, terminal = env.step(step_key, state, action)
            return state, (obs, reward, terminal)

        _, (o, r, t) = jax.lax.scan(step, state, jax.random.split(key, steps))
        return obs, o, r, t

    return jax.jit(jax.vmap(episode))(jax.random.split(key, episodes))


@functools.lru_cache(maxsize=None)
def default_trace(grid_size: int):
    """The default env's trace, compiled once for the tests that compare against it."""
    return trace(envs.ProcMaze(grid_size=grid_size))


def test_defaults_are_todays_environment():
    out = default_trace(5)
    digest = hashlib.sha256(b"".join(np.asarray(x).tobytes() for x in out)).hexdigest()
    assert digest == GOLDEN
    assert envs.ProcMaze(grid_size=5).obs_size == 100


# The tree maze     . . .    goal at (2, 0); the path is (0,0) (0,1) (0,2) (1,2) (2,2)
#                   # # .    (2,1) (2,0), so the first moves are right, right, down, down,
#                   . . .    left, left, and nothing on the goal.
TREE = jnp.array([[0, 0, 0], [1, 1, 0], [0, 0, 0]], bool)
UP, LEFT, DOWN, RIGHT = range(4)  # the GPS bits, in the order of actions 1..4


@pytest.mark.parametrize(
    "agent, lit",
    [((0, 0), RIGHT), ((0, 1), RIGHT), ((0, 2), DOWN), ((1, 2), DOWN), ((2, 2), LEFT),
     ((2, 1), LEFT), ((2, 0), None)],
)  # fmt: skip
def test_gps_bits_by_hand(agent, lit):
    env = envs.ProcMaze(grid_size=3, spontaneous=False, gps=True)
    goal = jnp.array([2, 0], jnp.int32)
    state = ProcMazeState(jnp.array(agent, jnp.int32), goal, TREE, goal_distances(TREE, goal))
    bits = np.asarray(env.observe(state))
    assert bits.shape == (4 * 9 + 4,)
    expected = np.zeros(4, bool)
    if lit is not None:
        expected[lit] = True
    np.testing.assert_array_equal(bits[-4:], expected)
    assert np.asarray(goal_distances(TREE, goal))[0, 0] == 6


def bfs_steps(walls: np.ndarray, start, goal) -> int:
    """Shortest number of moves from start to goal over open cells, by breadth-first search."""
    n = walls.shape[0]
    seen, queue = {tuple(start): 0}, deque([tuple(start)])
    while queue:
        cell = queue.popleft()
        if cell == tuple(goal):
            return seen[cell]
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            r, c = cell[0] + dr, cell[1] + dc
            if 0 <= r < n and 0 <= c < n and not walls[r, c] and (r, c) not in seen:
                seen[(r, c)] = seen[cell] + 1
                queue.append((r, c))
    raise AssertionError("the goal is unreachable")


@pytest.mark.parametrize("n", [4, 7])
def test_following_gps_reaches_goal_in_bfs_steps(n):
    """From 32 random resets, acting on the lit GPS bit (exactly one is lit off the goal)
    reaches the goal in exactly the breadth-first-search distance."""
    env = envs.ProcMaze(grid_size=n, spontaneous=False, gps=True)
    horizon = n * n

    def follow(key):
        state, obs = env.reset(key)

        def step(carry, _):
            state, obs, steps, arrived = carry
            gps = obs[-4:]
            arrived = arrived | (state.agent == state.goal).all()
            state, obs, _, _ = env.step(key, state, jnp.argmax(gps) + 1)
            return (state, obs, steps + ~arrived, arrived), gps.sum()

        first = env.reset(key)[0]
        (_, _, steps, arrived), lit = jax.lax.scan(
            step, (state, obs, 0, jnp.bool_(False)), None, horizon
        )
        return first, steps, arrived, lit

    first, steps, arrived, lit = jax.jit(jax.vmap(follow))(jax.random.split(jax.random.key(1), 32))
    assert np.asarray(arrived).all()
    for i in range(32):
        walls, agent, goal = (np.asarray(x[i]) for x in (first.walls, first.agent, first.goal))
        assert steps[i] == bfs_steps(walls, agent, goal)
        # one bit lit on every step before the goal, none on it
        k = int(steps[i])
        np.testing.assert_array_equal(np.asarray(lit[i][: k + 1]), np.arange(k + 1) < k)


@pytest.mark.parametrize("kind", ["iid", "counter"])
def test_distractors_change_nothing_of_the_task(kind):
    """Same keys, same actions (spontaneous teleports on): the maze bits, rewards and
    terminals are the same with and without 6 distractor bits (and GPS bits)."""
    plain = default_trace(5)
    varied = trace(envs.ProcMaze(grid_size=5, gps=True, distractors=6, distractor_kind=kind))
    task = 4 * 25
    np.testing.assert_array_equal(np.asarray(plain[0]), np.asarray(varied[0][:, :task]))
    np.testing.assert_array_equal(np.asarray(plain[1]), np.asarray(varied[1][..., :task]))
    np.testing.assert_array_equal(np.asarray(plain[2]), np.asarray(varied[2]))
    np.testing.assert_array_equal(np.asarray(plain[3]), np.asarray(varied[3]))
    bits = np.asarray(varied[1][..., -6:])  # (episodes, steps, 6)
    if kind == "counter":
        value = (bits * (1 << np.arange(6))).sum(-1)
        np.testing.assert_array_equal(np.diff(value, axis=1) % 64, 1)
    else:  # 8 x 40 x 6 = 1920 fair coins: the mean is 0.5 within 5 standard errors (0.057)
        assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)
        assert (np.diff(bits.astype(int), axis=1) != 0).any()


def test_increment_wraps():
    bits = jnp.array([1, 1, 0, 1], bool)  # 11 -> 12
    np.testing.assert_array_equal(np.asarray(increment(bits)), [0, 0, 1, 1])
    np.testing.assert_array_equal(np.asarray(increment(jnp.ones(3, bool))), [0, 0, 0])


@pytest.mark.parametrize(
    "settings, key",
    [(dict(distractors=-1), "env.distractors"), (dict(distractor_kind="walker"),
     "env.distractor_kind"), (dict(gps=1), "env.gps")],
)  # fmt: skip
def test_bad_variant_settings(settings, key):
    with pytest.raises(ValueError, match=f"^{key} must be"):
        envs.make("procmaze", **settings)


def test_gps_needs_a_goal():
    with pytest.raises(ValueError, match=r"^env.gps needs an environment with a goal"):
        envs.make("buttongrid", gps=True)


# about 25 s of compiling; the contract test covers the perfect model on plain ProcMaze
@pytest.mark.slow
def test_perfect_model_runs_on_the_variants():
    """The perfect model rolls the variant's own env.step (GPS distances and counter bits in
    the state) under jit+vmap for one interval, with finite metrics."""
    env = envs.ProcMaze(grid_size=3, gps=True, distractors=3, distractor_kind="counter")
    agent = agents.make("perfect_model", env, hidden=(16,))
    regime = Regime(total_steps=20, updates_per_step=1, target_update_frequency=10,
                    eval_interval=20, learning_starts=10, eval_runs=2, eval_steps=5)  # fmt: skip
    train_init, run_interval = make_train(env, agent, regime)
    hyper = dqn.Hyper(jnp.full(2, 1e-3), jnp.full(2, 1.0))
    runner = jax.vmap(train_init)(jax.random.split(jax.random.key(0), 2), hyper)
    _, metrics = fast_jit(jax.vmap(run_interval, in_axes=(0, None)))(runner, jnp.int32(0))
    assert all(np.isfinite(np.asarray(v, float)).all() for v in metrics.values())
    assert np.shape(metrics["td_loss"]) == (2,)


@pytest.mark.parametrize("scale, agents, sizes, seeds", [
    ("paper", ["er", "simple_model", "categorical_latent", "deepmdp", "perfect_model"], [4, 6], 30),
    ("cpu", ["er", "simple_model", "deepmdp", "perfect_model"], [2], 5),
])  # fmt: skip
def test_every_paradigms_online_member_builds_its_variant(scale, agents, sizes, seeds):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from experiments import config

    def composed(overrides, hydra_config=False):
        with initialize_config_dir(version_base=None, config_dir=str(config.CONFIG_DIR)):
            return compose("config", overrides=overrides, return_hydra_config=hydra_config)

    base = ["experiment=paradigms_online", f"scale={scale}"]
    params = OmegaConf.to_container(composed(base, True).hydra.sweeper.params, resolve=True)
    params = {key: str(value).split(",") for key, value in params.items()}
    assert params == {"agent": agents, "env.grid_size": [str(n) for n in sizes],
                      "maze": ["plain", "gps", "iid16", "counter16"]}  # fmt: skip
    expected = {"plain": (False, 0, "iid"), "gps": (True, 0, "iid"),
                "iid16": (False, 16, "iid"), "counter16": (False, 16, "counter")}  # fmt: skip
    for maze, (gps, distractors, kind) in expected.items():
        cfg = composed([*base, f"maze={maze}", f"agent={agents[0]}", f"env.grid_size={sizes[-1]}"])
        job = config.build(cfg)
        env = job.env
        assert (env.name, env.grid_size, env.gps, env.distractors, env.distractor_kind) == (
            "procmaze", sizes[-1], gps, distractors, kind
        )
        assert job.num_seeds == seeds and cfg.results_root == "results/paradigms_online"
        assert list(cfg.agent.hidden) == ([64, 64] if scale == "cpu" else [200, 200, 200])
