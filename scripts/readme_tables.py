"""The results tables of README.md and docs/, made from the small summaries committed in
results/summaries/ (results/ itself is not committed: its runs are too big).

python scripts/readme_tables.py summarize fig3 results/fig3  # -> results/summaries/fig3.csv
python scripts/readme_tables.py write     # the tables of README.md and docs/ from the summaries
python scripts/readme_tables.py check     # exit 1 where a document differs from them

A table sits in README.md or a page of docs/ between `<!-- table:NAME -->` and
`<!-- /table -->`; each table is marked in one document only. A summary made
from runs holds one row per run and seed; one transcribed from an older README, whose runs were
not kept, holds the per-cell means and intervals it showed, and says so in its header.
"""

import argparse
import math
import re
import sys
from functools import partial
from pathlib import Path

import pandas as pd
import yaml

import agents
import envs
from experiments import provenance, results
from experiments.analysis import claims, figures
from experiments.cli import fail
from experiments.offline import report

SUMMARIES = Path("results/summaries")
DOCUMENTS = (Path("README.md"), Path("docs"))  # README.md and every page under docs/
BLOCK = re.compile(r"(<!-- table:(\w+) -->\n)(.*?)(<!-- /table -->)", re.S)


# ----------------------------------------------------------------------------- summaries


def online_seeds(tree: Path, extra: tuple = ()) -> pd.DataFrame:
    """Per finished run and seed: the final score, the mean score over the whole run (how
    fast it learned) and the run's columns (with the `extra` config columns)."""
    metrics = results.load_runs(tree, report=lambda m: print(m, file=sys.stderr))
    if metrics.empty:
        return metrics
    extra = ("agent.rollout_length", "fidelity.name", "arm", *extra)
    extra = [c for c in extra if c in metrics.columns]
    finals = claims.largest_scale(results.final_table(metrics, extra=extra))
    whole = metrics.groupby(["run_dir", "member"])["score"].mean().rename("whole_run_score")
    seeds = finals.merge(whole.reset_index(), on=["run_dir", "member"])
    seeds["run_dir"] = [str(Path(d).relative_to(tree)) for d in seeds["run_dir"]]
    return seeds.rename(columns={"run_dir": "run"})


def fig1_outcomes(tree: Path, runs: str = "all") -> pd.DataFrame:
    """Per finished Figure 1 run: its outcomes, and the settings it overrides ('' for none:
    the figure itself). `runs` keeps "all", the "figure"'s runs (the tuned values, any base
    seed) or the "sensitivity" runs (another step size or temperature)."""
    tables = []
    for path in sorted(tree.rglob("outcomes.parquet")):
        run_dir = path.parent
        if not results.is_finished(run_dir):
            continue
        config = yaml.safe_load((run_dir / results.CONFIG).read_text()) or {}
        tuned = config.get("offline") or {}
        retuned = [
            f"{k}={config[k]:g}"
            for k in ("step_size", "temperature")
            if not math.isclose(config[k], tuned[k], rel_tol=1e-6)
        ]
        if (runs == "figure" and retuned) or (runs == "sensitivity" and not retuned):
            continue
        overrides = " ".join(retuned + ([f"seed={config['seed']}"] if config.get("seed") else []))
        outcomes = pd.read_parquet(path)[
            ["agent", "coverage", "succeeded", "paper_prediction", "worst_fraction_optimal"]
        ]
        tables.append(
            outcomes.assign(
                run=str(run_dir.relative_to(tree)),
                overrides=overrides,
                scale=config["scale"]["name"],
            )
        )
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def table_of(name: str, columns: list[str]):
    """The columns of the table scripts/figure4.py wrote into the tree."""

    def read(tree: Path) -> pd.DataFrame:
        path = tree / name
        return pd.read_parquet(path)[columns] if path.exists() else pd.DataFrame()

    return read


FAMILY_SEEDS = (  # scripts/model_families.py's families.parquet: a row per run and seed
    "arm env complexity member final_score whole_run_score random_policy_score scale".split()
)

