"""jsonl output of values whose Arrow form hides a NULL: a NULL FLOAT reads back from numpy as NaN."""
import pyarrow as pa

from sqlstream.connectors.formats.json import json_values


def test_null_float_is_null_not_nan():
    arr = pa.array([None, 1.5, float("nan"), float("inf")], pa.float32())
    assert json_values(arr, None).to_pylist() == ["null", "1.5", '"NaN"', '"Infinity"']
    assert json_values(arr.cast(pa.float64()), None).to_pylist() == ["null", "1.5", '"NaN"', '"Infinity"']


def test_intervals_are_numbers_as_in_flinks_json_format():
    """INTERVAL DAY TO SECOND as milliseconds, YEAR TO MONTH as months (JSON numbers, as Flink's json format
    writes them; a day was written as Python's text '1 day, 0:00:00')."""
    from tests.golden import run_sql
    (row,) = run_sql("SELECT INTERVAL '1' DAY AS d, INTERVAL '14' MONTH AS m, INTERVAL '-3' SECOND AS s;")
    assert row == {"d": 86400000, "m": 14, "s": -3000, "op": "+I"}
