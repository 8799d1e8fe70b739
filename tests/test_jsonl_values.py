"""jsonl output of values whose Arrow form hides a NULL: a NULL FLOAT reads back from numpy as NaN."""
import pyarrow as pa

from sqlstream.connectors.formats.json import json_values


def test_null_float_is_null_not_nan():
    arr = pa.array([None, 1.5, float("nan"), float("inf")], pa.float32())
    assert json_values(arr, None).to_pylist() == ["null", "1.5", '"NaN"', '"Infinity"']
    assert json_values(arr.cast(pa.float64()), None).to_pylist() == ["null", "1.5", '"NaN"', '"Infinity"']