SUMMARIZE = {  # summary name: how to make it from the experiment's results tree
    "quickstart": online_seeds,
    "fig3": online_seeds,
    "appendix_c": online_seeds,
    "ablation_rollout": online_seeds,
    "ablation_spontaneous": online_seeds,
    "fidelity": partial(online_seeds, extra=("total_steps",)),
    "fig1": partial(fig1_outcomes, runs="figure"),
    "fig1_sensitivity": partial(fig1_outcomes, runs="sensitivity"),
    "dyna_design": online_seeds,
    "dyna_design_offline": fig1_outcomes,
    "dyna_expectation": online_seeds,
    "paradigms_online": online_seeds,
    "fig4_left": table_of(
        "figure4_left.parquet",
        "agent quantity active_ends member predicted num_pipes scale".split(),
    ),
    "fig4_right": table_of(
        "figure4_right.parquet",
        "frozen_step member first_step reached predicted probe_ends budget num_pipes scale".split(),
    ),
    "paradigms": table_of(  # scripts/paradigms.py writes it (issue 13)
        "paradigms.parquet",
        "case agent coverage member fraction_optimal succeeded max_abs_q_gap q_steps scale".split(),
    ),
    "model_families": table_of("families.parquet", FAMILY_SEEDS),  # scripts/model_families.py
    "model_families_accuracy": table_of(
        "accuracy.parquet", "arm level member step accuracy".split()
    ),
    "model_families_smoothing": table_of(
        "smoothing.parquet", "arm num_pipes quantity active_ends member predicted".split()
    ),
    # issue 39: CEM against random shooting, and exploration by disagreement (the same script)
    "planners": table_of("families.parquet", FAMILY_SEEDS),
    "plan2explore": table_of("families.parquet", FAMILY_SEEDS),
    "lambda_returns": table_of("families.parquet", FAMILY_SEEDS),  # TD(lambda) in imagination
    "deepmdp_check": online_seeds,
    "dream": online_seeds,  # learning in a dream (issue 39): the `arm` of each run
    "implicit": table_of(  # scripts/implicit_models.py (issue 39)
        "implicit.parquet", "agent coverage member fraction_optimal succeeded "
        "worst_fraction_optimal scale".split(),
    ),
    "implicit_online": online_seeds,  # the implicit model online (issue 39): each run's `arm`
    "implicit_online_long": online_seeds,  # the same at 4x the steps on ProcMaze 2 (no claims)
}


def write_summary(name: str, tree: Path, out: Path) -> int:
    summary = SUMMARIZE[name](tree)
    if summary.empty:
        fail(f"no finished results for {name!r} under {str(tree)!r}.")
    made_by = f"python scripts/readme_tables.py summarize {name} {tree}"
    meta = provenance.provenance(name, tree, made_by, summary)  # first: a failure writes none
    header = f"# {name}: made by `{made_by}`; its provenance: {out.stem}.meta.yaml\n"
    results.write_text(header + summary.to_csv(index=False), out)
    provenance.write(meta, out)
    return len(summary)


def read_summary(name: str, **options) -> pd.DataFrame:
    return pd.read_csv(SUMMARIES / f"{name}.csv", comment="#", **options)


def cells(summary: pd.DataFrame, keys: list[str], values: list[str], sums=()) -> pd.DataFrame:
    """Per cell of `keys`: the number of seeds n (diverged ones scored by their greedy
    play), for each of `values` the mean and 95% t half-width over them (`<value>_mean`,
    `<value>_ci95`), and the totals of `sums`. A transcribed summary holds these cells already."""
    if "member" not in summary:
        return summary
    rows = []
    for key, group in summary.groupby(keys):
        row = dict(zip(keys, key), n=len(group), **{s: group[s].sum() for s in sums})
        for value in values:
            row[f"{value}_mean"], row[f"{value}_ci95"] = results.mean_ci(group[value])
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- tables


def agent_named(name: str) -> str:
    """An agent's registered display name; a summary naming an agent that no module of
    agents/ registers stops the tables rather than losing its rows."""
    if name not in agents.DISPLAY:
        fail(f"a summary names agent {name!r}, which is not registered (agents/); registered: "
             f"{', '.join(agents.DISPLAY)}.")  # fmt: skip
    return agents.DISPLAY[name]


def agents_in(table: pd.DataFrame) -> list[str]:
    """The agents of a table, in the order figures list them."""
    return figures.agent_order(set(table["agent"]))


