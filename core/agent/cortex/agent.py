"""The production agent: a Snowflake Cortex Agent object, spoken to over its REST API."""

from __future__ import annotations

from core.agent.base import Agent, Answer, AskContext
from core.agent.cortex.client import CortexClient


class CortexAgent(Agent):
    """One Cortex thread per report; each turn chained to the last assistant message.

    The prompt carries everything the agent needs (customer, week, section); the agent's
    own tools (Cortex Analyst over the semantic model, Cortex Search over case studies)
    find the figures. `context` is not sent: it only names what the prompt already says.
    """

    name = "cortex"

    def __init__(self, client: CortexClient) -> None:
        self.client = client

    def start_thread(self) -> str:
        return self.client.create_thread()

    def ask(self, thread_id: str, parent_message_id: int, prompt: str, context: AskContext) -> Answer:
        return self.client.run(thread_id, parent_message_id, prompt)

    def close(self) -> None:
        """Release the HTTP connections and any Snowflake session held for authentication."""
        self.client.close()

    def __repr__(self) -> str:
        return f"CortexAgent({self.client!r})"
