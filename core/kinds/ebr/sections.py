"""The report's sections, in order. Sections are data: adding one is adding a prompt
template (`templates/ebr/prompts/`), a section template for the local analyst
(`templates/ebr/sections/`) and one entry here; no schema change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str

    @property
    def prompt_template(self) -> str:
        return f"ebr/prompts/{self.key}.j2"


SECTIONS: tuple[Section, ...] = (
    Section("performance", "Performance vs Benchmarks"),
    Section("business_value", "Business Value Analysis"),
    Section("recommendations", "Recommendations & Best Practices"),
)