def arms_in(present, labels: dict, study: str) -> list[str]:
    """The arms among `present` in the order of `labels`, a study's labels by arm name
    (configs/design, family, paradigm, maze); an arm without a label stops the tables rather
    than losing its rows."""
    unknown = sorted(set(present) - set(labels))
    if unknown:
        fail(f"the {study} summary holds arm {unknown[0]!r}, which scripts/readme_tables.py "
             f"has no label for; labelled: {', '.join(labels)}.")  # fmt: skip
    return [arm for arm in labels if arm in set(present)]


def markdown(corner: str, columns: list, rows: list[tuple[str, list[str]]]) -> str:
    lines = [f"| {corner} | " + " | ".join(map(str, columns)) + " |"]
    lines.append("|---" * (len(columns) + 1) + "|")
    lines += [f"| {label} | " + " | ".join(values) + " |" for label, values in rows]
    return "\n".join(lines) + "\n"


def show(row, value: str, digits: int, thousands: bool = False) -> str:
    """`mean ± half-width`; the half-width is left out where it rounds to zero."""
    fmt = f"{{:{',' if thousands else ''}.{digits}f}}"
    mean, half = row[f"{value}_mean"], row[f"{value}_ci95"]
    if not math.isfinite(half) or round(half, digits) == 0:
        return fmt.format(mean)
    return f"{fmt.format(mean)} ± {fmt.format(half)}"


def ahead_of_all(group: pd.DataFrame, value: str):
    """The row (index) whose interval lies above every other row's, or None."""
    stats = group.rename(columns={f"{value}_mean": "mean", f"{value}_ci95": "ci95"})
    for index, row in stats.iterrows():
        others = stats.drop(index)
        if len(others) and all(claims.beats(row, other) for _, other in others.iterrows()):
            return index
    return None


def agents_by_level(
    summary: pd.DataFrame, measures: list[tuple[str, str]], digits: int, random_digits: int = 3
) -> str:
    """Agents down, levels across: for each (value, row prefix) of `measures`, one row per
    agent (in bold where ahead of every other agent by the claims' rule), then the uniform
    random policy."""
    values = [value for value, _ in measures]
    table = cells(summary, ["env", "complexity", "agent"], values)
    env = envs.display(table["env"].iloc[0])
    levels = sorted(table["complexity"].unique())
    rows = []
    for value, prefix in measures:
        shown = {}
        for level in levels:
            at = table[table["complexity"] == level]
            best = ahead_of_all(at, value)
            for index, row in at.iterrows():
                text = show(row, value, digits)
                shown[row["agent"], level] = f"**{text}**" if index == best else text
        for agent in agents_in(table):
            rows.append((prefix + agent_named(agent), [shown.get((agent, s), "") for s in levels]))
    random = summary.groupby("complexity")["random_policy_score"].first()
    rows.append(("uniform random policy", [f"{random[s]:.{random_digits}g}" for s in levels]))
    return markdown("agent", [f"{env} {s}" for s in levels], rows)


def fig3() -> str:
    return agents_by_level(read_summary("fig3"), [("final_score", "")], digits=3)


def ablation_spontaneous() -> str:
    return agents_by_level(read_summary("ablation_spontaneous"), [("final_score", "")], digits=3)


def appendix_c() -> str:
    measures = [("final_score", ""), ("whole_run_score", "mean return over the whole run: ")]
    return agents_by_level(read_summary("appendix_c"), measures, digits=2)


def quickstart() -> str:
    """ER at cpu scale on the first levels tried for the quick start, beside the random
    policy: it must beat the random policy there within the budget."""
    summary = read_summary("quickstart")
    table = cells(summary, ["env", "complexity", "agent"], ["final_score"])
    random = summary.groupby(["env", "complexity"])["random_policy_score"].first()
    rows = []
    for _, row in table.iterrows():
        level = row["env"], row["complexity"]
        # Levels of very different score ranges: significant figures, not decimals.
        score = f"{row['final_score_mean']:.3g} ± {row['final_score_ci95']:.2g}"
        shown = [score, f"{random[level]:.3g}", str(row["n"])]
        rows.append((f"{envs.display(level[0])} {level[1]}", shown))
    return markdown("level", ["ER final score", "uniform random policy", "seeds"], rows)


