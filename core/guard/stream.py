"""The guard in front of a person watching an answer being made: only cleared text goes on.

`GuardGate` is the AnswerListener the engine gives a guarded agent in place of the caller's.
The agent tells it every statement it ran and every result set it showed as soon as it
knows them (the Relay's `sql` and `table` hooks), before the text that follows them, and
the text in pieces. The gate checks each statement and result set at once, and each
status's message (one naming another subject goes on without it); text goes on
only while every check so far has passed, and only up to a point where its words are
settled (`Subjects.settled`: not in the middle of a word, nor after the first words of a
name that may go on), once that piece names no other subject (no name or id spans the
point where what went on before ends, so pieces judged one by one are the text judged
whole). After the first failed check nothing more goes on (statuses included): the
engine's final check on the complete answer then withholds it (AnswerWithheld) and the
caller replaces what it showed with the refusal. When the final check clears the answer,
`finish` passes on the rest of it.

Every check is of what came so far, so the first characters go on as soon as the agent's
first words are settled, not at the end of the answer.
"""

from __future__ import annotations

from core.agent.base import AnswerListener, Relay, ResultTable
from core.guard import ALLOWED, Scope, Verdict, check_sql, check_table, check_text


class GuardGate:
    """Passes on to `listener` what the guard has cleared of an answer under `scope`."""

    def __init__(self, listener: AnswerListener, scope: Scope) -> None:
        self.listener, self.scope = listener, scope
        self._out = Relay(listener)  # a listener that fails hears no more; the answer goes on
        self.verdict: Verdict = ALLOWED  # the first failed check's, once one failed
        self._heard = ""  # every piece of text the agent told
        self._passed = 0  # how much of it went on

    @property
    def passed_text(self) -> str:
        """The text the listener has been given."""
        return self._heard[: self._passed]

    def status(self, phase: str, message: str = "") -> None:
        if self.verdict.ok:
            # The service's own words ("Querying revenue for ...") are text a person sees too:
            # one that names another subject goes without them, the phase alone.
            self._out.status(phase, message if check_text(message, self.scope).ok else "")

    def sql(self, statement: str) -> None:
        if self.verdict.ok:
            self.verdict = check_sql(statement, self.scope)

    def table(self, result: ResultTable) -> None:
        if self.verdict.ok:
            self.verdict = check_table((result,), self.scope)

    def text(self, delta: str) -> None:
        self._heard += delta
        if self.verdict.ok:
            # What went on ends where no name or id can span (Subjects.settled), so only the
            # text after it needs looking at: each piece costs its own length, not the answer's.
            self._pass_on(self._passed + self.scope.subjects.settled(self._heard[self._passed :]))

    def finish(self, text: str) -> None:
        """`text`, the complete answer, has been cleared: pass on what the listener has not had
        of it (nothing if the agent's final text does not continue what went on)."""
        passed = self.passed_text
        if self.verdict.ok and text.startswith(passed) and len(text) > len(passed):
            self._heard, self._passed = text, len(text)
            self._out.text(text[len(passed) :])

    def _pass_on(self, end: int) -> None:
        if end <= self._passed:
            return
        piece = self._heard[self._passed : end]
        verdict = check_text(piece, self.scope)
        if not verdict.ok:
            self.verdict = verdict
            return
        self._passed = end
        self._out.text(piece)
