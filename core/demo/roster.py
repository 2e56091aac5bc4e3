"""Who is in the demo: the four CSMs and nine customers of design.md §7, and the generated rest."""

from __future__ import annotations

from dataclasses import dataclass

from core.demo.benchmarks import INDUSTRIES
from core.demo.noise import pick, unit

TIMEZONES = {
    "North America": "America/Los_Angeles",
    "Asia Pacific": "Asia/Singapore",
    "Europe": "Europe/Madrid",
    "Latin America": "America/Sao_Paulo",
}
REGIONS = tuple(TIMEZONES)
CUSTOMERS_PER_GENERATED_CSM = 5
FIRST_GENERATED_NUMBER = 100_000


@dataclass(frozen=True)
class DemoCsm:
    """A customer success manager and the accounts assigned to them."""

    csm_id: str
    name: str
    email: str
    region: str
    customer_ids: tuple[str, ...]

    @property
    def timezone(self) -> str:
        return TIMEZONES[self.region]


@dataclass(frozen=True)
class DemoCustomer:
    """An account, with the story its numbers tell and its size in conversions per day."""

    customer_id: str
    name: str
    industry: str
    segment: str
    region: str
    story: str
    daily_conversions: float
    jitter: float = 0.0


DEMO_CSMS = (
    DemoCsm(
        "CSM001",
        "Sarah Johnson",
        "sarah.johnson@example.com",
        "North America",
        ("CUST_12345", "CUST_23456", "CUST_34567"),
    ),
    DemoCsm(
        "CSM002", "Michael Chen", "michael.chen@example.com", "Asia Pacific", ("CUST_45678", "CUST_56789")
    ),
    DemoCsm("CSM003", "Emma Rodriguez", "emma.rodriguez@example.com", "Europe", ("CUST_67890", "CUST_78901")),
    DemoCsm(
        "CSM004",
        "James Williams",
        "james.williams@example.com",
        "Latin America",
        ("CUST_89012", "CUST_90123"),
    ),
)

DEMO_CUSTOMERS = (
    DemoCustomer(
        "CUST_12345", "Northwind Outfitters", "Retail", "Enterprise", "North America", "growing", 60
    ),
    DemoCustomer(
        "CUST_23456",
        "Harbor Point Financial",
        "Financial Services",
        "Enterprise",
        "North America",
        "low_ctr",
        22,
    ),
    DemoCustomer(
        "CUST_34567",
        "Brightline Software",
        "Technology",
        "Mid-Market",
        "North America",
        "channel_collapse",
        30,
    ),
    DemoCustomer(
        "CUST_45678", "Meridian Health Partners", "Healthcare", "Enterprise", "Asia Pacific", "declining", 40
    ),
    DemoCustomer(
        "CUST_56789",
        "Bluewater Resorts",
        "Travel & Hospitality",
        "Mid-Market",
        "Asia Pacific",
        "seasonal",
        24,
    ),
    DemoCustomer(
        "CUST_67890", "Lumen Streaming", "Media & Entertainment", "Mid-Market", "Europe", "low_open", 64
    ),
    DemoCustomer("CUST_78901", "Ironridge Components", "Manufacturing", "SMB", "Europe", "small_stable", 7),
    DemoCustomer(
        "CUST_89012", "Copper Kettle Foods", "Food & Beverage", "Mid-Market", "Latin America", "spike", 55
    ),
    DemoCustomer(
        "CUST_90123", "Summit Learning Academy", "Education", "Mid-Market", "Latin America", "attribution", 20
    ),
)

# How often each story turns up among generated customers, in percent.
_STORY_WEIGHTS = (
    ("steady", 30),
    ("growing", 15),
    ("declining", 12),
    ("low_ctr", 8),
    ("low_open", 8),
    ("seasonal", 8),
    ("channel_collapse", 6),
    ("small_stable", 5),
    ("spike", 4),
    ("attribution", 4),
)
_SEGMENTS = (("SMB", 55, 1.0, 1.8), ("Mid-Market", 35, 1.6, 2.5), ("Enterprise", 10, 2.2, 3.0))

