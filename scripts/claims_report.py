"""Every claim of experiments.analysis.claims judged on the committed records: measured
numbers, the concrete scale they were measured at, a link to the page that shows the figure,
and one verdict of PASS / FAIL / TOO SMALL TO TELL / NOT RUN / NOT JUDGED.

python scripts/claims_report.py            # results/summaries/ -> results/claims.md, docs/claims.md
python scripts/claims_report.py --check    # exit 1 where either file differs from the records
python scripts/claims_report.py --runs results --out /tmp/claims.md   # local run folders instead

Links to the docs pages are written relative to each output file, so the one table serves
results/claims.md and docs/claims.md. A claim whose record is missing, or holds no cell the
claim is about, says NOT RUN and names the command that makes it; local run folders are read
only when --runs asks, and that report is never written over the committed ones by default.
"""

import argparse
import math
import os
import sys
from pathlib import Path

import pandas as pd
import yaml

from experiments import provenance, results
from experiments.analysis import claims
from experiments.cli import fail

RECORDS = Path("results/summaries")
DOCS = Path("docs")
OUTPUTS = (Path("results/claims.md"), DOCS / "claims.md")


# ----------------------------------------------------------------------------- committed records


def read_record(records: Path, name: str) -> tuple[pd.DataFrame, dict]:
    """A summary CSV (its `#` lines are comments) and its provenance sidecar, or empty."""
    path = records / f"{name}.csv"
    table = pd.read_csv(path, comment="#") if path.exists() else pd.DataFrame()
    return table, provenance.read(path)


def judged_table(summary: pd.DataFrame, reads) -> pd.DataFrame:
    """The table a claim's judge reads, from a record: cell statistics for online runs; for
    an offline experiment (Figure 1), the rows of its run without overrides."""
    if isinstance(reads, claims.Runs):  # empty or not: the judges read its columns
        finals = claims.largest_scale(summary)
        return claims.cell_stats(finals, extra=list(reads.extra))
    if isinstance(reads, claims.RunTable) and "overrides" in summary:
        return summary[summary["overrides"].isna()].reset_index(drop=True)
    return summary


def scale_text(meta: dict) -> str:
    """A record's scale in words, from its provenance: `cpu: 5 seeds, 6k steps, 64x64
    networks; ProcMaze 2`."""
    scale = meta.get("scale") or {}
    if not scale:
        return "not recorded"
    steps = scale.get("steps", "not recorded")
    if isinstance(steps, int):
        steps = f"{steps / 1000:g}k steps" if steps >= 1000 else f"{steps} steps"
    parts = [f"{scale.get('seeds', 'not recorded')} seeds", f"{steps}",
             f"{scale.get('networks', 'not recorded')} networks"]  # fmt: skip
    levels = f"; {scale['levels']}" if scale.get("levels") else ""
    return f"{scale.get('name', '?')}: " + ", ".join(parts) + levels


def from_records(records: Path) -> tuple[list[claims.Verdict], list[str]]:
    """Every claim's verdict on the committed records, with its scale and its page; the
    lines that say where each record came from."""
    loaded, tables, verdicts = {}, {}, []
    for claim in claims.CLAIMS:
        record = claims.RECORDS[claim.reads]
        if record.name not in loaded:
            loaded[record.name] = read_record(records, record.name)
        summary, meta = loaded[record.name]
        if claim.reads not in tables:
            tables[claim.reads] = judged_table(summary, claim.reads)
        verdict = claim.verdict(tables[claim.reads])
        if verdict.verdict == claims.NOT_RUN:
            verdict = verdict._replace(
                measured=f"{verdict.measured}; made by "
                f"`{record.runs}`, then `{summarize(record, claim)}`"
            )
        scale = scale_text(meta) if not summary.empty else "-"
        verdicts.append(verdict._replace(scale=scale))
    return verdicts, [provenance_line(records, name, meta) for name, (_, meta) in loaded.items()]


def summarize(record: claims.Record, claim: claims.Claim) -> str:
    return f"python scripts/readme_tables.py summarize {record.name} results/{claim.reads.tree}"


