"""Report kinds: a second kind reuses the engine, storage and ledger unchanged; storage keys
reports by kind; reports stored before kinds read as EBRs; the scripted agent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from core import DeliveryStore, ReportEngine, Requester, make_agent
from core.agent.base import Answer
from core.agent.local.analyst import LocalAnalyst
from core.agent.testing import Asked, ScriptedAgent
from core.errors import AgentUnavailable, InputError, InvalidWeek, NotAuthorized
from core.guard import Declaration
from core.kinds import EBR, ReportKind, Section, Subject, Target, get_kind, register, unregister
from core.kinds.ebr.analytics import CustomerData
from core.models import Report
from core.rollup import collect_rollup, latest_reports
from core.templating import extra_templates
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS
from core.warehouse.schema import schema_statements
from core.weeks import Week
from tests.conftest import REPORT_WEEK
from tests.test_cortex_engine import NO_CONNECTIONS

WEEK = Week(REPORT_WEEK)

# --- a second, small kind over the demo's real tables -------------------------------------

# The week's conversions and revenue of every industry asked for, in one statement.
INDUSTRY_FACTS_SQL = f"""
SELECT c.industry, COUNT(*) AS conversions, SUM(v.revenue) AS revenue
FROM {ANALYTICS}.conversions v JOIN {ANALYTICS}.customers c ON c.customer_id = v.customer_id
WHERE c.industry IN (SELECT f.value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) f)
  AND v.conversion_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY 1
