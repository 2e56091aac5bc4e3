"""Follow-ups in report threads, and the buttons under their answers.

A reply in a report's thread (or a click on one of its suggested questions) is checked here
(which report, which kind, may this person see its subject), then answered on the worker
pool: the engine asks the report's agent thread and a `StreamedReply` streams the answer
into the thread with a status while it works (bot/slack/stream.py). The answer ends with
feedback buttons, a "How I got this" button when it ran SQL, and the case studies it cited.

Every button checks again who clicked: only someone the report's engine authorises for the
report's subject may give feedback on its answers or see their SQL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextActionsBlock,
    ContextBlock,
    FeedbackButtonObject,
    FeedbackButtonsElement,
    MarkdownTextObject,
)

from bot.channels.slack_dm.delivery import Poster, share_charts, without_retries
from bot.mrkdwn import escape, split_text
from bot.services import Services
from bot.slack.identity import People
from bot.slack.replies import NOT_A_REPORT_THREAD, tell
from bot.slack.stream import (
    FLUSH_SECONDS,
    STATUS_REFRESH,
    STATUS_WORDS,
    StreamedReply,
    ThreadStatus,
    describe,
)
from core import ReportEngine, Requester, ThreadLink
from core.agent.base import PLANNING
from core.engine import validate_question
from core.errors import AnswerWithheld, InputError
from core.kinds.ebr.search import case_study_titles

log = logging.getLogger("weekly_report.bot.answers")

FEEDBACK_ACTION = "answer_feedback"  # the feedback_buttons under an answer
SQL_ACTION = "answer_sql"  # "How I got this"
FEEDBACK = ("positive", "negative")
NO_SUCH_ANSWER = "that answer is no longer stored, so there is nothing to show or rate"
REPEAT_WINDOW = 10.0  # seconds after an answer during which a click of its question is a repeat
NO_SQL = "that answer ran no SQL: it came from the report itself or from the case studies"


def answer_blocks(followup_id: str, ran_sql: bool, titles: Sequence[str]) -> list[dict[str, Any]]:
    """What ends an answer: the case studies it cited, "How I got this" when it ran SQL, and
    the feedback buttons (their values name the follow-up)."""
    blocks: list[dict[str, Any]] = []
    if titles:
        cited = " · ".join(f"_{escape(t)}_" for t in titles)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"*Case studies:* {cited}")]).to_dict())
    if not followup_id:
        return blocks
    if ran_sql:
        button = ButtonElement(text="How I got this", action_id=SQL_ACTION, value=followup_id)
        blocks.append(ActionsBlock(elements=[button]).to_dict())
    buttons = FeedbackButtonsElement(
        action_id=FEEDBACK_ACTION,
        positive_button=FeedbackButtonObject(
            text="Good answer", value=f"positive {followup_id}", accessibility_label="This answer helped"
        ),
        negative_button=FeedbackButtonObject(
            text="Bad answer", value=f"negative {followup_id}", accessibility_label="This answer did not help"
        ),
    )
    blocks.append(ContextActionsBlock(elements=[buttons]).to_dict())
    return blocks


def sql_blocks(statements: Sequence[str]) -> list[dict[str, Any]]:
    """The statements an answer ran, as code blocks (each within a section's 3,000 characters)."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*How I got this:* the SQL this answer ran"}}
    ]
    for statement in statements:
        for piece in split_text(escape(statement), 2900):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{piece}```"}})
    return blocks[:50]


class Clicks:
    """The suggested questions being asked, by (channel, thread, question), and when each was
    last answered: a click of one of them meanwhile, or within `window` seconds after, is a
    repeat (a double click) and asks nothing. Clicks come from Bolt's threads: all under a lock."""

    def __init__(self, window: float = REPEAT_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self._clock = window, clock
        self._asking: set[tuple[str, str, str]] = set()
        self._answered: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def claim(self, key: tuple[str, str, str]) -> bool:
        """True when `key` may be asked now (and it is then being asked until `done`)."""
        with self._lock:
            now = self._clock()
            self._answered = {k: t for k, t in self._answered.items() if now - t < self.window}
            if key in self._asking or key in self._answered:
                return False
            self._asking.add(key)
            return True

    def done(self, key: tuple[str, str, str]) -> None:
        """`key` was answered (or failed): repeats are still ignored for `window` seconds."""
        with self._lock:
            if key in self._asking:
                self._asking.discard(key)
                self._answered[key] = self._clock()


class AnswerDesk:
    """Answers questions in report threads and handles the buttons under the answers."""

    def __init__(
        self,
        services: Services,
        people: People,
        *,
        status_refresh: float = STATUS_REFRESH,
        flush_seconds: float = FLUSH_SECONDS,
        streaming: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services, self.people = services, people
        self.status_refresh, self.flush_seconds = status_refresh, flush_seconds
        # False once Slack said this app or workspace cannot stream (or set a status): later
        # answers are posted and edited from the start.
        self.streaming = self.statuses = streaming
        self._clicks = Clicks(clock=clock)  # suggested questions being asked (double clicks)

    # -- questions -----------------------------------------------------------------------------

    def follow_up(
        self,
        client: WebClient,
        user_id: str,
        channel: str,
        thread_ts: str,
        question: str,
        team_id: str | None = None,
        echo: bool = False,
    ) -> None:
        """A question in a thread: answered in that thread when the thread is a report's, by the
        engine of the report's kind, once it has authorised the person for the report's subject.
        `echo`: say the question in the thread first (a clicked suggestion, which Slack does not show),
        once it is checked; a click of a suggestion already being asked here (or answered in the
        last REPEAT_WINDOW seconds) is a double click and asks nothing."""

        def say(text: str) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)

        try:
            link = self.services.deliveries.thread(channel, thread_ts)
            if link is None:
                say(NOT_A_REPORT_THREAD)
                return
            engine = self.services.engine_for(link.kind)  # the kind the report is of
            requester = self.people.person(client, user_id).requester
            engine.authorize(requester, link.customer_id)
            question = validate_question(question)  # before any echo: a forged value is not said
        except Exception as exc:
            say(tell(exc))
            return
        asking = (channel, thread_ts, question.casefold()) if echo else None
        if asking is not None and not self._clicks.claim(asking):
            log.info("ignored a repeated click of a suggested question in %s %s", channel, thread_ts)
            return

        def release() -> None:
            if asking is not None:
                self._clicks.done(asking)

        try:
            self._ask(
                client, user_id, channel, thread_ts, question, team_id, echo, engine, requester, link, release
            )
        except BaseException:
            release()
            raise

    def _ask(
        self,
        client: WebClient,
        user_id: str,
        channel: str,
        thread_ts: str,
        question: str,
        team_id: str | None,
        echo: bool,
        engine: ReportEngine,
        requester: Requester,
        link: ThreadLink,
        release: Callable[[], None],
    ) -> None:
        """Echo a clicked question, show the status and queue the answer; `release` is called
        once the answer is in the thread (or failed)."""
        if echo:  # before the status: a reply in the thread would clear it
            try:  # never retried: a retried 500 whose first attempt landed would say it twice
                without_retries(client).chat_postMessage(
                    channel=channel, thread_ts=thread_ts, text=f":speech_balloon: _{escape(question)}_"
                )
            except (SlackClientError, OSError) as exc:  # the echo is a courtesy: answered anyway
                log.warning("could not echo a clicked question (%s)", describe(exc))
        status = ThreadStatus(client, channel, thread_ts, self.status_refresh, enabled=self.statuses)
        reply = StreamedReply(
            client, channel, thread_ts, status, user_id=user_id, team_id=team_id,
            streaming=self.streaming, flush_seconds=self.flush_seconds,
        )  # fmt: skip
        status.show(
            STATUS_WORDS[PLANNING]
        )  # from here on, every path ends in finish/withheld/failed: cleared

        def failed(exc: Exception) -> None:
            try:
                reply.failed(tell(exc))
            finally:
                release()

        def answer() -> None:
            try:
                self._answer(engine, requester, link, question, reply, status)
            finally:
                release()

        try:
            self.services.workers.submit(f"follow-up on {link.report_id}", answer, on_error=failed)
        except Exception as exc:
            failed(exc)

    def _answer(
        self,
        engine: ReportEngine,
        requester: Requester,
        link: ThreadLink,
        question: str,
        reply: StreamedReply,
        status: ThreadStatus,
    ) -> None:
        # One question at a time per report: each continues after the previous answer.
        try:
            with self.services.workers.exclusive(f"ask {link.report_id}"):
                result = engine.ask(requester, link.customer_id, question, link.week, listener=reply)
        except AnswerWithheld as exc:
            reply.withheld(tell(exc))
            return
        answer = result.answer
        reply.finish(
            answer.text,
            answer_blocks(
                result.followup_id, bool(answer.sql), self._titles(engine, link.customer_id, answer.sources)
            ),
        )
        if answer.charts and self.services.settings.charts:  # the Cortex agent's own charts
            poster = Poster(reply.client, self.services.pacer)
            stem = f"{link.report_id}-answer-{result.followup_id}"
            share_charts(poster, reply.channel, reply.thread_ts, answer.charts, stem)
        # Only an error that means this app or workspace cannot stream turns streaming off for
        # good; one that is about this channel (its type) concerned this answer alone.
        self.streaming = self.streaming and not reply.unsupported
        self.statuses = self.statuses and not status.unsupported
        log.info(
            "answered a follow-up on %s (agent message %s -> %s, %s)",
            link.report_id, result.parent_message_id, answer.message_id,
            "posted" if reply.unavailable else f"streamed in {len(reply.messages)} message(s)",
        )  # fmt: skip

    @staticmethod
    def _titles(engine: ReportEngine, subject_id: str, sources: Sequence[str]) -> list[str]:
        """The cited case studies' titles, in the order cited (none when they cannot be read),
        less any naming another customer: the guard never read them."""
        if not sources:
            return []
        try:
            titles = case_study_titles(engine.warehouse, sources)
        except Exception:
            log.exception("could not read the titles of the cited case studies")
            return []
        return engine.naming_no_other(subject_id, [titles[s] for s in dict.fromkeys(sources) if s in titles])

    # -- buttons ---------------------------------------------------------------------------------

    def feedback(self, client: WebClient, user_id: str, value: str, where: dict[str, str | None]) -> None:
        """A click of an answer's feedback buttons (`value`: "positive <followup_id>")."""
        vote, _, followup_id = value.partition(" ")

        def record() -> None:
            if vote not in FEEDBACK:
                raise InputError(f"unknown feedback '{vote[:20]}'")
            requester = self._authorized(client, user_id, followup_id)
            by = requester.email or requester.csm_id or user_id
            self.services.engine.store.record_feedback(followup_id, vote, by)
            log.info("%s gave %s feedback on follow-up %s", user_id, vote, followup_id)

        self._later(client, user_id, where, f"feedback on {followup_id}", record)

    def show_sql(
        self, client: WebClient, user_id: str, followup_id: str, where: dict[str, str | None]
    ) -> None:
        """ "How I got this": the answer's SQL, shown only to whoever clicked (and may see the report)."""

        def show() -> None:
            self._authorized(client, user_id, followup_id)
            stored = self.services.engine.store.followup(followup_id)
            if stored is None or not stored.sql:
                raise InputError(NO_SQL)
            self._ephemeral(client, user_id, where, "The SQL this answer ran", sql_blocks(stored.sql))

        self._later(client, user_id, where, f"the SQL of {followup_id}", show)

    def _authorized(self, client: WebClient, user_id: str, followup_id: str) -> Requester:
        """The clicker, once the engine of the answer's report kind authorised them for its subject."""
        stored = self.services.engine.store.followup(followup_id) if followup_id else None
        if stored is None:
            raise InputError(NO_SUCH_ANSWER)
        requester = self.people.person(client, user_id).requester
        self.services.engine_for(stored.kind).authorize(requester, stored.subject_id)
        return requester

    def _later(
        self,
        client: WebClient,
        user_id: str,
        where: dict[str, str | None],
        name: str,
        job: Callable[[], None],
    ) -> None:
        """Run `job` on the worker pool (a click is acknowledged first); its failure is told to the clicker."""

        def failed(exc: Exception) -> None:
            self._ephemeral(client, user_id, where, tell(exc))

        try:
            self.services.workers.submit(name, job, on_error=failed)
        except Exception as exc:
            failed(exc)

    @staticmethod
    def _ephemeral(
        client: WebClient,
        user_id: str,
        where: dict[str, str | None],
        text: str,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        channel = where.get("channel")
        if not channel:
            return
        client.chat_postEphemeral(
            channel=channel, user=user_id, text=text, blocks=blocks, thread_ts=where.get("thread_ts")
        )
