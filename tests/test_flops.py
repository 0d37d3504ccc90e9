"""scripts/flops.py: the per-part FLOP counts that docs/speed.md and
benchmark.py's GFLOP/s rest on agree with a count by hand from the layer sizes, and count a
10-step rollout as ten steps and the once-per-interval checks as amortized."""

import sys

import pytest

import envs

sys.path.insert(0, "scripts")
import flops  # noqa: E402

ENV = envs.make("procmaze", grid_size=4)


# The latents and the perfect model compile the paper's networks for a cost analysis
# (10-20 s each here): the slow suite; ER's and the simple model's count in the default run.
@pytest.mark.parametrize("agent", [
    a if a in ("er", "simple_model") else pytest.param(a, marks=pytest.mark.slow)
    for a in sorted(flops.PARTS)
])  # fmt: skip
def test_per_part_count_is_the_hand_count_plus_at_most_5_percent(agent):
    # By hand counts only the matrix products; XLA adds biases, ELU, softmax and Adam.
    xla = flops.per_seed_step(agent, ENV)
    hand = flops.by_hand(ENV.obs_size, ENV.num_actions)[agent]
    assert hand <= xla <= 1.05 * hand


def test_the_hand_count_of_er_is_worked_out_from_the_layer_sizes():
    # Q: 64 -> 200 -> 200 -> 200 -> 5, 93,800 multiply-adds a row; a backward pass twice
    # the forward less the 64 x 200 input gradient (81,000); 320 rows trained, 320 target
    # rows, 1 acting row and 32 x 100 evaluation rows every 500 steps; 2 flops a multiply-add.
    forward_row = 2 * (64 * 200 + 2 * 200 * 200 + 200 * 5)
    train_row = 2 * (2 * 93_800 + 81_000)
    expected = 320 * train_row + (320 + 1 + 6.4) * forward_row
    assert flops.by_hand(64, 5)["er"] == pytest.approx(expected)
    assert expected == pytest.approx(233.3e6, rel=1e-3)


def test_a_rollout_counts_every_step_and_the_model_check_is_amortized():
    parts = {name: (each, per_step) for name, each, per_step in flops.PARTS["simple_model"](ENV)}
    assert parts["rollout: model forward on 32"][1] == 10
    assert parts["rollout: Q forward on 32"][1] == 10
    assert parts["model check on 1,024 (amortized)"][1] == pytest.approx(1 / 500)
    # the check's 1,024 rows cost 32 times the rollout step's 32 rows
    check, step = (
        parts["model check on 1,024 (amortized)"][0],
        parts["rollout: model forward on 32"][0],
    )
    assert check == pytest.approx(32 * step, rel=0.02)