def fidelity() -> str:
    """`fidelity=fixed` beside `fidelity=authors` per level and agent (experiment=fidelity),
    then any switch run alone (a column per switch, "-" where not run); a preset's cell that
    did not finish is marked so."""
    summary = read_summary("fidelity")
    keys = ["env", "complexity", "agent", "total_steps", "fidelity.name"]
    table = cells(summary, keys, ["final_score"]).set_index(keys)
    random = summary.groupby(["env", "complexity"])["random_policy_score"].first()
    alone = sorted(set(summary["fidelity.name"]) - {"fixed", "authors"})
    rows = []
    for (env, size, agent, steps), _ in table.groupby(level=[0, 1, 2, 3], sort=True):
        shown = []
        for name in ("fixed", "authors", *alone):
            if (env, size, agent, steps, name) not in table.index:
                shown.append("not finished" if name in ("fixed", "authors") else "-")
                continue
            row = table.loc[(env, size, agent, steps, name)]
            # Levels of very different score ranges: significant figures, not decimals.
            shown.append(f"{row['final_score_mean']:.3g} ± {row['final_score_ci95']:.2g}")
        label = f"{envs.display(env)} {size}, {agent_named(agent)}"
        rows.append((label, [f"{steps // 1000}k", *shown, f"{random[env, size]:.3g}"]))
    columns = ["`fixed`", "`authors`", *(f"`fixed` + `{name}` alone" for name in alone)]
    return markdown("level, agent", ["steps", *columns, "uniform random policy"], rows)


def ablation_rollout() -> str:
    length = "agent.rollout_length"
    table = cells(read_summary("ablation_rollout"), ["agent", length], ["final_score"])
    lengths = sorted(table[length].unique())
    rows = []
    for agent in agents_in(table):
        runs = table[table["agent"] == agent].set_index(length)
        rows.append((agent_named(agent), [show(runs.loc[k], "final_score", 3) for k in lengths]))
    # 320 imagined transitions per update: rollouts x rollout length
    return markdown("agent", [f"{k} x {320 // k} rollouts" for k in lengths], rows)


FIG1_AGENTS = ("dqn", "model_1step", "model_10step")  # the paper's Figure 1
COVERAGES = report.COVERAGE_DISPLAY


def offline_agents_in(table: pd.DataFrame) -> dict[str, str]:
    """The offline agents of a table (experiments/offline/training.py) by their display
    names, in Figure 1's order; one without a display name stops the tables."""
    present = set(table["agent"])
    unknown = sorted(present - set(report.AGENT_DISPLAY))
    if unknown:
        fail(f"a summary names offline agent {unknown[0]!r}, which has no display name "
             "(experiments/offline/report.py AGENT_DISPLAY).")  # fmt: skip
    return {a: label for a, label in report.AGENT_DISPLAY.items() if a in present}


def fig1() -> str:
    """Ours and the paper's outcome per agent and coverage, of the run without overrides."""
    summary = read_summary("fig1", keep_default_na=False)
    main = summary[summary["overrides"] == ""].set_index(["agent", "coverage"])
    word = {True: "succeeds", False: "fails"}
    rows = []
    for agent in FIG1_AGENTS:
        shown = []
        for coverage in COVERAGES:
            row = main.loc[agent, coverage]
            paper = word[row["paper_prediction"]]
            paper = f"paper: {paper}" if not rows and not shown else paper  # said once
            shown.append(f"{word[row['succeeded']]} ({paper})")
        rows.append((report.AGENT_DISPLAY[agent], shown))
    return markdown("agent", list(COVERAGES.values()), rows)


def fig1_sensitivity() -> str:
    """Outcomes as the paper predicts per run: the figure's over base seeds, then the other
    step sizes and temperatures, then the base seeds' total."""
    figure = read_summary("fig1", keep_default_na=False)
    summary = pd.concat([figure, read_summary("fig1_sensitivity", keep_default_na=False)])
    summary["agrees"] = summary["succeeded"] == summary["paper_prediction"]
    rows = []
    for overrides, run in summary.groupby("overrides", sort=False):
        label = f"`{overrides}`" if overrides else "the settings above"
        rows.append((label, [f"{run['agrees'].sum()} of {len(run)}"]))
    seeds = summary.iloc[: len(figure)]  # the figure's runs, every base seed
    if seeds["run"].nunique() > 1:
        rows.append((f"the settings above, all {seeds['run'].nunique()} base seeds",
                     [f"{seeds['agrees'].sum()} of {len(seeds)}"]))  # fmt: skip
    return markdown("run", ["outcomes as the paper predicts"], rows)


