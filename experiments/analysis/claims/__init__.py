"""The paper's claims and the studies' as data (CLAIMS): each claim's text, where it is
made, which results it reads and its judge, a small pure function from that table to a
verdict. scripts/claims_report.py reads the committed records (RECORDS) and writes the
report.

By topic: rule.py holds what every judge speaks (RULE, VERDICTS: PASS, FAIL, TOO SMALL TO
TELL, NOT RUN, NOT JUDGED) and `compare`, the one judge of "A is ahead of B" over several
levels, whose `over` argument (every, hardest, any, most, generally) each claim's text
states; paper.py the paper's claims (Figures 1, 3 and 4, Appendices C and I); then one
module per study: paradigms.py, dyna_design.py, families.py, deepmdp.py, fidelity.py,
dream.py, implicit.py. A new study adds a module with its CLAIMS and the RECORDS they read,
and joins TOPICS below.
"""

from experiments.analysis.claims import (
    deepmdp,
    dream,
    dyna_design,
    families,
    fidelity,
    implicit,
    paper,
    paradigms,
)
from experiments.analysis.claims.rule import (
    ANY,
    EVERY,
    FAIL,
    GENERALLY,
    HARDEST,
    MOST,
    NOT_JUDGED,
    NOT_RUN,
    OVER,
    PASS,
    RULE,
    SCALES,
    TOO_SMALL,
    VERDICTS,
    Claim,
    Record,
    Runs,
    RunTable,
    Table,
    Verdict,
    beats,
    cell_stats,
    compare,
    either,
    largest_scale,
    versus,
)

# The report's order.
TOPICS = (paper, paradigms, dyna_design, families, deepmdp, fidelity, dream, implicit)
CLAIMS = tuple(claim for topic in TOPICS for claim in topic.CLAIMS)
RECORDS = {reads: record for topic in TOPICS for reads, record in topic.RECORDS.items()}

__all__ = [
    "ANY", "CLAIMS", "EVERY", "FAIL", "GENERALLY", "HARDEST", "MOST", "NOT_JUDGED",
    "NOT_RUN", "OVER", "PASS", "RECORDS", "RULE", "SCALES", "TOO_SMALL", "TOPICS", "VERDICTS",
    "Claim", "Record", "RunTable", "Runs", "Table", "Verdict", "beats", "cell_stats", "compare",
    "deepmdp", "dyna_design", "either", "families", "fidelity", "implicit", "largest_scale",
    "paper", "paradigms", "versus",
]  # fmt: skip
