"""Turning a Cortex Agent event stream into an Answer.

Text. Each text content block is its `response.text.delta` pieces, unless its aggregated
`response.text` came: that is Snowflake's authoritative text (deltas can be lost or
duplicated) and wins. The final `response` event's text content items, when it has any,
win over both. Only strings are text: a list of strings is joined, an object's "text" is
taken, anything else (a number, another object) is ignored and logged at debug, never
turned into a Python repr. `is_elicitation: true` on any text (delta, aggregated, final
item, or the final response itself) marks the answer as a clarifying question back to the
asker (`Answer.elicitation`).

SQL and result sets, from every shape Snowflake emits: tool results' JSON (`sql`,
`result_set`), `response.tool_result.analyst.delta` (`delta.sql`, `delta.result_set`),
`response.tool_use` `input.sql` (type `system_execute_sql`, the 2026 shape),
`response.table`, and the final `response`'s tool_use, tool_result and table items.
Result sets follow Snowflake's SQL API ResultSet (`resultSetMetaData.rowType[].name`,
`data`); snake_case keys, `columns` and row objects are accepted too.

Charts. `response.chart` (and a final `chart` content item) carries a Vega-Lite v5 spec as
a JSON string in `chart_spec`: it becomes an `Answer.charts` entry (core.charts.agent_chart),
once; a spec that is not inline data only (a `url` anywhere) or too large is left out and
logged, so rendering never fetches anything.

Sources come from search tool results and citations. The assistant message id comes
from the final `response` event's metadata, else from the assistant `metadata` event
(flat, or nested as `{"metadata": {...}}`).

Ends. `error` raises. A final `response` with `status: "cancelled"` raises
AgentUnavailable: the turn was not completed. A stream that ends before `response` or
`error` is an error too (unless it ends with `data: [DONE]` after some text, which some
builds send instead of `response`). Warnings (`response.warning` events and the final
response's `warnings[]`, e.g. 399569 when a tool was not accessible and the agent answered
without it) are collected into `Answer.warnings` and logged once each.

Secrets are redacted (`redact`) from every message before it is shortened, logged or raised.

Live. A `Relay` (core.agent.base) hears the answer as it comes: `response.status`,
`response.tool_result.status`, thinking and tool use become statuses (PLANNING, QUERYING for
Cortex Analyst and `system_execute_sql`, SEARCHING for Cortex Search, WRITING at the first
text), with the service's message; each statement and result set is handed on as soon as it
is seen; and the text goes out as it grows, as exactly what `text()` then is, so the pieces
add up to the Answer's text (an aggregated `response.text` that merely repeats the deltas
adds nothing; one that rewrites what already went out stops the live text, and the Answer
has the service's final word). While a SQL tool (Cortex Analyst) has been called and
neither its SQL nor its result has come, no text goes out: the statement it ran may yet
show that the text must not be shown.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.agent.base import PLANNING, QUERYING, SEARCHING, WRITING, Answer, Relay, ResultTable
from core.agent.cortex.sse import Event
from core.charts import Chart, agent_chart
from core.errors import AgentRequestError, AgentUnavailable

log = logging.getLogger(__name__)

RETRYABLE_CODES = {"408", "409", "429", "500", "502", "503", "504"}
QUIET = {"response.thinking", "response.thinking.delta"}
# Tools whose runs are SQL the guard must see (Cortex Analyst's names vary across builds).
SQL_TOOLS = ("cortex_analyst", "analyst", "text2sql", "text_to_sql", "execute_sql")
# Words in a `response.status` status or message, and the phase they mean (first match wins).
STATUS_PHASES = (
    (("search",), SEARCHING),
    (("sql", "analyst", "query", "queries"), QUERYING),
    (("answer", "respond", "writing"), WRITING),
)


@dataclass
class _Block:
    deltas: str = ""
    aggregated: str | None = None  # the block's `response.text`: it wins over the deltas

    @property
    def text(self) -> str:
        return self.deltas if self.aggregated is None else self.aggregated


@dataclass
class AnswerBuilder:
    """Feed it events in order; `feed` returns True at the last one; then call `answer()`."""

    redact: Callable[[str], str] = str
    blocks: dict[int, _Block] = field(default_factory=dict)
    final_text: list[str] = field(default_factory=list)  # the final response's text items
    sql: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    tables: list[ResultTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    elicitation: bool = False
    cancelled: bool = False
    assistant_id: int | None = None
    final_id: int | None = None
    user_id: int | None = None
    finished: bool = False
    events: int = 0
    relay: Relay = field(default_factory=lambda: Relay(None))
    _tools: dict[str, str] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)
    _chart_specs: set[str] = field(default_factory=set)
    _last_index: int = 0
    _awaiting_sql: set[str] = field(default_factory=set)  # SQL tool calls whose SQL has not come
    _live: str = ""  # the text the relay has been given
    _diverged: bool = False  # the service rewrote text that had gone out: no more live text

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
            elif event.name.startswith("response.thinking") and self.relay.phase != PLANNING:
                self.relay.status(PLANNING)
            return False
        payload = _payload(event)
        handler(self, payload)
        if event.name in _TEXTUAL:
            self._go_live()
        return self.finished

    def _go_live(self) -> None:
        """Hand the relay what the text has grown by, unless SQL it may depend on is awaited."""
        if self._awaiting_sql or self._diverged or self.relay.listener is None:
            return
        text = self.text()
        if not text.startswith(self._live):
            self._diverged = True
            log.debug("Cortex text rewritten after %d characters went out; live text stops", len(self._live))
            return
        if len(text) > len(self._live):
            if self.relay.phase != WRITING:
                self.relay.status(WRITING)
            self.relay.text(text[len(self._live) :])
            self._live = text

    def text(self) -> str:
        """The answer text: the final response's text items, else the blocks' texts."""
        parts = self.final_text or [self.blocks[i].text for i in sorted(self.blocks)]
        return "\n\n".join(p.strip() for p in parts if p.strip())

    def answer(self) -> Answer:
        """The assembled answer; raises if the stream did not complete with some text."""
        if not self.finished:
            raise AgentUnavailable(
                "the Cortex agent's stream ended before its final response event; the turn was not "
                "completed, try again"
            )
        if self.cancelled:
            raise AgentUnavailable(
                "the Cortex agent cancelled the turn before it finished its answer (status cancelled); "
                "try again"
            )
        text = self.text()
        if not text:
            raise AgentRequestError("the Cortex agent finished without any answer text")
        message_id = self.final_id if self.final_id is not None else self.assistant_id
        return Answer(
            text, message_id, tuple(self.sql), tuple(self.sources), tuple(self.tables),
            tuple(self.warnings), self.elicitation, tuple(self.charts),
        )  # fmt: skip

    # -- handlers, one per event name --------------------------------------------------

    def _text_delta(self, p: Mapping[str, Any]) -> None:
        block = self.blocks.setdefault(self._index(p), _Block())
        block.deltas += _text_of(p.get("text"), "response.text.delta") or ""
        self._elicit(p)

    def _text(self, p: Mapping[str, Any]) -> None:
        block = self.blocks.setdefault(self._index(p), _Block())
        text = _text_of(p.get("text"), "response.text")
        if text is not None:
            block.aggregated = text
        self._elicit(p)
        self._annotations(p)

    def _annotation(self, p: Mapping[str, Any]) -> None:
        annotation = p.get("annotation")
        if isinstance(annotation, Mapping):
            self._add_source(annotation.get("doc_title") or annotation.get("doc_id"))

    def _status(self, p: Mapping[str, Any]) -> None:
        status, message = str(p.get("status") or ""), str(p.get("message") or "")
        self.relay.status(self._phase_of(f"{status} {message}".lower()), _one_line(self.redact(message), 150))

    def _tool_status(self, p: Mapping[str, Any]) -> None:
        kind = str(p.get("tool_type") or p.get("type") or self._tools.get(str(p.get("tool_use_id")), ""))
        message = _one_line(self.redact(str(p.get("message") or p.get("status") or "")), 150)
        self.relay.status(_tool_phase(kind) or self._phase_of(message.lower()), message)

    def _phase_of(self, words: str) -> str:
        """The phase a status's words mean; a tool being run is the last tool called."""
        for keys, phase in STATUS_PHASES:
            if any(key in words for key in keys):
                return phase
        if "tool" in words and self._tools:
            return _tool_phase(list(self._tools.values())[-1]) or PLANNING
        return PLANNING

    def _tool_use(self, p: Mapping[str, Any]) -> None:
        tool_id, kind = str(p.get("tool_use_id")), str(p.get("type") or "")
        self._tools[tool_id] = kind
        tool_input = p.get("input")
        # In the final response a tool use is a record of what was done, not news.
        phase = _tool_phase(kind) if not self.finished else None
        if phase is not None and self.relay.phase != phase:
            self.relay.status(phase)
        if isinstance(tool_input, Mapping) and isinstance(tool_input.get("sql"), str):
            self._add_sql(tool_input["sql"])  # `system_execute_sql`: the statement it runs
        elif phase == QUERYING:
            self._awaiting_sql.add(tool_id)

    def _tool_result(self, p: Mapping[str, Any]) -> None:
        tool_id = str(p.get("tool_use_id"))
        kind = str(p.get("type") or self._tools.get(tool_id, ""))
        for item in p.get("content") or ():
            if isinstance(item, Mapping) and isinstance(item.get("json"), Mapping):
                self._tool_json(kind, item["json"])
        self._resolve(tool_id, kind)  # whatever it ran is known now (maybe nothing)

    def _resolve(self, tool_id: str, kind: str) -> None:
        """A SQL tool's call is answered: its text may go out. A result without the call's id
        (some builds) answers every SQL call awaited, if it is a SQL tool's."""
        if tool_id in self._awaiting_sql:
            self._awaiting_sql.discard(tool_id)
        elif tool_id == "None" and _tool_phase(kind) == QUERYING:
            self._awaiting_sql.clear()

    def _analyst_delta(self, p: Mapping[str, Any]) -> None:
        delta = p.get("delta")
        if isinstance(delta, Mapping):
            if isinstance(delta.get("sql"), str):
                self._add_sql(delta["sql"])
                self._resolve(str(p.get("tool_use_id")), "cortex_analyst")
            self._add_table(delta.get("result_set"))

    def _table(self, p: Mapping[str, Any]) -> None:
        self._add_table(p.get("result_set"))

    def _warning(self, p: Mapping[str, Any]) -> None:
        self._add_warning(p)

    def _chart(self, p: Mapping[str, Any]) -> None:
        spec = p.get("chart_spec", p.get("spec"))
        key = spec if isinstance(spec, str) else json.dumps(spec, sort_keys=True, default=str)
        if key in self._chart_specs:  # the final response repeats the streamed chart
            return
        self._chart_specs.add(key)
        chart, why = agent_chart(spec, len(self.charts) + 1)
        if chart is None:
            log.warning("Cortex agent chart left out: %s", why)
        else:
            self.charts.append(chart)

    def _metadata(self, p: Mapping[str, Any]) -> None:
        nested = p.get("metadata")
        meta = nested if isinstance(nested, Mapping) else p
        role, message_id = meta.get("role"), _int(meta.get("message_id"))
        if role == "assistant" and message_id is not None:
            self.assistant_id = message_id
        elif role == "user" and message_id is not None:
            self.user_id = message_id

    def _response(self, p: Mapping[str, Any]) -> None:
        self.finished = True  # set first: what the items hold is the turn's record (_tool_use)
        self._awaiting_sql.clear()  # every statement the turn ran is in its items, if anywhere
        meta = p.get("metadata")
        if isinstance(meta, Mapping):
            self.final_id = _int(meta.get("assistant_message_id"))
        self._elicit(p)
        for item in p.get("content") or ():
            if isinstance(item, Mapping):
                self._content_item(item)
        for warning in p.get("warnings") or ():
            self._add_warning(warning)
        self.cancelled = str(p.get("status") or "").lower() == "cancelled"

    def _error(self, p: Mapping[str, Any]) -> None:
        code = str(p.get("code") or p.get("error_code") or "")
        message = _one_line(self.redact(str(p.get("message") or "no message")))
        request = f", request {p['request_id']}" if p.get("request_id") else ""
        text = f"the Cortex agent failed: {message} (code {code or 'unknown'}{request})"
        raise (AgentUnavailable if code in RETRYABLE_CODES else AgentRequestError)(self.redact(text))

    # -- helpers -------------------------------------------------------------------------

    def _content_item(self, item: Mapping[str, Any]) -> None:
        """One item of the final response's content."""
        kind, body = item.get("type"), item.get(str(item.get("type")))
        if kind == "text":
            text = _text_of(item.get("text"), "response content")
            if text is not None:
                self.final_text.append(text)
            self._elicit(item)
            self._annotations(item)
            if isinstance(item.get("text"), Mapping):
                self._annotations(item["text"])
        elif isinstance(body, Mapping):
            handler = {
                "tool_result": self._tool_result, "tool_use": self._tool_use, "table": self._table,
                "chart": self._chart,
            }  # fmt: skip
            if kind in handler:
                handler[str(kind)](body)

    def _annotations(self, p: Mapping[str, Any]) -> None:
        for annotation in p.get("annotations") or ():
            self._annotation({"annotation": annotation})

    def _elicit(self, p: Mapping[str, Any]) -> None:
        flag = p.get("is_elicitation")
        if flag is True or (isinstance(flag, str) and flag.strip().lower() == "true"):
            self.elicitation = True

    def _index(self, p: Mapping[str, Any]) -> int:
        index = _int(p.get("content_index"))
        self._last_index = self._last_index if index is None else index
        return self._last_index

    def _tool_json(self, kind: str, data: Mapping[str, Any]) -> None:
        if isinstance(data.get("sql"), str):
            self._add_sql(data["sql"])
        self._add_table(data.get("result_set") or data.get("resultSet"))
        if "resultSetMetaData" in data:
            self._add_table(data)
        results = data.get("searchResults") or data.get("search_results") or ()
        if "search" in kind or results:
            for result in results:
                if isinstance(result, Mapping):
                    self._add_source(result.get("doc_title") or result.get("title") or result.get("doc_id"))

    def _add_sql(self, sql: str) -> None:
        text = sql.strip()
        if text and text not in self.sql:
            self.sql.append(text)
            self.relay.sql(text)

    def _add_table(self, result_set: object) -> None:
        table = result_table(result_set)
        if table is not None and table not in self.tables:
            self.tables.append(table)
            self.relay.table(table)

    def _add_source(self, source: object) -> None:
        if source and str(source) not in self.sources:
            self.sources.append(str(source))

    def _add_warning(self, warning: object) -> None:
        """Collect a warning, redacted, and log it once (an event and the final list repeat it)."""
        message, code = warning, None
        if isinstance(warning, Mapping):
            message, code = warning.get("message") or json.dumps(warning, default=str), warning.get("code")
        text = " ".join(self.redact(str(message)).split())
        if not text or text in self._warned:
            return
        self._warned.add(text)
        line = _one_line(f"{code}: {text}" if code else text)
        self.warnings.append(line)
        log.warning("Cortex agent warning: %s", line)


