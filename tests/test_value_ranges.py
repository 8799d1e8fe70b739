"""Values at the ends of their types' ranges: TIMESTAMP and TIMESTAMP_LTZ to the last instant of year 9999 (past
the year 2262 that nanoseconds in an int64 reach) and DECIMAL products past 38 digits (NULL, as Flink's
DecimalData). Columns over the whole range are in the golden case fn_year_range_ends; the values here are Flink
2.3's for the same calls."""
from __future__ import annotations

import pytest

from sqlstream.core.errors import FormatError, ValidationError
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
    row = one_row("CAST('12000000000000000000000000000000000000' AS DECIMAL(38, 0)) * CAST(100 AS DECIMAL(10, 0)) AS "
                  "over, CAST(1.5 AS DECIMAL(38, 2)) * CAST(2 AS DECIMAL(10, 0)) AS fits")
    assert row["over"] is None and str(row["fits"]) == "3.00"


def test_zoned_and_unix_time_functions_reach_year_9999():
    row = one_row("CONVERT_TZ('9999-12-31 10:00:00', 'UTC', 'Asia/Shanghai') AS tz, "
                  "UNIX_TIMESTAMP('9999-12-31 23:59:59') AS unix, FROM_UNIXTIME(253402300799) AS from_unix, "
                  "DATE_FORMAT('9999-12-31 23:59:59', 'yyyy/MM/dd') AS fmt, TO_DATE('31/12/9999', 'dd/MM/yyyy') AS d, "
                  "TO_TIMESTAMP('31/12/9999', 'dd/MM/yyyy') AS parsed, "
                  "CAST(TO_TIMESTAMP_LTZ(253402300799999999, 6) AS STRING) AS last_micro, "
                  "TO_TIMESTAMP_LTZ(253402300800000000, 6) AS past_micro, TO_TIMESTAMP('10000-01-01 00:00:00') AS past")
    assert row == {"tz": "9999-12-31 18:00:00", "unix": 253402300799, "from_unix": "9999-12-31 23:59:59",
                   "fmt": "9999/12/31", "d": "9999-12-31", "parsed": "9999-12-31 00:00:00.000",
                   "last_micro": "9999-12-31 23:59:59.999999", "past_micro": None, "past": None, "op": "+I"}


def test_timestampdiff_across_the_whole_range():
    row = one_row("TIMESTAMPDIFF(DAY, TIMESTAMP '0001-01-01 00:00:00', TIMESTAMP '9999-12-31 00:00:00') AS days, "
                  "TIMESTAMPDIFF(SECOND, TIMESTAMP '0001-01-01 00:00:00', TIMESTAMP '9999-12-31 00:00:00') AS secs, "
                  "TIMESTAMPDIFF(MONTH, TIMESTAMP '0001-01-01 00:00:00', TIMESTAMP '9999-12-31 00:00:00') AS months, "
                  "TIMESTAMPDIFF(DAY, DATE '0001-01-01', DATE '9999-12-31') AS date_days")
    # an INT result wraps as Java's does (Flink: 2005198592 seconds)
    assert row == {"days": 3652058, "secs": 2005198592, "months": 119987, "date_days": 3652058, "op": "+I"}


def test_a_nanosecond_timestamp_literal_is_selected_as_it_is():
    row = one_row("CAST('2020-01-01 00:00:00.123456789' AS TIMESTAMP(9)) AS c, "
                  "CAST(TIMESTAMP '2020-01-01 00:00:00.123456789' AS STRING) AS s")
    assert row["c"] == "2020-01-01 00:00:00.123" and row["s"] == "2020-01-01 00:00:00.123456789"


@pytest.mark.parametrize("select,message", [
    # Flink: Cannot apply '-' to arguments of type '<TIMESTAMP(0)> - <TIMESTAMP(0)>'. Supported form(s):
    # '<NUMERIC> - <NUMERIC>' (we gave a Python timedelta's text, '1 day, 0:00:00')
    ("TIMESTAMP '2020-01-02 00:00:00' - TIMESTAMP '2020-01-01 00:00:00'", r"At line 1, column \d+: Cannot apply '-'"),
    # Flink: Cannot apply 'DATE_FORMAT' to arguments of type 'DATE_FORMAT(<DATE>, <CHAR(4)>)' (we failed while running)
    ("DATE_FORMAT(DATE '2020-01-01', 'yyyy')", r"At line 1, column 8: Cannot apply 'DATE_FORMAT' to arguments of "
                                               r"type 'DATE_FORMAT\(DATE"),
])
def test_what_flink_refuses_is_refused_where_it_is(select, message):
    with pytest.raises(ValidationError, match=message):
        run_sql(f"SELECT {select} AS a;")


def test_nanosecond_timestamps_outside_their_range_are_refused_not_wrapped(tmp_path):
    """TIMESTAMP(7..9) values are nanoseconds in an int64 (1677-09-21 to 2262-04-11); beyond, a literal is refused
    and a JSON value is a parse error (it read as 1816-03-30 or failed with a Python OverflowError)."""
    with pytest.raises(ValidationError, match=r"TIMESTAMP\(9\) literal '9999-12-31 23:59:59.123456789' is out of "
                                              r"range.*1677-09-21 to 2262-04-11"):
        run_sql("SELECT TIMESTAMP '9999-12-31 23:59:59.123456789' AS a;")
    data = tmp_path / "t.json"
    data.write_text('{"ts": "9999-12-31 23:59:59.123456789"}\n{"ts": "2020-01-01 00:00:00.5"}\n')
    ddl = (f"CREATE TABLE t (ts TIMESTAMP(9)) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json'"
           "{more}); SELECT CAST(ts AS STRING) AS s FROM t;")
    with pytest.raises(FormatError, match=r"out of the range of TIMESTAMP\(9\)"):
        run_sql(ddl.format(more=""))
    rows = run_sql(ddl.format(more=", 'json.ignore-parse-errors' = 'true'"))
    assert [r["s"] for r in rows] == [None, "2020-01-01 00:00:00.500000000"]
