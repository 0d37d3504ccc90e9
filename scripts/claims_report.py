"""The paper's claims as a Markdown table from whatever results exist: measured numbers, the
scale they were measured at, and PASS / FAIL / NOT RUN / NOT JUDGED (experiments/claims.py).

python scripts/claims_report.py                      # reads results/, writes results/claims.md
python scripts/claims_report.py --root results --out results/claims.md
"""

import argparse
import math
import sys
from pathlib import Path

import pandas as pd
import yaml

from experiments import claims, results

# Where each experiment's runs land (configs/experiment/*.yaml: results_root).
TREES = ("fig3", "ablation_rollout", "ablation_spontaneous", "appendix_c")
FIG1_CLAIMS: dict[str, dict[str, bool]] = {}  # coverage level: {agent: succeeds?}
for (agent, coverage), succeeds in claims.PAPER_PREDICTION.items():
    FIG1_CLAIMS.setdefault(coverage, {})[agent] = succeeds
FIG1_TEXT = {
    "all_evaluation": "All-Evaluation: DQN and both model agents succeed",
    "path_to_goal": "Path-to-Goal: DQN fails, the 1-step and 10-step models succeed",
    "single_cell": "Single-Cell: DQN and the 1-step model fail, the 10-step model succeeds",
    "no_evaluation": "No-Evaluation: all three fail",
}


# Figure 4's tables, written by scripts/figure4.py from saved models and results.
FIG4_TABLES = (
    ("fig4_smoothing", "figure4_left.parquet"),
    ("fig4_frozen", "figure4_right.parquet"),
)


def _table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def finals_of(tree: Path) -> pd.DataFrame:
    """Final performance per (run, seed) of the finished runs under `tree`, largest scale."""
    if not tree.is_dir():
        return pd.DataFrame()
    metrics = results.load_runs(tree, report=lambda m: print(m, file=sys.stderr))
    if metrics.empty:
        return pd.DataFrame()
    extra = [c for c in ("agent.rollout_length",) if c in metrics.columns]
    return claims.largest_scale(results.final_table(metrics, extra=extra))


def figure1_outcomes(root: Path) -> tuple[pd.DataFrame, str, str]:
    """The outcomes table of the finished Figure 1 run of the largest scale (from
    ROOT/fig1 first, then without hyperparameter overrides, then the newest), its scale and
    where it was."""
    found = []
    for path in root.rglob("outcomes.parquet"):
        run_dir = path.parent
        if not results.is_finished(run_dir) or not (run_dir / results.CONFIG).exists():
            continue
        config = yaml.safe_load((run_dir / results.CONFIG).read_text()) or {}
        scale = (config.get("scale") or {}).get("name", "?")
        rank = claims.SCALES.index(scale) if scale in claims.SCALES else len(claims.SCALES)
        # results/fig1 is the experiment's own tree; elsewhere lie one-off runs. A run with
        # step_size= or temperature= overrides is a sensitivity check, not the figure.
        elsewhere = root / "fig1" not in path.parents
        offline = config.get("offline") or {}
        overridden = not all(
            math.isclose(config.get(k, 0.0), offline.get(k, 0.0), rel_tol=1e-6)
            for k in ("step_size", "temperature")
        )
        found.append((rank, elsewhere, overridden, -path.stat().st_mtime, path, scale))
    if not found:
        return pd.DataFrame(), "-", "no finished Figure 1 run (outcomes.parquet)"
    *_, path, scale = min(found)
    return pd.read_parquet(path), scale, str(path)


