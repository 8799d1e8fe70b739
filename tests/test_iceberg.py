"""Iceberg tables through a real pyiceberg SQL catalog on SQLite in a temporary folder: the embedded catalog as
Flink's DDL writes it, exactly-once commits (one snapshot per checkpoint, recorded in the snapshot summary),
upserts by key, partitions, bounded and streaming reads, and the errors that must come at the start."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pytest

from sqlstream.script import ScriptRunner
from tests.cli_job import CliJob, latest_checkpoint_id

pytest.importorskip("pyiceberg")


def run(sql: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl", summary=False).run(sql)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")], err.getvalue()


def catalog_ddl(tmp: Path) -> str:
    return (f"CREATE CATALOG ice WITH ('type' = 'iceberg', 'catalog-type' = 'sql', "
            f"'uri' = 'sqlite:///{tmp}/cat.db', 'warehouse' = 'file://{tmp}/wh');\n")


def sql_catalog(tmp: Path):
    from pyiceberg.catalog.sql import SqlCatalog
    return SqlCatalog("ice", uri=f"sqlite:///{tmp}/cat.db", warehouse=f"file://{tmp}/wh")


def orders_csv(tmp: Path, rows: list[tuple]) -> str:
    path = tmp / "orders.csv"
    path.write_text("".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return (f"CREATE TABLE orders (id INT, category STRING, user_id STRING, amount DOUBLE) WITH ("
            f"'connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv');\n")


ORDERS = [(i, "abc"[i % 3], f"u{i % 4}", float(i)) for i in range(1, 31)]


def test_the_embedded_catalog_as_flink_writes_it_is_readable_by_pyiceberg(tmp_path):
    """The statements exactly as the documentation shows them; pyiceberg's SqlCatalog reads the result."""
    err = run(catalog_ddl(tmp_path) + "CREATE DATABASE IF NOT EXISTS ice.db;\n"
              "CREATE TABLE ice.db.out (id INT, category STRING, amount DOUBLE);\n" + orders_csv(tmp_path, ORDERS) +
              "INSERT INTO ice.db.out SELECT id, category, amount FROM orders;\n")[1]
    table = sql_catalog(tmp_path).load_table("db.out")
    got = sorted((r["id"], r["category"], r["amount"]) for r in table.scan().to_arrow().to_pylist())
    assert got == [(i, c, a) for i, c, _, a in ORDERS], err
    assert [str(f.field_type) for f in table.schema().fields] == ["int", "string", "double"]
    assert len(table.snapshots()) == 1
    # a second session finds the table in the catalog, reads it and appends to it
    rows, _ = run(catalog_ddl(tmp_path) + "SELECT category, COUNT(*) AS n FROM ice.db.out GROUP BY category;")
    final = {r["category"]: r["n"] for r in rows if r["op"] in ("+I", "+U")}
    assert final == {"a": 10, "b": 10, "c": 10}
    run(catalog_ddl(tmp_path) + "USE CATALOG ice;\nCREATE TABLE IF NOT EXISTS db.out (id INT);\n" +
        orders_csv(tmp_path, ORDERS[:5]).replace("orders", "default_catalog.default_database.orders", 1) +
        "INSERT INTO db.out SELECT id, category, amount FROM default_catalog.default_database.orders;\n")
    assert sql_catalog(tmp_path).load_table("db.out").scan().to_arrow().num_rows == 35


