"""The paper's claims as a Markdown table from whatever results exist: measured numbers, the
scale they were measured at, and PASS / FAIL / NOT RUN / NOT JUDGED. The claims themselves
are data: experiments.analysis.claims.CLAIMS; this script finds the tables they read.

python scripts/claims_report.py                      # reads results/, writes results/claims.md
python scripts/claims_report.py --root results --out results/claims.md
"""

import argparse
import math
import sys
from pathlib import Path

import pandas as pd
import yaml

from experiments import results
from experiments.analysis import claims


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


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


def judge(root: Path) -> tuple[list[claims.Verdict], dict[str, str]]:
    """Every claim's verdict, and where each table it read was found."""
    tables, sources = {}, {}
    for claim in claims.CLAIMS:
        if claim.reads not in tables:
            tables[claim.reads], sources[claim.reads.tree] = LOADERS[type(claim.reads)](
                root, claim.reads
            )
    return [claim.verdict(tables[claim.reads]) for claim in claims.CLAIMS], sources


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
