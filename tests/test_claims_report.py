"""The claims report from the committed records (scripts/claims_report.py) and the provenance
the summarizer writes beside each record (experiments/provenance.py)."""

import datetime
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments import provenance
from experiments.analysis import claims

sys.path.insert(0, "scripts")
import claims_report  # noqa: E402
import readme_tables  # noqa: E402

RECORDS = Path("results/summaries")
# The pages of docs/ that show each figure and study (the docs site's own layout).
PAGES = {f"figures/{p}.md" for p in ("figure1", "figure3", "figure4-left", "figure4-right",
                                     "appendix-c", "appendix-i")} | {
    f"studies/{p}.md" for p in ("paradigms", "dyna-design", "model-families", "deepmdp",
                                "fidelity", "dream", "lambda-returns",
                                "implicit-models")}  # fmt: skip


@pytest.fixture(scope="module")
def judged():
    """Every claim judged on the committed records, and the lines on their provenance."""
    return claims_report.from_records(RECORDS)


def test_the_committed_reports_are_what_the_committed_records_give(judged):
    verdicts, sources = judged
    for out in claims_report.OUTPUTS:
        text = claims_report.markdown(claims_report.with_links(verdicts, out, Path("docs")),
                                      sources)
        assert out.read_text() == text, f"{out} is stale: run `python scripts/claims_report.py`"


def test_every_claim_reads_a_committed_record_and_links_its_page():
    for claim in claims.CLAIMS:
        record = claims.RECORDS[claim.reads]
        assert (RECORDS / f"{record.name}.csv").exists() and record.page in PAGES, claim.text


def test_links_are_relative_to_each_report(judged):
    verdicts, _ = judged
    first = claims.CLAIMS.index(next(c for c in claims.CLAIMS if c.source == "Figure 3"))
    for out, link in ((Path("results/claims.md"), "../docs/figures/figure3.md"),
                      (Path("docs/claims.md"), "figures/figure3.md")):  # fmt: skip
        linked = claims_report.with_links(verdicts, out, Path("docs"))[first]
        assert linked.source == f"[Figure 3]({link})"


def test_a_claim_without_its_record_is_not_run_and_names_the_command(tmp_path):
    (tmp_path / "appendix_c.csv").write_text((RECORDS / "appendix_c.csv").read_text())
    verdicts, sources = claims_report.from_records(tmp_path)
    by_text = {v.claim: v for v in verdicts}
    opengrid = by_text["OpenGrid (no factored structure): ER is ahead of the simple model at "
                       "most levels"]
    # Its record is there (without provenance): judged, ER and the simple model not separated.
    assert opengrid.verdict == claims.TOO_SMALL and opengrid.scale == "not recorded"
    assert f"`{tmp_path}/appendix_c.csv`: no provenance recorded" in sources
    assert f"`{tmp_path}/fig3.csv`: not committed" in sources
    others = [v for v in verdicts if v is not opengrid]
    assert all(v.verdict == claims.NOT_RUN and v.scale == "-" for v in others)
    fig3 = by_text[claims.CLAIMS[4].text]
    assert fig3.measured.endswith(
        "made by `mbgen -m experiment=fig3 scale=paper regime=high_data,low_data`, then "
        "`python scripts/readme_tables.py summarize fig3 results/fig3`"
    )