def test_flink_types_round_trip_through_iceberg_types(tmp_path):
    columns = ("b BOOLEAN, ti TINYINT, i INT, bi BIGINT, f FLOAT, dec DECIMAL(10, 3), s STRING, bin BYTES, "
               "dt DATE, tm TIME, ts TIMESTAMP(6), ltz TIMESTAMP_LTZ(3), arr ARRAY<STRING>, m MAP<STRING, INT>")
    table = (f"CREATE TABLE t ({columns}) WITH ('connector' = 'iceberg', 'catalog-name' = 'ice', "
             f"'catalog-type' = 'sql', 'uri' = 'sqlite:///{tmp_path}/cat.db', 'warehouse' = 'file://{tmp_path}/wh', "
             f"'catalog-database' = 'db');\n")
    run(table + "INSERT INTO t VALUES (TRUE, CAST(1 AS TINYINT), 3, 4, CAST(1.5 AS FLOAT), 3.125, 'h\u00e9', "
                "CAST('ab' AS BYTES), DATE '2024-03-01', TIME '12:34:56', TIMESTAMP '2024-03-01 10:00:00.123456', "
                "TO_TIMESTAMP_LTZ(1700000000123, 3), ARRAY['a', 'b'], MAP['k', 1]);\n")
    iceberg = sql_catalog(tmp_path).load_table("db.t")
    assert [str(f.field_type) for f in iceberg.schema().fields] == [
        "boolean", "int", "int", "long", "float", "decimal(10, 3)", "string", "binary", "date", "time", "timestamp",
        "timestamptz", "list<string>", "map<string, int>"]
    stored = iceberg.scan().to_arrow().to_pylist()[0]
    assert str(stored["ts"]) == "2024-03-01 10:00:00.123456" and stored["bin"] == b"ab"
    rows, _ = run(table + "SELECT * FROM t;")
    assert rows == [{"b": True, "ti": 1, "i": 3, "bi": 4, "f": 1.5, "dec": "3.125", "s": "h\u00e9", "bin": "6162",
                     "dt": "2024-03-01", "tm": "12:34:56", "ts": rows[0]["ts"], "ltz": "2023-11-14 22:13:20.123",
                     "arr": ["a", "b"], "m": {"k": 1}, "op": "+I"}]
    assert rows[0]["ts"].startswith("2024-03-01 10:00:00.123")


def test_partitioned_table_gets_one_file_per_partition_per_commit(tmp_path):
    run(catalog_ddl(tmp_path) + "CREATE DATABASE ice.db;\n"
        "CREATE TABLE ice.db.p (id INT, category STRING, amount DOUBLE) PARTITIONED BY (category);\n" +
        orders_csv(tmp_path, ORDERS) + "SET 'sqlstream.batch-size' = '4';\n"
        "INSERT INTO ice.db.p SELECT id, category, amount FROM orders;\n")
    table = sql_catalog(tmp_path).load_table("db.p")
    files = {t.file.partition[0]: t.file for t in table.scan().plan_files()}
    assert sorted(files) == ["a", "b", "c"] and len(list(table.scan().plan_files())) == 3
    assert all(f.record_count == 10 for f in files.values())
    assert all(f"/category={c}/" in f.file_path for c, f in files.items())
    b_rows = table.scan(row_filter="category == 'b'").to_arrow()
    assert sorted(b_rows.column("id").to_pylist()) == [i for i, c, _, _ in ORDERS if c == "b"]


def test_updating_query_is_applied_as_upserts_by_primary_key(tmp_path):
    rows = ORDERS + [(31, "a", "u1", 100.0)]
    run(catalog_ddl(tmp_path) + "CREATE DATABASE ice.db;\n"
        "CREATE TABLE ice.db.totals (user_id STRING, n BIGINT, total DOUBLE, PRIMARY KEY (user_id) NOT ENFORCED)"
        " WITH ('format-version' = '2');\n" + orders_csv(tmp_path, rows) + "SET 'sqlstream.batch-size' = '3';\n"
        "INSERT INTO ice.db.totals SELECT user_id, COUNT(*), SUM(amount) FROM orders GROUP BY user_id;\n")
    table = sql_catalog(tmp_path).load_table("db.totals")
    got = {r["user_id"]: (r["n"], r["total"]) for r in table.scan().to_arrow().to_pylist()}
    expected = {}
    for _, _, u, a in rows:
        n, t = expected.get(u, (0, 0.0))
        expected[u] = (n + 1, t + a)
    assert got == expected
    assert table.scan().to_arrow().num_rows == 4
    assert [f.name for f in table.schema().identifier_field_ids and
            [table.schema().find_field(i) for i in table.schema().identifier_field_ids]] == ["user_id"]