_NAME_FIRST = (
    "Alder", "Amber", "Anchor", "Aspen", "Beacon", "Birch", "Blue", "Bright", "Cedar", "Clear",
    "Cobalt", "Coral", "Crest", "Delta", "Ember", "Evergreen", "Falcon", "Fern", "Granite", "Harbor",
    "Hazel", "Horizon", "Iron", "Juniper", "Lake", "Linden", "Maple", "Meadow", "North", "Oak",
    "Orchid", "Pine", "Quarry", "Redwood", "River", "Sable", "Silver", "Stone", "Summit", "Willow",
)  # fmt: skip
_NAME_SECOND = (
    "Bay", "Bridge", "Brook", "Canyon", "Cove", "Creek", "Dale", "Field", "Forge", "Gate",
    "Glen", "Grove", "Haven", "Hill", "Hollow", "Key", "Landing", "Leaf", "Light", "Line",
    "Mark", "Mill", "Park", "Peak", "Point", "Ridge", "Rock", "Shore", "Spring", "Star",
    "Stream", "Trail", "Vale", "View", "Water", "Way", "Well", "Wind", "Wood", "Yard",
)  # fmt: skip
_NAME_SUFFIX = ("Group", "Co.", "Partners", "Holdings", "Labs", "Works", "Collective", "Brands")
_CSM_FIRST = (
    "Olivia", "Liam", "Ava", "Noah", "Sofia", "Mateo", "Priya", "Kenji", "Chloe", "Lucas", "Amara", "Diego",
    "Hannah", "Ravi", "Elena", "Tomás", "Grace", "Omar", "Mei", "Daniel", "Isabela", "Jonas", "Leila", "Marco",
)  # fmt: skip
_CSM_LAST = (
    "Anderson", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "García", "Hughes", "Ito", "Kowalski",
    "Lindqvist", "Martins", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Usman",
    "Varga", "Walsh", "Yamamoto", "Zhang",
)  # fmt: skip


def generated_customers(total: int) -> list[DemoCustomer]:
    """The customers beyond the nine named ones, `CUST_100000` onwards, drawn deterministically."""
    return [_generated_customer(i) for i in range(total - len(DEMO_CUSTOMERS))]


def generated_csms(total: int) -> list[DemoCsm]:
    """CSM005 onwards, about five generated customers each."""
    ids = [c.customer_id for c in generated_customers(total)]
    size = CUSTOMERS_PER_GENERATED_CSM
    return [
        _generated_csm(k, tuple(ids[k * size : (k + 1) * size])) for k in range((len(ids) + size - 1) // size)
    ]


def _generated_customer(i: int) -> DemoCustomer:
    number = FIRST_GENERATED_NUMBER + i
    segment, low, high = _segment(unit("segment", i))
    name_index = (i % len(_NAME_FIRST), (i // len(_NAME_FIRST)) % len(_NAME_SECOND))
    suffix = _NAME_SUFFIX[(i // (len(_NAME_FIRST) * len(_NAME_SECOND)) + i) % len(_NAME_SUFFIX)]
    return DemoCustomer(
        customer_id=f"CUST_{number}",
        name=f"{_NAME_FIRST[name_index[0]]}{_NAME_SECOND[name_index[1]].lower()} {suffix}",
        industry=pick(INDUSTRIES, unit("industry", i)),
        segment=segment,
        region=REGIONS[(i // CUSTOMERS_PER_GENERATED_CSM) % len(REGIONS)],
        story=_weighted(_STORY_WEIGHTS, unit("story", i)),
        daily_conversions=round(low + (high - low) * unit("size", i), 2),
        jitter=1.0,
    )


def _generated_csm(k: int, customer_ids: tuple[str, ...]) -> DemoCsm:
    number = len(DEMO_CSMS) + 1 + k
    first = _CSM_FIRST[k % len(_CSM_FIRST)]
    last = _CSM_LAST[(k // len(_CSM_FIRST) + 7 * k) % len(_CSM_LAST)]
    region = REGIONS[k % len(REGIONS)]
    return DemoCsm(
        f"CSM{number:03d}", f"{first} {last}", f"csm{number:03d}@example.com", region, customer_ids
    )


def _segment(u: float) -> tuple[str, float, float]:
    threshold = 0.0
    for name, percent, low, high in _SEGMENTS:
        threshold += percent / 100
        if u < threshold:
            return name, low, high
    return _SEGMENTS[-1][0], _SEGMENTS[-1][2], _SEGMENTS[-1][3]


def _weighted(choices: tuple[tuple[str, int], ...], u: float) -> str:
    threshold = 0.0
    for name, percent in choices:
        threshold += percent / 100
        if u < threshold:
            return name
    return choices[-1][0]
