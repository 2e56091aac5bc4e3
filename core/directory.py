"""Who is who: customers, CSMs, their assignments, and who may see which customer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InputError, InvalidCustomerId, NotAuthorized, UnknownCustomer
from core.warehouse import Warehouse
from core.warehouse.base import ANALYTICS

_CUSTOMER_ID = re.compile(r"^CUST_\d{1,12}$")
_CSM_ID = re.compile(r"^[A-Z0-9_]{1,32}$")

ASSIGNMENTS_SQL = f"""
SELECT a.csm_id, a.csm_name, a.csm_email, a.slack_user_id, a.timezone, a.customer_id, c.customer_name
FROM {ANALYTICS}.csm_assignments a
JOIN {ANALYTICS}.customers c ON c.customer_id = a.customer_id
"""


def shown(text: str, limit: int = 40) -> str:
    """User input echoed in an error: one line, cut short, length stated when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else f"{flat[:limit]}… ({len(text)} characters)"


def validate_customer_id(text: str | None) -> str:
    """`CUST_12345` (any case, surrounding space ignored), or InvalidCustomerId."""
    candidate = (text or "").strip().upper()
    if not candidate:
        raise InvalidCustomerId("a customer id is required, e.g. CUST_12345")
    if not _CUSTOMER_ID.match(candidate):
        raise InvalidCustomerId(
            f"'{shown(text or '')}' is not a customer id; expected CUST_ and digits, e.g. CUST_12345"
        )
    return candidate


def validate_csm_id(text: str | None) -> str:
    candidate = (text or "").strip().upper()
    if not _CSM_ID.match(candidate):
        raise InputError(f"'{shown(text or '')}' is not a CSM id; expected e.g. CSM001")
    return candidate


@dataclass(frozen=True)
class Assignment:
    csm_id: str
    csm_name: str
    csm_email: str
    slack_user_id: str | None
    timezone: str | None
    customer_id: str
    customer_name: str


@dataclass(frozen=True)
class Requester:
    """Someone asking: a CSM (by id or email), or an admin."""

    csm_id: str | None = None
    email: str | None = None
    is_admin: bool = False


class Directory:
    """Customer and CSM lookups over `customers` and `csm_assignments`."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def assignments(self, csm_id: str | None = None) -> list[Assignment]:
        if csm_id is None:
            rows = self.warehouse.query(ASSIGNMENTS_SQL + " ORDER BY a.csm_id, a.customer_id")
        else:
            rows = self.warehouse.query(
                ASSIGNMENTS_SQL + " WHERE a.csm_id = ? ORDER BY a.customer_id", [csm_id]
            )
        return [Assignment(**r) for r in rows]

    def require_customer(self, customer_id: str) -> str:
        """The customer's name; UnknownCustomer when it is not in `customers`."""
        name = self.warehouse.scalar(
            f"SELECT customer_name FROM {ANALYTICS}.customers WHERE customer_id = ?",
            [customer_id],
        )
        if name is None:
            raise UnknownCustomer(f"unknown customer {customer_id}")
        return str(name)

    def require_csm(self, csm_id: str) -> list[Assignment]:
        assignments = self.assignments(csm_id)
        if not assignments:
            raise InputError(f"unknown CSM {csm_id}, or no customers assigned to them")
        return assignments

    def csm_for_email(self, email: str) -> str | None:
        return self.warehouse.scalar(
            f"SELECT MIN(csm_id) FROM {ANALYTICS}.csm_assignments WHERE LOWER(csm_email) = ?",
            [email.strip().lower()],
        )

    def authorize(self, requester: Requester, customer_id: str) -> None:
        """Admins see every customer; a CSM only those assigned to them."""
        self.require_customer(customer_id)
        if requester.is_admin:
            return
        csm_id = requester.csm_id or (self.csm_for_email(requester.email) if requester.email else None)
        if csm_id is None:
            raise NotAuthorized(
                "you are not a CSM in csm_assignments, so no customer reports are available to you"
            )
        assigned = self.warehouse.scalar(
            f"SELECT COUNT(*) FROM {ANALYTICS}.csm_assignments WHERE csm_id = ? AND customer_id = ?",
            [csm_id, customer_id],
        )
        if not assigned:
            raise NotAuthorized(f"{customer_id} is not assigned to {csm_id}")
