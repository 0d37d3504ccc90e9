"""The Dyna design choices (issue 14, configs/experiment/dyna_design.yaml): the texts'
predictions, judged on the arms of one experiment (the `arm` column), on expectation
against sample models by rollout length and dynamics (experiment=dyna_expectation), and on
Figure 1's offline grid with replayed first actions (results/dyna_design_offline)."""

from functools import partial

from experiments.analysis.claims.paper import figure1_prediction
from experiments.analysis.claims.rule import EVERY, Claim, Runs, RunTable, compare, record

DYNA_DESIGN = Runs("dyna_design", extra=("arm",))
DYNA_OFFLINE = RunTable("dyna_design_offline", "outcomes.parquet")
DYNA_EXPECTATION = Runs("dyna_expectation", extra=("arm",))
STOCHASTIC = ("panflute", "buttongrid")  # spontaneous events; ProcMaze is deterministic


def arms(winner: str, loser: str, over: str, **where):
    """The judge of "arm `winner` is ahead of arm `loser`", decided `over` the levels."""
    return partial(compare, winner=winner, loser=loser, over=over, side="arm", **where)


CLAIMS = (
    Claim(
        "Search control: with the first action replayed (Dyna-Q's 'an action previously "
        "taken in it'), the 1-step model fails on Path-to-Goal as DQN does: its advantage "
        "was imagining untaken actions",
        "Sutton & Barto 8.2",
        DYNA_OFFLINE,
        partial(figure1_prediction, coverage="path_to_goal",
                predicted={"model_1step_replayed": False}),
    ),  # fmt: skip
    Claim(
        "Search control: with replayed first actions both model agents still succeed on "
        "All-Evaluation (the data covers every action there)",
        "the Dyna design study",
        DYNA_OFFLINE,
        partial(figure1_prediction, coverage="all_evaluation",
                predicted={"model_1step_replayed": True, "model_10step_replayed": True}),
    ),  # fmt: skip
    Claim(
        "Search control on Single-Cell: with a replayed first action the 10-step model still "
        "succeeds (its later imagined actions are the policy's) and the 1-step model fails, "
        "as with the policy's first action in Figure 1",
        "the Dyna design study",
        DYNA_OFFLINE,
        partial(figure1_prediction, coverage="single_cell",
                predicted={"model_1step_replayed": False, "model_10step_replayed": True}),
    ),  # fmt: skip
    Claim(
        "Search control online: at every level run, the simple model choosing its first "
        "imagined action by the policy is ahead of the same model replaying the taken action",
        "Sutton & Barto 8.2",
        DYNA_DESIGN,
        arms("simple", "simple_replayed", over=EVERY),
    ),
    Claim(
        "A mean (expectation) model hurts where dynamics are stochastic: at every PanFlute "
        "level run (spontaneous events) the sample model is ahead of the one rolling out bit "
        "means",
        "Sutton & Barto 8.5",
        DYNA_DESIGN,
        arms("simple", "simple_mean", over=EVERY, at={"env": ("panflute",)}),
    ),
    Claim(
        "Expected backups: averaging the target over 4 sampled next observations is ahead "
        "of one sample where dynamics are stochastic, at every PanFlute level run",
        "Sutton & Barto 8.5",
        DYNA_DESIGN,
        arms("simple_expected", "simple", over=EVERY, at={"env": ("panflute",)}),
    ),
    Claim(
        "A mean model hurts where dynamics are stochastic, with 10-step rollouts: at every "
        "PanFlute and ButtonGrid level run the sample model is ahead of the one rolling out "
        "bit means",
        "Sutton & Barto 8.5",
        DYNA_EXPECTATION,
        arms("simple", "simple_mean", over=EVERY, at={"env": STOCHASTIC}),
    ),
    Claim(
        "A mean model hurts where dynamics are stochastic, with 1-step rollouts: at every "
        "PanFlute and ButtonGrid level run the 1-step sample model is ahead of the 1-step "
        "mean model",
        "Sutton & Barto 8.5",
        DYNA_EXPECTATION,
        arms("simple_1step", "simple_mean_1step", over=EVERY, at={"env": STOCHASTIC}),
    ),
    Claim(
        "Expected backups with 1-step rollouts: at every PanFlute and ButtonGrid level run, "
        "averaging the target over 4 sampled next observations is ahead of one sample",
        "Sutton & Barto 8.5",
        DYNA_EXPECTATION,
        arms("simple_expected_1step", "simple_1step", over=EVERY, at={"env": STOCHASTIC}),
    ),
    Claim(
        "Prioritized replay (alpha 0.6, beta 0.4) is ahead of uniform replay for ER at every "
        "level run",
        "Schaul et al. 2016",
        DYNA_DESIGN,
        arms("er_prioritized", "er", over=EVERY),
    ),
    Claim(
        "Prioritized sweeping: prioritized rollout starts are ahead of uniform ones for the "
        "simple model at every level run",
        "Sutton & Barto 8.4",
        DYNA_DESIGN,
        arms("simple_prioritized", "simple", over=EVERY),
    ),
)

RECORDS = {
    DYNA_DESIGN: record("dyna_design", "-m experiment=dyna_design", "studies/dyna-design.md"),
    DYNA_OFFLINE: record(
        "dyna_design_offline", "experiment=fig1 'offline.agents=[model_1step_replayed,"
        "model_10step_replayed]' results_root=results/dyna_design_offline",
        "studies/dyna-design.md"),
    DYNA_EXPECTATION: record("dyna_expectation", "-m experiment=dyna_expectation",
                             "studies/dyna-design.md"),
}  # fmt: skip
