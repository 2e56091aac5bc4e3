"""Follow-up questions of the local analyst (being written)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.agent.base import AskContext
from core.search import CaseStudyIndex
from core.warehouse import Warehouse


@dataclass
class Reply:
    text: str
    sql: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


class FollowupAnswerer:
    def __init__(self, warehouse: Warehouse, index: CaseStudyIndex) -> None:
        self.warehouse = warehouse
        self.index = index

    def answer(self, question: str, context: AskContext) -> Reply:
        return Reply("I can't answer that yet.")
