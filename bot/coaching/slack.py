"""The coaching run's Slack side: the team summary, each manager's team by DM, each rep's
review by DM, and the alerts. Every post goes through the ledger (core.deliveries) once.

- Team summary: to the incoming webhook SLACK_WEBHOOK_URL when set (a POST of {"text": ...},
  bot.slack.webhook), else by the bot to WEEKLY_REPORT_COACHING_CHANNEL. Ledger key
  `coaching-summary:<period>` (a team too long for one message: `...:<n>` for part n > 1),
  recipient "webhook" (never the URL: it is a secret) or the channel; webhook parts are posted
  PART_INTERVAL apart (bot.slack.webhook), through the run's injectable `sleep`. A webhook post cannot be
  looked up afterwards, so one whose outcome was never recorded (a crash as it posted) is not
  posted again: it is reported as "may or may not have been posted" and alerted. The bot's
  post looks in the channel's history first (bot.channels.slack_dm.delivery.post_once).
- Managers: their own team's summary by DM, ledger key `coaching-team:<manager_id>:<period>`.
- Reps: the review as a threaded DM, the EBR's way (the slack_dm channel with the coaching
  templates), ledger key (report id, Slack user id). A person Slack does not know is listed
  in `not_in_slack`, not failed: the email is the rep's review; Slack is the extra.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from slack_sdk.errors import SlackClientError

from bot.channels import Parcel
from bot.channels.slack_dm import SlackDm
from bot.channels.slack_dm.delivery import Poster, open_dm, post_once, why
from bot.coaching.result import CoachingResult
from bot.coaching.summary import summary_message, summary_parts
from bot.slack.identity import People
from bot.slack.webhook import PART_INTERVAL, post_webhook
from bot.weekly import alert_message
from core import DeliveryStore, Settings, Week
from core.deliveries import DELIVERED, FAILED, SENDING
from core.errors import DeliveryError

log = logging.getLogger("weekly_report.bot.coaching")
SUMMARY_EVENT, TEAM_EVENT, ALERT_EVENT = "coaching_summary", "coaching_team_summary", "weekly_report_alert"
WEBHOOK = "webhook"  # the ledger's recipient for the webhook (its URL is a secret)
UNSURE = "may or may not have been posted"
MAY_HAVE_POSTED = "may have been posted"  # what post_webhook says when no answer came
DM_THREADS = 16  # reps DMed at once: posts are paced per DM channel, so they mostly wait
WEBHOOK_TIMEOUT = 10.0


def summary_keys(week: Week, parts: int, prefix: str = "coaching-summary") -> list[str]:
    """The ledger keys of a summary's parts: `<prefix>:<period>`, then `...:2`, `...:3`."""
    base = f"{prefix}:{week.period_id}"
    return [base if n == 1 else f"{base}:{n}" for n in range(1, parts + 1)]