def provenance_line(records: Path, name: str, meta: dict) -> str:
    """One record in words: where its runs came from, by its provenance sidecar."""
    path = f"`{records / name}.csv`"
    if not (records / f"{name}.csv").exists():
        return f"{path}: not committed"
    if not meta:
        return f"{path}: no provenance recorded"
    code = meta.get("code") or {}
    clean = {True: "clean", False: "with uncommitted changes"}.get(code.get("clean"), "")
    text = (f"{path}: runs by `{meta.get('runs', 'not recorded')}`, {meta.get('date', '?')}; "
            f"machine {meta.get('machine', 'not recorded')}; code {code.get('commit', '?')}"
            + (f" ({clean})" if clean else ""))  # fmt: skip
    if meta.get("shares_runs_with"):
        text += f"; shares runs with {', '.join(meta['shares_runs_with'])}"
    if meta.get("backfilled"):
        text += "; provenance back-filled from git log"
    return text


# ----------------------------------------------------------------------------- local run folders


def runs(root: Path, reads: claims.Runs) -> tuple[pd.DataFrame, str]:
    """Cell statistics of the finished runs under ROOT/<tree>, of the largest scale."""
    tree = root / reads.tree
    finals = pd.DataFrame()
    if tree.is_dir():
        metrics = results.load_runs(tree, report=lambda m: print(m, file=sys.stderr))
        if not metrics.empty:
            extra = [c for c in reads.extra if c in metrics.columns]
            finals = claims.largest_scale(results.final_table(metrics, extra=extra))
    n = finals["run_dir"].nunique() if not finals.empty else 0
    where = f"{tree}/ ({n} finished runs of the largest scale)"
    return claims.cell_stats(finals, extra=list(reads.extra)), where


def table(root: Path, reads: claims.Table) -> tuple[pd.DataFrame, str]:
    path = root / reads.tree / reads.file
    if not path.exists():
        return pd.DataFrame(), f"{path} (not made yet)"
    return pd.read_parquet(path), str(path)


def run_table(root: Path, reads: claims.RunTable) -> tuple[pd.DataFrame, str]:
    """The table of the finished run of the largest scale (from ROOT/<tree> first, then
    without hyperparameter overrides, then the newest), with that scale as a column. Inside
    ROOT/<tree>, runs of that kind are joined (an experiment run in parts, for instance two
    coverage levels at a time): each (agent, coverage) row from the newest run that has it."""
    found = []
    for path in root.rglob(reads.file):
        run_dir = path.parent
        if not results.is_finished(run_dir) or not (run_dir / results.CONFIG).exists():
            continue
        config = yaml.safe_load((run_dir / results.CONFIG).read_text()) or {}
        scale = (config.get("scale") or {}).get("name", "?")
        rank = claims.SCALES.index(scale) if scale in claims.SCALES else len(claims.SCALES)
        # ROOT/<tree> is the experiment's own tree; elsewhere lie one-off runs. A run with
        # step_size= or temperature= overrides is a sensitivity check, not the figure.
        elsewhere = root / reads.tree not in path.parents
        offline = config.get("offline") or {}
        overridden = not all(
            math.isclose(config.get(k, 0.0), offline.get(k, 0.0), rel_tol=1e-6)
            for k in ("step_size", "temperature")
        )
        found.append((rank, elsewhere, overridden, -path.stat().st_mtime, path, scale))
    if not found:
        return pd.DataFrame(), f"no finished run wrote {reads.file} under {root}"
    best = min(found)[:3]
    chosen = sorted(f for f in found if f[:3] == best)  # the newest first
    if best[1]:  # outside the experiment's tree lie one-off runs: the newest alone
        chosen = chosen[:1]
    joined = pd.concat([pd.read_parquet(f[4]).assign(scale=f[5]) for f in chosen])
    if {"agent", "coverage"} <= set(joined.columns):
        joined = joined.drop_duplicates(["agent", "coverage"], keep="first")
    return joined.reset_index(drop=True), ", ".join(str(f[4]) for f in chosen)


LOADERS = {claims.Runs: runs, claims.Table: table, claims.RunTable: run_table}


