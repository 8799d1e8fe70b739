"""PARTITIONED BY on the filesystem connector: rows go to `k=v` folders (values escaped, NULL as the default
partition name) and are not repeated inside the files, as Apache Flink 2.3 lays them out for the same statement
(checked here with the Flink oracle); reading the folder back restores the partition columns."""
import io
import json
from pathlib import Path

import pytest

from sqlstream.core.errors import FormatError
from sqlstream.script import ScriptRunner

ROWS = [{"order_id": 1, "user_id": "a", "amount": 10.0, "ts": "2024-01-01 00:00:00"},
        {"order_id": 2, "user_id": "b", "amount": 30.0, "ts": "2024-01-01 00:00:01"},
        {"order_id": 3, "user_id": "a", "amount": 20.0, "ts": "2024-01-02 00:00:02"}]


def run(sql: str, fmt: str = "jsonl") -> str:
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt=fmt).run(sql)
    return out.getvalue()


def test_partitioned_sink_layout_and_read_back(tmp_path):
    src = tmp_path / "orders.json"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out = tmp_path / "out"
    ddl = (f"CREATE TABLE t (order_id BIGINT, amount DOUBLE, dt STRING, u STRING) PARTITIONED BY (dt, u) "
           f"WITH ('connector' = 'filesystem', 'path' = '{out}', 'format' = 'json');\n")
    run(f"CREATE TABLE orders (order_id BIGINT, user_id STRING, amount DOUBLE, ts TIMESTAMP(3)) "
        f"WITH ('connector' = 'filesystem', 'path' = '{src}', 'format' = 'json');\n" + ddl +
        "INSERT INTO t SELECT order_id, amount, DATE_FORMAT(ts, 'yyyy-MM-dd'), "
        "CASE WHEN user_id = 'b' THEN CAST(NULL AS STRING) ELSE 'x/y=z' END FROM orders;")
    files = {str(p.relative_to(out).parent): [json.loads(line) for line in p.read_text().splitlines()]
             for p in out.rglob("part-*")}
    assert files == {"dt=2024-01-01/u=x%2Fy%3Dz": [{"order_id": 1, "amount": 10.0}],
                     "dt=2024-01-01/u=__DEFAULT_PARTITION__": [{"order_id": 2, "amount": 30.0}],
                     "dt=2024-01-02/u=x%2Fy%3Dz": [{"order_id": 3, "amount": 20.0}]}
    assert not list(out.rglob(".*inprogress"))
    back = [json.loads(line) for line in run(ddl + "SELECT order_id, dt, u FROM t;").splitlines()]
    assert sorted((r["order_id"], r["dt"], r["u"]) for r in back) == \
        [(1, "2024-01-01", "x/y=z"), (2, "2024-01-01", None), (3, "2024-01-02", "x/y=z")]


def test_unknown_partition_column_is_an_error(tmp_path):
    import pytest
    from sqlstream.core.errors import ValidationError
    with pytest.raises(ValidationError, match="Partition column 'nope' not defined in the table schema"):
        run(f"CREATE TABLE t (a INT) PARTITIONED BY (nope) WITH ('connector' = 'filesystem', "
            f"'path' = '{Path(tmp_path)}', 'format' = 'json');")


def test_a_partition_value_not_of_its_column_type_fails_naming_the_file(tmp_path):
    """As Flink (NumberFormatException for 'h=abc' into INT): the job fails; the message names the file."""
    folder = tmp_path / "p" / "h=abc"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("1\n")
    sql = (f"CREATE TABLE t (id INT, h INT) PARTITIONED BY (h) WITH ('connector' = 'filesystem', "
           f"'path' = '{tmp_path / 'p'}', 'format' = 'csv');\nSELECT * FROM t;")
    with pytest.raises(FormatError, match=r"Partition value 'h=abc' is not of the column's type INT: For input "
                                          r"string: \"abc\" \(at .*h=abc/a\.csv\)"):
        run(sql)


def test_a_file_outside_the_partition_folders_fails_as_in_flink(tmp_path):
    """Flink refuses a folder that names not every partition key: 'incomplete partition spec: {dt=b}'."""
    for folder, line in (("dt=a/h=1", "1"), ("dt=b", "2")):
        (tmp_path / "p" / folder).mkdir(parents=True)
        (tmp_path / "p" / folder / "a.csv").write_text(line + "\n")
    sql = (f"CREATE TABLE t (id INT, dt STRING, h INT) PARTITIONED BY (dt, h) WITH ('connector' = 'filesystem', "
           f"'path' = '{tmp_path / 'p'}', 'format' = 'csv');\nSELECT * FROM t;")
    with pytest.raises(FormatError, match=r"Partition keys are: \[dt, h\], incomplete partition spec: \{dt=b\} "
                                          r"\(at .*dt=b/a\.csv\)"):
        run(sql)
