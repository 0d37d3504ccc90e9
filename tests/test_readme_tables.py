"""scripts/readme_tables.py: the results tables of README.md and docs/ are made from the
committed summaries, and a summary is made from a finished results tree."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.offline.prediction import PAPER_PREDICTION

sys.path.insert(0, "scripts")
import readme_tables  # noqa: E402


def test_the_tables_of_the_readme_and_docs_are_made_from_the_committed_summaries():
    marked = []
    for path in readme_tables.documents():
        text = path.read_text()
        marked += re.findall(r"<!-- table:(\w+) -->", text)
        assert readme_tables.regenerate(text, str(path)) == text, path
    assert sorted(marked) == sorted(readme_tables.TABLES)  # each table once, none unmarked
    assert Path("docs/figures/figure3.md") in readme_tables.documents()  # docs/ is covered


def docs_copy(tmp_path, monkeypatch, edit=lambda text: text):
    """README.md and docs/ copied into tmp_path, the working directory; `edit` changes the
    Figure 3 page."""
    monkeypatch.setattr(readme_tables, "SUMMARIES", Path("results/summaries").resolve())
    shutil.copy("README.md", tmp_path / "README.md")
    shutil.copytree("docs", tmp_path / "docs", symlinks=True)
    page = tmp_path / "docs/figures/figure3.md"
    page.write_text(edit(page.read_text()))
    monkeypatch.chdir(tmp_path)
    return page


def tables(command: str, monkeypatch) -> int:
    monkeypatch.setattr(sys, "argv", ["readme_tables.py", command])
    with pytest.raises(SystemExit) as done:
        readme_tables.main()
        sys.exit(0)
    return done.value.code


def test_check_fails_where_a_docs_page_differs_and_write_mends_it(tmp_path, monkeypatch, capsys):
    page = docs_copy(tmp_path, monkeypatch,
                     lambda text: text.replace("| 0.375 ± 0.109 |", "| 0.376 ± 0.109 |"))
    readme = Path("README.md").read_text()
    assert tables("check", monkeypatch) == 1
    assert "docs/figures/figure3.md" in capsys.readouterr().err
    assert tables("write", monkeypatch) == 0
    assert "| 0.375 ± 0.109 |" in page.read_text()
    assert Path("README.md").read_text() == readme  # only the stale page is rewritten
    assert tables("check", monkeypatch) == 0


def test_a_page_that_marks_an_unknown_table_is_refused_by_name(tmp_path, monkeypatch, capsys):
    docs_copy(tmp_path, monkeypatch, lambda text: text + "<!-- table:nope -->\n<!-- /table -->\n")
    assert tables("check", monkeypatch) == 2
    assert "docs/figures/figure3.md marks an unknown table 'nope'" in capsys.readouterr().err


def online_run(tree: Path, name: str, agent: str, scores: dict, size=3, random=-14.0):
    """A finished run of `agent` on OpenGrid `size`: scores = {member: [score per eval]}."""
    run_dir = tree / name
    run_dir.mkdir(parents=True)
    rows = [
        dict(member=m, step=100 * (i + 1), score=s, diverged=False, env="opengrid",
             complexity=size, agent=agent, regime="high_data", scale="cpu")
        for m, series in scores.items() for i, s in enumerate(series)
    ]  # fmt: skip
    pd.DataFrame(rows).to_parquet(run_dir / "metrics.parquet")
    (run_dir / "config.yaml").write_text(yaml.safe_dump({"agent": {"name": agent}}))
    (run_dir / "summary.json").write_text(json.dumps({"random_policy_score": random}))


def test_an_online_summary_holds_final_and_whole_run_scores_per_seed(tmp_path, monkeypatch):
    tree = tmp_path / "appendix_c"
    # 10 evaluations: the final score is the last one (10%), the whole-run score their mean.
    online_run(tree, "er", "er", {0: [-10.0] * 9 + [-4.0], 1: [-20.0] * 9 + [-6.0]})
    online_run(tree, "simple", "simple_model", {0: [-8.0] * 10, 1: [-8.0] * 10})
    online_run(tree / "unfinished", "er", "er", {0: [0.0] * 10})
    (tree / "unfinished" / "er" / "summary.json").unlink()
    out = tmp_path / "summaries" / "appendix_c.csv"
    assert readme_tables.write_summary("appendix_c", tree, out) == 4
    assert out.read_text().startswith("# appendix_c: made by `python scripts/readme_tables.py")
    seeds = pd.read_csv(out, comment="#").set_index(["run", "member"])
    assert seeds.loc[("er", 1), "final_score"] == -6.0
    assert seeds.loc[("er", 1), "whole_run_score"] == pytest.approx(-18.6)
    assert seeds.loc[("simple", 0), "random_policy_score"] == -14.0

    monkeypatch.setattr(readme_tables, "SUMMARIES", out.parent)
    table = readme_tables.appendix_c()
    # ER's final: mean -5, half-width t(1) * sd / sqrt(2) = 12.706 * 1.414 / 1.414 = 12.71.
    assert "| ER | -5.00 ± 12.71 |" in table
    # The simple model's seeds agree: no interval to show. ER's whole run: seeds -9.4 and
    # -18.6, mean -14, half-width 12.706 * 9.2 / 2 = 58.45.
    assert "| simple model | -8.00 |" in table
    assert "| mean return over the whole run: ER | -14.00 ± 58.45 |" in table
    assert "| uniform random policy | -14 |" in table and "**" not in table


def test_the_agent_ahead_of_every_other_is_bold(tmp_path, monkeypatch):
    tree = tmp_path / "fig3"
    online_run(tree, "er", "er", {0: [1.0] * 10, 1: [1.1] * 10, 2: [0.9] * 10})
    online_run(tree, "simple", "simple_model", {0: [2.0] * 10, 1: [2.1] * 10, 2: [1.9] * 10})
    readme_tables.write_summary("fig3", tree, tmp_path / "fig3.csv")
    monkeypatch.setattr(readme_tables, "SUMMARIES", tmp_path)
    table = readme_tables.fig3()
    assert "| simple model | **2.000 ± 0.248** |" in table and "| ER | 1.000 ± 0.248 |" in table


def test_a_table_names_every_registered_agent_and_stops_at_an_unknown_one(
    tmp_path, monkeypatch, capsys
):
    """mpc has no colour in the figures' order, and is shown after the paper's agents; an agent
    no module registers stops the table with one sentence (exit 2) instead of losing its row."""
    tree = tmp_path / "fig3"
    online_run(tree, "mpc", "mpc", {0: [2.0] * 10, 1: [2.0] * 10})
    online_run(tree, "er", "er", {0: [1.0] * 10, 1: [1.0] * 10})
    readme_tables.write_summary("fig3", tree, tmp_path / "fig3.csv")
    monkeypatch.setattr(readme_tables, "SUMMARIES", tmp_path)
    table = readme_tables.fig3()
    assert table.index("| ER |") < table.index("| MPC |")
    summary = pd.read_csv(tmp_path / "fig3.csv", comment="#")
    summary.loc[summary["agent"] == "mpc", "agent"] = "dreamer"
    summary.to_csv(tmp_path / "fig3.csv", index=False)
    with pytest.raises(SystemExit) as stopped:
        readme_tables.fig3()
    assert stopped.value.code == 2
    assert "names agent 'dreamer', which is not registered" in capsys.readouterr().err


def test_an_offline_table_names_its_agents_in_figure1s_order_and_stops_at_an_unknown_one(
    capsys,
):
    table = pd.DataFrame({"agent": ["deepmdp_10step", "dqn", "dqn"]})
    assert readme_tables.offline_agents_in(table) == {
        "dqn": "DQN on the dataset", "deepmdp_10step": "DeepMDP, 10-step rollouts"}
    with pytest.raises(SystemExit) as stopped:
        readme_tables.offline_agents_in(pd.DataFrame({"agent": ["dqn", "dreamer_10step"]}))
    assert stopped.value.code == 2 and "'dreamer_10step'" in capsys.readouterr().err


def test_a_study_table_lists_its_arms_in_its_order_and_stops_at_one_it_cannot_label(capsys):
    labels = {"er": "ER", "simple_model": "simple model"}
    assert readme_tables.arms_in(["simple_model", "er", "er"], labels, "model_families") == [
        "er", "simple_model"]
    with pytest.raises(SystemExit) as stopped:
        readme_tables.arms_in(["er", "cem"], labels, "model_families")
    assert stopped.value.code == 2
    assert "the model_families summary holds arm 'cem'" in capsys.readouterr().err


def test_a_figure1_summary_tells_the_figure_from_the_sensitivity_runs(tmp_path, monkeypatch):
    tree = tmp_path / "fig1"
    runs = (("fig1-cpu", 0, 1.0, False), ("fig1-cpu-seed1", 1, 1.0, True),
            ("fig1-cpu-tau2", 0, 2.0, True))  # fmt: skip
    for name, seed, temperature, flipped in runs:
        run_dir = tree / name
        run_dir.mkdir(parents=True)
        config = {"scale": {"name": "cpu"}, "step_size": 3.0000001e-4, "temperature": temperature,
                  "seed": seed, "offline": {"step_size": 3e-4, "temperature": 1.0}}  # fmt: skip
        (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
        outcomes = pd.DataFrame(
            [dict(agent=a, coverage=c, succeeded=p != (flipped and a == "dqn"),
                  paper_prediction=p, worst_fraction_optimal=0.5)
             for (a, c), p in PAPER_PREDICTION.items()]
        )  # fmt: skip
        outcomes.to_parquet(run_dir / "outcomes.parquet")
        (run_dir / "summary.json").write_text("{}")
    assert readme_tables.write_summary("fig1", tree, tmp_path / "fig1.csv") == 24  # 2 seeds
    sensitivity_csv = tmp_path / "fig1_sensitivity.csv"
    assert readme_tables.write_summary("fig1_sensitivity", tree, sensitivity_csv) == 12
    monkeypatch.setattr(readme_tables, "SUMMARIES", tmp_path)
    sensitivity = readme_tables.fig1_sensitivity()
    assert "| the settings above | 12 of 12 |" in sensitivity
    assert "| `seed=1` | 8 of 12 |" in sensitivity  # DQN's four flipped
    assert "| `temperature=2` | 8 of 12 |" in sensitivity
    assert "| the settings above, all 2 base seeds | 20 of 24 |" in sensitivity
    assert "| DQN on the dataset | succeeds (paper: succeeds) | fails (fails) |" in (
        readme_tables.fig1()
    )


def test_figure4_right_counts_a_seed_that_never_gets_there_as_the_budget(tmp_path, monkeypatch):
    nan = float("nan")
    rows = [
        dict(frozen_step=k, member=m, first_step=f, reached=f == f, predicted=p,
             probe_ends=3, budget=10_000, num_pipes=5, scale="cpu")
        for k, firsts, p in ((2000, [2000, nan], 0.1), (5000, [3000, 5000], 0.0))
        for m, f in enumerate(firsts)
    ]  # fmt: skip
    tree = tmp_path / "fig4_frozen"
    tree.mkdir()
    pd.DataFrame(rows).to_parquet(tree / "figure4_right.parquet")
    readme_tables.write_summary("fig4_right", tree, tmp_path / "fig4_right.csv")
    monkeypatch.setattr(readme_tables, "SUMMARIES", tmp_path)
    table = readme_tables.fig4_right()
    # 2k: (2,000 + 10,000) / 2 = 6,000 ± t(1) * 4,000 = 12.7062 * 4,000; 5k: 4,000 ± 12,706.
    assert "| 6,000 ± 50,825 | 4,000 ± 12,706 |" in table
    assert "| seeds that never get there | 1 of 2 | 0 |" in table
    assert "| predicted reward at 3 of 5 active ends | 0.100 | 0.000 |" in table


def test_summarize_refuses_a_tree_without_results(tmp_path):
    done = subprocess.run(
        [sys.executable, "scripts/readme_tables.py", "summarize", "fig3", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("error: no finished results")


def test_the_fidelity_table_shows_a_switch_run_alone_in_its_own_column(tmp_path, monkeypatch):
    rows = []
    for name, scores in (("fixed", [1.0, 1.1, 0.9]), ("authors", [5.0, 5.1, 4.9]),
                         ("clipped_logit", [3.0, 3.1, 2.9])):  # fmt: skip
        for member, score in enumerate(scores):
            rows.append({"env": "procmaze", "complexity": 2, "agent": "simple_model",
                         "fidelity.name": name, "member": member, "final_score": score,
                         "random_policy_score": -5.9, "total_steps": 6000})  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "fidelity.csv", index=False)
    monkeypatch.setattr(readme_tables, "SUMMARIES", tmp_path)
    lines = readme_tables.fidelity().splitlines()
    assert lines[0] == ("| level, agent | steps | `fixed` | `authors` | `fixed` + `clipped_logit` "
                        "alone | uniform random policy |")
    assert lines[2] == "| ProcMaze 2, simple model | 6k | 1 ± 0.25 | 5 ± 0.25 | 3 ± 0.25 | -5.9 |"



def test_every_link_of_the_readme_is_a_file_of_the_repository():
    """mkdocs build --strict checks the links of docs/ (.ci/run); this checks README.md's,
    which point into docs/ and results/ and never outside the repository."""
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", Path("README.md").read_text())
    local = [link for link in links if "://" not in link]
    assert "docs/adding-an-agent.md" in local and "results/figures/quickstart_cpu.png" in local
    root = Path(".").resolve()
    for link in local:
        target = (root / link).resolve()
        assert target.is_relative_to(root) and target.exists(), link
