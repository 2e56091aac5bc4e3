"""The report-kind contract, and the registry of kinds.

The machinery (core/engine.py, storage.py, writer.py, runs.py, deliveries.py) is the same for
every kind of weekly report; what differs is declared by a `ReportKind`: who the subjects and
their recipients are, how a run's facts are loaded, the headline, the sections and their
templates (`templates/<kind>/`), the prompt context, the data-coverage check, the guard's
scope and the Cortex agent that writes it. A kind is a folder under core/kinds/ plus one
`register(...)` line in core/kinds/__init__.py.

Every method that touches the warehouse works on a whole run's subjects at once (a handful of
set-based statements), never one subject at a time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

from core.errors import InputError
from core.guard import Declaration
from core.weeks import Week

if TYPE_CHECKING:
    from core.agent.base import AskContext
    from core.charts import Chart
    from core.directory import Requester
    from core.models import KindHeadline, Report
    from core.settings import Settings
    from core.warehouse import Warehouse


@dataclass(frozen=True)
class Section:
    """One section of a kind's report: asked in order, one agent turn each.

    Sections are data: adding one is a prompt template, a text template for the local
    analyst, and one entry in the kind's `sections`; no schema change.
    """

    key: str
    title: str
    kind: str = "ebr"

    @property
    def prompt_template(self) -> str:
        """The prompt the agent is asked with (`templates/<kind>/prompts/<key>.j2`)."""
        return f"{self.kind}/prompts/{self.key}.j2"

    @property
    def text_template(self) -> str:
        """The section text the local analyst renders (`templates/<kind>/sections/<key>.md.j2`)."""
        return f"{self.kind}/sections/{self.key}.md.j2"


@dataclass(frozen=True)
class Target:
    """One report to generate: its subject, and the recipient it is generated for.

    `csm_id` and `customer_id` are the EBR's names for the two (its recipient is a CSM, its
    subject a customer), kept for the code and tests written before kinds.
    """

    recipient_id: str | None
    subject_id: str

    @property
    def csm_id(self) -> str | None:
        return self.recipient_id

    @property
    def customer_id(self) -> str:
        return self.subject_id


@dataclass(frozen=True)
class Subject:
    """What a report is about, as it is named: its id, its name, and its peer group (the
    EBR's industry; "" when a kind has none). `detail` holds the kind's own fields."""

    subject_id: str
    name: str
    group: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


class Facts(Protocol):
    """A run's facts: every subject's figures for one week, from a few set-based statements.

    `sql` is the text of those statements, shown with an answer whose figures came from them.
    """

    @property
    def sql(self) -> Sequence[str]: ...

    def get(self, subject_id: str) -> Any | None:
        """The subject's facts (the kind's own type), or None if the run has none for it."""


class LocalAnswer(NamedTuple):
    """What the local analyst answers for a kind: the text, every statement it ran (each
    bound to the context's subject), and the sources it cites (e.g. case-study ids)."""

    text: str
    sql: list[str]
    sources: list[str]


class ReportKind(ABC):
    """One kind of weekly report. Subclasses set the class attributes and the methods below."""

    name: ClassVar[str]  # the registered name, stored as weekly_reports.report_kind ("ebr")
    title: ClassVar[str]  # how people call it ("executive business review")
    heading: ClassVar[str] = "Weekly report"  # what its messages are headed ("Weekly report: <subject>")
    sections: ClassVar[tuple[Section, ...]]
    scope: ClassVar[Declaration]  # what the agent's SQL may touch (core/guard)
    cortex_agent: ClassVar[str]  # the Cortex agent object that writes it (DATABASE.SCHEMA.NAME)

    def agent_name(self, settings: Settings) -> str:
        """The Cortex agent object (DATABASE.SCHEMA.NAME) that writes this kind: its own."""
        return self.cortex_agent

    def scope_note(self, subject_id: str, subject_name: str) -> str:
        """What an agent writing its own SQL is told before a follow-up question, so it keeps to
        the thread's subject (defence in depth only: the guard checks what it ran)."""
        column = self.scope.subject_column
        return (
            f"[Scope: this thread is the weekly {self.title} on {subject_id} ({subject_name}). Answer only "
            f"about {subject_id}: filter every query on {column} = '{subject_id}', do not read or name any "
            f"other, and if the question asks for anything else, say you can only answer about {subject_id}.]"
        )

    @property
    def report_template(self) -> str:
        """The Markdown of the whole report (`templates/<kind>/report.md.j2`)."""
        return f"{self.name}/report.md.j2"

    def report_id(self, subject_id: str, week: Week) -> str:
        """One report per (kind, subject, period): its id, derived from the three. A period
        that is not a 7-day week also names its end, so two ranges from one start differ."""
        return f"{self.name}:{subject_id}-{week.period_id}"

    def validate_subject(self, text: str | None) -> str:
        """The subject id as typed by a person, normalised; InputError if it is not one."""
        value = (text or "").strip()
        if not value:
            raise InputError(f"a {self.title} needs a subject id")
        return value

    @abstractmethod
    def targets(
        self, warehouse: Warehouse, recipient_id: str | None = None, subject_id: str | None = None
    ) -> list[Target]:
        """What a run generates: every subject with its recipient, or one recipient's, or one
        subject (already authorised by `authorize`). One report per subject."""

    @abstractmethod
    def authorize(self, warehouse: Warehouse, requester: Requester, subject_id: str) -> None:
        """Raise NotAuthorized (or UnknownCustomer...) unless `requester` may see the subject's reports.

        The one decision for the CLI, the bot and the weekly job.
        """

    @abstractmethod
    def subjects(self, warehouse: Warehouse, subject_ids: Sequence[str]) -> Mapping[str, Subject]:
        """The subjects' names and groups, in one statement (no figures)."""

    @abstractmethod
    def facts(self, warehouse: Warehouse, week: Week, subject_ids: Sequence[str]) -> Facts:
        """The week's facts of these subjects, in a few set-based statements."""

    @abstractmethod
    def subject_of(self, facts: Any) -> Subject:
        """The subject one subject's facts (`Facts.get`) are about."""

    def subjects_of(self, facts: Facts, subject_ids: Sequence[str]) -> dict[str, Subject]:
        """The subjects as a run's loaded facts name them (no second query)."""
        return {sid: self.subject_of(f) for sid in subject_ids if (f := facts.get(sid)) is not None}

    @abstractmethod
    def headline(self, facts: Any) -> KindHeadline | None:
        """The report's headline figures and verdict from the subject's facts (one verdict function)."""

    def stored_headline(self, stored: Mapping[str, Any] | None) -> KindHeadline | None:
        """The headline back from a report's stored metadata (by default the EBR's type)."""
        from core.models import Headline

        return Headline(**stored) if stored else None

    def prompt_context(self, subject: Subject, week: Week) -> dict[str, Any]:
        """The variables of the kind's prompt templates."""
        return {
            "subject_id": subject.subject_id, "subject_name": subject.name, "group": subject.group,
            "week_start": week.start, "week_end": week.end,
            "previous_start": week.previous.start, "previous_end": week.previous.end,
            "year_ago_start": week.year_ago.start, "year_ago_end": week.year_ago.end,
        }  # fmt: skip

    def metadata(self, subject: Subject) -> dict[str, Any]:
        """What the report's stored metadata says about its subject."""
        return {"subject_name": subject.name}

    def subject_from_metadata(self, subject_id: str, metadata: Mapping[str, Any]) -> Subject:
        """The subject as a stored report's metadata names it (the inverse of `metadata`)."""
        return Subject(subject_id, str(metadata.get("subject_name", subject_id)))

    no_data_note: ClassVar[str] = "no data was recorded in the week"  # why a report is no_data

    def week_status(self, facts: Any) -> str | None:
        """How far the subject's facts cover the week: `core.models.NO_DATA` (no rows at all: a
        short report, no agent turns), `PARTIAL` (the data covers part of it: not compared as
        whole, stored partial), or None (the whole week)."""
        return None

    def partial_data(self, facts: Any) -> dict[str, Any]:
        """What the report's metadata says of a partial week (e.g. its days of data)."""
        return {}

    def judgement(self, facts: Any) -> dict[str, Any]:
        """The kind's verdict (from its one verdict function), as variables for the section
        prompts, so an agent writes sections that agree with the headline; none by default."""
        return {}

    def answer_locally(self, warehouse: Warehouse, prompt: str, context: AskContext) -> LocalAnswer:
        """The local analyst's answer for this kind: a section when `context.section_key` is
        set (from `context.facts` when the engine passed them), else a follow-up question.
        Every figure in it comes from SQL run here, bound to `context.subject_id`.
        (The EBR's is core/agent/local's own; another kind answers here.)"""
        from core.errors import AgentRequestError

        raise AgentRequestError(f"the local analyst cannot write a {self.title}")

    def charts(self, report: Report) -> Sequence[Chart]:
        """The report's charts, built from its stored figures (none by default, and none for a
        report stored before its kind had charts)."""
        return ()

    def suggested_questions(self, report: Report) -> Sequence[str]:
        """Up to three follow-up questions that fit this report, offered in its thread (none
        by default). Each must be one the kind's agent can answer about the report's subject."""
        return ()

    @abstractmethod
    def coverage(self, warehouse: Warehouse, week: Week) -> None:
        """Raise InvalidWeek unless the warehouse holds data for `week`."""

    @abstractmethod
    def known_subjects(self, warehouse: Warehouse) -> Mapping[str, str]:
        """Every subject's id and name, for the guard (an answer naming another subject is withheld)."""


_KINDS: dict[str, ReportKind] = {}


def register(kind: ReportKind) -> ReportKind:
    """Make `kind` available by its name (one line per kind in core/kinds/__init__.py)."""
    if kind.name in _KINDS and type(_KINDS[kind.name]) is not type(kind):
        raise ValueError(f"a report kind named {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Forget a kind (tests that register one of their own)."""
    _KINDS.pop(name, None)


def get_kind(name: str | None) -> ReportKind:
    """The registered kind; a report stored before kinds (no report_kind) is an EBR."""
    try:
        return _KINDS[name or "ebr"]
    except KeyError:
        raise InputError(f"unknown report kind {name!r}; known kinds: {', '.join(sorted(_KINDS))}") from None


def registered_kinds() -> dict[str, ReportKind]:
    """The registered kinds by name."""
    return dict(_KINDS)
