"""Final performance and its confidence interval, hand-computed: every ± and verdict of the
reports passes through them. Also the one atomic writer."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from experiments import results


def metrics(num_evaluations: int, diverged_member: int | None = None, run_dir=None):
    """3 members, evaluations at steps 100, 200, ...; member m scores 100 m + k at its k-th
    evaluation (k = 1, 2, ...), so each member's final score says which evaluations it
    averaged and that no other member's rows were mixed in."""
    rows = [
        {
            "member": m,
            "step": 100 * k,
            "score": 100.0 * m + k,
            "diverged": m == diverged_member and k == 2,  # flagged once, early
        }
        for m in range(3)
        for k in range(1, num_evaluations + 1)
    ]
    frame = pd.DataFrame(rows).sample(frac=1, random_state=0)  # row order must not matter
    return frame if run_dir is None else frame.assign(run_dir=run_dir)


@pytest.mark.parametrize(
    "num_evaluations, finals",
    [
        # 10% of 10 evaluations is 1: the last one, k = 10.
        (10, [10.0, 110.0, 210.0]),
        # 10% of 11 is 1.1, rounded up to 2: the mean of k = 10 and 11.
        (11, [10.5, 110.5, 210.5]),
        # 10% of 20 is 2: k = 19 and 20.
        (20, [19.5, 119.5, 219.5]),
        # Fewer than 10 evaluations: still the last one.
        (3, [3.0, 103.0, 203.0]),
    ],
)
def test_final_performance_is_each_members_mean_over_the_last_tenth(num_evaluations, finals):
    table = results.final_performance(metrics(num_evaluations, diverged_member=1))
    assert table["member"].tolist() == [0, 1, 2]
    assert table["final_score"].tolist() == finals
    assert table["diverged"].tolist() == [False, True, False]  # a flag anywhere counts
    np.testing.assert_array_equal(table["diverged_at"], [np.nan, 200.0, np.nan])


def test_final_table_keeps_runs_apart_whose_members_share_numbers():
    both = pd.concat([metrics(10, run_dir="a"), metrics(20, run_dir="b")])
    table = results.final_table(both).sort_values(["run_dir", "member"])
    assert table["final_score"].tolist() == [10.0, 110.0, 210.0, 19.5, 119.5, 219.5]


@pytest.mark.parametrize(
    "dof, quantile",
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (30, 2.0423), (10_000, 1.9602)],
)
def test_t_quantile_is_the_two_sided_95_percent_point(dof, quantile):
    # Student's t at 97.5%, to 4 decimals (printed tables: 12.706, 4.303, 2.776, 2.262, 2.042).
    assert results.t_quantile(dof) == pytest.approx(quantile, abs=5e-5)


def test_mean_ci_of_three_values_by_hand():
    # [1, 2, 6]: mean 3; squared deviations 4 + 1 + 9 = 14, sample variance 14 / 2 = 7;
    # standard error sqrt(7 / 3) = 1.527525; t with n - 1 = 2 degrees of freedom 4.302653;
    # half-width 4.302653 x 1.527525 = 6.572411. (With t(3) it would be 4.861; with the
    # population variance 14 / 3 it would be 5.366.)
    mean, half = results.mean_ci([1.0, 2.0, 6.0])
    assert mean == 3.0
    assert half == pytest.approx(6.572411, abs=1e-6)


def test_mean_ci_ignores_missing_values_and_has_no_width_for_one_value():
    mean, half = results.mean_ci([1.0, np.nan, 2.0, 6.0, np.inf])
    assert (mean, half) == pytest.approx((3.0, 6.572411), abs=1e-6)
    mean, half = results.mean_ci([4.0, np.nan])
    assert mean == 4.0 and math.isnan(half)
    assert all(math.isnan(x) for x in results.mean_ci([]))


