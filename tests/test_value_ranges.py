"""Values at the ends of their types' ranges: TIMESTAMP_LTZ to the last instant of year 9999 (past the year 2262
that nanoseconds in an int64 reach) and DECIMAL products past 38 digits (NULL, as Flink's DecimalData)."""
from __future__ import annotations

from tests.golden import run_sql


def one_row(select: str) -> dict:
    (row,) = run_sql(f"SELECT {select};")
    return row


def test_to_timestamp_ltz_reaches_year_9999_and_is_null_past_it():
    row = one_row("TO_TIMESTAMP_LTZ(253402300799000, 3) AS last, TO_TIMESTAMP_LTZ(253402300800000, 3) AS past, "
                  "TO_TIMESTAMP_LTZ(-62167219200000, 3) AS first, TO_TIMESTAMP_LTZ(-62167219200001, 3) AS before, "
                  "CAST(TO_TIMESTAMP_LTZ(253402300799999, 3) AS STRING) AS text")
    assert row["last"].startswith("9999-12-31") and row["last"][11:19] == "23:59:59"
    assert row["past"] is None and row["before"] is None and row["first"].startswith("0000-01-01")
    assert row["text"] == "9999-12-31 23:59:59.999"


def test_a_decimal_product_past_its_type_is_null():
    row = one_row("CAST(12000000000000000000000000000000000000 AS DECIMAL(38, 0)) * CAST(100 AS DECIMAL(10, 0)) AS "
                  "over, CAST(1.5 AS DECIMAL(38, 2)) * CAST(2 AS DECIMAL(10, 0)) AS fits")
    assert row["over"] is None and str(row["fits"]) == "3.00"
