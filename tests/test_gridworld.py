"""The offline 3x3 grid world of SPEC section 1: step, layouts, optimal actions, datasets."""

import jax.numpy as jnp
import numpy as np
import pytest

from envs import gridworld as gw

STAY, UP, LEFT, DOWN, RIGHT = range(5)
# Transposing the grid swaps rows and columns, so up <-> left and down <-> right.
TRANSPOSED_ACTION = {STAY: STAY, UP: LEFT, LEFT: UP, DOWN: RIGHT, RIGHT: DOWN}
E1, E2 = gw.evaluation_layouts()["E1"], gw.evaluation_layouts()["E2"]


def blocks(obs):
    """Split (N, 36) observations into (agent, goal, wall, no-wall) blocks of shape (N, 3, 3)."""
    return np.asarray(obs).reshape(-1, 4, 3, 3).transpose(1, 0, 2, 3)


def agent_cells(obs):
    return [divmod(int(i), 3) for i in blocks(obs)[0].reshape(-1, 9).argmax(axis=1)]


@pytest.mark.parametrize(
    "agent, action, expected, terminal",
    [
        ((2, 1), RIGHT, (2, 2), False),
        ((2, 1), UP, (2, 1), False),  # wall (1,1)
        ((2, 1), DOWN, (2, 1), False),  # grid edge
        ((2, 0), LEFT, (2, 0), False),  # grid edge
        ((2, 0), STAY, (2, 0), False),
        ((0, 2), LEFT, (0, 1), False),
        ((0, 1), LEFT, (0, 0), True),  # entering the goal
        ((0, 1), DOWN, (0, 1), False),  # wall (1,1)
    ],
)
def test_step_in_e1(agent, action, expected, terminal):
    state = gw.GridWorldState(jnp.array(agent, jnp.int32), jnp.asarray(E1))
    new, obs, reward, done = gw.step(state, jnp.int32(action))
    assert tuple(np.asarray(new.agent)) == expected
    assert bool(done) == terminal and float(reward) == -1.0
    agent_block, goal_block, wall_block, open_block = blocks(obs[None])[:, 0]
    assert np.argwhere(agent_block).tolist() == [list(expected)]
    assert np.argwhere(goal_block).tolist() == [[0, 0]]
    np.testing.assert_array_equal(wall_block, E1)
    np.testing.assert_array_equal(open_block, ~E1)


def test_layouts():
    basic = gw.basic_layouts()
    assert len(basic) == 8 and all(w.sum() == 1 and not w[0, 0] for w in basic)
    assert len({w.tobytes() for w in basic}) == 8
    assert np.argwhere(E1).tolist() == [[1, 0], [1, 1]]
    assert np.argwhere(E2).tolist() == [[0, 1], [1, 1]]
    np.testing.assert_array_equal(E2, E1.T)
    assert gw.far_cell(E1) == (2, 0) and gw.far_cell(E2) == (0, 2)


def test_optimal_actions_in_e1_follow_the_corridor():
    assert gw.optimal_actions(E1) == {
        (2, 0): {RIGHT},
        (2, 1): {RIGHT},  # the counter-intuitive one: away from the goal
        (2, 2): {UP},
        (1, 2): {UP},
        (0, 2): {LEFT},
        (0, 1): {LEFT},
    }
    assert gw.shortest_distances(E1) == {
        (0, 1): 1,
        (0, 2): 2,
        (1, 2): 3,
        (2, 2): 4,
        (2, 1): 5,
        (2, 0): 6,
    }


def test_optimal_actions_with_ties_in_an_open_layout():
    # One wall at (2,2): from (1,1) both up and left are shortest.
    best = gw.optimal_actions(gw.walls_at((2, 2)))
    assert best[(1, 1)] == {UP, LEFT}
    assert best[(0, 1)] == {LEFT} and best[(1, 0)] == {UP}
    assert best[(2, 1)] == {UP, LEFT}


@pytest.mark.parametrize("layout", range(10))
def test_discounted_and_shortest_path_values_pick_the_same_actions(layout):
    walls = (gw.basic_layouts() + [E1, E2])[layout]
    assert gw.optimal_actions(walls, discount=0.9) == gw.optimal_actions(walls, discount=1.0)