_HANDLERS: dict[str, Callable[[AnswerBuilder, Mapping[str, Any]], None]] = {
    "response.status": AnswerBuilder._status,
    "response.tool_result.status": AnswerBuilder._tool_status,
    "response.text.delta": AnswerBuilder._text_delta,
    "response.text": AnswerBuilder._text,
    "response.text.annotation": AnswerBuilder._annotation,
    "response.tool_use": AnswerBuilder._tool_use,
    "response.tool_result": AnswerBuilder._tool_result,
    "response.tool_result.analyst.delta": AnswerBuilder._analyst_delta,
    "response.table": AnswerBuilder._table,
    "response.chart": AnswerBuilder._chart,
    "response.warning": AnswerBuilder._warning,
    "metadata": AnswerBuilder._metadata,
    "response": AnswerBuilder._response,
    "error": AnswerBuilder._error,
}


# Events after which the answer's text may have grown.
_TEXTUAL = {"response.text.delta", "response.text", "response", "response.tool_result",
            "response.tool_result.analyst.delta"}  # fmt: skip


def _tool_phase(kind: str) -> str | None:
    """What calling a tool of this type means to a person waiting: searching or querying."""
    kind = kind.lower()
    if "search" in kind:
        return SEARCHING
    if any(name in kind for name in SQL_TOOLS):
        return QUERYING
    return None


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