def fig4_left() -> str:
    summary = read_summary("fig4_left")
    table = cells(summary, ["agent", "quantity", "active_ends"], ["predicted"])
    n = int(summary["num_pipes"].iloc[0])
    ends = list(range(n - 4, n + 1))  # the bins where the smoothing shows
    quantities = {  # the first agent's row says what the ends count
        "reward": ("predicted reward (ends now)", "predicted reward"),
        "all_ends_next": ("P(all ends next) (ends next)", "P(all ends next)"),
    }
    rows = []
    for quantity, said in quantities.items():
        for agent, what in zip(("simple_model", "gaussian_latent"), said):
            bins = table[(table["agent"] == agent) & (table["quantity"] == quantity)]
            bins = bins.set_index("active_ends")
            label = f"{agent_named(agent)}: {what}"
            rows.append((label, [show(bins.loc[k], "predicted", 3) for k in ends]))
    return markdown("active pipe-ends", [*ends[:-1], f"{n} (truth 1)"], rows)


def fig4_right() -> str:
    summary = read_summary("fig4_right")
    if "first_step" in summary:  # a seed that never gets near-optimal counts as the budget
        never = ~summary["reached"].astype(bool)
        summary = summary.assign(steps=summary["first_step"].fillna(summary["budget"]), never=never)
    keys = ["frozen_step", "probe_ends", "num_pipes"]
    table = cells(summary, keys, ["steps", "predicted"], sums=["never"])
    n, ends, pipes = (int(table[k].iloc[0]) for k in ("n", "probe_ends", "num_pipes"))
    never = [f"{int(k)}" for k in table["never"]]
    never[0] += f" of {n}"
    rows = [
        (f"steps to 95% of the optimal rate (mean ± 95% CI, {n} seeds)",
         [show(r, "steps", 0, thousands=True) for _, r in table.iterrows()]),
        ("seeds that never get there", never),
        (f"predicted reward at {ends} of {pipes} active ends",
         [show(r, "predicted", 3) for _, r in table.iterrows()]),
    ]  # fmt: skip
    steps = [f"{int(k) // 1000}k" for k in table["frozen_step"]]
    return markdown("model frozen after", steps, rows)


PARADIGM_CASES = {  # issue 13's cases in the README's order
    "network": "network (plain)", "linear": "linear", "tabular": "tabular",
    "network_gps": "network + 4 GPS bits", "linear_gps": "linear + 4 GPS bits",
    "network_iid8": "network + 8 iid bits", "network_counter8": "network + 8-bit counter",
    "linear_iid8": "linear + 8 iid bits", "linear_counter8": "linear + 8-bit counter",
}  # fmt: skip


def _case_cell(table: pd.DataFrame, case: str, agent: str, coverage: str):
    """The row of one (case, agent, coverage) of the paradigms cells, or None if not run."""
    at = table[(table["case"] == case) & (table["agent"] == agent)
               & (table["coverage"] == coverage)]  # fmt: skip
    return None if at.empty else at.iloc[0]


def paradigms() -> str:
    """Per case: each agent's fraction of evaluation cells optimal (mean ± 95% CI over
    seeds; 'S' where the agent succeeds by Figure 1's majority rule) on Path-to-Goal and
    Single-Cell ('' where the case did not run the agent: deepmdp needs a network), and the
    largest |Q_replay - Q_model| of the simple model's agents."""
    summary = read_summary("paradigms")
    table = cells(summary, ["case", "agent", "coverage"], ["fraction_optimal"], sums=["succeeded"])
    agents = offline_agents_in(table)
    columns, rows = [], []
    for coverage in ("path_to_goal", "single_cell"):
        columns += [f"{COVERAGES[coverage]}: {label}" for label in agents.values()]
    columns.append("max abs(Q_replay - Q_model)")
    for case in arms_in(table["case"], PARADIGM_CASES, "paradigms"):
        shown = []
        for coverage in ("path_to_goal", "single_cell"):
            for agent in agents:
                row = _case_cell(table, case, agent, coverage)
                if row is None:
                    shown.append("")
                    continue
                mark = " S" if row["succeeded"] == row["n"] else ""
                shown.append(show(row, "fraction_optimal", 2) + mark)
        simple = summary["agent"].isin(["model_1step", "model_10step"])
        shown.append(f"{summary[(summary['case'] == case) & simple]['max_abs_q_gap'].max():.2f}")
        rows.append((PARADIGM_CASES[case], shown))
    n = int(table["n"].min())
    return markdown(f"case ({n} seeds)", columns, rows)


