"""The paper's prediction for Figure 1 (paper section 2): does the agent succeed at this
coverage level of the offline grid world? report.py sets it beside each measured outcome;
the claims (experiments/analysis/claims/paper.py) judge the outcomes against it."""

PAPER_PREDICTION = {
    ("dqn", "all_evaluation"): True,
    ("model_1step", "all_evaluation"): True,
    ("model_10step", "all_evaluation"): True,
    ("dqn", "path_to_goal"): False,
    ("model_1step", "path_to_goal"): True,
    ("model_10step", "path_to_goal"): True,
    ("dqn", "single_cell"): False,
    ("model_1step", "single_cell"): False,
    ("model_10step", "single_cell"): True,
    ("dqn", "no_evaluation"): False,
    ("model_1step", "no_evaluation"): False,
    ("model_10step", "no_evaluation"): False,
}
