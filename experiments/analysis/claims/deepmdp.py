"""Beyond the paper: the DeepMDP agent beside ER and the simple model (issue 13,
configs/experiment/deepmdp_check.yaml)."""

from functools import partial

from experiments.analysis.claims.rule import ANY, Claim, Runs, compare, record

DEEPMDP = Runs("deepmdp_check")
HIGH_PANFLUTE = {"env": "panflute", "regime": "high_data"}

CLAIMS = (
    Claim(
        "Beyond the paper (Gelada and Buckman): where every observation bit matters (PanFlute), "
        "a DeepMDP needs more data than a model of the observations: the simple model beats "
        "deepmdp at some PanFlute level",
        "Gelada et al. 2019 (DeepMDP)",
        DEEPMDP,
        partial(compare, winner="simple_model", loser="deepmdp", over=ANY, at=HIGH_PANFLUTE),
    ),
    Claim(
        "Beyond the paper: the DeepMDP keeps a learned model's lead over ER: deepmdp beats ER "
        "at some PanFlute level",
        "Gelada et al. 2019 (DeepMDP)",
        DEEPMDP,
        partial(compare, winner="deepmdp", loser="er", over=ANY, at=HIGH_PANFLUTE),
    ),
)

RECORDS = {DEEPMDP: record("deepmdp_check", "-m experiment=deepmdp_check", "studies/deepmdp.md")}
