"""The jdbc scan source against a real PostgreSQL server: a bounded read, split by `scan.partition.*`."""
import pytest

from sqlstream.connectors.jdbc.scan import partition_ranges
from sqlstream.core.errors import ConnectorError
from tests.golden import run_sql
from tests.test_jdbc_sink import jdbc

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres):
    postgres.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    postgres.execute("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), price NUMERIC(8, 2), "
                     "added TIMESTAMP, ok BOOLEAN)")
    postgres.execute("INSERT INTO items SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'item' || i END, i * 1.25, "
                     "TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL '1 second', i % 2 = 0 "
                     "FROM generate_series(1, 1000) i")
    return postgres


DDL = "CREATE TABLE items (id INT, name STRING, price DECIMAL(8, 2), added TIMESTAMP(3), ok BOOLEAN) {};"


def test_partition_ranges_cover_the_bounds_like_flink():
    assert partition_ranges(1, 10, 3) == [(1, 4), (5, 7), (8, 10)]
    assert partition_ranges(0, 2, 5) == [(0, 0), (1, 1), (2, 2)]
    assert partition_ranges(5, 5, 1) == [(5, 5)]


@pytest.mark.parametrize("batch", [1, 7, None])
def test_scan_reads_every_row_with_its_values(pg, batch):
    rows = run_sql(DDL.format(jdbc(pg.url, "items", **{"scan.fetch-size": "64"})) +
                   "SELECT id, name, price, added, ok FROM items WHERE id IN (1, 7, 1000);", batch)
    assert [(r["id"], r["name"], r["price"], r["added"], r["ok"]) for r in rows] == [
        (1, "item1", "1.25", "2024-01-01 00:00:01.000", False), (7, None, "8.75", "2024-01-01 00:00:07.000", False),
        (1000, "item1000", "1250.00", "2024-01-01 00:16:40.000", True)]
    total = run_sql(DDL.format(jdbc(pg.url, "items")) + "SELECT COUNT(*) AS n, SUM(id) AS s FROM items;", batch)
    assert (total[-1]["n"], total[-1]["s"]) == (1000, 500500)


def test_partitioned_scan_reads_the_rows_within_the_bounds_once(pg):
    opts = {"scan.partition.column": "id", "scan.partition.num": "4", "scan.partition.lower-bound": "11",
            "scan.partition.upper-bound": "990", "scan.fetch-size": "50"}
    rows = run_sql(DDL.format(jdbc(pg.url, "items", **opts)) + "SELECT id FROM items;", 7)
    assert sorted(r["id"] for r in rows) == list(range(11, 991))


def test_scan_of_a_mistyped_column_fails_at_start(pg):
    with pytest.raises(ConnectorError, match="column 'name' is INT in the DDL but character varying"):
        run_sql(DDL.format(jdbc(pg.url, "items")).replace("name STRING", "name INT") + "SELECT id FROM items;")


def test_a_restored_split_resumes_after_the_rows_it_returned(pg):
    from sqlstream.connectors.base import TableSchema
    from sqlstream.connectors.jdbc import create_source
    from sqlstream.core.types import FlinkType
    options = {"connector": "jdbc", "url": pg.url, "table-name": "items", "username": "postgres",
               "scan.partition.column": "id", "scan.partition.num": "2", "scan.partition.lower-bound": "1",
               "scan.partition.upper-bound": "1000", "scan.fetch-size": "100"}
    source = create_source("items", options, TableSchema(["id"], [FlinkType("INT")]))
    assert source.splits() == ["1..500", "501..1000"]
    first = source.reader("501..1000")
    seen = first.poll(30).column(0).to_pylist() + first.poll(30).column(0).to_pylist()
    position = first.position()
    first.close()
    resumed = source.reader("501..1000", position)
    while not resumed.finished:
        batch = resumed.poll(100)
        if batch is not None:
            seen += batch.column(0).to_pylist()
    assert position == 60 and seen == list(range(501, 1001))


def test_numeric_values_are_rounded_to_the_ddl_scale_or_null_when_too_wide(pg):
    pg.execute("CREATE TABLE amounts (id INT, v NUMERIC)")
    pg.execute("INSERT INTO amounts VALUES (1, 1.005), (2, -2.344), (3, 123456.7), (4, NULL), (5, 'NaN')")
    rows = run_sql(f"CREATE TABLE amounts (id INT, v DECIMAL(6, 2)) {jdbc(pg.url, 'amounts')};"
                   "SELECT id, v FROM amounts;")
    assert sorted((r["id"], r["v"]) for r in rows) == [(1, "1.01"), (2, "-2.34"), (3, None), (4, None), (5, None)]
