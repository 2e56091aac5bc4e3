"""What each `weekly-report` subcommand does. Settings are loaded once, here."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import defaultdict
from pathlib import Path

from bot.channels.console import charts_folder, print_report
from bot.live import TerminalAnswer
from bot.progress import ProgressBar
from bot.text import as_csv, as_json, plain, table
from core import (
    DeliveryStore,
    Report,
    ReportEngine,
    ReportStore,
    Requester,
    Settings,
    build_engine,
    load_settings,
    open_warehouse,
    validate_csm_id,
    validate_customer_id,
)
from core.errors import ConfigError, InputError, WarehouseLocked, WeeklyReportError
from core.feedback import by_week, feedback_counts, negative_feedback
from core.warehouse import open_embedded
from core.warehouse.base import ANALYTICS, COACHING, split_statements
from core.weeks import week_containing


def _settings() -> Settings:
    return load_settings()


def _embedded_only(settings: Settings, command: str) -> None:
    if settings.backend != "embedded":
        raise ConfigError(
            f"`{command}` loads demo data into the embedded warehouse; unset WEEKLY_REPORT_BACKEND"
        )


def load_demo(args: argparse.Namespace) -> int:
    from core.demo import load_demo as load
    from core.warehouse.embedded import EmbeddedWarehouse

    settings = _settings()
    _embedded_only(settings, "load-demo")
    if args.customers < 9:
        raise InputError("--customers must be at least 9 (the named demo customers)")
    if args.reps < 8:
        raise InputError("--reps must be at least 8 (the named demo reps)")
    as_of = _date(args.as_of, "--as-of") if args.as_of else settings.current_date()
    warehouse = open_embedded(settings.home, borrow=False)  # replaces the data: needs the files to itself
    assert isinstance(warehouse, EmbeddedWarehouse)
    with warehouse:
        summary = load(
            warehouse,
            as_of,
            args.customers,
            progress=lambda m: print(f"  loading {m}", file=sys.stderr),
            reps=args.reps,
        )
    print(summary.describe())
    return 0


def demo(args: argparse.Namespace) -> int:
    from core.demo import load_demo as load
    from core.warehouse.embedded import EmbeddedWarehouse

    settings = _settings()
    _embedded_only(settings, "demo")
    engine = build_engine(settings)
    with engine:
        if not _demo_data_current(engine):
            warehouse = engine.warehouse
            if not isinstance(warehouse, EmbeddedWarehouse):  # borrowed from a running bot
                raise WarehouseLocked(
                    "the demo data needs loading, which needs the embedded warehouse to itself; "
                    "stop the running `weekly-report bot` or `console` first"
                )
            print(f"Loading the demo dataset into {settings.home} ...", file=sys.stderr)
            print(load(warehouse, settings.current_date()).describe(), file=sys.stderr)
        week = engine.week(None)
        targets = engine.targets()
        summary = engine.generate(targets, week, trigger="manual", progress=ProgressBar("Generating"))
        _print_monday_dms(engine, summary.reports, charts_folder(settings))
        print(_summary_line(summary.as_dict()))
        coached = _print_coaching(settings, engine)
    return 0 if summary.reports_failed == 0 and coached else 1


DEMO_REP = "REP001"  # Jane Smith: improving; the seed's example rep


def _print_coaching(settings: Settings, engine: ReportEngine) -> bool:
    """The demo's sales-coaching review: one rep's review as their DM shows it, and the team
    summary as Slack gets it (`weekly-report coaching` sends them). True when none failed."""
    from bot.coaching.summary import team_summary
    from core import last_complete_week, make_agent
    from core.kinds import COACHING
    from core.kinds.coaching.headline import CoachingHeadline

    week = last_complete_week(settings.current_date())
    agent = make_agent(settings, engine.warehouse, COACHING)
    coach = ReportEngine(settings, engine.warehouse, agent, kind=COACHING, workers=engine.workers)
    targets = COACHING.active_targets(engine.warehouse, week)
    gen = coach.generate(targets, week, trigger="manual", progress=ProgressBar("Coaching reviews"))
    reports = [gen.reports[t.subject_id] for t in targets if t.subject_id in gen.reports]
    shown = gen.reports.get(DEMO_REP) or (reports[0] if reports else None)
    print(
        f"\n{'=' * 78}\nSales-coaching review, {week.label()}: {len(reports)} rep(s) with calls\n{'=' * 78}"
    )
    if shown is not None:
        print(f"\nThe review DMed to {shown.customer_name} ({shown.subject_id}) (also emailed):")
        print_report(None, shown)
    headlines = [h for r in reports if isinstance(h := r.headline, CoachingHeadline)]
    print("\nThe team summary, as `weekly-report coaching --send-emails --send-slack` posts it:\n")
    print(team_summary(week, headlines, emailed=True))
    return gen.reports_failed == 0


def _demo_data_current(engine: ReportEngine) -> bool:
    """The demo data, the coaching data included, exists and covers the latest complete week."""
    try:
        week = engine.week(None)
    except InputError:
        return False
    last = engine.warehouse.scalar(f"SELECT MAX(activity_date) FROM {ANALYTICS}.historical_engagement")
    # A warehouse loaded before the coaching data existed has none: it needs loading too.
    last_call = engine.warehouse.scalar(f"SELECT MAX(started_at) FROM {COACHING}.calls")
    return last is not None and last >= week.end and last_call is not None and last_call.date() >= week.start


def _print_monday_dms(engine: ReportEngine, reports: dict[str, Report], charts: Path | None) -> None:
    """Each CSM's DMs as Slack would show them: per customer a parent message and its thread
    (its chart images saved to `charts`)."""
    by_csm: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for a in engine.directory.assignments():
        if a.customer_id in reports:
            by_csm[a.csm_id].append(a.customer_id)
            names[a.csm_id] = f"{a.csm_name} <{a.csm_email}>"
    for csm_id, customers in by_csm.items():
        print(
            f"\n{'=' * 78}\nMonday DMs for {names[csm_id]} ({csm_id}): {len(customers)} report(s)\n{'=' * 78}"
        )
        for customer_id in customers:
            print_report(None, reports[customer_id], charts)


def generate(args: argparse.Namespace) -> int:
    settings = _settings()
    csm_id = validate_csm_id(args.csm_id) if args.csm_id else None
    customer_id = validate_customer_id(args.customer_id) if args.customer_id is not None else None
    if args.mode == "single" and (csm_id is None or customer_id is None):
        raise InputError("--mode single needs --csm-id and --customer-id (or use --mode all)")
    if args.mode == "all" and customer_id is not None:
        raise InputError("--mode all generates every customer; drop --customer-id or use --mode single")
    engine = build_engine(settings)
    with engine:
        targets = engine.targets(csm_id, customer_id)
        week = engine.week(args.week)
        progress = ProgressBar("Generating") if args.mode == "all" else None
        summary = engine.generate(
            targets,
            week,
            refresh=args.refresh,
            trigger="manual",
            progress=progress,
            collect=args.mode == "single",
        )
        if args.mode == "single":
            print(summary.reports[targets[0].subject_id].full_report)
        print(_summary_line(summary.as_dict()))
        for failure in summary.failures:
            print(f"  {failure}", file=sys.stderr)
    return 0 if summary.reports_failed == 0 and summary.reports_kept == 0 else 1


def show(args: argparse.Namespace) -> int:
    settings = _settings()
    customer_id = validate_customer_id(args.customer_id)
    engine = build_engine(settings)
    with engine:
        engine.authorize(_requester(settings, None), customer_id)  # the local operator: any known customer
        week = engine.week(args.week) if args.week else None
        report = engine.store.load(customer_id, week)
    if args.format == "md":
        print(report.full_report)
    elif args.format == "slack":
        print_report(None, report, charts_folder(settings))
    else:
        print(json.dumps(_report_json(report), indent=2, default=plain))
    return 0


def _report_json(report: Report) -> dict[str, object]:
    return {
        "report_id": report.report_id, "csm_id": report.csm_id, "customer_id": report.customer_id,
        "customer_name": report.customer_name, "industry": report.industry,
        "report_week_start": report.week.start.isoformat(), "report_week_end": report.week.end.isoformat(),
        "status": report.status, "agent_thread_id": report.agent_thread_id,
        "last_message_id": report.last_message_id, "generation_timestamp": plain(report.generated_at),
        "headline": report.headline.as_dict() if report.headline else None,
        "sections": [s.__dict__ for s in report.sections], "full_report": report.full_report,
    }  # fmt: skip


def ask(args: argparse.Namespace) -> int:
    settings = _settings()
    customer_id = validate_customer_id(args.customer_id)
    engine = build_engine(settings)
    with engine:
        requester = _requester(settings, args.as_email)
        week = engine.week(args.week) if args.week else None
        # On a terminal the answer shows as it is made; piped, it is printed whole as it ends.
        live = TerminalAnswer(sys.stdout, sys.stderr) if sys.stdout.isatty() else None
        try:
            result = engine.ask(requester, customer_id, args.question, week, listener=live)
        except WeeklyReportError:
            if live is not None:
                live.retract()  # the refusal (printed by main) replaces what went out
            raise
    if live is not None:
        live.finish(result.answer.text)
    else:
        print(result.answer.text)
    print(
        f"\n(report {result.report.report_id}, agent thread {result.report.agent_thread_id}: "
        f"message {result.parent_message_id} → {result.answer.message_id})",
        file=sys.stderr,
    )
    if args.show_sql:
        for statement in result.answer.sql:
            print(f"\n-- SQL\n{statement}")
    return 0


def _requester(settings: Settings, email: str | None) -> Requester:
    """Who is asking: the given CSM (checked), or the local operator, who sees everything."""
    if email is None:
        return Requester(is_admin=True)
    return Requester(email=email.strip(), is_admin=settings.is_admin(email))


def sql(args: argparse.Namespace) -> int:
    settings = _settings()
    statements = split_statements(args.query)
    if not statements:
        raise InputError("the query is empty")
    if len(statements) > 1:
        raise InputError(
            f"the query has {len(statements)} statements; `sql` runs one statement at a time "
            "(no BEGIN/COMMIT needed): run each on its own"
        )
    with open_warehouse(settings) as warehouse:
        columns, rows = warehouse.fetch(statements[0])
    if args.format == "json":
        print(as_json(columns, rows))
    elif args.format == "csv":
        print(as_csv(columns, rows))
    else:
        print(table(columns, rows) if columns else "Statement executed.")
    return 0


def runs(args: argparse.Namespace) -> int:
    settings = _settings()
    with open_warehouse(settings) as warehouse:
        history = ReportStore(warehouse).runs(args.limit)
        feedback = by_week(feedback_counts(warehouse))
    if not history:
        print("No runs yet.")
        return 0
    columns = [
        "run_id",
        "trigger",
        "week_start",
        "started_at",
        "status",
        "reports_generated",
        "reports_failed",
        "dms_sent",
        "dms_failed",
    ]
    print(
        table(
            [*columns, "feedback", "notes"],
            [[*(r[c] for c in columns), _votes(feedback, r["week_start"]), _run_notes(r)] for r in history],
        )
    )
    return 0


def _votes(weeks: dict[dt.date, tuple[int, int]], week_start: object) -> str:
    """A run's week's feedback clicks: "+3 -1" (all kinds' answers on that week's reports)."""
    day = week_start.date() if isinstance(week_start, dt.datetime) else week_start
    up, down = weeks.get(day, (0, 0)) if isinstance(day, dt.date) else (0, 0)
    return f"+{up} -{down}"


def feedback(args: argparse.Namespace) -> int:
    """`weekly-report feedback`: the answers' feedback clicks per kind and week, then the
    questions whose answers were voted down."""
    settings = _settings()
    week_start = week_containing(_date(args.week_start, "--week-start")).start if args.week_start else None
    with open_warehouse(settings) as warehouse:
        counts, negative = feedback_counts(warehouse, week_start), negative_feedback(warehouse, week_start)
    if not counts:
        print(f"No follow-up answers{f' on reports of the week of {week_start}' if week_start else ''} yet.")
        return 0
    rows = [[c.kind, c.week_start, c.answers, c.positive, c.negative, c.answers - c.positive - c.negative,
             c.refused] for c in counts]  # fmt: skip
    print(table(["kind", "week_start", "answers", "positive", "negative", "no_feedback", "refused"], rows))
    if negative:
        print("\nQuestions with negative feedback (latest click):")
        print(table(["kind", "week_start", "report_id", "question", "by"],
                    [[n.kind, n.week_start, n.report_id, n.question, n.by or ""] for n in negative]))  # fmt: skip
    return 0


def _run_notes(run: dict[str, object]) -> str:
    """The problems a weekly run stored in its details: paused CSMs, CSMs not in Slack, failures."""
    details = run.get("details")
    if not isinstance(details, dict):
        return ""
    notes = [f"scope {details['scope']}"] if details.get("scope") else []
    for key, label in (("paused", "paused"), ("not_in_slack", "not in Slack")):
        if details.get(key):
            notes.append(f"{label}: {', '.join(map(str, details[key]))}")
    failures = details.get("failures") or []
    if failures and details.get("scope"):
        notes.append(f"{len(failures)} problem(s): {str(failures[0])[:80]}")
    return "; ".join(notes)


def send_weekly(args: argparse.Namespace) -> int:
    """`weekly-report send-weekly`: the Monday job now, to each CSM's channels (WEEKLY_REPORT_DELIVERY:
    Slack with SLACK_BOT_TOKEN, else the console, by default; email too for CSMs who chose it)."""
    import logging

    from bot.slack.app import web_client
    from bot.weekly import WeeklyJob

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    csm_id = validate_csm_id(args.csm_id) if args.csm_id else None
    engine = build_engine(settings)
    with engine:
        week = engine.week(args.week)
        if csm_id is not None:
            engine.directory.require_csm(csm_id)
        client = web_client(settings) if settings.slack_bot_token else None
        job = WeeklyJob(settings, engine, DeliveryStore(engine.warehouse), client, out=sys.stdout)
        csm_ids = [csm_id] if csm_id else None
        if args.dry_run:
            print("\n".join(job.dry_run(week, csm_ids)))
            print("(dry run: nothing generated, posted or recorded)")
            return 0
        scope = f"weekly:csm:{csm_id}" if csm_id else "weekly:all"
        summary = job.run(week, csm_ids, trigger="manual", scope=scope, retry_errors=True)
    print(json.dumps(summary, indent=2, default=plain))
    failed = summary.get("dms_failed") or summary.get("emails_failed")
    return 1 if summary["status"] == "failed" or failed else 0


def coaching(args: argparse.Namespace) -> int:
    """`weekly-report coaching`: the sales-coaching review of a range (bot/coaching), its JSON
    result printed last; exit 1 when a delivery failed, 2 on bad input (nothing written)."""
    import logging

    from bot.coaching import run_coaching
    from bot.slack.app import web_client
    from core.weeks import parse_range

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    week = parse_range(args.week_start, args.week_end, settings.current_date())
    if args.send_slack and not args.dry_run and not (settings.slack_webhook_url or settings.slack_bot_token):
        raise ConfigError(
            "--send-slack needs SLACK_WEBHOOK_URL (the team summary) or SLACK_BOT_TOKEN "
            "(with WEEKLY_REPORT_COACHING_CHANNEL for the summary, and the DMs)"
        )
    engine = build_engine(settings, kind="coaching")
    with engine:
        rep_ids = [args.rep_id] if args.rep_id is not None else None
        # With a bot token: the DMs, the summary to WEEKLY_REPORT_COACHING_CHANNEL, and the alerts.
        client = web_client(settings) if settings.slack_bot_token else None
        result = run_coaching(
            settings, engine, DeliveryStore(engine.warehouse), week=week,
            send_emails=args.send_emails or args.resend, send_slack=args.send_slack,
            dry_run=args.dry_run, resend=args.resend, rep_ids=rep_ids, client=client,
            out=sys.stdout, progress=sys.stderr,
        )  # fmt: skip
    for failure in result.failures:
        print(f"  {failure}", file=sys.stderr)
    print(json.dumps(result.as_dict(), indent=2, default=plain))
    return 1 if result.failed else 0


def _summary_line(summary: dict[str, object]) -> str:
    return (
        f"\nRun {summary['run_id']} ({summary['status']}) for the week of {summary['week_start']}: "
        f"{summary['reports_generated']} generated ({summary['reports_partial']} partial), "
        f"{summary.get('reports_no_data', 0)} without data, "
        f"{summary['reports_failed']} failed, {summary.get('reports_kept', 0)} kept (refresh not complete), "
        f"{summary['reports_reused']} reused, in {summary['seconds']}s"
    )


def _date(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{flag} '{text[:40]}' is not a date; use YYYY-MM-DD") from None


def bot(args: argparse.Namespace) -> int:
    import logging

    from bot.runner import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(_settings())


def console(args: argparse.Namespace) -> int:
    from bot.console import run_console

    return run_console(_settings(), args.as_email)
