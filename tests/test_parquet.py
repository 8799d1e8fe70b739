"""The filesystem connector's parquet and orc formats (through pyarrow): sink part files, then the same table
read back, partitioned or not; files written by pyarrow itself; a path on a file system sqlstream does not ship."""
from __future__ import annotations

import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sqlstream.core.errors import ConnectorError
from sqlstream.script import ScriptRunner

SOURCE = """CREATE TABLE src (id INT, name STRING, price DECIMAL(10, 2), ts TIMESTAMP(3), tags ARRAY<STRING>,
  dt STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '40', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '40', 'fields.name.length' = '5', 'fields.price.min' = '1',
  'fields.price.max' = '100', 'fields.dt.length' = '1', 'fields.tags.length' = '2');"""


def run(sql: str) -> list[dict]:
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt="jsonl", summary=False).run(sql)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]


def table(path: str, fmt: str, partitioned: bool) -> str:
    part = "PARTITIONED BY (dt) " if partitioned else ""
    return (f"CREATE TABLE t (id INT, name STRING, price DECIMAL(10, 2), ts TIMESTAMP(3), tags ARRAY<STRING>, "
            f"dt STRING) {part}WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = '{fmt}');")


@pytest.mark.parametrize("fmt", ["parquet", "orc"])
@pytest.mark.parametrize("partitioned", [False, True])
def test_round_trip(tmp_path, fmt, partitioned):
    path = str(tmp_path / "out")
    expected = run(SOURCE + "SELECT * FROM src;")
    run(SOURCE + table(path, fmt, partitioned) + "INSERT INTO t SELECT * FROM src;")
    files = [os.path.join(r, f) for r, _, fs in os.walk(path) for f in fs]
    assert files and not any(os.path.basename(f).startswith(".") for f in files)
    got = run(table(path, fmt, partitioned) + "SELECT * FROM t;")
    key = lambda r: r["id"]  # noqa: E731
    timeless = lambda rows: [{k: v for k, v in r.items() if k != "ts"} for r in sorted(rows, key=key)]  # noqa: E731
    assert timeless(got) == timeless(expected)  # datagen's TIMESTAMPs are the time of each run
    assert all(r["ts"].startswith("20") for r in got)
    assert run(table(path, fmt, partitioned) + "SELECT name FROM t WHERE id = 7;") == \
        [{"name": next(r["name"] for r in expected if r["id"] == 7), "op": "+I"}]


def test_reads_files_written_by_pyarrow_with_other_types(tmp_path):
    pq.write_table(pa.table({"a": pa.array([1, 2, None], pa.int64()), "b": ["x", "y", "z"],
                             "t": pa.array([0, 10 ** 9, 2 * 10 ** 9 + 123456], pa.timestamp("ns"))}), tmp_path / "f.parquet")
    got = run(f"CREATE TABLE p (a INT, b STRING, t TIMESTAMP(3), missing DOUBLE) WITH ('connector' = 'filesystem', "
              f"'path' = '{tmp_path}', 'format' = 'parquet');\nSELECT * FROM p;")
    assert [(r["a"], r["b"], r["t"], r["missing"]) for r in got] == [
        (1, "x", "1970-01-01 00:00:00.000", None), (2, "y", "1970-01-01 00:00:01.000", None),
        (None, "z", "1970-01-01 00:00:02.000", None)]


def test_other_file_systems_are_named():
    with pytest.raises(ConnectorError, match="'s3' file system, which sqlstream does not ship"):
        run(SOURCE + table("s3://bucket/x", "parquet", False) + "INSERT INTO t SELECT * FROM src;")
