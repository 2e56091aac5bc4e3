"""stub"""

import pyarrow as pa


def case_study_table() -> pa.Table:
    return pa.table(
        {
            "case_study_id": ["CS-001"],
            "title": ["t"],
            "industry": ["Retail"],
            "challenge": ["c"],
            "solution": ["s"],
            "results": ["r"],
            "content": ["x"],
        }
    )
