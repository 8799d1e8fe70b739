"""The Kafka examples in sql_examples/kafka/ (Flink tutorial DDL) run unchanged against a real broker;
only the broker address is pointed at the test broker. Each job runs until its result is there (rows on
stdout, messages in the output topic), then SIGTERM stops it."""
import json
import signal
from pathlib import Path
from typing import Callable

import pytest

from tests.cli_job import CliJob

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "sql_examples" / "kafka"


def start(broker, name: str, tmp_path: Path) -> CliJob:
    sql = (EXAMPLES / name).read_text().replace("localhost:9092", broker.bootstrap)
    job = tmp_path / name
    job.write_text(sql)
    return CliJob(job, "--format", "jsonl")


def stop_when(p: CliJob, condition: Callable[[], bool], what: str) -> tuple[str, str]:
    """Wait for `condition`, then stop the (unbounded) job with SIGTERM: (stdout, stderr)."""
    p.wait_for(condition, what)
    p.signal(signal.SIGTERM)
    rc, out, err = p.finish()
    assert rc == 0 and "Traceback" not in err, err
    return out, err


def test_connector_quickstart(broker, tmp_path):
    broker.create_topic("user_behavior", 2)
    events = [(0, None, b"1,10,pv"), (1, None, b"2,11,pv"), (0, None, b"1,12,buy"), (1, None, b"3,10,pv")]
    broker.produce("user_behavior", events)

    def final(out: str) -> dict:
        state = {}
        for r in map(json.loads, out.splitlines()):
            if r["op"] in ("+I", "+U"):
                state[r["behavior"]] = (r["events"], r["users"])
        return state
    expected = {"pv": (3, 3), "buy": (1, 1)}
    p = start(broker, "01_kafka_connector_quickstart.sql", tmp_path)
    out, err = stop_when(p, lambda: final(p.out) == expected, f"the counts {expected}")
    assert final(out) == expected
    assert "rows in: 4," in err


def test_user_behavior_hourly_buys(broker, tmp_path):
    broker.create_topic("user_behavior2", 1)
    rows = [{"user_id": i, "item_id": 1, "category_id": 2, "behavior": "buy" if i % 2 else "pv",
             "ts": f"2017-11-26 {9 + i // 10:02d}:{i % 60:02d}:00"} for i in range(40)]
    broker.produce("user_behavior2", [(0, None, json.dumps(r).encode()) for r in rows])
    sql_name = "02_user_behavior_hourly_buys.sql"
    src = (EXAMPLES / sql_name).read_text().replace("'topic' = 'user_behavior'", "'topic' = 'user_behavior2'")
    job = tmp_path / "job.sql"
    job.write_text(src.replace("localhost:9092", broker.bootstrap))
    p = CliJob(job, "--format", "jsonl")
    out, _ = stop_when(p, lambda: len(p.out.splitlines()) >= 3, "three hourly rows")
    got = [(r["hour_of_day"], r["buy_cnt"]) for r in map(json.loads, out.splitlines())]
    assert got == [(9, 5), (10, 5), (11, 5)], "hours 9-11 closed by the watermark; hour 12 is still open"


def test_upsert_pageviews_per_region(broker, tmp_path):
    broker.create_topic("pageviews", 2)
    broker.create_topic("pageviews_per_region", 1)
    views = [{"user_id": u, "page_id": 1, "viewtime": "2024-03-01 09:00:00", "user_region": r}
             for u, r in [(1, "eu"), (2, "eu"), (1, "eu"), (3, "us"), (4, "us"), (5, "apac")]]
    broker.produce("pageviews", [(i % 2, None, json.dumps(v).encode()) for i, v in enumerate(views)])

    def table() -> dict:
        latest = {}
        for m in broker.consume_all("pageviews_per_region"):
            v = json.loads(m.value()) if m.value() else None
            latest[json.loads(m.key())["user_region"]] = (v["pv"], v["uv"]) if v else None
        return latest
    expected = {"eu": (3, 2), "us": (2, 2), "apac": (1, 1)}
    stop_when(start(broker, "03_upsert_pageviews_per_region.sql", tmp_path), lambda: table() == expected,
              f"the upsert topic holding {expected}")
    assert table() == expected