def post_summary(
    settings: Settings,
    deliveries: DeliveryStore,
    poster: Poster | None,
    week: Week,
    text: str,
    result: CoachingResult,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """The team summary to the webhook or the coaching channel, once per period."""
    parts = summary_parts(text)
    keys = summary_keys(week, len(parts))
    if settings.slack_webhook_url:
        result.summary_to = WEBHOOK
        posted: list[str] = []  # the parts this run POSTed: the next waits PART_INTERVAL after one

        def pace(key: str) -> None:
            if posted:
                sleep(PART_INTERVAL)
            posted.append(key)

        landed = [
            _webhook_once(settings.slack_webhook_url, deliveries, k, p, sleep, week, pace)
            for k, p in zip(keys, parts, strict=True)
        ]
    elif settings.coaching_channel and poster is not None:
        channel = settings.coaching_channel
        result.summary_to = channel
        landed = [_channel_once(poster, deliveries, k, channel, p) for k, p in zip(keys, parts, strict=True)]
    else:
        result.notes.append(
            "team summary not posted: set SLACK_WEBHOOK_URL, or WEEKLY_REPORT_COACHING_CHANNEL with SLACK_BOT_TOKEN"
        )
        return
    errors = [e for e in landed if e is not None]
    result.slack_posted = not errors
    for error in errors:
        where = "the incoming webhook" if result.summary_to == WEBHOOK else result.summary_to
        result.problem(
            f"team summary to {where}: {error}",
            f"the coaching team summary of {week.label()} to {where} failed: {error}",
        )


def _webhook_once(
    url: str,
    deliveries: DeliveryStore,
    key: str,
    text: str,
    sleep: Callable[[float], None],
    week: Week,
    pace: Callable[[str], None] = lambda key: None,
) -> str | None:
    """Post `text` to the webhook unless the ledger has it; None when it landed (now or before).
    `pace(key)` is called just before the POST (each part is its own post_webhook call, so its
    PART_INTERVAL between parts is kept here)."""
    record = deliveries.claim(key, WEBHOOK)
    if record.status == DELIVERED:
        return None
    if record.status == SENDING or (record.status == FAILED and (record.last_error or "").startswith(UNSURE)):
        error = f"{UNSURE}: an earlier attempt stopped before its outcome was recorded; not posted again"
        deliveries.failed(key, WEBHOOK, error)
        return error
    if not deliveries.start_attempt(key, WEBHOOK, record):
        return "being posted by another run"
    pace(key)
    try:
        post_webhook(url, text, timeout=WEBHOOK_TIMEOUT, sleep=sleep)
    except DeliveryError as exc:
        # No answer came: it may have been posted (post_webhook's word), so it is not risked twice.
        error = f"{UNSURE}: {exc}" if MAY_HAVE_POSTED in str(exc) else str(exc)
        deliveries.failed(key, WEBHOOK, error)
        return error
    deliveries.delivered(key, WEBHOOK)
    log.info("posted the coaching team summary of %s to the webhook (%s)", week, key)
    return None


def _channel_once(poster: Poster, deliveries: DeliveryStore, key: str, channel: str, text: str) -> str | None:
    try:
        post_once(poster, deliveries, key, channel, summary_message(text), SUMMARY_EVENT)
    except (SlackClientError, OSError) as exc:
        return why(exc)
    return None


def dm_managers(
    people: People,
    poster: Poster,
    deliveries: DeliveryStore,
    week: Week,
    managers: Mapping[str, tuple[str, str | None, str | None]],
    texts: Mapping[str, str],
    result: CoachingResult,
) -> None:
    """Each manager (manager_id -> (name, email, slack_user_id)) their team's summary
    (`texts`: manager_id -> text), once per period."""
    for manager_id, text in texts.items():
        name, email, slack_user = managers[manager_id]
        try:
            user = slack_user or (email and people.slack_user_by_email(poster.client, email, manager_id))
        except (SlackClientError, OSError) as exc:
            result.problem(f"manager {manager_id}: looking them up in Slack failed ({why(exc)})")
            result.add(dms_failed=1)
            continue
        if not user:
            with result.lock:
                result.not_in_slack.append(manager_id)
            continue
        try:
            channel = open_dm(poster, user)
            parts = summary_parts(text)
            for key, part in zip(
                summary_keys(week, len(parts), f"coaching-team:{manager_id}"), parts, strict=True
            ):
                post_once(poster, deliveries, key, channel, summary_message(part), TEAM_EVENT)
        except (SlackClientError, OSError) as exc:
            result.add(dms_failed=1)
            result.problem(
                f"team summary to manager {manager_id}: {why(exc)}",
                f"the coaching team summary DM to {name} ({manager_id}) failed: {why(exc)}",
            )
            continue
        result.add(managers_dmed=1)


def dm_reps(
    dm: SlackDm, parcels: Sequence[Parcel], result: CoachingResult, threads: int = DM_THREADS
) -> None:
    """Each rep their review as a threaded DM, if Slack knows them."""

    def one(parcel: Parcel) -> None:
        rep = parcel.recipient
        try:
            user = dm.user_of(rep)
        except (SlackClientError, OSError) as exc:
            result.add(dms_failed=1)
            result.problem(f"{rep.person_id}: looking them up in Slack failed ({why(exc)})")
            return
        if user is None:
            with result.lock:
                result.not_in_slack.append(rep.person_id)
            return
        # Found once here (to tell "not in Slack" from a failure): the channel does not look again.
        found = dataclasses.replace(parcel, recipient=dataclasses.replace(rep, addresses={"slack": user}))
        result.count(dm.deliver(found, _never), "reps_dmed", "dms_failed")

    if not parcels:
        return
    with ThreadPoolExecutor(max(1, min(threads, len(parcels))), thread_name_prefix="coaching-dm") as pool:
        for future in [pool.submit(one, p) for p in parcels]:
            future.result()


def alert(
    settings: Settings,
    poster: Poster | None,
    deliveries: DeliveryStore,
    week: Week,
    run_id: str,
    alerts: list[str],
) -> None:
    """Post the run's alert lines (each logged where it arose) to WEEKLY_REPORT_ALERT_CHANNEL,
    once (the ledger key holds a hash of their text)."""
    channel = settings.alert_channel
    if not alerts or not channel or poster is None:
        return
    message = alert_message(week, "coaching", run_id, alerts)
    key = f"alert:coaching:{week.period_id}:{hashlib.sha256(message.text.encode()).hexdigest()[:16]}"
    try:
        post_once(poster, deliveries, key, channel, message, ALERT_EVENT)
    except (SlackClientError, OSError) as exc:
        log.error("could not post the alert to %s (%s); check WEEKLY_REPORT_ALERT_CHANNEL", channel, why(exc))


def _never() -> bool:
    return False