def test_n_counts_the_values_averaged_not_the_ones_left_out():
    # [1, 2, nan]: the NaN is left out of all three. Mean 1.5 over n = 2; deviations -0.5
    # and 0.5, sample variance 0.5, standard error sqrt(0.5 / 2) = 0.5, half-width
    # t(1) x 0.5 = 12.706205 x 0.5 = 6.353102 (with n = 3, t(2) x 0.408 = 1.757).
    assert results.estimate([1.0, 2.0, np.nan]) == pytest.approx((1.5, 6.353102, 2), abs=1e-6)
    assert results.mean_ci([1.0, 2.0, np.nan]) == pytest.approx((1.5, 6.353102), abs=1e-6)
    assert results.estimate([np.nan, np.inf]).n == 0
    # A seed whose final score is not a number is not one of the seeds the CI is over.
    unscored = metrics(10).assign(score=lambda m: m["score"].where(m["member"] < 2))
    summary = results.summarize(unscored)  # finals 10, 110 and NaN
    assert (summary["final_score_mean"], summary["num_seeds"]) == (60.0, 2)


def test_summary_scores_a_diverged_member_instead_of_dropping_it():
    # Finals 10, 110, 210, member 2 diverged at step 200 but still scored 210: mean 110;
    # deviations -100, 0, 100, sample variance 20000 / 2 = 10000, standard error
    # 100 / sqrt(3) = 57.735027, half-width t(2) x 57.735027 = 4.302653 x 57.735027 = 248.4138.
    # (Dropping member 2 would give 60 ± 635.31.)
    summary = results.summarize(metrics(10, diverged_member=2))
    assert summary["final_score_mean"] == 110.0
    assert summary["final_score_ci95"] == pytest.approx(248.4138, abs=1e-4)
    assert summary["num_seeds"] == 3 and summary["num_diverged"] == 1
    assert summary["diverged_by_step"] == 200
    assert summary["final_score_per_seed"] == [10.0, 110.0, 210.0]
    assert summary["diverged_at_per_seed"] == [None, None, 200]


def test_the_console_line_says_in_words_how_many_seeds_diverged_and_by_when():
    none = results.summarize(metrics(10))
    assert results.describe(none) == "final score 110 ± 2.5e+02 (95% CI over 3 seeds)"
    some = results.describe(results.summarize(metrics(10, diverged_member=2)))
    assert some.startswith("final score 110 ± 2.5e+02 (95% CI over 3 seeds); 1 of the 3 seeds")
    assert "parameters became non-finite by step 200" in some
    every = metrics(10).assign(diverged=lambda m: m["step"] >= 100 * (m["member"] + 3))
    words = results.describe(results.summarize(every))
    assert words.startswith("all 3 seeds diverged (parameters became non-finite by step 500); ")
    assert words.endswith("(argmax of NaN Q-values) scores 110 ± 2.5e+02 (95% CI over 3 seeds)")
    alone = results.summarize(metrics(10).query("member == 1"))
    assert results.describe(alone) == "final score 110 (one seed, no CI)"


def _strict(text: str):
    def reject(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=reject)


def test_json_files_hold_null_where_a_number_is_undefined(tmp_path):
    path = tmp_path / "summary.json"
    data = {"mean": 1.5, "ci95": math.nan, "per_seed": [np.float64(-np.inf), 2.0], "n": 1}
    results.write_json(data, path)
    assert _strict(path.read_text()) == {"mean": 1.5, "ci95": None, "per_seed": [None, 2.0], "n": 1}
    # One seed: its CI is undefined, and the summary still parses strictly.
    alone = results.summarize(metrics(10).query("member == 0"))
    results.write_json(alone, path)
    assert _strict(path.read_text())["final_score_ci95"] is None


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "summary.json"
    results.write_json({"a": 1}, path)

    def fail(tmp):
        with open(tmp, "w") as f:
            f.write('{"half')
        raise OSError("disk full")

    with pytest.raises(OSError):
        results.atomic_write(path, fail)
    assert path.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
