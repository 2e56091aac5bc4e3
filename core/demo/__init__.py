"""The deterministic demo dataset: four CSMs, nine customers with distinct stories, two years
of daily data relative to an as-of date, industry benchmarks and case studies; and the coaching
data: two managers, eight reps with distinct stories, twelve weeks of calls (coaching.py).

    load_demo(warehouse, as_of, customers=9, reps=8)   (re)load it into the embedded warehouse
    reload_coaching(warehouse, as_of, reps=8)          replace only the coaching data
"""

from core.demo.benchmarks import BENCHMARK_METRICS, INDUSTRIES
from core.demo.case_studies import CASE_STUDIES
from core.demo.coaching import reload_coaching
from core.demo.coaching_roster import DEMO_MANAGERS, DEMO_REPS, RepStory
from core.demo.expand import ATTRIBUTION_MODELS
from core.demo.generator import DemoSummary, load_demo
from core.demo.profiles import CHANNELS
from core.demo.roster import DEMO_CSMS, DEMO_CUSTOMERS, DemoCsm, DemoCustomer

__all__ = [
    "ATTRIBUTION_MODELS",
    "BENCHMARK_METRICS",
    "CASE_STUDIES",
    "CHANNELS",
    "DEMO_CSMS",
    "DEMO_CUSTOMERS",
    "DEMO_MANAGERS",
    "DEMO_REPS",
    "INDUSTRIES",
    "DemoCsm",
    "DemoCustomer",
    "DemoSummary",
    "RepStory",
    "load_demo",
    "reload_coaching",
]
