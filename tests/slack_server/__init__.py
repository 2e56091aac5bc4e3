"""A local Slack for tests: the Web API over HTTP and Socket Mode over a real WebSocket.

with SlackServer() as server:
    server.add_user("U0SARAH01", email="sarah.johnson@example.com", name="Sarah Johnson")
    web = WebClient(token=server.bot_token, base_url=server.api_url)
"""

from .faults import FaultRule, RateLimit
from .records import Ack, Call
from .server import SlackServer

__all__ = ["Ack", "Call", "FaultRule", "RateLimit", "SlackServer"]
