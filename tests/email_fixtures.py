"""Fixtures of the email tests: real demo reports grouped per CSM, and a clean ledger.

tests/conftest.py registers them, so the demo's reports are generated once per session.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.base import Parcel, Recipient
from core import DeliveryStore, ReportEngine, Settings, Week, make_agent
from core.warehouse.embedded import EmbeddedWarehouse

LEDGER = "CUSTOMER_SUCCESS_DATA.ANALYTICS.report_deliveries"


@dataclass
class Demo:
    warehouse: EmbeddedWarehouse
    week: Week
    parcels: dict[str, Parcel]  # csm_id -> that CSM's parcel of EBRs

    def rows(self) -> list[dict[str, object]]:
        return self.warehouse.query(f"SELECT * FROM {LEDGER} ORDER BY report_id, recipient")


@pytest.fixture(scope="session")
def email_demo(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo's reports for the report week, generated once per session, as one parcel per CSM."""
    from tests.conftest import AS_OF  # (conftest imports this module)

    home = tmp_path_factory.mktemp("email-demo") / "home"
    shutil.copytree(demo_template, home)
    settings = Settings(home=home, today=AS_OF)
    warehouse = EmbeddedWarehouse(home)
    engine = ReportEngine(settings, warehouse, make_agent(settings, warehouse))
    week = engine.week()
    engine.generate(engine.targets(), week)
    grouped: dict[str, list] = {}
    recipients: dict[str, Recipient] = {}
    for a in engine.directory.assignments():
        recipients[a.csm_id] = Recipient(a.csm_id, a.csm_name, a.csm_email)
        grouped.setdefault(a.csm_id, []).append(engine.store.load(a.customer_id, week))
    parcels = {csm: Parcel("ebr", week, recipients[csm], tuple(reports)) for csm, reports in grouped.items()}
    yield Demo(warehouse, week, parcels)
    engine.close()


@pytest.fixture
def email_ledger(email_demo: Demo) -> DeliveryStore:
    """The demo's delivery ledger, emptied for this test."""
    email_demo.warehouse.execute(f"DELETE FROM {LEDGER}")
    return DeliveryStore(email_demo.warehouse)


def never() -> bool:
    """A `stopping` that never asks to stop."""
    return False