def paradigms_outcomes() -> str:
    """The 12 outcomes of Figure 1 per learner (Parr's prediction c): tabular and linear from
    experiment=paradigms, the networks from Figure 1's cpu run; each with the mean fraction
    of evaluation cells right."""
    summary = read_summary("paradigms")
    table = cells(summary, ["case", "agent", "coverage"], ["fraction_optimal"], sums=["succeeded"])
    figure1 = read_summary("fig1", keep_default_na=False)
    figure1 = figure1[figure1["overrides"] == ""].set_index(["agent", "coverage"])
    word = {True: "succeeds", False: "fails"}
    rows = []
    for learner in ("network", "tabular", "linear"):
        for agent in FIG1_AGENTS:
            shown = []
            for coverage in COVERAGES:
                if learner == "network":  # Figure 1 itself
                    succeeded = figure1.loc[(agent, coverage), "succeeded"]
                    shown.append(word[succeeded in (True, "True")])
                    continue
                row = _case_cell(table, learner, agent, coverage)
                if row is None:
                    shown.append("not run")
                    continue
                outcome = word[bool(row["succeeded"] == row["n"])]
                shown.append(f"{outcome} ({row['fraction_optimal_mean']:.2f})")
            rows.append((f"{learner}: {report.AGENT_DISPLAY[agent]}", shown))
    return markdown("learner: agent", list(COVERAGES.values()), rows)


MAZES = {"plain": "plain", "gps": "4 GPS bits", "iid16": "16 iid bits",
         "counter16": "16-bit counter"}  # fmt: skip


def paradigms_online() -> str:
    """Issue 13 online: each agent's final score per maze (ProcMaze levels as rows' prefix),
    and the model agents against ER on that maze: ahead / behind / too small to tell."""
    summary = read_summary("paradigms_online")
    table = cells(summary, ["complexity", "arm", "agent"], ["final_score"])
    table["mean"], table["ci95"] = table["final_score_mean"], table["final_score_ci95"]
    mazes = arms_in(table["arm"], MAZES, "paradigms_online")
    rows = []
    for size in sorted(set(table["complexity"])):
        at = table[table["complexity"] == size]
        for agent in agents_in(at):
            shown = []
            for maze in mazes:
                here = at[at["arm"] == maze].set_index("agent")
                if agent not in here.index:
                    shown.append("")
                    continue
                row = here.loc[agent]
                er = _against(row, here.loc["er"]) if agent != "er" and "er" in here.index else ""
                shown.append(show(row, "final_score", 2) + (f" ({er})" if er else ""))
            rows.append((f"{envs.display('procmaze')} {size}, {agent_named(agent)}", shown))
    n = int(table["n"].min())
    return markdown(f"agent ({n} seeds; vs ER)", [MAZES[m] for m in mazes], rows)


# Issue 14's arms (configs/design/): label, the agent's paper arm it changes one choice of.
DYNA_ARMS = {
    "er": (agents.display("er"), None),
    "er_prioritized": ("ER, prioritized replay (alpha 0.6)", "er"),
    "simple": (agents.display("simple_model"), None),
    "simple_replayed": ("simple model, replayed first action", "simple"),
    "simple_mean": ("simple model, mean next observation", "simple"),
    "simple_expected": ("simple model, target over 4 samples", "simple"),
    "simple_prioritized": ("simple model, prioritized starts (alpha 0.6)", "simple"),
    "perfect": (agents.display("perfect_model"), None),
    "perfect_replayed": ("perfect model, replayed first action", "perfect"),
    "simple_1step": ("simple model, 1-step rollouts", None),
    "simple_mean_1step": ("simple model, 1-step, mean next observation", "simple_1step"),
    "simple_expected_1step": ("simple model, 1-step, target over 4 samples", "simple_1step"),
}


def _against(a, b) -> str:
    return "" if a is None or b is None else claims.versus(a, b)


