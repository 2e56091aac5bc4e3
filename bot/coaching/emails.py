"""Each rep's review by email, through the email channel (bot.channels.email), exactly once.

One email per rep per period, to the rep's `speakers.email`: the channel's ledger row
`email:coaching:<period>:<rep_id>` makes a re-run send nothing twice, and a crash mid-send
leaves the email "may or may not have been sent" (alerted, not sent again).

`--resend` sends the period's email again, on purpose, still at most once per resend:
resend number n of a rep is a ledger row of its own, `email:coaching:<period>:<rep_id>.resend-<n>`
(the recipient's person id gets the suffix, so the Message-ID differs too and a mail client
does not drop the new email as a duplicate of the first). A resend takes the first n whose
row is not used up: no row, or one that never sent anything (`pending`, a definite failure),
which is where a resend that was interrupted or failed resumes. So a `--resend` run sends each
rep one more email; two run at once send one between them; a crash mid-resend is not sent again
(the row says "may or may not have been sent") but the next `--resend` is a new one. A rep
whose first email never went out gets that first email, not a resend.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bot.channels import Parcel
from bot.channels.email.channel import UNCERTAIN, EmailChannel, ledger_key
from bot.coaching.result import CoachingResult
from core import DeliveryRecord, DeliveryStore
from core.deliveries import FAILED, PENDING

log = logging.getLogger("weekly_report.bot.coaching")
EMAIL_THREADS = 8  # parcels rendered and handed to the provider at once (its connections bound the sends)
Progress = Callable[[int, int, str], None]


def send_emails(
    channel: EmailChannel,
    deliveries: DeliveryStore,
    parcels: Sequence[Parcel],
    result: CoachingResult,
    *,
    resend: bool = False,
    threads: int = EMAIL_THREADS,
    progress: Progress | None = None,
) -> None:
    """Email each parcel (one rep's review) and count the outcomes into `result`."""
    done = 0

    def one(parcel: Parcel) -> None:
        nonlocal done
        if resend and channel.records:
            parcel = resend_parcel(deliveries, parcel)
        outcome = channel.deliver(parcel, _never)
        result.count(outcome, "emails_sent", "emails_failed", "emails_sent_now", logged=True)
        with result.lock:
            done += 1
            finished = done
        if progress is not None:
            progress(finished, len(parcels), parcel.recipient.person_id)

    with ThreadPoolExecutor(max(1, min(threads, len(parcels))), thread_name_prefix="email") as pool:
        for future in [pool.submit(one, p) for p in parcels]:
            future.result()


def resend_parcel(deliveries: DeliveryStore, parcel: Parcel) -> Parcel:
    """The parcel a resend sends: the first email if it never went out, else the first resend
    number whose ledger row is not used up (see the module docstring)."""
    n = resend_number(deliveries, parcel)
    if n == 0:
        return parcel
    log.info("resending the %s email of %s (resend %d)", parcel.kind, parcel.recipient.person_id, n)
    return numbered(parcel, n)


def resend_number(deliveries: DeliveryStore, parcel: Parcel) -> int:
    """Which email a resend of `parcel` would send (reads only): 0 for the first email (it never
    went out), else the resend number n of the first row not used up."""
    n = 0
    while not _free(deliveries.get(*ledger_key(numbered(parcel, n)))):
        n += 1
    return n


def numbered(parcel: Parcel, n: int) -> Parcel:
    """`parcel` as resend number `n` (0: the parcel itself): its recipient's person id suffixed."""
    if n == 0:
        return parcel
    person = f"{parcel.recipient.person_id}.resend-{n}"
    return dataclasses.replace(parcel, recipient=dataclasses.replace(parcel.recipient, person_id=person))


def _free(record: DeliveryRecord | None) -> bool:
    """Nothing went out under this row (or there is none): sending under it is not a repeat."""
    if record is None or record.status == PENDING:
        return True
    return record.status == FAILED and not (record.last_error or "").startswith(UNCERTAIN)


def _never() -> bool:
    return False
