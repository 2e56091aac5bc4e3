"""Chart images without a workspace: the console channel and `weekly-report show --format slack`
save each report's charts as PNGs to `<home>/charts` and print each image's path in its thread."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.channels.base import Parcel, Recipient
from bot.channels.console import Console
from bot.cli import main
from core import Report, ReportEngine
from tests.chart_kind import charted_ebr

IMAGE_LINE = re.compile(r"^    \[image: (?P<title>[^\]]+?) — (?P<alt>[^\]]+)\] (?P<path>\S+\.png)$", re.M)


@pytest.fixture
def report(engine: ReportEngine) -> Report:
    week = engine.week()
    engine.generate(engine.targets("CSM001", "CUST_12345"), week)
    return engine.store.load("CUST_12345", week)


def test_the_console_channel_saves_the_charts_and_prints_their_paths(report: Report, tmp_path: Path) -> None:
    out = io.StringIO()
    with charted_ebr() as kind:
        console = Console(out, tmp_path / "charts")
        parcel = Parcel(
            "ebr", report.week, Recipient("CSM001", "Sarah Johnson", "sarah@example.com"), (report,)
        )
        outcome = console.deliver(parcel, lambda: False)
        charts = kind.charts(report)
    shown = [m.groupdict() for m in IMAGE_LINE.finditer(out.getvalue())]
    assert [(s["title"], s["alt"]) for s in shown] == [(c.title, c.alt_text) for c in charts]
    assert all(Path(s["path"]).parent == tmp_path / "charts" for s in shown)
    assert all(Path(s["path"]).read_bytes().startswith(b"\x89PNG") for s in shown)
    # after the first section, as Slack gets them
    text = out.getvalue()
    assert (
        text.index("1. Performance vs Benchmarks") < text.index("[image:") < text.index("2. Business Value")
    )
    assert outcome.messages == 1 + 1 + 3  # the parent, the charts, the three sections


def test_without_a_folder_the_console_shows_no_images(report: Report) -> None:
    out = io.StringIO()
    with charted_ebr():
        Console(out).deliver(
            Parcel("ebr", report.week, Recipient("CSM001", "Sarah Johnson", "sarah@example.com"), (report,)),
            lambda: False,
        )
    assert "[image:" not in out.getvalue()


def test_show_saves_the_ebr_charts_to_the_home_charts_folder(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEEKLY_REPORT_CHARTS", "on")
    assert main(["generate", "--mode", "single", "--csm-id", "CSM002", "--customer-id", "CUST_45678"]) == 0
    capsys.readouterr()
    assert main(["show", "--customer-id", "CUST_45678", "--format", "slack"]) == 0
    out = capsys.readouterr().out
    paths = [Path(m["path"]) for m in IMAGE_LINE.finditer(out)]
    assert [p.name for p in paths] == [
        "CUST_45678-20261109-revenue-trend.png",
        "CUST_45678-20261109-channel-mix.png",
    ]
    assert all(p.parent == cli_env / "charts" and p.read_bytes().startswith(b"\x89PNG") for p in paths)

    monkeypatch.setenv("WEEKLY_REPORT_CHARTS", "off")
    assert main(["show", "--customer-id", "CUST_45678", "--format", "slack"]) == 0
    assert "[image:" not in capsys.readouterr().out
