"""Implicit models (issue 39): the paper's section 5 warns that a model trained only on
task-relevant targets (MuZero's rewards, values and policy), never to predict observations,
may not get the generalization benefit of Theorem 1 and Figure 1. Tested offline in Figure
1's grid world (configs/experiment/implicit.yaml; the table scripts/implicit_models.py
writes, one row per agent, coverage and seed with the fraction of the 12 evaluation cells
whose greedy action is optimal) beside DQN and the explicit 10-step model, the control; and
online (configs/experiment/implicit_online.yaml; the `arm` of each run) beside ER and the
simple model on levels where the simple model leads ER at cpu scale."""

from functools import partial

from experiments.analysis.claims.paper import figure1_prediction
from experiments.analysis.claims.rule import ANY, EVERY, Claim, Runs, Table, compare, record

IMPLICIT = Table("implicit", "implicit.parquet")
ONLINE = Runs("implicit_online", extra=("arm",))
SOURCE = "the paper, section 5 (MuZero)"


def ahead(winner: str, loser: str, coverage: str):
    """The judge of "`winner` is ahead of `loser` at `coverage`" on the seeds' fractions of
    evaluation cells with an optimal greedy action (95% CIs apart)."""
    return partial(compare, winner=winner, loser=loser, over=EVERY, cells=("coverage",),
                   at={"coverage": (coverage,)}, value="fraction_optimal")  # fmt: skip


def as_dqn(coverage: str):
    """The judge of "the explicit model succeeds at `coverage`; the implicit model fails, as
    DQN does" by Figure 1's majority rule."""
    predicted = {"model_10step": True, "implicit_10step": False, "dqn": False}
    return partial(figure1_prediction, coverage=coverage, predicted=predicted)


def arms(winner: str, loser: str):
    """The judge of "arm `winner` is ahead of arm `loser` at some level" online."""
    return partial(compare, winner=winner, loser=loser, over=ANY, side="arm")


CLAIMS = (
    Claim(
        "Implicit models on Path-to-Goal: the explicit 10-step model (the control) succeeds "
        "and the implicit 10-step model, trained only on rewards, continuations and values, "
        "fails as DQN does (Figure 1's rule)",
        SOURCE,
        IMPLICIT,
        as_dqn("path_to_goal"),
    ),
    Claim(
        "Implicit models on Single-Cell: the explicit 10-step model succeeds and the implicit "
        "10-step model fails as DQN does (Figure 1's rule)",
        SOURCE,
        IMPLICIT,
        as_dqn("single_cell"),
    ),
    Claim(
        "Implicit models on Path-to-Goal: the explicit 10-step model is ahead of the implicit "
        "one at every level run (fraction of evaluation cells with an optimal greedy action)",
        SOURCE,
        IMPLICIT,
        ahead("model_10step", "implicit_10step", "path_to_goal"),
    ),
    Claim(
        "Implicit models on Single-Cell: the explicit 10-step model is ahead of the implicit "
        "one at every level run (fraction of evaluation cells with an optimal greedy action)",
        SOURCE,
        IMPLICIT,
        ahead("model_10step", "implicit_10step", "single_cell"),
    ),
    Claim(
        "Implicit models keep some of the benefit: on Path-to-Goal the implicit 10-step model "
        "is ahead of DQN at every level run (fraction of evaluation cells optimal)",
        "Gehring et al. 2021, as the paper cites them",
        IMPLICIT,
        ahead("implicit_10step", "dqn", "path_to_goal"),
    ),
    Claim(
        "Implicit models online: the explicit simple model (the control) is ahead of Q "
        "learning on the implicit model's latent rollouts at some level where the simple "
        "model leads ER",
        SOURCE,
        ONLINE,
        arms("simple_model", "implicit_model"),
    ),
    Claim(
        "Implicit models online keep some of the benefit: Q learning on the implicit model's "
        "latent rollouts is ahead of ER at some level",
        "Gehring et al. 2021, as the paper cites them",
        ONLINE,
        arms("implicit_model", "er"),
    ),
    Claim(
        "Implicit models online, at decision time: acting by Gumbel MuZero's tree search "
        "through the implicit model is ahead of the same agent acting on Q alone at some level",
        "seeds (MuZero)",
        ONLINE,
        arms("muzero", "implicit_model"),
    ),
    Claim(
        "Implicit models online, at decision time: the explicit simple model is ahead of the "
        "implicit model with tree search at some level",
        SOURCE,
        ONLINE,
        arms("simple_model", "muzero"),
    ),
)

RECORDS = {
    IMPLICIT: record("implicit", "experiment=implicit", "studies/implicit-models.md"),
    ONLINE: record("implicit_online", "-m experiment=implicit_online",
                   "studies/implicit-models.md"),
}  # fmt: skip
