"""The deterministic demo dataset: four CSMs, nine customers with distinct stories, two years
of daily data relative to an as-of date, industry benchmarks and case studies.

    load_demo(warehouse, as_of, customers=9)   (re)load it into the embedded warehouse
"""

from core.demo.benchmarks import BENCHMARK_METRICS, INDUSTRIES
from core.demo.case_studies import CASE_STUDIES
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
    "INDUSTRIES",
    "DemoCsm",
    "DemoCustomer",
    "DemoSummary",
    "load_demo",
]
