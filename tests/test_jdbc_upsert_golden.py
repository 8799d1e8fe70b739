"""An updating GROUP BY written into PostgreSQL by upsert ends as the final rows of Apache Flink's changelog for
the same query (golden case tests/golden_static/jdbc_upsert_totals), uninterrupted and when the job is SIGKILLed
at random points and restarted from its checkpoints: at-least-once delivery with idempotent upserts by key."""
import json
import random
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli_job import CliJob, latest_checkpoint_id
from tests.golden import run_sql
from tests.ports import free_port
from tests.test_jdbc_sink import jdbc

pytestmark = pytest.mark.postgres

CASE = Path(__file__).parent / "golden_static" / "jdbc_upsert_totals"
JOB = """{settings}
CREATE TABLE orders (order_id BIGINT, user_id STRING, amount DECIMAL(10, 2), ts TIMESTAMP(3))
  WITH ('connector' = 'filesystem', 'path' = '{data}/orders.json', 'format' = 'json');
CREATE TABLE totals (user_id STRING, orders BIGINT, revenue DECIMAL(38, 2), biggest DECIMAL(10, 2),
  last_ts TIMESTAMP(3), PRIMARY KEY (user_id) NOT ENFORCED) {with_};
INSERT INTO totals SELECT user_id, COUNT(*) AS orders, SUM(amount) AS revenue, MAX(amount) AS biggest,
  MAX(ts) AS last_ts FROM orders WHERE amount > 1 GROUP BY user_id;
"""


def flink_final_rows() -> list[tuple]:
    """The rows Flink's changelog leaves: each -U/-D takes back an earlier equal row."""
    live: dict[str, tuple] = {}
    for line in (CASE / "expected.jsonl").read_text().splitlines():
        r = json.loads(line)
        row = (r["user_id"], r["orders"], Decimal(r["revenue"]), Decimal(r["biggest"]), r["last_ts"])
        if r["op"] in ("+I", "+U"):
            live[r["user_id"]] = row
        else:
            assert live.pop(r["user_id"]) == row
    return sorted(live.values())


def table_rows(pg) -> list[tuple]:
    return [(u, n, rev, big, ts.strftime("%Y-%m-%d %H:%M:%S.") + f"{ts.microsecond // 1000:03d}")
            for u, n, rev, big, ts in pg.execute("SELECT * FROM totals ORDER BY user_id")]


@pytest.fixture
def pg(postgres):
    postgres.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    postgres.execute("CREATE TABLE totals (user_id TEXT PRIMARY KEY, orders BIGINT, revenue NUMERIC(38, 2), "
                     "biggest NUMERIC(10, 2), last_ts TIMESTAMP(3))")
    return postgres


def test_flink_changelog_has_updates():
    assert len(flink_final_rows()) == 120
    assert sum(1 for line in (CASE / "expected.jsonl").open() if '"op": "-U"' in line) > 1000


@pytest.mark.parametrize("batch", [7, None])
def test_upserted_table_equals_flinks_final_rows(pg, batch):
    run_sql(JOB.format(settings="", data=CASE / "data", with_=jdbc(pg.url, "totals")), batch)
    assert table_rows(pg) == flink_final_rows()


def test_sigkill_at_random_points_leaves_flinks_final_rows(pg, tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    checkpoints = tmp_path / "checkpoints"
    job = tmp_path / "job.sql"
    job.write_text(JOB.format(
        settings=f"SET 'execution.checkpointing.interval' = '100 ms';\n"
                 f"SET 'execution.checkpointing.dir' = '{checkpoints}';\nSET 'sqlstream.batch-size' = '3';",
        data=CASE / "data", with_=jdbc(pg.url, "totals", **{"sink.buffer-flush.max-rows": "7"})))
    killed = 0
    for attempt in range(10):
        # killed after 0-2 checkpoints of its own (the first after at least one, so the last run resumes), at a
        # random point of the work that follows: mid-flush, mid-checkpoint, during start-up or restore
        target = latest_checkpoint_id(checkpoints) + (rng.randint(0, 2) if attempt else 1)
        p = CliJob(job)
        p.wait_for(lambda: latest_checkpoint_id(checkpoints) >= target or p.exited(),
                   f"seed {seed}: checkpoint {target}")
        time.sleep(rng.uniform(0, 0.15))
        if p.exited():
            rc, _, err = p.finish()
            assert rc == 0, err
            break
        p.kill()
        p.finish()
        killed += 1
    rc, _, err = CliJob(job).finish()
    assert rc == 0, err
    assert killed >= 3, f"seed {seed}: the job ended after {killed} kills"
    assert table_rows(pg) == flink_final_rows(), f"seed {seed}, {killed} kills"


def test_unreachable_server_fails_the_job_clearly(tmp_path):
    job = tmp_path / "job.sql"
    url = f"jdbc:postgresql://127.0.0.1:{free_port()}/postgres"
    job.write_text(JOB.format(settings="", data=CASE / "data",
                              with_=jdbc(url, "totals", **{"sink.max-retries": "1"})))
    rc, _, err = CliJob(job).finish()
    assert rc != 0
    assert f"cannot connect to PostgreSQL at 'url' = '{url}' after 2 attempt(s) ('sink.max-retries' = '1')" in err
    assert "Traceback" not in err
