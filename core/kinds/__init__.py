"""Report kinds: each a folder (its facts, verdict, sections, guard scope) plus one registration.

To add a kind: a folder core/kinds/<name>/ with a `ReportKind` (core/kinds/base.py), its
templates in templates/<name>/, and one `register(...)` line below.
"""

from __future__ import annotations

from core.kinds.base import (
    ReportKind,
    Section,
    Subject,
    Target,
    get_kind,
    register,
    registered_kinds,
    unregister,
)
from core.kinds.coaching.kind import COACHING
from core.kinds.ebr.kind import EBR

__all__ = [
    "COACHING",
    "EBR",
    "ReportKind",
    "Section",
    "Subject",
    "Target",
    "get_kind",
    "register",
    "registered_kinds",
    "unregister",
]

register(EBR)
register(COACHING)
