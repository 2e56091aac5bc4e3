"""A local Slack for tests: the Web API over HTTP and Socket Mode over a real WebSocket.

with SlackServer() as server:
    server.add_user("U0SARAH01", email="sarah.johnson@example.com", name="Sarah Johnson")
    web = WebClient(token=server.bot_token, base_url=server.api_url)

Slack's AI-app surface, for tests and benchmarks:
    server.streams(channel)            streamed messages: .text, .appends [(text, at, method)],
                                       .first_text_at, .streaming, .blocks, .recipient_user_id
    server.end_stream(channel, ts, by="slack" | "user")   Slack ends a stream (fallback tests)
    server.status_history(channel, thread_ts) / current_status(channel, thread_ts)
    server.uploaded_files(channel) / file_bytes(file_id)  files_upload_v2's files and bytes
    server.click(user, channel, ts, action_id, value=None) -> envelope id   a block_actions click
    server.leave_channel(channel)      not_in_channel from then on
    server.limit_as_documented(*methods)  Slack's rate-limit tiers (429 + Retry-After)
    SlackServer(clock=...)             one injectable monotonic clock for calls, appends, statuses
"""

from .faults import FaultRule, RateLimit
from .records import Ack, Call
from .server import SlackServer

__all__ = ["Ack", "Call", "FaultRule", "RateLimit", "SlackServer"]
