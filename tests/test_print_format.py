"""The print connector's lines as Flink 2.3 prints them: each value's Java toString (java.time's ISO forms for
TIMESTAMP, TIMESTAMP_LTZ and TIME; null). Flink's lines are from the same INSERT INTO a print table run on
PyFlink 2.3 (session zone Asia/Shanghai, which an instant's text does not show)."""
import datetime as dt

import pyarrow as pa

from sqlstream.connectors.print import flink_row_strings


def ts(text: str, unit: str, tz: str | None = None) -> pa.Array:
    return pa.array([dt.datetime.fromisoformat(text)], pa.timestamp("us")).cast(pa.timestamp(unit, tz=tz))


def test_times_and_nulls_as_java_prints_them():
    cols = {
        "a": ts("2020-01-01 00:00:00.120000", "us"), "b": ts("1970-01-01 00:00:01.500", "ms", "UTC"),
        "c": ts("2020-01-01 00:00:01", "ms"),
        "d": pa.array([1577836800123456789], pa.int64()).cast(pa.timestamp("ns")),
        "e": pa.nulls(1, pa.string()), "f": pa.array([True]), "g": pa.array([dt.date(2020, 1, 1)]),
        "h": pa.array([dt.time(10, 0, 0, 500000)], pa.time32("ms")), "i": pa.nulls(1, pa.timestamp("ms")),
        "j": ts("0001-01-01 00:00:00.000001", "us"), "k": ts("9999-12-31 23:59:59.999", "ms"),
        "l": ts("2020-01-01 00:00:00", "ms"), "m": ts("1970-01-01 00:00:00", "ms", "UTC"),
        "n": pa.array([dt.time(10, 0)], pa.time32("ms")),
    }
    batch = pa.RecordBatch.from_arrays([pa.array([0], pa.int8())] + list(cols.values()), ["_op"] + list(cols))
    assert flink_row_strings(batch) == [
        "+I[2020-01-01T00:00:00.120, 1970-01-01T00:00:01.500Z, 2020-01-01T00:00:01, 2020-01-01T00:00:00.123456789, "
        "null, true, 2020-01-01, 10:00:00.500, null, 0001-01-01T00:00:00.000001, 9999-12-31T23:59:59.999, "
        "2020-01-01T00:00, 1970-01-01T00:00:00Z, 10:00]"]
