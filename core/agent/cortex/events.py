"""Turning a Cortex Agent event stream into an Answer.

The answer's text is the `response.text.delta` pieces of each text content block; a
block's `response.text` (the same text, aggregated) is used only if no delta came for it.
The assistant message id comes from the final `response` event's metadata, else from the
assistant `metadata` event (flat, or nested as `{"metadata": {...}}`). SQL comes from
analyst tool results, sources from search tool results and citations. `error` raises;
a stream that ends before `response` or `error` is an error too (unless it ends with
`data: [DONE]` after some text, which some builds send instead of `response`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.agent.base import Answer
from core.agent.cortex.sse import Event
from core.errors import AgentRequestError, AgentUnavailable

log = logging.getLogger(__name__)

RETRYABLE_CODES = {"408", "409", "429", "500", "502", "503", "504"}
QUIET = {"response.status", "response.thinking", "response.thinking.delta", "response.tool_result.status"}


@dataclass
class _Block:
    text: str = ""
    had_delta: bool = False


@dataclass
class AnswerBuilder:
    """Feed it events in order; `feed` returns True at the last one; then call `answer()`."""

    redact: Callable[[str], str] = str
    blocks: dict[int, _Block] = field(default_factory=dict)
    sql: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    assistant_id: int | None = None
    final_id: int | None = None
    user_id: int | None = None
    finished: bool = False
    events: int = 0
    _tools: dict[str, str] = field(default_factory=dict)
    _last_index: int = 0

    def feed(self, event: Event) -> bool:
        """Take one event; True once the stream is complete."""
        self.events += 1
        if event.is_done:
            self.finished = self.finished or bool(self.text())
            return True
        handler = _HANDLERS.get(event.name)
        if handler is None:
            if event.name not in QUIET:
                log.debug("Cortex event %s ignored", event.name)
            return False
        payload = _payload(event)
        handler(self, payload)
        return self.finished

    def text(self) -> str:
        parts = [self.blocks[i].text.strip() for i in sorted(self.blocks)]
        return "\n\n".join(p for p in parts if p)

    def answer(self) -> Answer:
        """The assembled answer; raises if the stream did not complete with some text."""
        if not self.finished:
            raise AgentUnavailable(
                "the Cortex agent's stream ended before its final response event; the turn was not "
                "completed, try again"
            )
        text = self.text()
        if not text:
            raise AgentRequestError("the Cortex agent finished without any answer text")
        message_id = self.final_id if self.final_id is not None else self.assistant_id
        return Answer(text, message_id, tuple(self.sql), tuple(self.sources))

    # -- handlers, one per event name --------------------------------------------------

    def _text_delta(self, p: Mapping[str, Any]) -> None:
        block = self.blocks.setdefault(self._index(p), _Block())
        block.text += str(p.get("text") or "")
        block.had_delta = True

    def _text(self, p: Mapping[str, Any]) -> None:
        block = self.blocks.setdefault(self._index(p), _Block())
        if not block.had_delta:
            block.text = str(p.get("text") or "")
        for annotation in p.get("annotations") or ():
            self._annotation({"annotation": annotation})

    def _annotation(self, p: Mapping[str, Any]) -> None:
        annotation = p.get("annotation")
        if isinstance(annotation, Mapping):
            self._add_source(annotation.get("doc_title") or annotation.get("doc_id"))

    def _tool_use(self, p: Mapping[str, Any]) -> None:
        self._tools[str(p.get("tool_use_id"))] = str(p.get("type") or "")

    def _tool_result(self, p: Mapping[str, Any]) -> None:
        kind = str(p.get("type") or self._tools.get(str(p.get("tool_use_id")), ""))
        for item in p.get("content") or ():
            if isinstance(item, Mapping) and isinstance(item.get("json"), Mapping):
                self._tool_json(kind, item["json"])

    def _analyst_delta(self, p: Mapping[str, Any]) -> None:
        delta = p.get("delta")
        if isinstance(delta, Mapping) and delta.get("sql"):
            self._add_sql(delta["sql"])

    def _warning(self, p: Mapping[str, Any]) -> None:
        log.warning("Cortex agent warning: %s", _one_line(p.get("message") or p))

    def _metadata(self, p: Mapping[str, Any]) -> None:
        nested = p.get("metadata")
        meta = nested if isinstance(nested, Mapping) else p
        role, message_id = meta.get("role"), _int(meta.get("message_id"))
        if role == "assistant" and message_id is not None:
            self.assistant_id = message_id
        elif role == "user" and message_id is not None:
            self.user_id = message_id

    def _response(self, p: Mapping[str, Any]) -> None:
        meta = p.get("metadata")
        if isinstance(meta, Mapping):
            self.final_id = _int(meta.get("assistant_message_id"))
        saw_text = bool(self.blocks)
        for index, item in enumerate(p.get("content") or ()):
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "text" and not saw_text:
                self._text({"content_index": index, **item})
            elif item.get("type") == "tool_result" and isinstance(item.get("tool_result"), Mapping):
                self._tool_result(item["tool_result"])
        self.finished = True

    def _error(self, p: Mapping[str, Any]) -> None:
        code, message = str(p.get("code") or ""), _one_line(p.get("message") or "no message")
        request = f", request {p['request_id']}" if p.get("request_id") else ""
        text = f"the Cortex agent failed: {message} (code {code or 'unknown'}{request})"
        raise (AgentUnavailable if code in RETRYABLE_CODES else AgentRequestError)(self.redact(text))

    # -- helpers -------------------------------------------------------------------------

    def _index(self, p: Mapping[str, Any]) -> int:
        index = _int(p.get("content_index"))
        self._last_index = self._last_index if index is None else index
        return self._last_index

    def _tool_json(self, kind: str, data: Mapping[str, Any]) -> None:
        if data.get("sql"):
            self._add_sql(data["sql"])
        results = data.get("searchResults") or data.get("search_results") or ()
        if "search" in kind or results:
            for result in results:
                if isinstance(result, Mapping):
                    self._add_source(result.get("doc_title") or result.get("title") or result.get("doc_id"))

    def _add_sql(self, sql: object) -> None:
        text = str(sql).strip()
        if text and text not in self.sql:
            self.sql.append(text)

    def _add_source(self, source: object) -> None:
        if source and str(source) not in self.sources:
            self.sources.append(str(source))


_HANDLERS: dict[str, Callable[[AnswerBuilder, Mapping[str, Any]], None]] = {
    "response.text.delta": AnswerBuilder._text_delta,
    "response.text": AnswerBuilder._text,
    "response.text.annotation": AnswerBuilder._annotation,
    "response.tool_use": AnswerBuilder._tool_use,
    "response.tool_result": AnswerBuilder._tool_result,
    "response.tool_result.analyst.delta": AnswerBuilder._analyst_delta,
    "response.warning": AnswerBuilder._warning,
    "metadata": AnswerBuilder._metadata,
    "response": AnswerBuilder._response,
    "error": AnswerBuilder._error,
}


def assemble(events: Iterable[Event], redact: Callable[[str], str] = str) -> Answer:
    """The Answer of a complete event stream."""
    builder = AnswerBuilder(redact)
    for event in events:
        if builder.feed(event):
            break
    return builder.answer()


def _payload(event: Event) -> Mapping[str, Any]:
    try:
        payload = json.loads(event.data)
    except json.JSONDecodeError:
        raise AgentUnavailable(f"the Cortex agent sent a malformed '{event.name}' event (not JSON)") from None
    if not isinstance(payload, Mapping):
        raise AgentUnavailable(f"the Cortex agent sent a malformed '{event.name}' event (not an object)")
    return payload


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _one_line(value: object, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
