"""What a sales-coaching review's agent answers may touch (design §11).

The subject is a rep: every coaching table holding a rep's rows is restricted to the
report's own rep_id (transcripts carry the call's rep_id for this). Nothing else may be read.
"""

from __future__ import annotations

from core.guard import Declaration

COACHING_SCOPE = Declaration(
    subject_column="rep_id",
    scoped_tables=frozenset({"calls", "coaching_sessions", "transcripts"}),
    allowed_tables=frozenset(),
    database="CUSTOMER_SUCCESS_DATA",
    schema="COACHING",
    id_pattern=r"REP\d+",
)
