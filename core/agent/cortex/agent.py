"""The production agent: a Snowflake Cortex Agent object, spoken to over its REST API."""

from __future__ import annotations

from core.agent.base import Agent, Answer, AnswerListener, AskContext
from core.agent.cortex.client import CortexClient
from core.kinds import get_kind


class CortexAgent(Agent):
    """One Cortex thread per report; each turn chained to the last assistant message.

    The prompt carries everything the agent needs (subject, week, section); the agent's
    own tools (Cortex Analyst over the semantic model, Cortex Search over case studies)
    find the figures. A section's prompt already names its customer; a follow-up question
    (no `context.section_key`) is the person's own words, so the turn restates the scope
    before it (`scoped`). That is defence in depth only: the engine's guard checks what
    the agent ran, whatever it was told.
    """

    name = "cortex"

    def __init__(self, client: CortexClient) -> None:
        self.client = client

    def start_thread(self) -> str:
        return self.client.create_thread()

    def ask(
        self,
        thread_id: str,
        parent_message_id: int,
        prompt: str,
        context: AskContext,
        listener: AnswerListener | None = None,
    ) -> Answer:
        if context.section_key is None:
            prompt = scoped(prompt, context)
        return self.client.run(thread_id, parent_message_id, prompt, listener)

    def close(self) -> None:
        """Release the HTTP connections and any Snowflake session held for authentication."""
        self.client.close()

    def __repr__(self) -> str:
        return f"CortexAgent({self.client!r})"


def scoped(question: str, context: AskContext) -> str:
    """A follow-up question, after its kind's restatement of the thread's one subject."""
    return f"{get_kind(context.kind).scope_note(context.subject_id, context.subject_name)}\n\nQuestion: {question}"