def _text_of(value: object, where: str) -> str | None:
    """The text in `value`: a string; a list's strings, joined; an object's "text". Anything
    else is not text: None (logged at debug, by type only), never a Python repr."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        strings = [s for s in (_text_of(v, where) for v in value) if s is not None]
        if strings:
            return "".join(strings)
    elif isinstance(value, Mapping) and "text" in value:
        return _text_of(value["text"], where)
    log.debug("Cortex %s: a %s is not text; ignored", where, type(value).__name__)
    return None


def result_table(result_set: object) -> ResultTable | None:
    """A result set as a ResultTable: Snowflake's SQL API ResultSet (`resultSetMetaData.rowType`
    names the columns, `data` holds the rows), or `columns` with `rows`/`data`, or row objects."""
    if not isinstance(result_set, Mapping):
        return None
    rows = result_set.get("data", result_set.get("rows"))
    if not isinstance(rows, list):
        return None
    columns = _columns(result_set)
    if rows and all(isinstance(row, Mapping) for row in rows):
        columns = columns or tuple(str(name) for name in rows[0])
        return ResultTable(columns, tuple(tuple(row.get(c) for c in columns) for row in rows))
    return ResultTable(columns, tuple(tuple(row) if isinstance(row, list) else (row,) for row in rows))


def _columns(result_set: Mapping[str, Any]) -> tuple[str, ...]:
    meta = result_set.get("resultSetMetaData") or result_set.get("result_set_metadata")
    row_type = (meta.get("rowType") or meta.get("row_type")) if isinstance(meta, Mapping) else None
    described = row_type or result_set.get("columns") or ()
    if not isinstance(described, list):
        return ()
    return tuple(str(c.get("name") if isinstance(c, Mapping) else c) for c in described)
