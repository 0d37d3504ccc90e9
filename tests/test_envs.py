"""The four online environments against SPEC section 1: hand-worked steps, reset
properties, PanFlute's optimal rhythm, spontaneous-event frequencies, settings and jit/vmap."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envs
from envs import checks
from envs.buttongrid import ButtonGridState
from envs.core import auto_reset
from envs.opengrid import OpenGridState
from envs.panflute import PanFluteState
from envs.procmaze import ProcMazeState

STAY, UP, LEFT, DOWN, RIGHT = range(5)
KEY = jax.random.key(0)
FEW = settings(max_examples=40, deadline=None)
SAMPLES = 200_000  # for frequencies: 5 standard errors of p = 1/250 is about 18% of p


@functools.cache
def jitted_step(env):
    return jax.jit(env.step)


@functools.cache
def jitted_many_steps(env):
    return jax.jit(jax.vmap(env.step, in_axes=(0, None, None)))


def many_steps(env, state, action):
    """SAMPLES independent steps (one key each) from one state with one action, in numpy."""
    keys = jax.random.split(jax.random.key(7), SAMPLES)
    return jax.tree.map(np.asarray, jitted_many_steps(env)(keys, state, jnp.int32(action)))


def step(env, state, action, key=KEY):
    """One step, with plain numpy results for easy comparison."""
    state, obs, reward, terminal = jitted_step(env)(key, state, jnp.int32(action))
    return jax.tree.map(np.asarray, state), np.asarray(obs), float(reward), bool(terminal)


def run(env, state, actions):
    """Step through `actions` and return the list of (state, obs, reward, terminal)."""
    out = []
    for i, action in enumerate(actions):
        out.append(step(env, state, action, jax.random.fold_in(KEY, i)))
        state = out[-1][0]
    return out


def ints(*values):
    return jnp.array(values, jnp.int32)


# A 3x3 perfect maze (open cells form a tree), as the carve could produce:
#   . . #
#   # . .
#   . . #
MAZE_WALLS = jnp.array([[0, 0, 1], [1, 0, 0], [0, 0, 1]], bool)


def maze_state(agent, goal=(2, 0)):
    return ProcMazeState(agent=ints(*agent), goal=ints(*goal), walls=MAZE_WALLS)


# ----------------------------------------------------------------------------- ProcMaze


@pytest.mark.parametrize(
    "agent, action, expected",
    [
        ((1, 1), UP, (0, 1)),
        ((1, 1), LEFT, (1, 1)),  # wall
        ((1, 1), DOWN, (2, 1)),
        ((1, 1), RIGHT, (1, 2)),
        ((1, 1), STAY, (1, 1)),
        ((0, 0), UP, (0, 0)),  # grid edge
        ((0, 0), LEFT, (0, 0)),  # grid edge
        ((0, 0), RIGHT, (0, 1)),
        ((1, 2), RIGHT, (1, 2)),  # grid edge
        ((1, 2), UP, (1, 2)),  # wall
        ((1, 2), DOWN, (1, 2)),  # wall
        ((2, 1), LEFT, (2, 0)),
    ],
)
def test_procmaze_moves(agent, action, expected):
    env = envs.ProcMaze(grid_size=3, spontaneous=False)
    state, obs, reward, terminal = step(env, maze_state(agent), action)
    assert tuple(state.agent) == expected
    np.testing.assert_array_equal(np.argwhere(obs.reshape(3, 3, 4)[..., 0]), [expected])
    assert reward == -1.0 and not terminal
    np.testing.assert_array_equal(state.walls, MAZE_WALLS)


def test_procmaze_terminal_on_the_step_that_starts_on_the_goal():
    env = envs.ProcMaze(grid_size=3, spontaneous=False)
    (s1, o1, r1, t1), (_, _, r2, t2) = run(env, maze_state((2, 1)), [LEFT, RIGHT])
    # Entering the goal is not terminal: the agent gets to observe the goal state once.
    assert tuple(s1.agent) == (2, 0) and not t1 and r1 == -1.0
    assert o1.reshape(3, 3, 4)[2, 0, 0] and o1.reshape(3, 3, 4)[2, 0, 1]
    # The next step ends the episode whatever the action, and still costs -1.
    assert t2 and r2 == -1.0


def test_procmaze_observation_channels_and_render():
    env = envs.ProcMaze(grid_size=3)
    state = maze_state((1, 1))
    channels = np.asarray(env.observe(state)).reshape(3, 3, 4)
    assert channels.dtype == bool
    np.testing.assert_array_equal(np.argwhere(channels[..., 0]), [[1, 1]])
    np.testing.assert_array_equal(np.argwhere(channels[..., 1]), [[2, 0]])
    np.testing.assert_array_equal(channels[..., 2], MAZE_WALLS)
    np.testing.assert_array_equal(channels[..., 3], ~MAZE_WALLS)
    assert env.render(state) == "..#\n#A.\nG.#"
    assert env.render(maze_state((2, 0))) == "..#\n#..\n*.#"


@given(
    n=st.sampled_from([2, 3, 5]),
    data=st.data(),
)
@FEW
def test_procmaze_step_matches_reference(n, data):
    """Any wall picture, agent, goal and action: the move rule of SPEC, re-derived here."""
    bits = data.draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))
    walls = np.array(bits).reshape(n, n)
    cell = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    agent, goal, action = data.draw(cell), data.draw(cell), data.draw(st.integers(0, 4))
    env = envs.ProcMaze(grid_size=n, spontaneous=False)
    state = ProcMazeState(ints(*agent), ints(*goal), jnp.asarray(walls))
    new, obs, reward, terminal = step(env, state, action)

    dr, dc = [(0, 0), (-1, 0), (0, -1), (1, 0), (0, 1)][action]
    r, c = agent[0] + dr, agent[1] + dc
    expected = (r, c) if 0 <= r < n and 0 <= c < n and not walls[r, c] else agent
    assert tuple(new.agent) == expected
    assert terminal == (agent == goal) and reward == -1.0
    np.testing.assert_array_equal(obs, np.asarray(env.observe(jax.tree.map(jnp.asarray, new))))


def maze_graph_checks(walls):
    """(#open cells, #edges between 4-adjacent open cells, connected?) of one wall picture."""
    open_ = ~walls
    edges = (open_[1:, :] & open_[:-1, :]).sum() + (open_[:, 1:] & open_[:, :-1]).sum()
    cells = set(map(tuple, np.argwhere(open_).tolist()))
    first = min(cells)
    seen, frontier = {first}, [first]
    while frontier:
        r, c = frontier.pop()
        for nb in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if nb in cells and nb not in seen:
                seen.add(nb)
                frontier.append(nb)
    return len(cells), int(edges), len(seen) == len(cells)


@pytest.mark.parametrize("n", [2, 4, 7])
def test_procmaze_resets_are_perfect_mazes(n):
    env = envs.ProcMaze(grid_size=n)
    keys = jax.random.split(jax.random.key(n), 200)
    states, obs = jax.tree.map(np.asarray, jax.jit(jax.vmap(env.reset))(keys))
    assert obs.shape == (200, 4 * n * n) and obs.dtype == bool
    np.testing.assert_array_equal(obs, np.asarray(jax.jit(jax.vmap(env.observe))(states)))
    for walls, agent, goal in zip(states.walls, states.agent, states.goal):
        num_open, num_edges, connected = maze_graph_checks(walls)
        assert connected and num_edges == num_open - 1  # a tree of cells
        assert not walls[tuple(agent)] and not walls[tuple(goal)]
        # The carve only stops when no wall cell has exactly one open neighbour.
        counts = np.pad(~walls, 1).astype(int)
        counts = counts[:-2, 1:-1] + counts[2:, 1:-1] + counts[1:-1, :-2] + counts[1:-1, 2:]
        assert not (walls & (counts == 1)).any()
    if n == 2:
        # A 2x2 perfect maze of cells is an L of three open cells.
        assert (states.walls.sum(axis=(1, 2)) == 1).all()
        # Agent and goal are drawn independently, so they coincide about a third of the time.
        same = (states.agent == states.goal).all(axis=1).mean()
        assert 0.15 < same < 0.55
    assert len({w.tobytes() for w in states.walls}) > 1


# ----------------------------------------------------------------------------- ButtonGrid


def button_state(agent, buttons, on):
    return ButtonGridState(
        agent=ints(*agent), buttons=jnp.array(buttons, jnp.int32), on=jnp.array(on, bool)
    )


def test_buttongrid_toggles_only_on_arrival_and_pays_at_the_start_of_the_next_step():
    env = envs.ButtonGrid(num_buttons=2, grid_size=5, spontaneous=False)
    start = button_state((1, 0), [(1, 1), (1, 2)], [False, False])
    actions = [RIGHT, STAY, UP, DOWN, RIGHT, LEFT, LEFT]
    results = run(env, start, actions)
    expected = [  # (agent, on, reward)
        ((1, 1), [True, False], 0.0),  # moved onto button 0: on
        ((1, 1), [True, False], 0.0),  # staying on it does not toggle
        ((0, 1), [True, False], 0.0),
        ((1, 1), [False, False], 0.0),  # back onto it: off
        ((1, 2), [False, True], 0.0),
        ((1, 1), [True, True], 0.0),  # all on now, but the reward comes on the next step
    ]
    for (state, obs, reward, terminal), (agent, on, r) in zip(results, expected):
        assert tuple(state.agent) == agent
        assert state.on.tolist() == on
        assert reward == r and not terminal
        assert obs.reshape(5, 5, 3)[..., 1].sum() == sum(on)  # the button-on channel
    state, _, reward, terminal = results[-1]
    assert reward == 1.0 and not terminal
    assert not state.on.any()  # re-drawn as at reset


@pytest.mark.parametrize("action", [STAY, UP, LEFT])
def test_buttongrid_no_toggle_without_changing_cell(action):
    env = envs.ButtonGrid(num_buttons=2, grid_size=3, spontaneous=False)
    state, _, _, _ = step(env, button_state((0, 0), [(0, 0), (2, 2)], [False, False]), action)
    assert tuple(state.agent) == (0, 0) and not state.on.any()


def test_buttongrid_leaving_a_button_does_not_toggle_it():
    env = envs.ButtonGrid(num_buttons=2, grid_size=3, spontaneous=False)
    state, _, _, _ = step(env, button_state((1, 1), [(1, 1), (0, 0)], [True, False]), RIGHT)
    assert tuple(state.agent) == (1, 2) and state.on.tolist() == [True, False]


def test_buttongrid_redraw_after_success():
    env = envs.ButtonGrid(num_buttons=4, grid_size=5, spontaneous=True)
    success = button_state((2, 2), [(0, 0), (0, 1), (4, 4), (3, 2)], [True] * 4)
    states, _, reward, terminal = many_steps(env, success, UP)
    assert (reward == 1.0).all() and not terminal.any()
    assert not states.on.any()  # even when the spontaneous event fired on this step
    cells = np.sort(states.buttons[..., 0] * 5 + states.buttons[..., 1], axis=1)
    assert (np.diff(cells, axis=1) > 0).all()  # distinct
    # A fresh uniform layout: each cell holds a button 4/25 of the time, the agent 1/25.
    for counts, p in [
        (np.bincount(cells.ravel(), minlength=25), 4 / 25),
        (np.bincount(states.agent[:, 0] * 5 + states.agent[:, 1], minlength=25), 1 / 25),
    ]:
        tolerance = 5 * math.sqrt(p * (1 - p) / SAMPLES)
        np.testing.assert_allclose(counts / SAMPLES, p, atol=tolerance)


def test_buttongrid_observation_channels_and_render():
    env = envs.ButtonGrid(num_buttons=3, grid_size=5)
    state = button_state((0, 4), [(0, 4), (2, 2), (4, 0)], [False, True, False])
    channels = np.asarray(env.observe(state)).reshape(5, 5, 3)
    np.testing.assert_array_equal(np.argwhere(channels[..., 0]), [[0, 4]])
    np.testing.assert_array_equal(np.argwhere(channels[..., 1]), [[2, 2]])
    np.testing.assert_array_equal(np.argwhere(channels[..., 2]), [[0, 4], [4, 0]])
    assert env.render(state) == "....x\n.....\n..O..\n.....\no...."


@given(g=st.sampled_from([2, 5]), data=st.data())
@FEW
def test_buttongrid_step_matches_reference(g, data):
    b = data.draw(st.sampled_from([1, 3]))  # few settings: each one compiles a step
    cells = data.draw(st.permutations(range(g * g)))[:b]
    buttons = [(c // g, c % g) for c in cells]
    on = data.draw(st.lists(st.booleans(), min_size=b, max_size=b))
    agent = data.draw(st.tuples(st.integers(0, g - 1), st.integers(0, g - 1)))
    action = data.draw(st.integers(0, 4))
    env = envs.ButtonGrid(num_buttons=b, grid_size=g, spontaneous=False)
    new, obs, reward, terminal = step(env, button_state(agent, buttons, on), action)

    assert reward == float(all(on)) and not terminal
    if all(on):
        assert not new.on.any()
        return
    dr, dc = [(0, 0), (-1, 0), (0, -1), (1, 0), (0, 1)][action]
    r, c = agent[0] + dr, agent[1] + dc
    moved_to = (r, c) if 0 <= r < g and 0 <= c < g else agent
    expected_on = [o ^ (moved_to != agent and btn == moved_to) for o, btn in zip(on, buttons)]
    assert tuple(new.agent) == moved_to
    assert new.on.tolist() == expected_on
    assert [tuple(x) for x in new.buttons] == buttons
    np.testing.assert_array_equal(obs, np.asarray(env.observe(jax.tree.map(jnp.asarray, new))))


def test_buttongrid_resets():
    env = envs.ButtonGrid(num_buttons=5, grid_size=5)
    keys = jax.random.split(jax.random.key(5), 200)
    states, obs = jax.tree.map(np.asarray, jax.jit(jax.vmap(env.reset))(keys))
    assert obs.shape == (200, 75) and obs.dtype == bool
    np.testing.assert_array_equal(obs, np.asarray(jax.jit(jax.vmap(env.observe))(states)))
    assert not states.on.any()
    assert ((states.buttons >= 0) & (states.buttons < 5)).all()
    assert all(len({tuple(b) for b in buttons}) == 5 for buttons in states.buttons)
    assert ((states.agent >= 0) & (states.agent < 5)).all()
    # The agent may start on a button (5/25 of the time): it is not excluded.
    on_button = [(b == a).all(axis=1).any() for a, b in zip(states.agent, states.buttons)]
    assert 0 < np.mean(on_button) < 0.5


# ----------------------------------------------------------------------------- PanFlute


def flute(bits):
    return PanFluteState(cells=jnp.array(bits, bool))


def test_panflute_shifts_exact_bits():
    # n = 3: layout [pipe0: c0 | pipe1: c0 c1 | pipe2: c0 c1 c2], index 0 = first cell.
    env = envs.PanFlute(num_pipes=3, spontaneous=False)
    results = run(env, flute([0] * 6), [2, 1, 0, 2, 2])
    expected = [
        ([0, 0, 0, 1, 0, 0], 0.0),
        ([0, 1, 0, 0, 1, 0], 0.0),
        ([1, 0, 1, 0, 0, 1], 0.0),  # every end lit, but the reward is paid next step
        ([0, 0, 0, 1, 0, 0], 1.0),
        ([0, 0, 0, 1, 1, 0], 0.0),
    ]
    for (state, obs, reward, terminal), (bits, r) in zip(results, expected):
        assert obs.astype(int).tolist() == bits
        assert reward == r and not terminal


def test_panflute_end_values_drop_off():
    env = envs.PanFlute(num_pipes=3, spontaneous=False)
    _, obs, reward, _ = step(env, flute([1, 1, 1, 1, 1, 0]), 1)
    assert obs.astype(int).tolist() == [0, 1, 1, 0, 1, 1] and reward == 0.0
    assert env.render(flute([1, 0, 1, 0, 0, 1])) == "pipe 0: #]\npipe 1: .#]\npipe 2: ..#]"


@given(n=st.integers(1, 6), data=st.data())
@FEW
def test_panflute_step_matches_reference(n, data):
    bits = data.draw(st.lists(st.booleans(), min_size=n * (n + 1) // 2, max_size=n * (n + 1) // 2))
    action = data.draw(st.integers(0, n - 1))
    pipes = [bits[i * (i + 1) // 2 : (i + 1) * (i + 2) // 2] for i in range(n)]
    expected = [cell for i, pipe in enumerate(pipes) for cell in [i == action, *pipe[:-1]]]
    env = envs.PanFlute(num_pipes=n, spontaneous=False)
    _, obs, reward, _ = step(env, flute(bits), action)
    assert obs.tolist() == expected
    assert reward == float(all(pipe[-1] for pipe in pipes))


@functools.partial(jax.jit, static_argnums=0)
def rewards_of(env, actions):
    """Rewards of playing `actions` from reset (spontaneous events would use fixed keys)."""
    state, _ = env.reset(KEY)

    def one(state, inputs):
        key, action = inputs
        state, _, reward, _ = env.step(key, state, action)
        return state, reward

    keys = jax.random.split(jax.random.key(1), len(actions))
    return jax.lax.scan(one, state, (keys, actions))[1]


@pytest.mark.parametrize("n", [1, 3, 7])
def test_panflute_longest_first_earns_one_reward_every_n_steps(n):
    env = envs.PanFlute(num_pipes=n, spontaneous=False)
    t = np.arange(5 * n)
    # Pipe i's end is lit i steps after pipe i is activated, so all ends light together when
    # pipes n-1, n-2, ..., 0 are activated on consecutive steps; the reward follows a step later.
    rewards = np.asarray(rewards_of(env, jnp.asarray(n - 1 - t % n, jnp.int32)))
    np.testing.assert_array_equal(rewards, ((t % n == 0) & (t > 0)).astype(np.float32))
    assert rewards.sum() == 4


# (With 2 pipes the ascending cycle 0, 1, 0, 1 is also the descending one, so n >= 3.)
@pytest.mark.parametrize("n", [3, 7])
def test_panflute_wrong_orders_earn_nothing(n):
    env = envs.PanFlute(num_pipes=n, spontaneous=False)
    t = np.arange(5 * n)
    assert np.asarray(rewards_of(env, jnp.asarray(t % n, jnp.int32))).sum() == 0  # shortest first
    assert np.asarray(rewards_of(env, jnp.zeros(5 * n, jnp.int32))).sum() == 0


def test_panflute_reset_is_all_off():
    env = envs.PanFlute(num_pipes=7)
    _, obs = jax.jit(jax.vmap(env.reset))(jax.random.split(KEY, 8))
    assert obs.shape == (8, 28) and obs.dtype == bool and not np.asarray(obs).any()


# ----------------------------------------------------------------------------- OpenGrid


@pytest.mark.parametrize(
    "agent, action, expected",
    [
        ((0, 0), UP, (0, 0)),
        ((0, 0), LEFT, (0, 0)),
        ((0, 0), RIGHT, (0, 1)),
        ((0, 0), DOWN, (1, 0)),
        ((1, 1), STAY, (1, 1)),
        ((2, 0), DOWN, (2, 0)),
        ((0, 2), RIGHT, (0, 2)),
    ],
)
def test_opengrid_moves(agent, action, expected):
    env = envs.OpenGrid(grid_size=3, spontaneous=False)
    state, obs, reward, terminal = step(env, OpenGridState(ints(*agent)), action)
    assert tuple(state.agent) == expected and reward == -1.0 and not terminal
    np.testing.assert_array_equal(np.argwhere(obs.reshape(3, 3)), [expected])


def test_opengrid_terminal_on_the_step_that_starts_on_the_goal():
    env = envs.OpenGrid(grid_size=3, spontaneous=False)
    (s1, o1, r1, t1), (_, _, r2, t2) = run(env, OpenGridState(ints(2, 1)), [RIGHT, UP])
    assert tuple(s1.agent) == (2, 2) and o1[-1] and not t1 and r1 == -1.0
    assert t2 and r2 == -1.0
    assert env.render(s1) == "...\n...\n..*"


def test_opengrid_resets_cover_the_grid():
    env = envs.OpenGrid(grid_size=3)
    states, obs = jax.tree.map(np.asarray, jax.jit(jax.vmap(env.reset))(jax.random.split(KEY, 200)))
    assert obs.shape == (200, 9) and obs.dtype == bool and (obs.sum(axis=1) == 1).all()
    np.testing.assert_array_equal(obs, np.asarray(jax.jit(jax.vmap(env.observe))(states)))
    assert len({tuple(a) for a in states.agent}) == 9


# ------------------------------------------------------------------ spontaneous events


def sample_steps(env, state, action):
    return many_steps(env, state, action)[0]


def procmaze_outcome(spontaneous):
    # Agent (0,0) moves right to (0,1); the goal (2,0) is only reachable by teleport.
    env = envs.ProcMaze(grid_size=3, spontaneous=spontaneous)
    agents = sample_steps(env, maze_state((0, 0)), RIGHT).agent
    at_goal = (agents == [2, 0]).all(axis=1)
    assert (at_goal | (agents == [0, 1]).all(axis=1)).all()  # the teleport follows the move
    return at_goal


def buttongrid_outcome(spontaneous):
    # The agent walks onto button 0; the event must come after that toggle to leave all on.
    env = envs.ButtonGrid(num_buttons=4, grid_size=5, spontaneous=spontaneous)
    start = button_state((0, 0), [(0, 1), (2, 2), (3, 3), (4, 4)], [False] * 4)
    on = sample_steps(env, start, RIGHT).on
    all_on = on.all(axis=1)
    assert (all_on | (on == [True, False, False, False]).all(axis=1)).all()
    return all_on


def panflute_outcome(spontaneous):
    # From all-off, pipe 1's end can only be lit by the event, after the shift.
    env = envs.PanFlute(num_pipes=7, spontaneous=spontaneous)
    _, _, end = envs.panflute.pipe_layout(7)
    return sample_steps(env, flute([0] * 28), 0).cells[:, end].all(axis=1)


def opengrid_outcome(spontaneous):
    env = envs.OpenGrid(grid_size=4, spontaneous=spontaneous)
    agents = sample_steps(env, OpenGridState(ints(0, 0)), DOWN).agent
    at_goal = (agents == [3, 3]).all(axis=1)
    assert (at_goal | (agents == [1, 0]).all(axis=1)).all()
    return at_goal


# SPEC's probabilities, written out for the settings above.
EVENTS = {
    "procmaze": (procmaze_outcome, 0.1 / (4 * 2 - 1)),
    "buttongrid": (buttongrid_outcome, 1 / 250),
    "panflute": (panflute_outcome, 1 / 49),
    "opengrid": (opengrid_outcome, 0.1 / 4),
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_spontaneous_event_frequency(name):
    outcome, p = EVENTS[name]
    estimate = outcome(spontaneous=True).mean()
    standard_error = math.sqrt(p * (1 - p) / SAMPLES)
    assert abs(estimate - p) < 5 * standard_error, (estimate, p)
    assert not outcome(spontaneous=False).any()


@pytest.mark.parametrize(
    "env, p",
    [
        (envs.ProcMaze(grid_size=2), 0.1 / 3),
        (envs.ProcMaze(grid_size=3), 0.1 / 7),
        (envs.ProcMaze(grid_size=4), 0.1 / 10),
        (envs.ProcMaze(grid_size=5), 0.1 / 17),
        (envs.ProcMaze(grid_size=8), 0.1 / 36),
        (envs.ButtonGrid(), 1 / 250),
        (envs.ButtonGrid(grid_size=3), 1 / 90),
        (envs.PanFlute(num_pipes=9), 1 / 81),
        (envs.OpenGrid(grid_size=8), 0.1 / 8),
        (envs.ProcMaze(spontaneous=False), 0.0),
        (envs.ButtonGrid(spontaneous=False), 0.0),
        (envs.PanFlute(spontaneous=False), 0.0),
        (envs.OpenGrid(spontaneous=False), 0.0),
    ],
)
def test_spontaneous_probability_formulas(env, p):
    assert env.spontaneous_probability == pytest.approx(p, rel=1e-12)


# ----------------------------------------------------------------------------- make()


def test_make_builds_each_registered_env():
    assert envs.NAMES == ("procmaze", "buttongrid", "panflute", "opengrid")
    assert envs.make("procmaze", grid_size=6) == envs.ProcMaze(grid_size=6)
    assert envs.complexity(envs.make("buttongrid", num_buttons=2)) == 2
    assert envs.make("panflute", num_pipes=5).num_actions == 5
    assert envs.make("opengrid").obs_size == 16
    sizes = {
        name: (envs.make(name).obs_size, envs.complexity(envs.make(name))) for name in envs.NAMES
    }
    assert sizes == {
        "procmaze": (64, 4),
        "buttongrid": (75, 4),
        "panflute": (28, 7),
        "opengrid": (16, 4),
    }
    assert [envs.make(name).episodic for name in envs.NAMES] == [True, False, False, True]


def test_make_rejects_unknown_names():
    with pytest.raises(ValueError, match="procmaze, buttongrid, panflute, opengrid"):
        envs.make("pacman")


@pytest.mark.parametrize(
    "name, settings, key",
    [
        ("procmaze", {"grid_size": 1}, "env.grid_size"),
        ("procmaze", {"grid_size": 2.0}, "env.grid_size"),
        ("procmaze", {"grid_size": True}, "env.grid_size"),
        ("procmaze", {"spontaneous": 1}, "env.spontaneous"),
        ("opengrid", {"grid_size": 0}, "env.grid_size"),
        ("buttongrid", {"num_buttons": 0}, "env.num_buttons"),
        ("buttongrid", {"num_buttons": 26}, "env.num_buttons"),
        ("buttongrid", {"num_buttons": 5, "grid_size": 2}, "env.num_buttons"),
        ("buttongrid", {"grid_size": 1}, "env.grid_size"),
        ("panflute", {"num_pipes": 0}, "env.num_pipes"),
        ("panflute", {"num_pipes": "7"}, "env.num_pipes"),
        ("panflute", {"grid_size": 4}, "env.grid_size"),  # not a PanFlute setting
    ],
)
def test_make_rejects_bad_settings(name, settings, key):
    with pytest.raises(ValueError, match=key.replace(".", r"\.")) as error:
        envs.make(name, **settings)
    message = str(error.value)
    assert message.endswith(".") and message.count(". ") == 0  # one sentence


@pytest.mark.parametrize(
    "check, args, message",
    [
        (checks.positive_int, (0,), "k must be a positive integer; got 0."),
        (checks.positive_int, (True,), "k must be a positive integer; got True."),
        (checks.positive_number, (-1e-4,), "k must be a positive number; got -0.0001."),
        (checks.one_of, ("c", ("a", "b")), "k must be one of a, b; got 'c'."),
        (checks.number_in, (1.5, 0, 1), "k must be a number from 0 to 1; got 1.5."),
        (checks.boolean, (1,), "k must be true or false; got 1."),
        (checks.integer_at_least, (2.0, 2), "k must be an integer >= 2; got 2.0."),
        (checks.integer_in, (5, 1, 4, "n**2"), "k must be an integer from 1 to n**2 = 4; got 5."),
        (checks.number_at_least, (-1, 0), "k must be a number >= 0; got -1."),
        (checks.positive_ints, ([],), "k must be a non-empty list of positive integers; got []."),
        (checks.integers, ("12",), "k must be a non-empty list of integers; got '12'."),
    ],
)
def test_each_check_names_the_key_and_what_is_allowed(check, args, message):
    with pytest.raises(ValueError) as error:
        check("k", *args)
    assert str(error.value) == message


@pytest.mark.parametrize(
    "check, args",
    [
        (checks.positive_int, (1,)),
        (checks.positive_number, (3e-6,)),
        (checks.one_of, ("b", ("a", "b"))),
        (checks.number_in, (0, 0, 1)),
        (checks.number_in, (1.0, 0, 1)),
        (checks.boolean, (False,)),
        (checks.integer_at_least, (2, 2)),
        (checks.integer_in, (4, 1, 4)),
        (checks.number_at_least, (0.0, 0)),
        (checks.positive_ints, ((64, 64),)),
        (checks.integers, ([-3, 0, 2],)),
    ],
)
def test_each_check_accepts_its_bounds(check, args):
    check("k", *args)


def test_auto_reset_replaces_exactly_the_terminal_members():
    env = envs.make("procmaze", grid_size=4)
    keys = jax.random.split(jax.random.key(3), 4)
    stepped, stepped_obs = jax.vmap(env.reset)(keys[:2])  # stand-ins for two stepped members
    reset_keys = keys[2:]
    terminal = jnp.array([True, False])
    state, obs = jax.vmap(functools.partial(auto_reset, env))(
        reset_keys, terminal, stepped, stepped_obs
    )
    fresh, fresh_obs = env.reset(reset_keys[0])  # the terminal member starts over from its key
    for got, want in zip(jax.tree.leaves(state), jax.tree.leaves(fresh)):
        np.testing.assert_array_equal(got[0], want)
    np.testing.assert_array_equal(obs[0], fresh_obs)
    for got, want in zip(jax.tree.leaves(state), jax.tree.leaves(stepped)):  # the other goes on
        np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(obs[1], stepped_obs[1])
    assert not np.array_equal(fresh_obs, stepped_obs[0])  # so the first check could fail


# ----------------------------------------------------------------------------- jit / vmap


@pytest.mark.parametrize("name", envs.NAMES)
def test_jit_vmap_reset_and_step(name):
    env = envs.make(name)
    keys = jax.random.split(jax.random.key(11), 8)
    states, obs = jax.jit(jax.vmap(env.reset))(keys[:4])
    actions = jnp.arange(4, dtype=jnp.int32) % env.num_actions
    new, new_obs, reward, terminal = jax.jit(jax.vmap(env.step))(keys[4:], states, actions)
    assert obs.shape == new_obs.shape == (4, env.obs_size)
    assert obs.dtype == new_obs.dtype == jnp.bool_
    assert reward.shape == (4,) and reward.dtype == jnp.float32
    assert terminal.shape == (4,) and terminal.dtype == jnp.bool_
    if not env.episodic:
        assert not terminal.any()
    for leaf in jax.tree.leaves(new):
        assert leaf.dtype in (jnp.int32, jnp.bool_)
    np.testing.assert_array_equal(new_obs, jax.jit(jax.vmap(env.observe))(new))
    # Each batch member is what the unbatched call gives.
    one = jitted_step(env)(keys[5], jax.tree.map(lambda x: x[1], states), actions[1])
    np.testing.assert_array_equal(one[1], new_obs[1])
    assert isinstance(env.render(jax.tree.map(lambda x: x[0], new)), str)
