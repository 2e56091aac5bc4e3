"""Server-sent events, parsed from a streamed HTTP body as the HTML standard describes them.

Lines end in LF, CRLF or CR; `event:` names the event, each `data:` line adds a line to its
data, lines starting with `:` are comments, a blank line dispatches the event. An event
cut off by the end of the stream (no blank line after it) is not dispatched.
"""

from __future__ import annotations

import codecs
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass

DONE = "[DONE]"  # a data line some streams end with; not JSON


@dataclass(frozen=True)
class Event:
    """One dispatched event: its name (`message` unless named) and its data lines joined by LF."""

    name: str
    data: str
    id: str | None = None

    @property
    def is_done(self) -> bool:
        return self.data.strip() == DONE


def parse(chunks: Iterable[bytes]) -> Iterator[Event]:
    """The events in a byte stream, as they complete."""
    builder = _EventBuilder()
    for line in _lines(chunks):
        event = builder.feed(line)
        if event is not None:
            yield event


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Decoded lines without their endings; a CRLF split across chunks counts once."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        pending = yield from _complete_lines(pending)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield from _complete_lines(pending + "\n")


def _complete_lines(text: str) -> Generator[str, None, str]:
    """Yield every complete line of `text`; return what is left (an unfinished line)."""
    start = 0
    while True:
        cr, lf = text.find("\r", start), text.find("\n", start)
        ends = [i for i in (cr, lf) if i >= 0]
        if not ends:
            return text[start:]
        end = min(ends)
        if text[end] == "\r":
            if end + 1 == len(text):
                return text[start:]  # maybe a CRLF cut in two
            yield text[start:end]
            start = end + 2 if text[end + 1] == "\n" else end + 1
        else:
            yield text[start:end]
            start = end + 1


class _EventBuilder:
    def __init__(self) -> None:
        self.name = ""
        self.data: list[str] = []
        self.last_id: str | None = None

    def feed(self, line: str) -> Event | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self.name = value
        elif field == "data":
            self.data.append(value)
        elif field == "id" and "\0" not in value:
            self.last_id = value
        return None  # `retry` and unknown fields are ignored

    def _dispatch(self) -> Event | None:
        name, data = self.name or "message", self.data
        self.name, self.data = "", []
        if not data:
            return None
        return Event(name, "\n".join(data), self.last_id)
