"""The Snowflake Cortex Agent behind the Agent interface.

sse.py      server-sent events from a streamed HTTP body
events.py   Cortex events -> Answer (text, assistant message id, SQL, sources)
auth.py     PAT / OAuth / key-pair JWT / connector session headers
config.py   Settings (+ connections.toml) -> base URL, agent name, credentials
client.py   HTTP: threads and streamed runs, retries, rate limit, error mapping
agent.py    CortexAgent(Agent)
"""

from __future__ import annotations

from core.agent.cortex.agent import CortexAgent
from core.agent.cortex.client import CortexClient, RetryPolicy
from core.agent.cortex.config import AgentName, CortexConfig, resolve
from core.settings import Settings

__all__ = [
    "AgentName",
    "CortexAgent",
    "CortexClient",
    "CortexConfig",
    "RetryPolicy",
    "build_cortex_agent",
    "resolve",
]


def build_cortex_agent(settings: Settings, retry: RetryPolicy | None = None) -> CortexAgent:
    """The Cortex agent the settings describe; ConfigError names what is missing."""
    config, auth = resolve(settings)
    return CortexAgent(CortexClient(config, auth, retry=retry))