"""


@dataclass(frozen=True)
class IndustryWeek:
    industry: str
    conversions: int
    revenue: float


@dataclass(frozen=True)
class IndustryFacts:
    by_industry: dict[str, IndustryWeek]
    sql: tuple[str, ...]

    def get(self, subject_id: str) -> IndustryWeek | None:
        return self.by_industry.get(subject_id)


class IndustryDigest(ReportKind):
    """An admins-only weekly digest per industry: a kind written the way a real one is."""

    name = "industry"
    title = "industry digest"
    sections = (Section("summary", "Summary", kind="industry"),)
    scope = Declaration(
        "industry", frozenset({"customers"}), frozenset(), "CUSTOMER_SUCCESS_DATA", "ANALYTICS", "IND_\\d+"
    )
    cortex_agent = "SNOWFLAKE_INTELLIGENCE.AGENTS.INDUSTRY_DIGEST"

    def targets(
        self, warehouse: Warehouse, recipient_id: str | None = None, subject_id: str | None = None
    ) -> list[Target]:
        rows = warehouse.query(f"SELECT DISTINCT industry FROM {ANALYTICS}.customers ORDER BY 1")
        return [Target("admins", r["industry"]) for r in rows if subject_id in (None, r["industry"])]

    def authorize(self, warehouse: Warehouse, requester: Requester, subject_id: str) -> None:
        if not requester.is_admin:
            raise NotAuthorized("industry digests are for admins")

    def subjects(self, warehouse: Warehouse, subject_ids: Sequence[str]) -> Mapping[str, Subject]:
        return {s: Subject(s, s) for s in subject_ids}

    def facts(self, warehouse: Warehouse, week: Week, subject_ids: Sequence[str]) -> IndustryFacts:
        import json

        rows = warehouse.query(INDUSTRY_FACTS_SQL, [json.dumps(sorted(subject_ids)), week.start, week.end])
        found = {
            r["industry"]: IndustryWeek(r["industry"], int(r["conversions"]), float(r["revenue"]))
            for r in rows
        }
        return IndustryFacts(
            {s: found.get(s, IndustryWeek(s, 0, 0.0)) for s in subject_ids}, (INDUSTRY_FACTS_SQL,)
        )

    def subject_of(self, facts: Any) -> Subject:
        return Subject(facts.industry, facts.industry)

    def headline(self, facts: Any) -> None:
        return None

    def coverage(self, warehouse: Warehouse, week: Week) -> None:
        last = warehouse.scalar(f"SELECT MAX(conversion_date) FROM {ANALYTICS}.conversions")
        if last is None or week.start > last:
            raise InvalidWeek(f"no conversions in the week of {week.start}")

    def known_subjects(self, warehouse: Warehouse) -> Mapping[str, str]:
        return {
            r["industry"]: r["industry"]
            for r in warehouse.query(f"SELECT DISTINCT industry FROM {ANALYTICS}.customers")
        }


@pytest.fixture
def industry(tmp_path: Path) -> Iterator[IndustryDigest]:
    """The kind registered, with its templates (templates/industry/...) in a folder of its own."""
    folder = tmp_path / "templates" / "industry"
    (folder / "prompts").mkdir(parents=True)
    (folder / "prompts" / "summary.j2").write_text("Summarise {{ subject_name }} for {{ week_start }}.")
    (folder / "report.md.j2").write_text(
        "# {{ r.customer_name }}\n{% for s in r.sections %}{{ s.content }}\n{% endfor %}"
    )
    kind = IndustryDigest()
    register(kind)
    try:
        with extra_templates(tmp_path / "templates"):
            yield kind
    finally:
        unregister(kind.name)


def revenue_line(asked: Asked) -> str:
    facts = asked.context.facts
    return f"{facts.industry}: {facts.conversions} conversions, revenue {facts.revenue:.2f}"


def test_a_second_kind_reuses_the_engine_storage_and_ledger(
    engine: ReportEngine, industry: IndustryDigest
) -> None:
    agent = ScriptedAgent(revenue_line)
    digest = ReportEngine(engine.settings, engine.warehouse, agent, kind=industry)
    targets = digest.targets()
    run = digest.generate(targets, digest.week())
    assert (run.status, run.reports_generated) == ("completed", len(targets)) and len(targets) >= 3

    expected = {
        r[
            "industry"
        ]: f"{r['industry']}: {int(r['conversions'])} conversions, revenue {float(r['revenue']):.2f}"
        for r in engine.warehouse.query(
            f"SELECT c.industry, COUNT(*) AS conversions, SUM(v.revenue) AS revenue FROM {ANALYTICS}.conversions v "
            f"JOIN {ANALYTICS}.customers c USING (customer_id) WHERE v.conversion_date BETWEEN ? AND ? GROUP BY 1",
            [WEEK.start, WEEK.end],
        )
    }
    stored = {t.subject_id: digest.store.load(t.subject_id, WEEK, "industry") for t in targets}
    assert {s: r.sections[0].content for s, r in stored.items()} == {
        s: expected.get(s, f"{s}: 0 conversions, revenue 0.00") for s in stored
    }
    retail = stored["Retail"]
    assert (retail.kind, retail.report_id, retail.subject_id) == (
        "industry",
        f"industry:Retail-{WEEK.start:%Y%m%d}",
        "Retail",
    )
    assert retail.full_report.startswith("# Retail") and run.reports["Retail"].report_id == retail.report_id
    assert [a.prompt for a in agent.asked if a.context.subject_id == "Retail"] == [
        f"Summarise Retail for {WEEK.start}."
    ]

    again = digest.generate(targets, WEEK)  # complete reports are reused, returned from one bulk read
    assert (again.reports_generated, again.reports_reused) == (0, len(targets))
    assert again.reports["Retail"].sections[0].content == retail.sections[0].content

    ledger = DeliveryStore(engine.warehouse)  # the same ledger, keyed by the kind's report ids
    assert ledger.claim(retail.report_id, "admins").status == "pending"

    with pytest.raises(NotAuthorized, match="for admins"):
        digest.ask(Requester(csm_id="CSM001"), "Retail", "and last week?")
    assert engine.store.statuses(["CUST_12345"], WEEK) == {}  # no EBR appeared


def test_two_kinds_with_the_same_subject_and_week_do_not_collide(
    engine: ReportEngine, industry: IndustryDigest
) -> None:
    EBR_ID = "CUST_12345"
    ebr = engine.generate(engine.targets("CSM001", EBR_ID), WEEK).reports[EBR_ID]
    toy = Report(
        report_id=industry.report_id(EBR_ID, WEEK), csm_id=None, customer_id=EBR_ID, customer_name="same id",
        industry="", week=WEEK, status="partial", sections=[], headline=None, agent_thread_id=None,
        last_message_id=None, generated_at=ebr.generated_at, full_report="toy", kind="industry",
    )  # fmt: skip
    assert engine.store.save([toy]) == [toy.report_id]
    assert engine.store.load(EBR_ID, WEEK).report_id == f"{EBR_ID}-{WEEK.start:%Y%m%d}"
    assert engine.store.load(EBR_ID, WEEK, "industry").full_report == "toy"
    rows = engine.warehouse.query(
        "SELECT report_kind, report_id FROM weekly_reports WHERE customer_id = ? ORDER BY 1", [EBR_ID]
    )
    assert [(r["report_kind"], r["report_id"]) for r in rows] == [
        ("ebr", ebr.report_id),
        ("industry", toy.report_id),
    ]
    # The team rollup is the EBR's: the other kind's report on the same id does not show in it.
    [row] = [r for c in collect_rollup(engine.warehouse, WEEK, {}) for r in c.rows if r.customer_id == EBR_ID]
    assert row.status == ebr.status and row.headline == ebr.headline
    assert latest_reports(engine.warehouse, [EBR_ID], WEEK, 1)[EBR_ID].status == ebr.status == "complete"


def test_reports_stored_before_kinds_read_as_ebrs_with_their_ids(engine: ReportEngine) -> None:
    engine.generate(engine.targets("CSM001", "CUST_12345"), WEEK)
    # As a release before kinds left it: no report_kind, no subject_id.
    engine.warehouse.execute("UPDATE weekly_reports SET report_kind = NULL, subject_id = NULL")
    for statement in schema_statements():  # `weekly-report setup-snowflake` (or a new release) again
        engine.warehouse.execute(statement)
    report = engine.store.load("CUST_12345", WEEK)
    assert (report.kind, report.subject_id, report.report_id) == ("ebr", "CUST_12345", "CUST_12345-20261109")
    assert engine.store.statuses(["CUST_12345"], WEEK) == {"CUST_12345": "complete"}
    assert engine.generate(engine.targets("CSM001", "CUST_12345"), WEEK).reports_reused == 1
    # the original system's query on weekly_reports runs as it always did
    rows = engine.warehouse.query(
        "SELECT report_id, csm_id, customer_id, report_week_start, status FROM "
        "CUSTOMER_SUCCESS_DATA.ANALYTICS.weekly_reports WHERE customer_id = ? AND report_week_start = ?",
        ["CUST_12345", WEEK.start],
    )
    assert [r["report_id"] for r in rows] == ["CUST_12345-20261109"]


def test_the_registry_names_kinds_and_refuses_unknown_ones() -> None:
    assert get_kind("ebr") is EBR and get_kind(None) is EBR
    assert get_kind("coaching").title == "sales-coaching review"
    with pytest.raises(InputError, match="unknown report kind 'podcast'"):
        get_kind("podcast")

    class Impostor(IndustryDigest):
        name = "ebr"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor())


# --- the scripted agent -------------------------------------------------------------------


def test_a_scripted_agent_writes_an_ebr_from_the_facts_the_engine_passed(engine: ReportEngine) -> None:
    engine.agent = agent = ScriptedAgent(lambda a: f"{a.context.section_key}: {a.context.facts.name}")
    run = engine.generate(engine.targets("CSM001", "CUST_12345"), WEEK)
    report = run.reports["CUST_12345"]
    assert [s.content for s in report.sections] == [f"{s.key}: {report.customer_name}" for s in EBR.sections]
    facts = [a.context.facts for a in agent.asked]
    assert all(isinstance(f, CustomerData) and f.customer_id == "CUST_12345" for f in facts)
    assert [a.parent_message_id for a in agent.asked] == [0, 2, 3]  # each turn chained to the last answer
    assert report.headline is not None and report.headline.revenue > 0  # the engine's own figures


def test_a_scripted_agent_replies_raises_and_hands_the_rest_on(engine: ReportEngine) -> None:
    agent = ScriptedAgent({"performance": "fine", "business_value": AgentUnavailable("HTTP 503")})
    thread = agent.start_thread()
    context = engine.generate(engine.targets("CSM001", "CUST_12345"), WEEK).reports["CUST_12345"]
    from core.agent.base import AskContext

    ask = AskContext("CUST_12345", context.customer_name, context.industry, WEEK, "performance")
    assert agent.ask(thread, 0, "p", ask) == Answer("fine", 2)
    with pytest.raises(AgentUnavailable):
        agent.ask(thread, 2, "p", AskContext("CUST_12345", "x", "y", WEEK, "business_value"))
    with pytest.raises(AssertionError, match="no reply for a follow-up"):
        agent.ask(thread, 2, "what now?", AskContext("CUST_12345", "x", "y", WEEK))
    handed = ScriptedAgent({}, otherwise=LocalAnalyst(engine.warehouse))
    answer = handed.ask(handed.start_thread(), 0, "What was revenue last week?", ask)
    assert "$" in answer.text and answer.sql and not handed.guarded


def test_built_concurrently_the_agent_starts_before_the_facts_and_the_headline_follows(
    engine: ReportEngine,
) -> None:
    """With workers > 1 (as build_engine decides for Cortex) the agent is not handed facts:
    it starts at once while the facts are queried alongside; the headline still comes from them."""
    agent = ScriptedAgent(lambda a: f"{a.context.section_key} of {a.context.subject_name}")
    concurrent = ReportEngine(engine.settings, engine.warehouse, agent, workers=4)
    run = concurrent.generate(concurrent.targets(), WEEK)
    assert (run.reports_generated, len(run.reports)) == (9, 9)
    assert all(a.context.facts is None for a in agent.asked) and len(agent.asked) == 27
    sequential = engine.generate(
        engine.targets(), WEEK, refresh=True
    ).reports  # the local analyst, facts first
    assert {s: r.headline for s, r in run.reports.items()} == {s: r.headline for s, r in sequential.items()}


def test_each_kind_is_written_by_its_own_cortex_agent(engine: ReportEngine, industry: IndustryDigest) -> None:
    settings = replace(
        engine.settings, agent="cortex", cortex_base_url="http://127.0.0.1:9", cortex_token="token",
        snowflake_connections_file=NO_CONNECTIONS,
    )  # fmt: skip
    named = {}
    for name, kind, chosen in (("industry", industry, settings), ("ebr", EBR, settings),
                               ("mine", EBR, replace(settings, cortex_agent="DB.S.MINE"))):  # fmt: skip
        agent = make_agent(chosen, engine.warehouse, kind)
        named[name] = repr(agent)
        agent.close()
    assert "agent=SNOWFLAKE_INTELLIGENCE.AGENTS.INDUSTRY_DIGEST" in named["industry"]
    assert (
        "agent=SNOWFLAKE_INTELLIGENCE.AGENTS.EXECUTIVE_REVIEW_ASSISTANT" in named["ebr"]
    )  # CORTEX_AGENT's default
    assert "agent=DB.S.MINE" in named["mine"]  # CORTEX_AGENT names the EBR's


def test_a_follow_up_to_cortex_is_scoped_by_its_kind(industry: IndustryDigest) -> None:
    from core.agent.base import AskContext
    from core.agent.cortex.agent import scoped

    note = scoped("and last week?", AskContext("Retail", "Retail", "", WEEK, kind="industry"))
    assert note.startswith("[Scope: this thread is the weekly industry digest on Retail (Retail).")
    assert "filter every query on industry = 'Retail'" in note and note.endswith("Question: and last week?")
    ebr = scoped("q", AskContext("CUST_12345", "Acme Retail", "Retail", WEEK))
    assert "weekly report on customer CUST_12345 (Acme Retail)" in ebr and "customer_id = 'CUST_12345'" in ebr
