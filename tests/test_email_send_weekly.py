"""`weekly-report send-weekly` by email, as a real process against a local SMTP server
(aiosmtpd): one HTML + text email per demo CSM with all their customers, nothing sent twice
when run again, and nothing sent twice after the process is killed in the middle of a send."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.email_servers import SmtpServer

TIMEOUT = 180
DEMO_CSMS = {
    "sarah.johnson@example.com": ("CUST_12345", "CUST_23456", "CUST_34567"),
    "michael.chen@example.com": ("CUST_45678", "CUST_56789"),
    "emma.rodriguez@example.com": ("CUST_67890", "CUST_78901"),
    "james.williams@example.com": ("CUST_89012", "CUST_90123"),
}
CSM_IDS = {
    "CSM001": "sarah.johnson@example.com", "CSM002": "michael.chen@example.com",
    "CSM003": "emma.rodriguez@example.com", "CSM004": "james.williams@example.com",
}  # fmt: skip
UNSURE = "may or may not have been sent"
OUTSIDE = ("SLACK_", "WEEKLY_REPORT_", "SMTP_", "SENDGRID_", "AWS_")


def send_weekly(home: Path, smtp: SmtpServer) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(OUTSIDE)}
    environ |= {
        "WEEKLY_REPORT_HOME": str(home), "WEEKLY_REPORT_TODAY": "2026-11-18",
        "WEEKLY_REPORT_CONFIG": str(home / "no-such-config.toml"),
        "WEEKLY_REPORT_CHARTS": "off",  # chart images are test_email_charts's subject
        "WEEKLY_REPORT_DELIVERY": "email", "WEEKLY_REPORT_EMAIL_FROM": "Weekly Report <reports@example.com>",
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
    }  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "send-weekly"],
        env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = process.communicate(timeout=TIMEOUT)
    start = out.rfind("\n{")
    return process.returncode, json.loads(out[start + 1 if start >= 0 else out.index("{") :]), err


def assert_one_email_per_csm(smtp: SmtpServer) -> None:
    by_address = {r.recipients[0]: r.message for r in smtp.received}
    assert sorted(r.recipients[0] for r in smtp.received) == sorted(DEMO_CSMS)  # one each, no more
    for address, message in by_address.items():
        assert message.get_content_type() == "multipart/alternative"
        parts = {p.get_content_type(): p.get_content() for p in message.iter_parts()}
        assert set(parts) == {"text/plain", "text/html"}
        assert "week of 2026-11-09" in message["Subject"]
        assert message["Message-ID"].endswith("@example.com>")
        for customer in DEMO_CSMS[address]:
            assert customer in parts["text/plain"] and customer in parts["text/html"]
        others = {c for a, cs in DEMO_CSMS.items() if a != address for c in cs}
        assert not any(c in parts["text/plain"] for c in others)  # never another CSM's customers


def test_send_weekly_by_email_sends_one_email_per_csm_and_a_second_run_sends_nothing(
    demo_home: Path,
) -> None:
    with SmtpServer() as smtp:
        code, summary, err = finish(send_weekly(demo_home, smtp))
        assert code == 0, err
        assert (summary["status"], summary["emails_sent"], summary["emails_failed"]) == ("completed", 4, 0)
        assert summary["dms_sent"] == 0
        code, again, err = finish(send_weekly(demo_home, smtp))
        assert code == 0, err
        assert again["already_claimed"] and again["run_id"] == summary["run_id"]
        assert_one_email_per_csm(smtp)


def test_killed_while_an_email_is_sent_and_started_again_sends_nothing_twice(demo_home: Path) -> None:
    """SIGKILL as the server takes the 2nd email: it went out, the sender never learns it did
    (nor of any other email on the wire at that moment, over its other connections). The next
    run sends the rest and none of those again: each is reported as may or may not have been
    sent, so nothing is lost without a word."""
    victim: list[subprocess.Popen[str]] = []

    def kill_at_second(taken: int) -> None:
        if taken == 2:
            os.kill(victim[0].pid, signal.SIGKILL)

    with SmtpServer() as smtp:
        smtp.handler.on_taken = kill_at_second
        victim.append(send_weekly(demo_home, smtp))
        victim[0].communicate(timeout=TIMEOUT)
        assert victim[0].returncode == -signal.SIGKILL
        smtp.handler.on_taken = None
        code, summary, err = finish(send_weekly(demo_home, smtp))
        received = [r.recipients[0] for r in smtp.received]
    assert len(received) == len(set(received))  # nobody got it twice
    uncertain = {
        line.split(":")[0].removeprefix("email to ") for line in summary["failures"] if UNSURE in line
    }
    assert uncertain and uncertain <= set(CSM_IDS)  # at least the 2nd email, taken as the process died
    emailed = {CSM_IDS[c] for c in uncertain} | set(received)
    assert emailed == set(DEMO_CSMS)  # every CSM was emailed, or is named as maybe emailed
    assert code == 1, err  # an email whose outcome is unknown is a failure to look at
    assert summary["emails_sent"] + summary["emails_failed"] == 4
    assert summary["emails_failed"] == len(uncertain)
