"""Learning in a dream (issue 39, configs/experiment/dream.yaml): every arm keeps only the
first regime.random_data steps of a uniformly random policy, and Q learns on from them alone;
the arms (the `arm` column) are ER replaying them, the simple model dreaming at bit
temperature 1, 2 and 4, and the perfect model."""

from functools import partial

from experiments.analysis.claims.rule import ANY, EVERY, Claim, Runs, compare, either, record

DREAM = Runs("dream", extra=("arm",))
HOTTER = either("simple_hot2", "simple_hot4")  # a higher temperature than the paper's 1


def arms(winner, loser, over: str):
    """The judge of "arm `winner` is ahead of arm `loser`", decided `over` the levels."""
    return partial(compare, winner=winner, loser=loser, over=over, side="arm")


CLAIMS = (
    Claim(
        "Learning in a dream: Q trained only on the rollouts of a simple model learned from "
        "random-policy data is ahead of ER replaying the same data at some level",
        "World Models (Ha & Schmidhuber)",
        DREAM,
        arms("simple_model", "er", over=ANY),
    ),
    Claim(
        "Learning in a dream: the perfect model bounds the learned one, ahead of the simple "
        "model's dream at every level run (the learned model's errors cost the policy)",
        "World Models (Ha & Schmidhuber)",
        DREAM,
        arms("perfect_model", "simple_model", over=EVERY),
    ),
    Claim(
        "Learning in a dream with a perfect model: Q trained only on the true dynamics' "
        "rollouts from the random data is ahead of ER replaying the same data at some level",
        "World Models (Ha & Schmidhuber)",
        DREAM,
        arms("perfect_model", "er", over=ANY),
    ),
    Claim(
        "Learning in a dream: a higher bit temperature (2 or 4) helps, ahead of the paper's "
        "temperature 1 at some level (the policy can exploit the model's errors less)",
        "World Models (Ha & Schmidhuber)",
        DREAM,
        arms(HOTTER, "simple_model", over=ANY),
    ),
    Claim(
        "Learning in a dream: a higher bit temperature hurts, the paper's temperature 1 ahead "
        "of temperature 2 at some level (noisier dreams are a worse model)",
        "World Models (Ha & Schmidhuber)",
        DREAM,
        arms("simple_model", "simple_hot2", over=ANY),
    ),
)

RECORDS = {DREAM: record("dream", "-m experiment=dream", "studies/dream.md")}
