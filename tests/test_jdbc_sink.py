"""The jdbc sink against a real PostgreSQL server: appends, upserts and deletes by key, and the errors a user
sees for an unreachable server, a missing table or key, and a column whose type does not match the DDL."""
from decimal import Decimal

import pytest

from sqlstream.core.errors import ConnectorError, OptionError
from tests.golden import run_sql
from tests.ports import free_port

pytestmark = pytest.mark.postgres


def jdbc(url: str, table: str, **extra: str) -> str:
    opts = {"connector": "jdbc", "url": url, "table-name": table, "username": "postgres", **extra}
    return "WITH (" + ", ".join(f"'{k}' = '{v}'" for k, v in opts.items()) + ")"


@pytest.fixture
def pg(postgres):
    postgres.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return postgres


@pytest.mark.parametrize("batch", [1, 7, None])
def test_append_keeps_values_nulls_and_empty_strings(pg, batch):
    pg.execute("CREATE TABLE events (id INT, name TEXT, ts TIMESTAMP, ok BOOLEAN, price NUMERIC(8, 2), "
               "d DATE, raw BYTEA, x DOUBLE PRECISION)")
    run_sql(f"""CREATE TABLE events (id INT, name STRING, ts TIMESTAMP(3), ok BOOLEAN, price DECIMAL(8, 2),
                  d DATE, raw BYTES, x DOUBLE) {jdbc(pg.url, 'events')};
                INSERT INTO events VALUES
                  (1, 'plain', TIMESTAMP '2024-01-01 10:00:00.123', true, 1.50, DATE '2024-02-29', CAST('ab' AS BYTES), 0.1),
                  (2, '', NULL, false, NULL, NULL, CAST('' AS BYTES), -1e300),
                  (3, NULL, NULL, NULL, 123456.78, NULL, NULL, NULL),
                  (4, 'a,"b"' || CHR(10) || 'c\\d', NULL, NULL, NULL, NULL, NULL, NULL);""", batch)
    import datetime
    assert pg.execute("SELECT * FROM events ORDER BY id") == [
        (1, "plain", datetime.datetime(2024, 1, 1, 10, 0, 0, 123000), True, Decimal("1.50"),
         datetime.date(2024, 2, 29), b"ab", 0.1),
        (2, "", None, False, None, None, b"", -1e300),
        (3, None, None, None, Decimal("123456.78"), None, None, None),
        (4, 'a,"b"\nc\\d', None, None, None, None, None, None)]


GROUPED = """CREATE TABLE totals (user_id STRING, n BIGINT, amount DECIMAL(10, 2),
               PRIMARY KEY (user_id) NOT ENFORCED) {with_};
             INSERT INTO totals SELECT u, COUNT(*), SUM(a) FROM (VALUES ('a', 1.50), ('b', 2.00), ('a', 3.25),
               ('c', 1.00), ('b', 0.50), ('a', 0.25)) AS t(u, a) GROUP BY u {having};"""


@pytest.mark.parametrize("batch", [1, 7, None])
@pytest.mark.parametrize("max_rows", ["1", "100", "0"])
def test_updating_query_is_upserted_by_key(pg, batch, max_rows):
    pg.execute("CREATE TABLE totals (user_id TEXT PRIMARY KEY, n BIGINT, amount NUMERIC(10, 2))")
    pg.execute("INSERT INTO totals VALUES ('a', 99, 99), ('z', 1, 1)")  # 'a' is overwritten, 'z' kept
    run_sql(GROUPED.format(with_=jdbc(pg.url, "totals", **{"sink.buffer-flush.max-rows": max_rows}), having=""),
            batch)
    assert pg.execute("SELECT * FROM totals ORDER BY 1") == [
        ("a", 3, Decimal("5.00")), ("b", 2, Decimal("2.50")), ("c", 1, Decimal("1.00")), ("z", 1, Decimal("1.00"))]


@pytest.mark.parametrize("batch", [1, 7, None])
def test_deletes_remove_the_row_by_key(pg, batch):
    pg.execute("CREATE TABLE totals (user_id TEXT, n BIGINT, amount NUMERIC(10, 2), PRIMARY KEY (user_id))")
    run_sql(GROUPED.format(with_=jdbc(pg.url, "totals", **{"sink.buffer-flush.max-rows": "1"}),
                           having="HAVING COUNT(*) < 2"), batch)
    assert pg.execute("SELECT * FROM totals ORDER BY 1") == [("c", 1, Decimal("1.00"))]


def test_schema_qualified_table_name(pg):
    pg.execute("CREATE SCHEMA shop; CREATE TABLE shop.totals (user_id TEXT PRIMARY KEY, n BIGINT, "
               "amount NUMERIC(10, 2))")
    run_sql(GROUPED.format(with_=jdbc(pg.url, "shop.totals"), having=""))
    assert [r[0] for r in pg.execute("SELECT user_id FROM shop.totals ORDER BY 1")] == ["a", "b", "c"]