def test_upsert_enabled_table_keeps_the_last_row_per_key_and_drop_table_drops_it(tmp_path):
    ddl = catalog_ddl(tmp_path) + ("CREATE DATABASE IF NOT EXISTS ice.db;\nCREATE TABLE IF NOT EXISTS ice.db.u "
                                   "(user_id STRING, amount DOUBLE, PRIMARY KEY (user_id) NOT ENFORCED) "
                                   "WITH ('write.upsert.enabled' = 'true');\n")
    run(ddl + orders_csv(tmp_path, ORDERS) + "INSERT INTO ice.db.u SELECT user_id, amount FROM orders;\n")
    run(ddl + orders_csv(tmp_path, [(99, "a", "u1", 0.5)]) + "INSERT INTO ice.db.u SELECT user_id, amount FROM orders;\n")
    got = {r["user_id"]: r["amount"] for r in sql_catalog(tmp_path).load_table("db.u").scan().to_arrow().to_pylist()}
    assert got == {"u0": 28.0, "u1": 0.5, "u2": 30.0, "u3": 27.0}
    run(catalog_ddl(tmp_path) + "DROP TABLE ice.db.u;\n")
    assert sql_catalog(tmp_path).list_tables("db") == []


def sink_for(tmp_path, pk: bool):
    from sqlstream.connectors import registry
    from sqlstream.connectors.base import TableSchema
    from sqlstream.core.types import BIGINT, STRING
    options = {"connector": "iceberg", "catalog-name": "ice", "catalog-type": "sql",
               "uri": f"sqlite:///{tmp_path}/cat.db", "warehouse": f"file://{tmp_path}/wh",
               "catalog-database": "db", "catalog-table": "t"}
    schema = TableSchema(["k", "v"], [STRING.with_nullable(not pk), BIGINT], primary_key=["k"] if pk else [])
    return registry.create_sink("iceberg", "t", options, schema)


def changelog(rows: list[tuple]) -> pa.RecordBatch:
    ops = {"+I": 0, "-U": 1, "+U": 2, "-D": 3}
    return pa.RecordBatch.from_arrays([pa.array([ops[r[0]] for r in rows], pa.int8()),
                                       pa.array([r[1] for r in rows]), pa.array([r[2] for r in rows], pa.int64())],
                                      names=["_op", "k", "v"])


def contents(sink) -> dict:
    return {r["k"]: r["v"] for r in sink.iceberg.refresh().scan().to_arrow().to_pylist()}


def test_changelog_across_checkpoints_leaves_the_final_state_per_key(tmp_path):
    sink = sink_for(tmp_path, pk=True)
    w = sink.writer("job-a")
    w.write(changelog([("+I", "x", 1), ("+I", "y", 2), ("-U", "x", 1), ("+U", "x", 3)]))
    w.commit(w.prepare_commit(1))
    assert contents(sink) == {"x": 3, "y": 2}
    w.write(changelog([("-D", "y", 2), ("+I", "z", 5), ("-U", "x", 3), ("+U", "x", 4)]))
    w.commit(w.prepare_commit(2))
    w.write(changelog([("+I", "y", 7), ("-D", "z", 5)]))
    w.commit(w.prepare_commit(3))
    assert contents(sink) == {"x": 4, "y": 7}
    assert sink.max_committed("job-a") == 3 and sink.max_committed("job-b") is None


