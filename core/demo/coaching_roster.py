"""Who is in the coaching demo: two managers, eight reps with distinct stories, the generated
rest, the customer-side contacts they call, and what those contacts object to.

A rep's story is a handful of numbers (per-dimension level in the last complete week, weekly
slope, calls a week, the weeks they have calls); core/demo/coaching.py expands them into calls,
sessions and transcripts in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from core.demo.noise import unit

WEEKS = 12
FIRST_GENERATED_NUMBER = 100_000
REPS_PER_GENERATED_MANAGER = 8
# Dimensions in the order of the coaching_sessions columns.
DIMENSIONS = ("product_knowledge", "discovery", "objection_handling", "engagement")


@dataclass(frozen=True)
class Person:
    """A company-side speaker: a manager (no manager_id) or a rep."""

    speaker_id: str
    name: str
    email: str
    timezone: str
    manager_id: str | None = None


@dataclass(frozen=True)
class RepStory:
    """What a rep's twelve weeks show. `levels`: each dimension's score in the last complete
    week (week 0), before noise; `slope`: points gained per week (negative: declining);
    `first_week`: the oldest week with calls (0: a new rep); `skip_week`: a week without calls
    (-1: none); `pricing`: the chance a call raises the pricing objection, 1.0 in week 0 when
    `pricing_now`."""

    rep: Person
    story: str
    levels: tuple[int, int, int, int]
    slope: float = 0.0
    calls: int = 5
    first_week: int = WEEKS - 1
    skip_week: int = -1
    pricing: float = 0.15
    pricing_now: bool = False


DEMO_MANAGERS = (
    Person("MGR001", "Olivia Bennett", "olivia.bennett@example.com", "America/New_York"),
    Person("MGR002", "Marcus Reid", "marcus.reid@example.com", "America/Chicago"),
)


def _rep(number: int, name: str, manager: int, timezone: str = "America/New_York") -> Person:
    email = name.lower().replace("'", "").replace(" ", ".") + "@example.com"
    return Person(f"REP{number:03d}", name, email, timezone, DEMO_MANAGERS[manager].speaker_id)


DEMO_REPS = (
    RepStory(_rep(1, "Jane Smith", 0), "improving", (80, 78, 76, 82), slope=2.5),
    RepStory(_rep(2, "David Park", 0), "declining", (66, 62, 60, 68), slope=-2.5),
    RepStory(_rep(3, "Priya Natarajan", 0, "America/Los_Angeles"), "new", (72, 70, 66, 75), first_week=0),
    RepStory(_rep(4, "Tom Alvarez", 0), "no calls this week", (76, 74, 71, 78), skip_week=0),
    RepStory(
        _rep(5, "Aisha Okafor", 1, "America/Chicago"),
        "recurring pricing objection",
        (78, 75, 58, 80),
        pricing=0.5,
        pricing_now=True,
    ),
    RepStory(_rep(6, "Lucas Meyer", 1, "America/Chicago"), "strong and weak", (93, 47, 72, 76)),
    RepStory(_rep(7, "Hannah Kim", 1, "America/Denver"), "steady high", (88, 86, 84, 90), calls=6),
    RepStory(_rep(8, "Ryan O'Connor", 1, "America/Chicago"), "steady", (74, 73, 70, 75), calls=4),
)

# The customers reps call, each with two contacts on the customer side.
ACCOUNTS = (
    ("Northwind Traders", "northwind", ("Alex Rivera", "Morgan Lee")),
    ("Contoso Health", "contoso", ("Samira Haddad", "Peter Novak")),
    ("Fabrikam Logistics", "fabrikam", ("Chris Walker", "Dana Whitfield")),
    ("Tailspin Travel", "tailspin", ("Nora Lindgren", "Ethan Brooks")),
    ("Wide World Importers", "wideworld", ("Julia Santos", "Kevin O'Brien")),
    ("Adatum Financial", "adatum", ("Rachel Green", "Victor Ames")),
    ("Litware Learning", "litware", ("Fatima Zahra", "George Hill")),
    ("Proseware Retail", "proseware", ("Laura Becker", "Sam Ortiz")),
    ("Coho Winery", "coho", ("Isabel Moreau", "Jack Turner")),
    ("Margie's Travel", "margies", ("Helen Cho", "Miguel Torres")),
)

CALL_TITLES = (
    "Discovery call",
    "Product demo",
    "Pricing review",
    "Technical deep dive",
    "Renewal check-in",
    "Contract negotiation",
)

# label, chance per call (pricing's comes from the rep), what the customer says (three ways),
# and how the rep answers.
OBJECTIONS = (
    (
        "pricing",
        0.0,
        (
            "Honestly, the price is well above what we budgeted for this.",
            "Another vendor quoted us about twenty percent less for the same seats.",
            "We like it, but we cannot justify the per-seat price right now.",
        ),
        "Let me walk you through what teams your size save in the first quarter.",
    ),
    (
        "timing",
        0.12,
        (
            "This is not a priority until next quarter.",
            "We are in the middle of a reorg, so the timing is bad.",
            "Can we revisit this after our fiscal year closes?",
        ),
        "Understood. What would need to be true to start a pilot before then?",
    ),
    (
        "competitor",
        0.10,
        (
            "We are already evaluating a competitor that does most of this.",
            "Our current vendor says they will ship the same feature soon.",
            "Why would we switch from the tool we already use?",
        ),
        "Fair question. Here is where customers who switched saw the difference.",
    ),
    (
        "budget",
        0.08,
        (
            "There is no budget left for new tools this year.",
            "Finance froze every new purchase until January.",
            "I would have to find the budget in another team.",
        ),
        "Would it help if we phased the rollout to fit this year's budget?",
    ),
    (
        "authority",
        0.07,
        (
            "I am not the one who signs off on this.",
            "Our CTO will want to weigh in before we commit.",
            "Procurement has the final say on vendors.",
        ),
        "Who else should be in the next call, and what will they want to see?",
    ),
    (
        "integration",
        0.08,
        (
            "I am worried about how this connects to our CRM.",
            "Our data team does not have time for another integration.",
            "Does this work with our single sign-on setup?",
        ),
        "We have a native connector; I can set up a sandbox with your data this week.",
    ),
)

_FIRST = (
    "Olivia", "Liam", "Ava", "Noah", "Sofia", "Mateo", "Kenji", "Chloe", "Amara", "Diego", "Ravi",
    "Elena", "Grace", "Omar", "Mei", "Daniel", "Isabela", "Jonas", "Leila", "Marco", "Nadia", "Owen",
)  # fmt: skip
_LAST = (
    "Anderson", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Kowalski",
    "Lindqvist", "Martins", "Nguyen", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Usman", "Walsh",
)  # fmt: skip


def generated_reps(total: int) -> list[RepStory]:
    """The reps beyond the eight named ones, `REP100000` onwards, drawn deterministically:
    mostly steady, a few improving or declining, one in twenty new, one in twenty absent."""
    return [_generated_rep(i) for i in range(total - len(DEMO_REPS))]


def generated_managers(total: int) -> list[Person]:
    """`MGR100000` onwards, one for every eight generated reps."""
    count = (total - len(DEMO_REPS) + REPS_PER_GENERATED_MANAGER - 1) // REPS_PER_GENERATED_MANAGER
    return [_person(FIRST_GENERATED_NUMBER + k, "MGR", k + 7) for k in range(count)]


def _person(number: int, prefix: str, k: int, manager_id: str | None = None) -> Person:
    first, last = _FIRST[k % len(_FIRST)], _LAST[(k // len(_FIRST) + 3 * k) % len(_LAST)]
    email = f"{first}.{last}.{number}@example.com".lower()
    return Person(f"{prefix}{number}", f"{first} {last}", email, "America/New_York", manager_id)


def _generated_rep(i: int) -> RepStory:
    manager = f"MGR{FIRST_GENERATED_NUMBER + i // REPS_PER_GENERATED_MANAGER}"
    rep = _person(FIRST_GENERATED_NUMBER + i, "REP", i, manager)
    levels = tuple(55 + int(35 * unit("coach-level", i, d)) for d in DIMENSIONS)
    kind = unit("coach-kind", i)
    return RepStory(
        rep,
        "generated",
        (levels[0], levels[1], levels[2], levels[3]),
        slope=round(3 * unit("coach-slope", i) - 1.5, 2),
        calls=3 + int(4 * unit("coach-calls", i)),
        first_week=0 if kind < 0.05 else WEEKS - 1,
        skip_week=0 if 0.05 <= kind < 0.10 else -1,
        pricing=0.1 + 0.3 * unit("coach-pricing", i),
    )


def rep_table(stories: list[RepStory]) -> pa.Table:
    """One row per rep, `ridx` numbering them: what the expansion statements read."""
    return pa.table(
        {
            "ridx": list(range(len(stories))),
            "rep_id": [s.rep.speaker_id for s in stories],
            "rep_name": [s.rep.name for s in stories],
            **{f"l_{d}": [s.levels[k] for s in stories] for k, d in enumerate(DIMENSIONS)},
            "slope": [float(s.slope) for s in stories],
            "calls": [s.calls for s in stories],
            "first_week": [s.first_week for s in stories],
            "skip_week": [s.skip_week for s in stories],
            "pricing": [float(s.pricing) for s in stories],
            "pricing_now": [s.pricing_now for s in stories],
        }
    )


def contact_table() -> pa.Table:
    """One row per customer contact: `aidx` numbers the account, `slot` the contact in it."""
    rows = [
        (a, slot, account, f"CON{a * 2 + slot + 1:03d}", contact)
        for a, (account, _, contacts) in enumerate(ACCOUNTS)
        for slot, contact in enumerate(contacts)
    ]
    return pa.table(
        {
            "aidx": [r[0] for r in rows],
            "slot": [r[1] for r in rows],
            "customer_name": [r[2] for r in rows],
            "speaker_id": [r[3] for r in rows],
            "contact_name": [r[4] for r in rows],
        }
    )


def objection_table() -> pa.Table:
    """One row per objection label and way of putting it (`variant` 0-2)."""
    rows = [
        (lidx, label, chance, variant, quote, answer)
        for lidx, (label, chance, quotes, answer) in enumerate(OBJECTIONS)
        for variant, quote in enumerate(quotes)
    ]
    names = ("lidx", "label", "chance", "variant", "quote", "answer")
    return pa.table({name: [r[k] for r in rows] for k, name in enumerate(names)})


def speaker_table(managers: list[Person], reps: list[RepStory]) -> pa.Table:
    """Every speaker: managers and reps (company side), then the customers' contacts."""
    people = [*managers, *(s.rep for s in reps)]
    contacts = [
        (f"CON{a * 2 + slot + 1:03d}", contact, f"{_email_name(contact)}@{domain}.example.com")
        for a, (_, domain, names) in enumerate(ACCOUNTS)
        for slot, contact in enumerate(names)
    ]
    return pa.table(
        {
            "speaker_id": [p.speaker_id for p in people] + [c[0] for c in contacts],
            "name": [p.name for p in people] + [c[1] for c in contacts],
            "email": [p.email for p in people] + [c[2] for c in contacts],
            "company_side": [True] * len(people) + [False] * len(contacts),
            "manager_id": pa.array([p.manager_id for p in people] + [None] * len(contacts), pa.string()),
            "slack_user_id": pa.nulls(len(people) + len(contacts), pa.string()),
            "timezone": pa.array([p.timezone for p in people] + [None] * len(contacts), pa.string()),
        }
    )


def _email_name(name: str) -> str:
    return name.lower().replace("'", "").replace(" ", ".")