def from_runs(root: Path) -> tuple[list[claims.Verdict], list[str]]:
    """Every claim's verdict on the run folders under ROOT, and where each table was found."""
    tables, sources = {}, {}
    for claim in claims.CLAIMS:
        if claim.reads not in tables:
            tables[claim.reads], sources[claim.reads.tree] = LOADERS[type(claim.reads)](
                root, claim.reads
            )
    verdicts = [claim.verdict(tables[claim.reads]) for claim in claims.CLAIMS]
    return verdicts, [f"{name}: {where}" for name, where in sources.items()]


# ----------------------------------------------------------------------------- the report

def markdown(verdicts: list[claims.Verdict], sources: list[str]) -> str:
    """The report: the rule and the verdicts once, their counts, one row per claim, and
    where each record came from (`sources`, one line each)."""
    counts = pd.Series([v.verdict for v in verdicts], dtype=str).value_counts()
    lines = [
        "# The claims, measured",
        "",
        "Made by `python scripts/claims_report.py` from the records committed in "
        "results/summaries/; a test fails where this page differs from what they give.",
        "",
        f"**Rule.** {claims.RULE}",
        "",
        *[f"- **{kind}**: {meaning}" for kind, meaning in claims.VERDICTS.items()],
        "",
        f"**{len(verdicts)} claims:** "
        + ", ".join(f"{k} {counts.get(k, 0)}" for k in claims.VERDICTS)
        + ". Each row names the scale of its record (seeds, steps, network widths, levels) and "
        "links the page that shows its figure; where each record came from is listed below "
        "the table.",
        "",
        "| claim | source | scale | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        cells = [c.replace("|", "/") for c in v]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "**Read from.**", ""]
    lines += [f"- {source}" for source in sources]
    return "\n".join(lines) + "\n"



def with_links(verdicts: list[claims.Verdict], out: Path, docs: Path) -> list[claims.Verdict]:
    """Each claim's source as a link to its docs page, relative to the output file."""
    linked = []
    for claim, verdict in zip(claims.CLAIMS, verdicts):
        page = Path(os.path.relpath(docs / claims.RECORDS[claim.reads].page, out.parent))
        linked.append(verdict._replace(source=f"[{verdict.source}]({page.as_posix()})"))
    return linked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records",
        type=Path,
        default=RECORDS,
        help="the committed summaries (default: results/summaries)",
    )
    parser.add_argument(
        "--runs",
        type=Path,
        default=None,
        help="judge the run folders under this results tree instead",
    )
    parser.add_argument(
        "--out",
        type=Path,
        action="append",
        default=None,
        help="the report to write (repeatable; default: results/claims.md "
        "and docs/claims.md; required with --runs)",
    )
    parser.add_argument(
        "--docs",
        type=Path,
        default=DOCS,
        help="the folder of the docs pages the rows link to (default: docs)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 where an output differs"
    )
    args = parser.parse_args()  # fmt: skip
    if args.runs is not None and not args.runs.is_dir():
        fail(f"--runs must be an existing results directory; got {str(args.runs)!r}.")
    if args.runs is not None and not args.out:
        fail("--runs needs --out: a report of local runs never replaces the committed ones.")
    if args.runs is None and not args.records.is_dir():
        fail(f"--records must be an existing directory of summaries; got {str(args.records)!r}.")
    verdicts, sources = from_runs(args.runs) if args.runs else from_records(args.records)
    stale = []
    for out in args.out or OUTPUTS:
        text = markdown(with_links(verdicts, out, args.docs), sources)
        if args.check:
            if not out.exists() or out.read_text() != text:
                stale.append(str(out))
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(text, out)
        print(f"wrote {out}")
    if stale:
        print(f"{', '.join(stale)} differ from the records: run `python scripts/claims_report.py`",
              file=sys.stderr)  # fmt: skip
        sys.exit(1)
    counts = pd.Series([v.verdict for v in verdicts]).value_counts()
    print(", ".join(f"{k}: {counts.get(k, 0)}" for k in claims.VERDICTS))


if __name__ == "__main__":
    main()
