"""The DuckDB statements that expand customer profiles into two years of daily rows.

Every statement reads the registered Arrow tables `demo_channel` / `demo_customer` for the
customers with `cidx` between `$lo` and `$hi`, and draws its noise from `hash()` of the
row's keys, so the output depends on nothing but the profiles and the dates.
"""

from __future__ import annotations

from core.demo.noise import sql_unit
from core.demo.profiles import CHANNELS
from core.warehouse.base import DATABASE, SCHEMA

TABLE_PREFIX = f"{DATABASE}.{SCHEMA}."
ATTRIBUTION_MODELS = ("first_touch", "last_touch", "linear")

# Weekday factors, Monday first: less mail goes out and less is bought at the weekend.
_WEEKDAYS = "[1.04, 1.07, 1.05, 1.03, 0.98, 0.90, 0.93]"
_LOGNORMAL_SIGMA = 0.35


def _u(k: int, *extra: str) -> str:
    """A daily draw for one customer, day and channel; `k` tells the draws apart."""
    return sql_unit("cidx", "epoch_day", "ch", *extra, str(k))


# The profile of each customer and channel, crossed with every day, with the volume the
# day should carry: the level of week W moved back along the growth rates, the season,
# the weekday and the story's collapse; `spike` is the extra of a campaign spike in W.
_DAILY = f"""
grid AS (
    SELECT p.*, $start::DATE + r.range::INTEGER AS day,
           $start_epoch + r.range::INTEGER AS epoch_day, ($w_end_d - r.range) / 7.0 AS x
    FROM demo_channel AS p, range($days) AS r
    WHERE p.cidx BETWEEN $lo AND $hi
),
daily AS (
    SELECT *,
        sends0
        * CASE WHEN x <= 12 THEN pow(1 + g_recent, -x)
               ELSE pow(1 + g_recent, -12) * pow(1 + g_early, 12 - x) END
        * (1 + season_amp * cos(2 * pi() * (dayofyear(day) - season_peak) / 365.25))
        * {_WEEKDAYS}[isodow(day)]
        * CASE WHEN day >= $collapse_from::DATE THEN collapse ELSE 1 END AS volume,
        CASE WHEN day BETWEEN $w_start::DATE AND $w_end::DATE THEN 1 + spike_boost ELSE 1 END AS spike,
        greatest(least(x, 12), 0) AS recent
    FROM grid
)"""

ENGAGEMENT = f"""
INSERT INTO {TABLE_PREFIX}historical_engagement
    (customer_id, activity_date, channel, sends, opens, clicks, engagement_score)
WITH {_DAILY},
counted AS (
    SELECT *,
        round(volume * (1 + 0.5 * (spike - 1)) * (0.92 + 0.16 * {_u(1)}))::BIGINT AS sends,
        round(sends * open_rate * (1 + rate_slope * recent) * (0.9 + 0.2 * {_u(2)}))::BIGINT AS opens,
        round(sends * ctr * (1 + rate_slope * recent) * (0.85 + 0.3 * {_u(3)}))::BIGINT AS clicks,
        score0 + score_slope * recent + 9 * ({_u(4)} - 0.5) AS score
    FROM daily
)
SELECT customer_id, day, channel, sends, least(opens, sends), least(clicks, opens, sends),
       round(greatest(0, least(100, score)), 1)
FROM counted
"""

# A day's conversions per channel: the expected count rounded up or down at random,
# then one row per conversion with a log-normal revenue around the customer's average.
CONVERSIONS = f"""
INSERT INTO {TABLE_PREFIX}conversions
    (conversion_id, customer_id, conversion_date, channel, campaign, revenue)
WITH {_DAILY},
counted AS (
    SELECT *, floor(volume * spike * conv_rate * (0.9 + 0.2 * {_u(10)}) + {_u(11)})::INTEGER AS n
    FROM daily
),
expanded AS (
    SELECT *, unnest(range(n)) AS k FROM counted WHERE n > 0
)
SELECT
    'CNV-' || cnum || '-' || strftime(day, '%Y%m%d') || '-' || ch_code || lpad(k::VARCHAR, 3, '0'),
    customer_id,
    day,
    channel,
    CASE WHEN spike > 1 AND {_u(20, "k")} < spike_boost / spike THEN spike_campaign
         WHEN {_u(21, "k")} < 0.3 THEN seasonal[quarter(day)]
         ELSE evergreen[1 + floor({_u(22, "k")} * len(evergreen))::INTEGER] END,
    round(greatest(1, avg_value * exp(
        {_LOGNORMAL_SIGMA} * sqrt(-2 * ln(1 - {_u(23, "k")})) * cos(2 * pi() * {_u(24, "k")})
        - {_LOGNORMAL_SIGMA**2 / 2}
    )), 2)::DECIMAL(12, 2)
FROM expanded
"""


def _a(k: int) -> str:
    return sql_unit("c.conversion_id", str(k))


_CHANNEL_LIST = "[" + ", ".join(f"'{channel}'" for channel in CHANNELS) + "]"


# Each conversion's journey: a first touch drawn from the customer's first-touch
# distribution, the converting channel as the last touch, and sometimes one in between.
# first_touch and last_touch give their one touchpoint full credit; linear splits evenly.
ATTRIBUTIONS = f"""
INSERT INTO {TABLE_PREFIX}attributions
    (conversion_id, customer_id, touchpoint_channel, attribution_model, credit)
WITH draws AS (
    SELECT c.conversion_id, c.customer_id, c.channel, p.ft1, p.ft2, p.ft3,
        {_a(1)} AS u_first, {_a(2)} AS u_middle, {_a(3)} AS u_touches
    FROM {TABLE_PREFIX}conversions AS c
    JOIN demo_customer AS p ON p.customer_id = c.customer_id
    WHERE p.cidx BETWEEN $lo AND $hi
),
journeys AS (
    SELECT conversion_id, customer_id, channel AS last_ch,
        CASE WHEN u_first < ft1 THEN {_CHANNEL_LIST}[1] WHEN u_first < ft2 THEN {_CHANNEL_LIST}[2]
             WHEN u_first < ft3 THEN {_CHANNEL_LIST}[3] ELSE {_CHANNEL_LIST}[4] END AS first_ch,
        {_CHANNEL_LIST}[1 + floor(u_middle * 4)::INTEGER] AS middle_ch,
        CASE WHEN u_touches < 0.45 THEN 3 ELSE 2 END AS touches
    FROM draws
)
SELECT conversion_id, customer_id, first_ch, 'first_touch', 1.0 FROM journeys
UNION ALL SELECT conversion_id, customer_id, last_ch, 'last_touch', 1.0 FROM journeys
UNION ALL SELECT conversion_id, customer_id, first_ch, 'linear', 1.0 / touches FROM journeys
UNION ALL SELECT conversion_id, customer_id, middle_ch, 'linear', 1.0 / touches FROM journeys WHERE touches = 3
UNION ALL SELECT conversion_id, customer_id, last_ch, 'linear', 1.0 / touches FROM journeys
"""
