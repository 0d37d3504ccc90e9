"""Figure 1's success rule (experiments/offline/report.py), one rule for the final verdict
and for the verdict at every chunk boundary (`outcome_history`), checked on hand-made seeds."""

import pandas as pd
import pytest

from experiments.offline import report


@pytest.mark.parametrize("num_optimal, num_seeds, failed", [
    (1, 3, True),  # two of three wrong
    (2, 3, False),
    (2, 4, False),  # exactly half wrong is not a majority
    (1, 4, True),
    (0, 1, True),
    (5, 5, False),
])
def test_a_cell_fails_when_more_than_half_of_the_seeds_are_wrong(num_optimal, num_seeds, failed):
    assert report.majority_wrong(num_optimal, num_seeds) == failed


def history(steps: dict) -> pd.DataFrame:
    """Greedy-history rows of one agent and coverage: {step: {(layout, row, col): whether
    each seed's greedy action is optimal}}."""
    rows = [
        {"agent": "dqn", "coverage": "path_to_goal", "step": step, "member": member,
         "layout": layout, "row": row, "col": col, "greedy_action": 0, "optimal": right}
        for step, cells in steps.items()
        for (layout, row, col), seeds in cells.items()
        for member, right in enumerate(seeds)
    ]
    return pd.DataFrame(rows)


def test_the_history_applies_the_same_rule_at_every_step():
    table = report.outcome_history(history({
        10: {("E1", 2, 1): [True, False, False, False], ("E2", 0, 2): [True] * 4},  # 3 of 4
        20: {("E1", 2, 1): [True, True, False, False], ("E2", 0, 2): [True] * 4},  # half
        30: {("E1", 2, 1): [True, True, True, False], ("E2", 0, 2): [False, False, True, True]},
    }))
    assert table["step"].tolist() == [10, 20, 30]
    assert table["failed_cells"].tolist() == [1, 0, 0]
    assert table["succeeded"].tolist() == [False, True, True]
    assert table["worst_fraction_optimal"].tolist() == [0.25, 0.5, 0.5]
    assert table["mean_fraction_optimal"].tolist() == [0.625, 0.75, 0.625]
