"""Slack's AI-app surface: streamed messages (chat.startStream / appendStream / stopStream) and
assistant.threads.setStatus, with the arguments, limits and error codes Slack documents for them.

Sources: docs.slack.dev/reference/methods/chat.startStream, chat.appendStream, chat.stopStream,
assistant.threads.setStatus (and the slack-api-ref JSON built from them): startStream and
stopStream are Tier 2, appendStream Tier 4, setStatus "special" (no figure published); all
need `chat:write` (setStatus since Slack's 2026-03-05 scope change).
"""

from __future__ import annotations

import json
from typing import Any

from .blocks import MESSAGE_BLOCKS, block_problems, problem_messages
from .records import ApiError, Stream, StreamAppend
from .workspace import Workspace, public

MARKDOWN_TEXT = 12_000  # per call, for markdown_text and each markdown_text chunk
LOADING_MESSAGES = 10
STATUS_EXPIRES_AFTER = 120.0  # seconds: "a two minute timeout applies"
_CHUNK_TYPES = ("markdown_text", "task_update", "plan_update", "blocks")


def chat_start_stream(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel = ws.member_channel(params.get("channel"))
    thread_ts = params.get("thread_ts")
    if not thread_ts:
        raise ApiError(
            "invalid_arguments", response_metadata=problem_messages(["missing required field: thread_ts"])
        )
    recipient, team = params.get("recipient_user_id"), params.get("recipient_team_id")
    if not channel.startswith("D"):  # outside a DM Slack must know who is reading
        if not recipient:
            raise ApiError("missing_recipient_user_id")
        if not team:
            raise ApiError("missing_recipient_team_id")
    if recipient:
        ws.user(recipient)
    if team and team != ws.team_id:
        raise ApiError("team_not_found")
    text = _streamed_text(params)
    message = ws.post_as_bot(channel, text=text, thread_ts=str(thread_ts))
    stream = Stream(channel, message["ts"], message["thread_ts"], recipient, team, ws.now())
    stream.appends.append(StreamAppend(text, stream.started_at, "chat.startStream"))
    ws.streams[(channel, message["ts"])] = stream
    return {"channel": channel, "ts": message["ts"]}


def chat_append_stream(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel, stream, message = _streaming(ws, params)
    text = _streamed_text(params)
    if not text:
        raise ApiError("no_text")
    _append(ws, stream, message, text, "chat.appendStream")
    return {"channel": channel, "ts": stream.ts}


def chat_stop_stream(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel, stream, message = _streaming(ws, params)
    blocks = params.get("blocks")
    if blocks is not None:
        if isinstance(blocks, list) and len(blocks) > MESSAGE_BLOCKS:
            raise ApiError("msg_blocks_too_many")
        problems = block_problems(blocks, MESSAGE_BLOCKS, "/blocks")
        if problems:
            raise ApiError("invalid_blocks", errors=problems, response_metadata=problem_messages(problems))
    text = _streamed_text(params)
    _append(ws, stream, message, text, "chat.stopStream")
    stream.stopped_at, stream.stopped_by = ws.now(), "app"
    if blocks:
        stream.blocks = blocks
        message["blocks"] = blocks
    if params.get("metadata"):
        message["metadata"] = params["metadata"]
    return {"channel": channel, "ts": stream.ts, "message": public(message)}


def assistant_threads_set_status(ws: Workspace, params: dict[str, Any]) -> dict[str, Any]:
    channel = ws.channel(params.get("channel_id"), user_ids=False)
    thread_ts = params.get("thread_ts")
    try:
        root = ws.thread(channel, thread_ts)[0]["ts"] if thread_ts else None
    except ApiError:
        root = None
    if root is None:
        raise ApiError("invalid_thread_ts")
    if "status" not in params or not isinstance(params["status"], str):
        raise ApiError(
            "invalid_arguments", response_metadata=problem_messages(["missing required field: status"])
        )
    loading = _string_list(params.get("loading_messages"))
    if len(loading) > LOADING_MESSAGES:
        problem = f"no more than {LOADING_MESSAGES} items allowed [json-pointer:/loading_messages]"
        raise ApiError("invalid_arguments", response_metadata=problem_messages([problem]))
    ws.set_status(channel, root, params["status"], tuple(loading))
    return {}


def _streaming(ws: Workspace, params: dict[str, Any]) -> tuple[str, Stream, dict[str, Any]]:
    """The stream a call names, refused the way Slack refuses a message that cannot take more."""
    channel = ws.member_channel(params.get("channel"), user_ids=False)
    message = ws.find(channel, params.get("ts"))
    if message.get("bot_id") != ws.bot_id:
        raise ApiError("message_not_owned_by_app")
    stream = ws.streams.get((channel, message["ts"]))
    if stream is not None and stream.stopped_by == "user":
        raise ApiError("stopped_by_user")
    if stream is None or not stream.streaming:
        raise ApiError("message_not_in_streaming_state")
    return channel, stream, message


def _append(ws: Workspace, stream: Stream, message: dict[str, Any], text: str, method: str) -> None:
    stream.appends.append(StreamAppend(text, ws.now(), method))
    message["text"] = stream.text


def _streamed_text(params: dict[str, Any]) -> str:
    """The markdown a call carries: `markdown_text` and the text of its markdown_text chunks."""
    pieces = []
    markdown = params.get("markdown_text")
    if markdown is not None:
        pieces.append(_limited(markdown, "/markdown_text"))
    chunks = _json_value(params.get("chunks"))
    if chunks is not None:
        if not isinstance(chunks, list):
            raise ApiError("invalid_chunks")
        for index, chunk in enumerate(chunks):
            if not isinstance(chunk, dict) or chunk.get("type") not in _CHUNK_TYPES:
                raise ApiError("invalid_chunks")
            if chunk["type"] == "markdown_text":
                pieces.append(_limited(chunk.get("text"), f"/chunks/{index}/text"))
    return "".join(pieces)


def _limited(text: Any, pointer: str) -> str:
    if not isinstance(text, str):
        raise ApiError(
            "invalid_arguments",
            response_metadata=problem_messages([f"must be a string [json-pointer:{pointer}]"]),
        )
    if len(text) > MARKDOWN_TEXT:
        # The streaming methods' pages list no error of their own for it; chat.postMessage's is msg_too_long.
        raise ApiError("msg_too_long")
    return text


def _string_list(value: Any) -> list[str]:
    value = _json_value(value)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [item for item in value.split(",") if item]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError("invalid_arguments")
    return value


def _json_value(value: Any) -> Any:
    """A list sent in a form body arrives as JSON text."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError("invalid_arguments") from exc
    return value
