"""What an executive business review's agent answers may touch (design §11).

The subject is a customer: the tables holding customers' rows are restricted to the
report's own customer_id; benchmarks and case studies are shared and may be read whole.
Nothing else (CSM assignments, the product's own tables, INFORMATION_SCHEMA, ...) may be
read at all. When report kinds become folders, this declaration moves into the EBR's.
"""

from __future__ import annotations

from core.guard import Declaration

EBR_SCOPE = Declaration(
    subject_column="customer_id",
    scoped_tables=frozenset({"customers", "conversions", "attributions", "historical_engagement"}),
    allowed_tables=frozenset({"industry_benchmarks", "case_studies"}),
    database="CUSTOMER_SUCCESS_DATA",
    schema="ANALYTICS",
    id_pattern=r"CUST_\d+",
)