def test_recovery_commits_an_uncommitted_checkpoint_once(tmp_path):
    sink = sink_for(tmp_path, pk=False)
    w = sink.writer("job-a")
    w.write(changelog([("+I", "x", 1)]))
    w.commit(w.prepare_commit(1))
    w.write(changelog([("+I", "y", 2)]))
    staged = w.prepare_commit(2)  # the manifest holds this; the process dies before the commit
    snapshots = len(sink.iceberg.refresh().snapshots())
    sink.recover("job-a", json.loads(json.dumps(staged)))  # the restored job commits it
    sink.recover("job-a", json.loads(json.dumps(staged)))  # a second restore from the same checkpoint does not
    table = sink.iceberg.refresh()
    assert sorted(table.scan().to_arrow().column("k").to_pylist()) == ["x", "y"]
    assert len(table.snapshots()) == snapshots + 1
    summary = table.current_snapshot().summary.additional_properties
    assert summary["flink.job-id"] == "job-a" and summary["flink.max-committed-checkpoint-id"] == "2"
    assert w.prepare_commit(3) is None  # a checkpoint without rows commits no snapshot


def test_restore_removes_files_staged_for_checkpoints_never_committed(tmp_path):
    sink = sink_for(tmp_path, pk=False)
    w = sink.writer("job-a")
    w.write(changelog([("+I", "x", 1)]))
    w.commit(w.prepare_commit(1))
    w.write(changelog([("+I", "y", 2)]))
    orphan = w.prepare_commit(2)["files"][0]  # the process dies before checkpoint 2 is complete
    data = tmp_path / "wh" / "db" / "t" / "data"
    assert len(list(data.glob("*.parquet"))) == 2
    sink.recover("job-a", [])  # a restart without a checkpoint to restore keeps what the table references
    sink_for(tmp_path, pk=False).recover("job-b", [])  # another job's restart removes none of job-a's files
    referenced = {Path(t.file.file_path).name for t in sink.iceberg.refresh().scan().plan_files()}
    assert {p.name for p in data.glob("*.parquet")} == referenced and Path(orphan).name not in referenced
    assert sorted(sink.iceberg.refresh().scan().to_arrow().column("k").to_pylist()) == ["x"]


def test_falling_back_past_committed_checkpoints_takes_their_snapshots_back(tmp_path):
    sink = sink_for(tmp_path, pk=False)
    w = sink.writer("job-a")
    for cid, key in enumerate(["x", "y", "z"], start=1):
        w.write(changelog([("+I", key, cid)]))
        w.commit(w.prepare_commit(cid))
    assert "took back 2 snapshot(s)" in sink.rollback("job-a", 1)
    assert sink.iceberg.refresh().scan().to_arrow().column("k").to_pylist() == ["x"]
    assert sink.max_committed("job-a") == 1
    assert "took back 1 snapshot(s)" in sink.rollback("job-a", 0)
    assert sink.iceberg.refresh().scan().to_arrow().num_rows == 0 and sink.max_committed("job-a") == 0