def dyna_design(name: str = "dyna_design") -> str:
    """Each arm's final score per level, then against the paper's arm of its agent and, for
    the model arms, against ER (the paper's gap): ahead / behind / too small to tell."""
    summary = read_summary(name)
    table = cells(summary, ["env", "complexity", "arm"], ["final_score"])
    table["mean"], table["ci95"] = table["final_score_mean"], table["final_score_ci95"]
    levels = sorted({(e, c) for e, c in zip(table["env"], table["complexity"])})
    rows = []
    for arm in arms_in(table["arm"], DYNA_ARMS, name):
        label, base = DYNA_ARMS[arm]
        shown = []
        for env, size in levels:
            at = table[(table["env"] == env) & (table["complexity"] == size)].set_index("arm")
            if arm not in at.index:
                shown += ["", "", ""]
                continue
            row = at.loc[arm]
            score = show(row, "final_score", 3)
            paper = _against(row, at.loc[base]) if base in at.index else ""
            vs_er = not arm.startswith("er") and "er" in at.index
            er = _against(row, at.loc["er"]) if vs_er else ""
            shown += [score, paper or "-", er or "-"]
        rows.append((label, shown))
    columns = []
    for env, size in levels:
        name = f"{envs.display(env)} {size}"
        columns += [f"{name} final score", "vs the paper's arm", "vs ER"]
    return markdown("arm", columns, rows)


def dyna_design_offline() -> str:
    """Figure 1's outcomes with replayed first actions beside the policy's (fig1 summary)."""
    fig1_rows = read_summary("fig1", keep_default_na=False)
    fig1_rows = fig1_rows[fig1_rows["overrides"] == ""]
    replayed = read_summary("dyna_design_offline", keep_default_na=False)
    both = pd.concat([fig1_rows, replayed], ignore_index=True).set_index(["agent", "coverage"])
    word = {True: "succeeds", False: "fails"}
    rows = []
    for agent in (*FIG1_AGENTS, "model_1step_replayed", "model_10step_replayed"):
        cells_ = []
        for coverage in COVERAGES:
            if (agent, coverage) not in both.index:
                cells_.append("not run")
                continue
            row = both.loc[(agent, coverage)]
            worst = row["worst_fraction_optimal"]
            shown = f" ({float(worst):.0%})" if str(worst) not in ("", "nan") else ""
            cells_.append(f"{word[str(row['succeeded']) == 'True']}{shown}")
        rows.append((report.AGENT_DISPLAY[agent], cells_))
    return markdown("agent", list(COVERAGES.values()), rows)


FAMILY_ARMS = {  # configs/family/
    "er": agents.display("er"),
    "simple_model": agents.display("simple_model"),
    "ensemble": "ensemble of 5 (trajectory sampling)",
    "mpc": "MPC, random shooting (16 sequences x 3 steps)",
    "slbo": "simple model, 5-step model training",
    "mbpo": "simple model, branched rollouts 1 -> 10 steps",
    "cem": "MPC, CEM (2 rounds of 8 sequences x 3 steps)",
    "plan2explore": "ensemble of 5, disagreement bonus 10 -> 0 over 2,500 updates",
    "simple_lambda": "simple model, lambda-returns (lambda 0.8)",
    "categorical_latent": agents.display("categorical_latent"),
    "categorical_lambda": "categorical latent, lambda-returns (lambda 0.8)",
}