def test_e2_is_e1_transposed():
    e1, e2 = gw.optimal_actions(E1), gw.optimal_actions(E2)
    assert e2 == {(c, r): {TRANSPOSED_ACTION[a] for a in acts} for (r, c), acts in e1.items()}

    def transposed(obs):
        return np.asarray(obs).reshape(-1, 4, 3, 3).transpose(0, 1, 3, 2).reshape(-1, 36)

    def rows(data):
        return {(o.tobytes(), int(a), n.tobytes()) for o, a, n in zip(*data)}

    all_e1 = gw.transitions(E1, gw.all_pairs(E1))
    all_e2 = gw.transitions(E2, gw.all_pairs(E2))
    mapped = (
        transposed(all_e1.obs),
        [TRANSPOSED_ACTION[int(a)] for a in all_e1.action],
        transposed(all_e1.next_obs),
    )
    assert rows(mapped) == rows((all_e2.obs, all_e2.action, all_e2.next_obs))


@pytest.mark.parametrize(
    "coverage, extra",
    [("all_evaluation", 60), ("path_to_goal", 12), ("single_cell", 10), ("no_evaluation", 0)],
)
def test_dataset_sizes(coverage, extra):
    assert len(gw.basic_set().action) == 280
    assert len(gw.evaluation_set(coverage).action) == extra
    data = gw.dataset(coverage)
    assert all(len(field) == 280 + extra for field in data)
    assert data.obs.shape == data.next_obs.shape == (280 + extra, 36)
    assert data.obs.dtype == data.next_obs.dtype == data.terminal.dtype == bool
    assert data.action.dtype == np.int32 and data.reward.dtype == np.float32
    # Each (observation, action) appears once: the pieces do not overlap.
    assert len({(o.tobytes(), int(a)) for o, a in zip(data.obs, data.action)}) == 280 + extra


@pytest.mark.parametrize("coverage", gw.COVERAGES)
def test_dataset_transitions_are_well_formed(coverage):
    data = gw.dataset(coverage)
    agent, goal, wall, open_ = blocks(data.obs)
    assert (agent.sum(axis=(1, 2)) == 1).all()
    assert goal.reshape(-1, 9).tolist() == [[1] + [0] * 8] * len(goal)
    np.testing.assert_array_equal(wall, ~open_)
    assert not (agent & (goal | wall)).any()  # never starts on the goal or a wall
    next_agent, _, next_wall, _ = blocks(data.next_obs)
    np.testing.assert_array_equal(next_wall, wall)  # walls are fixed within an episode
    assert not (next_agent & next_wall).any()
    np.testing.assert_array_equal(data.terminal, next_agent[:, 0, 0])
    assert (data.reward == -1.0).all()


def evaluation_rows(coverage, walls):
    """(start cell, action) of the evaluation transitions in the given layout."""
    data = gw.evaluation_set(coverage)
    mine = (blocks(data.obs)[2] == walls).all(axis=(1, 2))
    return sorted(zip(agent_cells(data.obs[mine]), data.action[mine].tolist()))


def test_coverage_contents():
    assert evaluation_rows("path_to_goal", E1) == [
        ((0, 1), LEFT),
        ((0, 2), LEFT),
        ((1, 2), UP),
        ((2, 0), RIGHT),
        ((2, 1), RIGHT),
        ((2, 2), UP),
    ]
    assert evaluation_rows("single_cell", E1) == [((2, 0), a) for a in range(5)]
    assert evaluation_rows("single_cell", E2) == [((0, 2), a) for a in range(5)]
    assert (
        len(evaluation_rows("all_evaluation", E1))
        == len(evaluation_rows("all_evaluation", E2))
        == 30
    )


def test_basic_set_covers_every_one_wall_layout():
    data = gw.basic_set()
    walls = blocks(data.obs)[2].reshape(-1, 9)
    assert sorted({tuple(w) for w in walls.tolist()}) == sorted(
        tuple(w.reshape(-1).tolist()) for w in gw.basic_layouts()
    )
    for w in gw.basic_layouts():
        assert (walls == w.reshape(-1)).all(axis=1).sum() == 35


def test_cell_observations_follow_open_cells():
    obs = gw.cell_observations(E1)
    assert agent_cells(obs) == gw.open_cells(E1)
    assert (blocks(obs)[2] == E1).all()


def test_unknown_coverage_is_rejected():
    with pytest.raises(
        ValueError, match="all_evaluation, path_to_goal, single_cell, no_evaluation"
    ):
        gw.dataset("everything")
