"""The EBR's sections, in order. Sections are data: adding one is adding a prompt template
(`templates/ebr/prompts/`), a section template for the local analyst
(`templates/ebr/sections/`) and one entry here; no schema change."""

from __future__ import annotations

from core.kinds.base import Section

__all__ = ["SECTIONS", "Section"]

SECTIONS: tuple[Section, ...] = (
    Section("performance", "Performance vs Benchmarks"),
    Section("business_value", "Business Value Analysis"),
    Section("recommendations", "Recommendations & Best Practices"),
)
