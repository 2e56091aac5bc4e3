"""Follow-up questions on a coaching review, answered by the local analyst from SQL.

(Placeholder until the follow-up answerer lands: it refuses in one line.)
"""

from __future__ import annotations

from core.agent.base import AskContext
from core.errors import AgentRequestError
from core.kinds.base import LocalAnswer
from core.warehouse import Warehouse


def answer(warehouse: Warehouse, question: str, context: AskContext) -> LocalAnswer:
    """The answer to `question` about `context.subject_id`'s coaching, from SQL bound to that rep."""
    raise AgentRequestError("follow-up questions on coaching reviews are not answered yet")