def judge(root: Path) -> tuple[list[claims.Verdict], dict[str, str]]:
    finals = {name: finals_of(root / name) for name in TREES}
    stats = {name: claims.cell_stats(f) for name, f in finals.items()}
    stats["ablation_rollout"] = claims.cell_stats(
        finals["ablation_rollout"], extra=["agent.rollout_length"]
    )
    verdicts = []

    outcomes, scale, where = figure1_outcomes(root)
    for coverage, predicted in FIG1_CLAIMS.items():
        verdict, measured = claims.figure1_prediction(outcomes, coverage, predicted)
        verdicts.append(claims.Verdict(FIG1_TEXT[coverage], "Figure 1", scale, measured, verdict))

    fig3 = stats["fig3"]
    online = [
        (
            "High data: the simple model and the categorical latent beat ER at the most "
            "complex level of ProcMaze and ButtonGrid",
            "Figure 3",
            fig3,
            claims.beat_at_hardest(
                fig3,
                ["procmaze", "buttongrid"],
                "high_data",
                ["simple_model", "categorical_latent"],
                "er",
            ),
        ),
        (
            "The Gaussian latent generally performs poorly (high data, ProcMaze and ButtonGrid: "
            "beaten by the simple or categorical model at most levels)",
            "Figure 3",
            fig3,
            claims.gaussian_generally_poor(fig3),
        ),
        (
            "Low data: the simple model beats ER at the most complex level of ProcMaze and "
            "ButtonGrid",
            "Figure 3",
            fig3,
            claims.beat_at_hardest(
                fig3, ["procmaze", "buttongrid"], "low_data", ["simple_model"], "er"
            ),
        ),
        (
            "PanFlute: the simple model or the Gaussian latent beats the perfect model at some "
            "hard level (7 or more pipes)",
            "Figure 3",
            fig3,
            claims.learned_beats_perfect_on_hard_panflute(fig3),
        ),
        (
            "10-step rollouts are generally better than 1-step rollouts",
            "Appendix I",
            stats["ablation_rollout"],
            claims.ten_step_beats_one_step(stats["ablation_rollout"]),
        ),
        (
            "No spontaneous transitions: reported in Appendix I (the text states no outcome); "
            "measured numbers shown",
            "Appendix I",
            stats["ablation_spontaneous"],
            claims.shown_at_hardest(stats["ablation_spontaneous"]),
        ),
        (
            "OpenGrid (no factored structure): ER is ahead of the simple model",
            "Appendix C",
            stats["appendix_c"],
            claims.er_ahead_on_opengrid(stats["appendix_c"]),
        ),
    ]
    for text, source, table, (verdict, measured) in online:
        scale = claims.scale_of(table) if not table.empty else "-"
        verdicts.append(claims.Verdict(text, source, scale, measured, verdict))

    # Figure 4: the tables scripts/figure4.py wrote beside its figures.
    bins, frozen = (_table(root / tree / name) for tree, name in FIG4_TABLES)
    budget = int(frozen["budget"].iloc[0]) if not frozen.empty else 0
    ends = int(frozen["probe_ends"].iloc[0]) if not frozen.empty else 6
    figure4 = [
        (
            "The models learn a smoother reward than the truth: more predicted reward at n-1 "
            "active ends than at none, where the truth is 0 for both",
            bins,
            claims.smoothed_reward(bins),
        ),
        (
            "The Gaussian latent also smooths the dynamics: a higher probability than the simple "
            "model's that all ends are active next when only n-1 will be",
            bins,
            claims.gaussian_smooths_dynamics(bins),
        ),
        (
            "A model trained for an intermediate time teaches a fresh Q-network fastest",
            frozen,
            claims.intermediate_model_best(frozen, budget),
        ),
        (
            "Smoothing decreases with model training (predicted reward at 6 of 9 active ends, "
            "or 2n/3)",
            frozen,
            claims.smoothing_decreases(frozen, ends),
        ),
    ]
    for text, table, (verdict, measured) in figure4:
        scale = ", ".join(sorted(set(table["scale"]))) if not table.empty else "-"
        verdicts.append(claims.Verdict(text, "Figure 4", scale, measured, verdict))

    sources = {"Figure 1": where}
    for name in TREES:
        n = finals[name]["run_dir"].nunique() if not finals[name].empty else 0
        sources[name] = f"{root / name}/ ({n} finished runs of the largest scale)"
    for tree, name in FIG4_TABLES:
        path = root / tree / name
        sources[tree] = str(path) if path.exists() else f"{path} (not made yet)"
    return verdicts, sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("results"), help="results tree")
    parser.add_argument("--out", type=Path, default=None, help="default: ROOT/claims.md")
    args = parser.parse_args()
    if not args.root.is_dir():
        fail(f"--root must be an existing results directory; got {str(args.root)!r}.")
    verdicts, sources = judge(args.root)
    out = args.out or args.root / "claims.md"
    results.write_text(claims.markdown(verdicts, sources), out)
    print(f"wrote {out}: " + ", ".join(f"{v.verdict}" for v in verdicts))


if __name__ == "__main__":
    main()