def test_unreachable_server_fails_after_the_retries_naming_the_option(pg):
    url = f"jdbc:postgresql://127.0.0.1:{free_port()}/postgres"
    with pytest.raises(ConnectorError, match=r"cannot connect to PostgreSQL at 'url' = '.*' after 3 attempt\(s\) "
                                             r"\('sink.max-retries' = '2'\)"):
        run_sql(GROUPED.format(with_=jdbc(url, "totals", **{"sink.max-retries": "2"}), having=""))


def test_wrong_column_type_fails_at_start_and_writes_nothing(pg):
    pg.execute("CREATE TABLE totals (user_id TEXT PRIMARY KEY, n TEXT, amount NUMERIC(10, 2))")
    with pytest.raises(ConnectorError, match=r"column 'n' is BIGINT in the DDL but text in PostgreSQL table "
                                             r"'totals'; declare it as STRING"):
        run_sql(GROUPED.format(with_=jdbc(pg.url, "totals"), having=""))
    assert pg.execute("SELECT count(*) FROM totals") == [(0,)]


def test_missing_table_column_or_key_fail_at_start(pg):
    with pytest.raises(ConnectorError, match="'table-name' = 'totals' names no table .* create it first"):
        run_sql(GROUPED.format(with_=jdbc(pg.url, "totals"), having=""))
    pg.execute("CREATE TABLE totals (user_id TEXT, n BIGINT)")
    with pytest.raises(ConnectorError, match="column 'amount' does not exist in PostgreSQL table 'totals'"):
        run_sql(GROUPED.format(with_=jdbc(pg.url, "totals"), having=""))
    pg.execute("ALTER TABLE totals ADD COLUMN amount NUMERIC(10, 2)")
    with pytest.raises(ConnectorError, match=r"PRIMARY KEY \(user_id\) is not a primary key or unique index"):
        run_sql(GROUPED.format(with_=jdbc(pg.url, "totals"), having=""))


def test_options_are_checked(pg):
    with pytest.raises(OptionError, match="Unsupported options found for connector 'jdbc'.*sink.flush"):
        run_sql(GROUPED.format(with_=jdbc(pg.url, "totals", **{"sink.flush": "1"}), having=""))
    with pytest.raises(OptionError, match="supports PostgreSQL only, not 'mysql'"):
        run_sql(GROUPED.format(with_=jdbc("jdbc:mysql://localhost:3306/db", "totals"), having=""))
    with pytest.raises(OptionError, match="'scan.partition' options must all be specified.*scan.partition.num"):
        run_sql(GROUPED.format(with_=jdbc(pg.url, "totals", **{"scan.partition.column": "n"}), having=""))


def test_updating_query_needs_a_primary_key(pg):
    pg.execute("CREATE TABLE totals (user_id TEXT, n BIGINT, amount NUMERIC(10, 2))")
    sql = GROUPED.format(with_=jdbc(pg.url, "totals"), having="").replace(
        ",\n               PRIMARY KEY (user_id) NOT ENFORCED", "")
    with pytest.raises(Exception, match="doesn't support consuming update changes"):
        run_sql(sql)


def test_rows_are_flushed_on_the_interval_without_checkpoints(pg, tmp_path):
    from tests.cli_job import CliJob
    pg.execute("CREATE TABLE seen (id BIGINT)")
    job = tmp_path / "job.sql"
    job.write_text(f"""CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '50',
                         'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000');
                       CREATE TABLE seen (id BIGINT) {jdbc(pg.url, 'seen', **{'sink.buffer-flush.max-rows': '0',
                                                                              'sink.buffer-flush.interval': '100ms'})};
                       INSERT INTO seen SELECT id FROM src;""")
    p = CliJob(job)
    try:
        p.wait_for(lambda: pg.execute("SELECT count(*) FROM seen")[0][0] > 0, "rows flushed on the interval")
    finally:
        p.kill()
        p.finish()
    ids = [r[0] for r in pg.execute("SELECT id FROM seen ORDER BY id")]
    assert ids == list(range(1, len(ids) + 1))


def test_server_lost_mid_stream_fails_the_job_after_the_retries(tmp_path):
    from tests.cli_job import CliJob
    from tests.postgres_server import PostgresServer
    own = PostgresServer()  # this test stops its server
    try:
        own.execute("CREATE TABLE seen (id BIGINT)")
        job = tmp_path / "job.sql"
        job.write_text(f"""CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '200',
                             'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000');
                           CREATE TABLE seen (id BIGINT) {jdbc(own.url, 'seen', **{'sink.max-retries': '2',
                                                                                  'sink.buffer-flush.max-rows': '10'})};
                           INSERT INTO seen SELECT id FROM src;""")
        p = CliJob(job)
        p.wait_for(lambda: own.execute("SELECT count(*) FROM seen")[0][0] > 0, "rows in PostgreSQL")
    finally:
        own.stop()
    rc, _, err = p.finish()
    assert rc != 0
    assert f"cannot connect to PostgreSQL at 'url' = '{own.url}' after 3 attempt(s) ('sink.max-retries' = '2')" \
        in err, err
    assert "Traceback" not in err
