"""The model-family claim judges (experiments/analysis/claims/families.py) on
hand-made tables, as scripts/model_families.py writes them; one test per verdict."""

import pandas as pd
import pytest

from experiments.analysis import claims
from experiments.analysis.claims import ANY, FAIL, NOT_RUN, PASS
from experiments.analysis.claims.families import ARMS

HIGH, LOW, MID = [10.0, 10.1, 9.9], [1.0, 1.1, 0.9], [5.0, 9.0, 1.0]  # MID overlaps both


def families(*cells, value="final_score", by=("env", "complexity")) -> pd.DataFrame:
    """cells: (cell key values, arm, values per seed) -> one row per seed."""
    rows = []
    for key, arm, values in cells:
        for member, v in enumerate(values):
            rows.append({**dict(zip(by, key)), "arm": arm, "member": member, value: v})
    return pd.DataFrame(rows)


def test_arm_beats_arm_passes_where_intervals_separate_at_some_level():
    table = families((("panflute", 4), "mpc", HIGH), (("panflute", 4), "simple_model", LOW),
                     (("procmaze", 2), "mpc", MID), (("procmaze", 2), "simple_model", LOW))
    verdict, measured = claims.compare(table, "mpc", "simple_model", ANY, **ARMS)
    assert verdict == PASS
    assert "PanFlute 4: MPC 10 ± 0.25 vs simple model 1 ± 0.25 (MPC ahead)" in measured
    assert "ProcMaze 2: MPC 5 ± 9.9 vs simple model 1 ± 0.25 (too small to tell)" in measured


def test_arm_beats_arm_fails_when_too_small_to_tell_or_behind():
    table = families((("panflute", 4), "ensemble", MID), (("panflute", 4), "simple_model", LOW),
                     (("procmaze", 2), "ensemble", LOW), (("procmaze", 2), "simple_model", HIGH))
    verdict, measured = claims.compare(table, "ensemble", "simple_model", ANY, **ARMS)
    assert verdict == FAIL
    assert "(too small to tell)" in measured and "(simple model ahead)" in measured
    overlapping = families(
        (("panflute", 4), "ensemble", MID), (("panflute", 4), "simple_model", LOW)
    )
    verdict, _ = claims.compare(overlapping, "ensemble", "simple_model", ANY, **ARMS)
    assert verdict == claims.TOO_SMALL


def test_arm_beats_arm_is_not_run_without_both_arms():
    table = families((("panflute", 4), "mbpo", HIGH))
    assert claims.compare(table, "mbpo", "simple_model", ANY, **ARMS)[0] == NOT_RUN
    assert claims.compare(pd.DataFrame(), "mbpo", "simple_model", ANY, **ARMS)[0] == NOT_RUN


def test_accuracy_is_judged_at_the_last_step_only():
    rows = []
    for step in (1, 10):  # ahead at step 1, behind at step 10: the last step decides
        first, second = (HIGH, LOW) if step == 1 else (LOW, HIGH)
        rows.append(families((("procmaze-2",), "slbo", first), (("procmaze-2",), "simple_model",
                              second), value="accuracy", by=("level",)).assign(step=step))
    table = pd.concat(rows, ignore_index=True)
    slbo = dict(winner="slbo", loser="simple_model", over=ANY)
    verdict, measured = claims.families.accuracy_at_last_step(table, **slbo)
    assert verdict == FAIL and "simple model ahead" in measured
    flipped = table.assign(step=11 - table["step"])
    assert claims.families.accuracy_at_last_step(flipped, **slbo)[0] == PASS


def bins(arm, predicted, ends, num_pipes=4):
    return pd.DataFrame({"arm": arm, "quantity": "reward", "active_ends": ends,
                         "num_pipes": num_pipes, "member": range(len(predicted)),
                         "predicted": predicted})


ENSEMBLE = dict(winner="ensemble", loser="simple_model", over=ANY)


def test_ensemble_smooths_less_when_its_prediction_at_n_minus_1_is_lower():
    table = pd.concat([
        bins("ensemble", [0.1, 0.11, 0.09], 3), bins("simple_model", [0.5, 0.51, 0.49], 3),
        bins("ensemble", [0.9, 0.9, 0.9], 4), bins("simple_model", [0.1, 0.1, 0.1], 4),
    ])  # n = 4 ends decides nothing: only n - 1 = 3 is read
    verdict, measured = claims.families.ensemble_smooths_less(table, **ENSEMBLE)
    assert verdict == PASS and "ensemble ahead" in measured
    swapped = table.assign(arm=table["arm"].map({"ensemble": "simple_model",
                                                 "simple_model": "ensemble"}))
    verdict, measured = claims.families.ensemble_smooths_less(swapped, **ENSEMBLE)
    assert verdict == FAIL and "simple model ahead" in measured
    assert claims.families.ensemble_smooths_less(pd.DataFrame(), **ENSEMBLE)[0] == NOT_RUN


def test_the_six_family_claims_read_the_model_families_results():
    sources = [claim.reads for claim in claims.CLAIMS if claim.source.startswith("seeds (")]
    trees = [s.tree for s in sources]
    assert trees.count("model_families") == 6
    assert {"planners", "plan2explore"} <= set(trees)  # issue 39's, one claim each


@pytest.mark.parametrize("tree, pairs", [
    ("planners", [("cem", "mpc")]),  # CEM against random shooting on the same budget
    ("plan2explore", [("plan2explore", "ensemble")]),  # the same ensemble without the bonus
    ("lambda_returns", [("simple_lambda", "simple_model"),
                        ("categorical_lambda", "categorical_latent")]),
])
def test_issue_39_claims_judge_each_arm_against_its_own_control(tree, pairs):
    rows = [c for c in claims.CLAIMS if c.reads.tree == tree]
    assert len(rows) == len(pairs)
    for claim, (arm, control) in zip(rows, pairs):
        ahead = families((("procmaze", 2), arm, HIGH), (("procmaze", 2), control, LOW))
        assert claim.verdict(ahead).verdict == PASS, claim.text
        behind = families((("procmaze", 2), arm, LOW), (("procmaze", 2), control, HIGH))
        assert claim.verdict(behind).verdict == FAIL, claim.text
        crossed = families((("procmaze", 2), "simple_lambda", HIGH),
                           (("procmaze", 2), "categorical_latent", LOW))  # no claim's pair
        assert claim.verdict(crossed).verdict == NOT_RUN, claim.text
