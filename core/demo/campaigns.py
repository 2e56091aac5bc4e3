"""Campaign names: a few always-on programmes per customer, one seasonal push per quarter."""

from __future__ import annotations

from core.demo.noise import unit

EVERGREEN_PER_CUSTOMER = 3

_EVERGREEN = {
    "Retail": ("Weekly Newsletter", "Abandoned Cart", "Win-back", "Product Launch", "Loyalty Rewards"),
    "Financial Services": (
        "Onboarding Series",
        "Card Activation",
        "Weekly Market Brief",
        "Win-back",
        "Referral Program",
    ),
    "Technology": (
        "Onboarding Series",
        "Feature Announcements",
        "Trial Conversion",
        "Win-back",
        "Product Launch",
    ),
    "Healthcare": (
        "Patient Onboarding",
        "Appointment Reminders",
        "Monthly Health Newsletter",
        "Win-back",
        "Telehealth Launch",
    ),
    "Travel & Hospitality": (
        "Weekly Deals Newsletter",
        "Loyalty Member Offers",
        "Abandoned Booking",
        "Win-back",
        "Destination Spotlight",
    ),
    "Media & Entertainment": (
        "Weekly Newsletter",
        "New Release Alerts",
        "Trial Conversion",
        "Win-back",
        "Personalised Picks",
    ),
    "Manufacturing": (
        "Monthly Product Update",
        "Reorder Reminders",
        "Onboarding Series",
        "Dealer Newsletter",
        "Product Launch",
    ),
    "Education": (
        "Onboarding Series",
        "Course Recommendations",
        "Webinar Invitations",
        "Win-back",
        "Weekly Newsletter",
    ),
    "Food & Beverage": (
        "Weekly Newsletter",
        "Loyalty Rewards",
        "Abandoned Cart",
        "Win-back",
        "Product Launch",
    ),
}

# One per calendar quarter, Q1 to Q4.
_SEASONAL = {
    "Retail": ("New Year Clearance", "Spring Sale", "Back to School", "Holiday Gift Guide"),
    "Financial Services": (
        "Tax Season Planner",
        "Spring Savings Push",
        "Mid-Year Portfolio Review",
        "Year-End Giving",
    ),
    "Technology": (
        "New Year Upgrade",
        "Spring Product Launch",
        "Summer Webinar Series",
        "Year-End Renewal Drive",
    ),
    "Healthcare": (
        "New Year Wellness",
        "Spring Check-up Reminders",
        "Back-to-School Physicals",
        "Flu Season Campaign",
    ),
    "Travel & Hospitality": (
        "Winter Escapes",
        "Summer Early Booking",
        "Last-Minute Summer Deals",
        "Holiday Getaways",
    ),
    "Media & Entertainment": (
        "New Year Free Trial",
        "Spring Series Premiere",
        "Summer Binge Pack",
        "Holiday Gift Subscriptions",
    ),
    "Manufacturing": (
        "Q1 Distributor Promotion",
        "Spring Trade Show Follow-up",
        "Mid-Year Maintenance Program",
        "Year-End Stock-Up",
    ),
    "Education": (
        "Spring Term Enrollment",
        "Summer Courses",
        "Fall Enrollment",
        "Scholarship Deadline Reminders",
    ),
    "Food & Beverage": ("Healthy January", "Spring Menu Launch", "Summer BBQ Boxes", "Holiday Catering"),
}

_SPIKE = {
    "Retail": "48-Hour Flash Sale",
    "Food & Beverage": "Limited-Edition Tasting Box",
    "Travel & Hospitality": "Flash Fare Sale",
    "Media & Entertainment": "Season Finale Promotion",
}
_DEFAULT_SPIKE = "Flash Promotion"


def evergreen_campaigns(industry: str, customer_id: str) -> list[str]:
    """The always-on campaigns one customer runs, chosen from its industry's usual ones."""
    pool = _EVERGREEN[industry]
    ranked = sorted(pool, key=lambda name: unit(customer_id, "campaign", name))
    return ranked[:EVERGREEN_PER_CUSTOMER]


def seasonal_campaigns(industry: str) -> list[str]:
    """The industry's seasonal campaign for each calendar quarter."""
    return list(_SEASONAL[industry])


def spike_campaign(industry: str) -> str:
    """The one-off campaign behind a spike in week W."""
    return _SPIKE.get(industry, _DEFAULT_SPIKE)
