"""The `weekly-report` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import commands, setup_snowflake
from core import WeeklyReportError
from core.errors import InputError, NotAuthorized

EXAMPLES = """examples:
  weekly-report demo
  weekly-report generate --mode single --csm-id CSM001 --customer-id CUST_12345
  weekly-report generate --mode all --week 2026-11-09
  weekly-report show --customer-id CUST_12345 --format md
  weekly-report ask --customer-id CUST_12345 "What was revenue by channel last week?"
  weekly-report feedback --week-start 2026-11-09
  weekly-report sql "SELECT customer_id, status FROM weekly_reports" --format json
  weekly-report send-weekly --dry-run
  weekly-report coaching --send-emails --send-slack
  weekly-report console --as sarah.johnson@example.com
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="weekly-report",
        description="Weekly executive business reviews for CSMs, written by a data agent.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "demo", help="load the demo data if needed, generate this week's reports, print the DMs"
    )
    p.set_defaults(handler=commands.demo)

    p = sub.add_parser("load-demo", help="(re)load the demo dataset into the embedded warehouse")
    p.add_argument(
        "--customers", type=int, default=9, help="number of customers (default 9, the named demo set)"
    )
    p.add_argument(
        "--reps",
        type=int,
        default=8,
        help="number of sales reps in the coaching data (default 8, the named set)",
    )
    p.add_argument("--as-of", help="date the data runs up to, exclusive (default today)")
    p.set_defaults(handler=commands.load_demo)

    p = sub.add_parser("generate", help="generate reports")
    p.add_argument("--mode", choices=["single", "all"], default="single")
    p.add_argument("--csm-id", help="the CSM (required with --mode single; limits --mode all to one CSM)")
    p.add_argument("--customer-id", help="the customer (required with --mode single)")
    p.add_argument("--week", help="any date in the week to report on (default: the last complete week)")
    p.add_argument("--refresh", action="store_true", help="regenerate even if a complete report is stored")
    p.set_defaults(handler=commands.generate)

    p = sub.add_parser("show", help="print a stored report")
    p.add_argument("--customer-id", required=True)
    p.add_argument("--week", help="any date in the report's week (default: the latest stored)")
    p.add_argument("--format", choices=["md", "slack", "json"], default="md")
    p.set_defaults(handler=commands.show)

    p = sub.add_parser("ask", help="ask a follow-up question on a stored report's agent thread")
    p.add_argument("--customer-id", required=True)
    p.add_argument("--week", help="any date in the report's week (default: the latest stored)")
    p.add_argument("--as", dest="as_email", help="ask as this CSM (email); checks the customer is theirs")
    p.add_argument("--show-sql", action="store_true", help="print the SQL the agent ran")
    p.add_argument("question")
    p.set_defaults(handler=commands.ask)

    p = sub.add_parser("sql", help="run Snowflake SQL against the configured warehouse")
    p.add_argument("query")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(handler=commands.sql)

    p = sub.add_parser("runs", help="recent run history")
    p.add_argument("--limit", type=positive_int, default=20, help="how many runs, newest first (default 20)")
    p.set_defaults(handler=commands.runs)

    p = sub.add_parser(
        "feedback",
        help="feedback on follow-up answers: counts per kind and week, and the questions voted down",
    )
    p.add_argument(
        "--week-start", metavar="DATE", help="only reports of the week containing DATE (YYYY-MM-DD)"
    )
    p.set_defaults(handler=commands.feedback)

    p = sub.add_parser(
        "send-weekly",
        help="the Monday job now: generate and DM each CSM their reports (console without SLACK_BOT_TOKEN)",
    )
    p.add_argument("--week", help="any date in the week to report on (default: the last complete week)")
    p.add_argument("--csm-id", help="only this CSM's reports")
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be sent and to whom; write nothing"
    )
    p.set_defaults(handler=commands.send_weekly)

    p = sub.add_parser(
        "coaching",
        help="the weekly sales-coaching review: each rep's review by email, the team summary to Slack",
    )
    p.add_argument(
        "--week-start", metavar="DATE", help="first day of the range (default: last Monday-Sunday)"
    )
    p.add_argument("--week-end", metavar="DATE", help="last day of the range, inclusive (at most 31 days)")
    p.add_argument("--send-emails", action="store_true", help="email each rep their review (once per range)")
    p.add_argument(
        "--send-slack",
        action="store_true",
        help="post the team summary (SLACK_WEBHOOK_URL, else WEEKLY_REPORT_COACHING_CHANNEL) and DM "
        "managers and reps (SLACK_BOT_TOKEN)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print who would get what and the summary; write nothing"
    )
    p.add_argument(
        "--resend", action="store_true", help="email the range's reviews again (implies --send-emails)"
    )
    p.add_argument("--rep-id", metavar="REP001", help="only this rep")
    p.set_defaults(handler=commands.coaching)

    p = sub.add_parser("bot", help="run the Slack app over Socket Mode (SLACK_BOT_TOKEN, SLACK_APP_TOKEN)")
    p.set_defaults(handler=commands.bot)

    p = sub.add_parser("console", help="chat with the bot in this terminal as a CSM, no workspace needed")
    p.add_argument(
        "--as", dest="as_email", required=True, metavar="EMAIL", help="who you are, e.g. a CSM's email"
    )
    p.set_defaults(handler=commands.console)

    setup_snowflake.add_parser(sub)
    return parser


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not '{text[:20]}'")
    return value


# Generation builds reports in Python while a writer thread stores the previous batch
# (mostly in DuckDB, which releases the GIL): a shorter GIL switch interval than the default
# 5 ms lets the writer resume promptly each time DuckDB hands back.
GIL_SWITCH_INTERVAL = 0.0005


def main(argv: Sequence[str] | None = None) -> int:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (InputError, NotAuthorized) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WeeklyReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