def test_bounded_read_and_streaming_read_of_new_snapshots(tmp_path):
    run(catalog_ddl(tmp_path) + "CREATE DATABASE ice.db;\nCREATE TABLE ice.db.src (id INT, name STRING);\n" +
        orders_csv(tmp_path, ORDERS[:3]) + "INSERT INTO ice.db.src SELECT id, category FROM orders;\n")
    rows, _ = run(catalog_ddl(tmp_path) + "SELECT id, name FROM ice.db.src WHERE id > 1;")
    assert sorted((r["id"], r["name"]) for r in rows) == [(2, "c"), (3, "a")]

    job = tmp_path / "stream.sql"
    job.write_text(f"SET 'execution.checkpointing.interval' = '100 ms';\n"
                   f"SET 'execution.checkpointing.dir' = '{tmp_path}/ckpt';\n"
                   f"CREATE TABLE src (id INT, name STRING) WITH ('connector' = 'iceberg', 'catalog-name' = 'ice', "
                   f"'catalog-type' = 'sql', 'uri' = 'sqlite:///{tmp_path}/cat.db', "
                   f"'warehouse' = 'file://{tmp_path}/wh', 'catalog-database' = 'db', 'catalog-table' = 'src', "
                   f"'streaming' = 'true', 'monitor-interval' = '50 ms');\n"
                   f"CREATE TABLE copy (id INT, name STRING) WITH ('connector' = 'print');\n"
                   f"INSERT INTO copy SELECT id, name FROM src;\n")
    table = sql_catalog(tmp_path).load_table("db.src")

    def printed(p: CliJob) -> list[str]:
        return sorted(line for line in p.out.splitlines() if line.startswith("+I["))
    p = CliJob(job)
    try:
        p.wait_for(lambda: len(printed(p)) == 3, "the table's snapshot read")
        table.append(pa.table({"id": pa.array([10, 11], pa.int32()), "name": ["n10", "n11"]}))
        p.wait_for(lambda: len(printed(p)) == 5, "the appended snapshot read")
        assert printed(p) == sorted(["+I[1, b]", "+I[2, c]", "+I[3, a]", "+I[10, n10]", "+I[11, n11]"])
        after = latest_checkpoint_id(tmp_path / "ckpt") + 1
        p.wait_for(lambda: latest_checkpoint_id(tmp_path / "ckpt") >= after, "a checkpoint after the rows")
        p.kill()
        p.finish()
        table.append(pa.table({"id": pa.array([12], pa.int32()), "name": ["n12"]}))
        p = CliJob(job)
        p.wait_for(lambda: len(printed(p)) == 1, "the snapshot appended while the job was down read")
        assert printed(p) == ["+I[12, n12]"]
    finally:
        p.kill()
        p.finish()


def test_bounded_read_from_a_start_snapshot_reads_what_later_snapshots_appended(tmp_path):
    catalog = sql_catalog(tmp_path)
    catalog.create_namespace("db")
    table = catalog.create_table("db.s", schema=pa.schema([("id", pa.int32())]))
    for ids in ([1, 2], [3], [4, 5]):
        table.append(pa.table({"id": pa.array(ids, pa.int32())}))
    first = table.snapshots()[0].snapshot_id
    rows, _ = run(f"CREATE TABLE s (id INT) WITH ('connector' = 'iceberg', 'catalog-name' = 'ice', 'catalog-type' = "
                  f"'sql', 'uri' = 'sqlite:///{tmp_path}/cat.db', 'warehouse' = 'file://{tmp_path}/wh', "
                  f"'catalog-database' = 'db', 'start-snapshot-id' = '{first}');\nSELECT id FROM s;")
    assert sorted(r["id"] for r in rows) == [3, 4, 5]


def test_unreachable_catalog_and_wrong_column_types_fail_at_start(tmp_path):
    from sqlstream.core.errors import SqlStreamError
    bad = (f"CREATE CATALOG ice WITH ('type' = 'iceberg', 'catalog-type' = 'sql', "
           f"'uri' = 'sqlite:///{tmp_path}/no/such/dir/cat.db', 'warehouse' = 'file://{tmp_path}/wh');")
    with pytest.raises(SqlStreamError, match="Cannot reach Iceberg catalog 'ice'.*option 'uri'"):
        run(bad)
    run(catalog_ddl(tmp_path) + "CREATE DATABASE ice.db;\nCREATE TABLE ice.db.t (id INT, name STRING);\n")
    wrong = (f"CREATE TABLE t (id INT, name BIGINT) WITH ('connector' = 'iceberg', 'catalog-name' = 'ice', "
             f"'catalog-type' = 'sql', 'uri' = 'sqlite:///{tmp_path}/cat.db', 'warehouse' = 'file://{tmp_path}/wh',"
             f" 'catalog-database' = 'db');\n" + orders_csv(tmp_path, ORDERS) +
             "INSERT INTO t SELECT id, id FROM orders;\n")
    with pytest.raises(SqlStreamError, match="column 'name' is declared BIGINT .*'catalog-table'.* string"):
        run(wrong)
    assert sql_catalog(tmp_path).load_table("db.t").current_snapshot() is None