def model_families() -> str:
    """Arms down; across: the final score per level, the open-loop bit accuracy at step 10
    per level, and PanFlute's predicted reward at n-1 active ends (truth 0): mean ± 95% t
    half-width over seeds, in bold where ahead of every other arm by the claims' rule."""
    scores = cells(read_summary("model_families"), ["env", "complexity", "arm"],
                   ["final_score"]).rename(columns=lambda c: c.replace("final_score", "v"))
    scores["column"] = [f"{envs.display(e)} {c}: final score" for e, c in
                        zip(scores["env"], scores["complexity"])]
    accuracy = read_summary("model_families_accuracy")
    accuracy = cells(accuracy[accuracy["step"] == accuracy["step"].max()], ["level", "arm"],
                     ["accuracy"]).rename(columns=lambda c: c.replace("accuracy", "v"))
    accuracy["column"] = [f"{provenance.level_name(lv)}: 10-step bit accuracy"
                          for lv in accuracy["level"]]
    bins = read_summary("model_families_smoothing")
    bins = bins[(bins["quantity"] == "reward") & (bins["active_ends"] == bins["num_pipes"] - 1)]
    smooth = cells(bins, ["num_pipes", "arm"], ["predicted"]).rename(
        columns=lambda c: c.replace("predicted", "v"))
    smooth["column"] = [f"PanFlute {n}: reward predicted at {n - 1} ends (truth 0)"
                        for n in smooth["num_pipes"]]
    table = pd.concat([scores, accuracy, smooth], ignore_index=True)
    columns = list(dict.fromkeys(table["column"]))
    shown = {}
    for column, at in table.groupby("column"):
        lower = "predicted" in column  # less smoothing is better
        ranked = at.assign(v_mean=-at["v_mean"]) if lower else at
        best = ahead_of_all(ranked, "v")
        for index, row in at.iterrows():
            text = show(row, "v", 3)
            shown[row["arm"], column] = f"**{text}**" if index == best else text
    rows = [(FAMILY_ARMS[arm], [shown.get((arm, c), "") for c in columns])
            for arm in arms_in(table["arm"], FAMILY_ARMS, "model_families")]
    return markdown("arm", columns, rows)
def deepmdp_check() -> str:
    """ER, the simple model and deepmdp (experiment=deepmdp_check): final score and the mean
    score over the whole run (how fast each learned)."""
    measures = [("final_score", ""), ("whole_run_score", "mean over the whole run: ")]
    return agents_by_level(read_summary("deepmdp_check"), measures, digits=3)


TABLES = {
    "fig1": fig1,
    "fig1_sensitivity": fig1_sensitivity,
    "fig3": fig3,
    "fig4_left": fig4_left,
    "fig4_right": fig4_right,
    "appendix_c": appendix_c,
    "ablation_rollout": ablation_rollout,
    "ablation_spontaneous": ablation_spontaneous,
    "quickstart": quickstart,
    "fidelity": fidelity,
    "paradigms": paradigms,
    "dyna_design": dyna_design,
    "dyna_design_offline": dyna_design_offline,
    "dyna_expectation": partial(dyna_design, "dyna_expectation"),
    "paradigms_online": paradigms_online,
    "paradigms_outcomes": paradigms_outcomes,
    "model_families": model_families,
    "deepmdp_check": deepmdp_check,
}


def documents() -> list[Path]:
    """README.md and the Markdown pages of docs/, the files that may mark tables."""
    readme, docs = DOCUMENTS
    return [readme, *sorted(docs.rglob("*.md"))]


def regenerate(text: str, where: str = "README.md") -> str:
    """A document's text with every marked table made afresh from the summaries."""

    def table(match):
        name = match.group(2)
        if name not in TABLES:
            fail(f"{where} marks an unknown table {name!r}; known: {', '.join(TABLES)}.")
        return match.group(1) + TABLES[name]() + match.group(4)

    return BLOCK.sub(table, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summarize = commands.add_parser("summarize", help="a results tree -> its summary CSV")
    summarize.add_argument("name", choices=list(SUMMARIZE))
    summarize.add_argument("tree", type=Path, help="the experiment's results directory")
    summarize.add_argument("--out", type=Path, help="default: results/summaries/NAME.csv")
    commands.add_parser("write", help="rewrite the tables of README.md and docs/")
    commands.add_parser("check", help="exit 1 if a table of README.md or docs/ is stale")
    args = parser.parse_args()
    if args.command == "summarize":
        if not args.tree.is_dir():
            fail(f"tree must be an existing results directory; got {str(args.tree)!r}.")
        out = args.out or SUMMARIES / f"{args.name}.csv"
        print(f"wrote {out}: {write_summary(args.name, args.tree, out)} rows")
        return
    stale = []
    for path in documents():
        text = path.read_text()
        made = regenerate(text, str(path))
        if made == text:
            continue
        stale.append(str(path))
        if args.command == "write":
            results.write_text(made, path)
            print(f"wrote {path}: {len(BLOCK.findall(made))} tables")
    if args.command == "check" and stale:
        print(f"the tables of {', '.join(stale)} differ from results/summaries/: run "
              "`python scripts/readme_tables.py write`", file=sys.stderr)  # fmt: skip
        sys.exit(1)


if __name__ == "__main__":
    main()
