"""Beyond the paper: the model-based families (issue 15, configs/experiment/model_families.yaml;
issue 39's CEM planning and Plan2Explore-style exploration, configs/experiment/planners.yaml
and plan2explore.yaml), judged on the tables scripts/model_families.py writes, one row per
run and seed with the run's `arm`."""

from functools import partial

import pandas as pd

from experiments.analysis.claims.rule import ANY, NOT_RUN, Claim, Table, compare, record

FAMILIES = Table("model_families", "families.parquet")
FAMILY_ACCURACY = Table("model_families", "accuracy.parquet")
FAMILY_SMOOTHING = Table("model_families", "smoothing.parquet")
PLANNERS = Table("planners", "families.parquet")  # configs/experiment/planners.yaml
EXPLORATION = Table("plan2explore", "families.parquet")  # configs/experiment/plan2explore.yaml
LAMBDA = Table("lambda_returns", "families.parquet")  # configs/experiment/lambda_returns.yaml
ARMS = dict(side="arm", value="final_score")  # families.parquet: seeds of each arm


def accuracy_at_last_step(table: pd.DataFrame, **comparison) -> tuple[str, str]:
    """`compare` of the arms' open-loop bit accuracy at the last step (10), by level."""
    if table.empty or "step" not in table:
        return NOT_RUN, "no accuracy table"
    last = table[table["step"] == table["step"].max()]
    return compare(last, side="arm", value="accuracy", cells=("level",), **comparison)


def ensemble_smooths_less(bins: pd.DataFrame, **comparison) -> tuple[str, str]:
    """`compare` of the arms' predicted reward (member mean) at n-1 active ends (truth 0),
    by PanFlute level: the lower is ahead."""
    if bins.empty or "arm" not in bins:
        return NOT_RUN, "no smoothing table"
    rows = bins[bins["quantity"] == "reward"]
    below = rows[rows["active_ends"] == rows["num_pipes"] - 1]
    verdict, measured = compare(below, side="arm", value="predicted", cells=("num_pipes",),
                                lower=True, **comparison)  # fmt: skip
    return verdict, f"predicted reward at n-1 active ends by pipes: {measured}"


CLAIMS = (
    Claim(
        "Beyond the paper: planning at decision time (MPC, random shooting) with the simple "
        "model beats training Q on the same model's imagined data (the simple-model agent) "
        "at some level",
        "seeds (MPC; PETS)",
        FAMILIES,
        partial(compare, winner="mpc", loser="simple_model", over=ANY, **ARMS),
    ),
    Claim(
        "Beyond the paper: an ensemble of 5 simple models (trajectory sampling) beats one at "
        "some level",
        "seeds (PETS, ME-TRPO)",
        FAMILIES,
        partial(compare, winner="ensemble", loser="simple_model", over=ANY, **ARMS),
    ),
    Claim(
        "Beyond the paper: an ensemble smooths PanFlute's reward less than one simple model "
        "at some level (predicted reward at n-1 active ends, truth 0)",
        "seeds (PETS) and Figure 4",
        FAMILY_SMOOTHING,
        partial(ensemble_smooths_less, winner="ensemble", loser="simple_model", over=ANY),
    ),
    Claim(
        "Beyond the paper: training the model on its own 5-step predictions makes 10-step "
        "open-loop predictions more accurate at some level",
        "seeds (SLBO)",
        FAMILY_ACCURACY,
        partial(accuracy_at_last_step, winner="slbo", loser="simple_model", over=ANY),
    ),
    Claim(
        "Beyond the paper: training the model on its own 5-step predictions beats 1-step "
        "training (final score) at some level",
        "seeds (SLBO)",
        FAMILIES,
        partial(compare, winner="slbo", loser="simple_model", over=ANY, **ARMS),
    ),
    Claim(
        "Beyond the paper: branched rollouts growing from 1 to 10 steps beat fixed 10-step "
        "rollouts at some level",
        "seeds (MBPO)",
        FAMILIES,
        partial(compare, winner="mbpo", loser="simple_model", over=ANY, **ARMS),
    ),
    Claim(
        "Beyond the paper: planning by the cross-entropy method (PlaNet's CEM) beats random "
        "shooting on the same budget of model steps per decision at some level",
        "seeds (PlaNet)",
        PLANNERS,
        partial(compare, winner="cem", loser="mpc", over=ANY, **ARMS),
    ),
    Claim(
        "Beyond the paper: an ensemble exploring by its disagreement over next observations "
        "(Plan2Explore-style bonus, decaying to the task reward) beats the same ensemble "
        "without it at some level where ER and the simple model do not find the reward",
        "seeds (Plan2Explore)",
        EXPLORATION,
        partial(compare, winner="plan2explore", loser="ensemble", over=ANY, **ARMS),
    ),
    Claim(
        "Beyond the paper: Q learning toward lambda-returns along the imagined rollouts "
        "(Dreamer's TD(lambda), lambda 0.8) beats one-step targets for the simple model at "
        "some level",
        "seeds (Dreamer)",
        LAMBDA,
        partial(compare, winner="simple_lambda", loser="simple_model", over=ANY, **ARMS),
    ),
    Claim(
        "Beyond the paper: Q learning toward lambda-returns along the imagined rollouts "
        "(Dreamer's TD(lambda), lambda 0.8) beats one-step targets for the categorical latent "
        "at some level",
        "seeds (Dreamer)",
        LAMBDA,
        partial(compare, winner="categorical_lambda", loser="categorical_latent", over=ANY,
                **ARMS),
    ),
)

RECORDS = {
    FAMILIES: record("model_families", "-m experiment=model_families",
                     "studies/model-families.md"),
    FAMILY_ACCURACY: record("model_families_accuracy", "-m experiment=model_families",
                            "studies/model-families.md"),
    FAMILY_SMOOTHING: record("model_families_smoothing", "-m experiment=model_families",
                             "studies/model-families.md"),
    PLANNERS: record("planners", "-m experiment=planners", "studies/model-families.md"),
    EXPLORATION: record("plan2explore", "-m experiment=plan2explore",
                        "studies/model-families.md"),
    LAMBDA: record("lambda_returns", "-m experiment=lambda_returns", "studies/lambda-returns.md"),
}  # fmt: skip