def test_check_exits_1_on_a_stale_report_and_writes_nothing(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "claims.md"
    stale.write_text("old\n")
    monkeypatch.setattr(sys, "argv", ["claims_report.py", "--check", "--out", str(stale)])
    with pytest.raises(SystemExit) as done:
        claims_report.main()
    assert done.value.code == 1 and "differ from the records" in capsys.readouterr().err
    assert stale.read_text() == "old\n"


def test_the_scale_of_a_record_in_words():
    meta = {"scale": {"name": "cpu", "seeds": 5, "steps": 6000, "networks": "64x64",
                      "levels": "ProcMaze 2"}}  # fmt: skip
    assert claims_report.scale_text(meta) == "cpu: 5 seeds, 6k steps, 64x64 networks; ProcMaze 2"
    offline = {"scale": {"name": "cpu", "seeds": 5, "steps": "10,000 model steps"}}
    assert claims_report.scale_text(offline) == (
        "cpu: 5 seeds, 10,000 model steps, not recorded networks"
    )
    assert claims_report.scale_text({}) == "not recorded"


def test_an_offline_record_names_figure_1s_grid_world_as_its_level():
    offline = {"kind": "offline_gridworld", "scale": {"name": "cpu", "num_seeds": 5}}
    assert provenance.run_scale([offline])["levels"] == "Figure 1's 3x3 grid world"
    assert "levels" not in provenance.run_scale([{"scale": {"name": "cpu", "num_seeds": 5}}])


def test_every_committed_record_says_where_it_came_from():
    csvs = sorted(RECORDS.glob("*.csv"))
    assert len(csvs) == 26
    for csv in csvs:
        assert not pd.read_csv(csv, comment="#").empty
        meta = provenance.read(csv)
        assert meta["record"] == csv.name, csv
        assert meta["summarized_by"].startswith(f"python scripts/readme_tables.py summarize "
                                                f"{csv.stem} "), csv  # fmt: skip
        assert meta["runs"].startswith("mbgen") and meta["machine"], csv
        assert datetime.date.fromisoformat(str(meta["date"])), csv
        assert {"commit", "clean"} <= set(meta["code"]), csv
        assert {"name", "seeds", "steps", "networks", "levels"} <= set(meta["scale"]), csv
        if "backfilled" in meta:  # runs from before records said where they came from
            assert "git log" in meta["backfilled"], csv
        else:
            assert meta["summarized"] and meta["code"]["commit"] != "not recorded", csv


def test_the_records_that_share_procmaze_2_seeds_say_so_and_do():
    """paradigms_online's plain maze, model_families' er and simple_model arms and fidelity's
    fixed ProcMaze 2 runs at 6k steps are the same runs: equal scores, seed by seed."""

    def read(name):
        return pd.read_csv(RECORDS / f"{name}.csv", comment="#")

    online, families, fidelity = read("paradigms_online"), read("model_families"), read("fidelity")
    families = families[families["env"] == "procmaze"].rename(columns={"arm": "agent"})
    fidelity = fidelity[(fidelity["complexity"] == 2) & (fidelity["fidelity.name"] == "fixed")
                        & (fidelity["total_steps"] == 6000)]  # fmt: skip
    for agent in ("er", "simple_model"):
        scores = [
            t.loc[t["agent"] == agent].sort_values("member")["final_score"].tolist()
            for t in (online[online["arm"] == "plain"], families, fidelity)
        ]
        assert len(scores[0]) == 5 and scores[0] == scores[1] == scores[2], agent
    names = {"paradigms_online", "model_families", "fidelity"}
    for name in names:
        shared = provenance.read(RECORDS / f"{name}.csv")["shares_runs_with"]
        # planners, lambda_returns and implicit_online (issue 39) ran model_families' mpc,
        # er and simple_model arms again: the same seeds
        assert set(shared) - {"planners", "lambda_returns", "implicit_online"} == (
            names - {name}), name
    for csv in RECORDS.glob("*.csv"):  # every sidecar as the records give it
        assert provenance.read(csv).get("shares_runs_with", []) == provenance.shared_runs(csv)


def test_records_share_runs_where_a_seed_measured_the_same(tmp_path):
    seed = dict(env="procmaze", complexity=2, member=0, final_score=-2.0, whole_run_score=-9.0)
    tables = {"a": [seed], "b": [seed, {**seed, "member": 1}],
              "c": [{**seed, "whole_run_score": -8.0}],  # the same final score only
              "d": [{k: v for k, v in seed.items() if k != "whole_run_score"}]}  # fmt: skip
    for name, rows in tables.items():
        (tmp_path / f"{name}.csv").write_text("# made by hand\n" + pd.DataFrame(rows).to_csv())
    assert provenance.shared_runs(tmp_path / "a.csv") == ["b"]
    assert provenance.shared_runs(tmp_path / "c.csv") == provenance.shared_runs(
        tmp_path / "d.csv") == []


def finished_run(tree: Path, name: str, config: dict, finished: bool = True) -> None:
    run_dir = tree / name
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    if finished:
        (run_dir / "summary.json").write_text("{}")


def test_summarize_writes_the_provenance_of_its_runs(tmp_path, monkeypatch):
    tree, out = tmp_path / "fig3", tmp_path / "summaries" / "fig3.csv"
    for agent in ("er", "simple_model"):
        config = {"level": "panflute-3", "total_steps": 15000, "agent": {"hidden": [64, 64]},
                  "scale": {"name": "cpu", "num_seeds": 3}}  # fmt: skip
        finished_run(tree, f"agent={agent},experiment=fig3,level=panflute-3", config)
    finished_run(tree, "agent=mpc,experiment=fig3,level=panflute-9", {}, finished=False)
    finished_run(tree, "agent=er,experiment=fig3,level=panflute-3,scale=paper", {})  # left out
    names = [f"agent={a},experiment=fig3,level=panflute-3" for a in ("er", "simple_model")]
    rows = pd.DataFrame({"run": names, "final_score": [0.1, 0.2]})
    monkeypatch.setitem(readme_tables.SUMMARIZE, "fig3", lambda t: rows)
    assert readme_tables.write_summary("fig3", tree, out) == 2

    assert pd.read_csv(out, comment="#").equals(rows)
    assert out.read_text().splitlines()[0].endswith("its provenance: fig3.meta.yaml")
    meta = provenance.read(out)
    assert meta["runs"] == "mbgen -m agent=er,simple_model experiment=fig3 level=panflute-3"
    assert meta["summarized_by"] == f"python scripts/readme_tables.py summarize fig3 {tree}"
    assert meta["scale"] == {"name": "cpu", "seeds": 3, "steps": 15000, "networks": "64x64",
                             "levels": "PanFlute 3"}  # fmt: skip
    assert meta["date"] == f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d}"
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    assert meta["code"]["commit"] == head and meta["code"]["clean"] in (True, False)
    assert meta["machine"] and "backfilled" not in meta


def test_the_command_of_runs_named_by_their_overrides():
    names = ["agent=er,level=procmaze-2", "agent=simple_model,level=procmaze-2",
             "agent.hidden=[64,64],agent=er,level=procmaze-4", "fig1-cpu",
             "+family=er,level=panflute-4-86c51145"]  # a sweep member ends in its fingerprint
    assert provenance.sweep_command(names) == (
        "mbgen -m agent=er,simple_model level=procmaze-2; "
        "mbgen agent.hidden=[64,64] agent=er level=procmaze-4; "
        "mbgen +family=er level=panflute-4; runs fig1-cpu"
    )
