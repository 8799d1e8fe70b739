"""The lakehouse example of the README end to end: sql_examples/lakehouse/setup.sh fills a real broker, the job
runs unchanged but for the broker, the lake folder and the PostgreSQL url, and its two results are checked
against DuckDB over the same orders: per-minute revenue per category read back from the Iceberg table with
pyiceberg, and the per-user totals read from PostgreSQL."""
import decimal
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.cli_job import CliJob

pytest.importorskip("pyiceberg")
pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "sql_examples" / "lakehouse"


def test_orders_reach_iceberg_per_minute_and_postgres_per_user(broker, postgres, tmp_path):
    lake = tmp_path / "lake"
    p = subprocess.run(["bash", str(EXAMPLE / "setup.sh")], cwd=REPO, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "BOOTSTRAP": broker.bootstrap, "LAKE": str(lake),
                            "TOPIC": "lakehouse_orders"})  # the tests share one broker
    assert p.returncode == 0, p.stderr
    postgres.execute((EXAMPLE / "postgres.sql").read_text())
    job = tmp_path / "job.sql"
    job.write_text((EXAMPLE / "orders_to_lake_and_postgres.sql").read_text()
                   .replace("localhost:9092", broker.bootstrap).replace("/tmp/sqlstream-lake", str(lake))
                   .replace("'topic' = 'orders'", "'topic' = 'lakehouse_orders'")
                   .replace("jdbc:postgresql://localhost:5432/postgres", postgres.url))
    rc, _, err = CliJob(job).finish()
    assert rc == 0 and "Traceback" not in err, err

    orders = f"read_json('{EXAMPLE / 'data' / 'orders.json'}', columns={{'user_id': 'VARCHAR', 'category': " \
             f"'VARCHAR', 'amount': 'DECIMAL(10, 2)', 'ts': 'TIMESTAMP'}})"
    expected = duckdb.sql(f"""SELECT category, time_bucket(INTERVAL 1 MINUTE, ts) AS ws, COUNT(*), SUM(amount)
                              FROM {orders} GROUP BY ALL""").fetchall()
    from pyiceberg.catalog.sql import SqlCatalog
    table = SqlCatalog("lake", uri=f"sqlite:///{lake}/catalog.db", warehouse=f"file://{lake}/warehouse") \
        .load_table("shop.category_revenue")
    got = [(r["category"], r["window_start"], r["orders"], r["revenue"])
           for r in table.scan().to_arrow().to_pylist()]
    assert sorted(got) == sorted(expected) and len(got) == 21
    assert {t.file.partition[0] for t in table.scan().plan_files()} == {"books", "games", "garden", "music"}

    totals = duckdb.sql(f"SELECT user_id, COUNT(*), SUM(amount) FROM {orders} GROUP BY ALL").fetchall()
    rows = postgres.execute("SELECT user_id, orders, revenue FROM user_totals")
    assert sorted(rows) == sorted((u, n, decimal.Decimal(s)) for u, n, s in totals) and len(rows) == 8
