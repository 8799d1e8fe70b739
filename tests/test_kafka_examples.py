"""The Kafka quick start of the README, end to end against a real broker: sql_examples/kafka/setup.sh creates the
topics and produces the sample records with `sqlstream kafka`, the three examples run unchanged (only the broker
address is pointed at the test broker), and `sqlstream kafka consume` reads the output topic."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_job import CliJob

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "sql_examples" / "kafka"


@pytest.fixture(scope="module")
def quickstart(broker):
    p = subprocess.run(["bash", str(EXAMPLES / "setup.sh")], cwd=REPO, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "BOOTSTRAP": broker.bootstrap})
    assert p.returncode == 0, p.stderr
    assert "produced 48 record(s) to 'user_behavior'" in p.stderr
    return broker


def kafka_cli(broker, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sqlstream.cli", "kafka", "-b", broker.bootstrap, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def start(broker, name: str, tmp_path: Path) -> CliJob:
    job = tmp_path / name
    job.write_text((EXAMPLES / name).read_text().replace("localhost:9092", broker.bootstrap))
    return CliJob(job, "--format", "jsonl")


def rows_until(p: CliJob, done, what: str) -> list[dict]:
    """The job's rows once `done(rows)` holds (the job has caught up); then SIGTERM stops it."""
    def rows() -> list[dict]:
        return [json.loads(line) for line in p.out.splitlines()]
    p.wait_for(lambda: done(rows()), what)
    p.signal(signal.SIGTERM)
    rc, out, err = p.finish()
    assert rc == 0 and "Traceback" not in err, err
    return [json.loads(line) for line in out.splitlines()]


def final(rows: list[dict], key: str) -> dict:
    out = {}
    for r in rows:
        if r["op"] in ("+I", "+U"):
            out[r[key]] = r
        else:
            out.pop(r[key], None)
    return out


def test_setup_creates_the_topics_each_example_needs(quickstart):
    p = kafka_cli(quickstart, "topics")
    topics = dict(line.split("\t") for line in p.stdout.splitlines())
    assert topics["user_behavior_csv"] == "1 partition(s)" and topics["user_behavior"] == "2 partition(s)"
    assert topics["pageviews"] == "2 partition(s)" and topics["pageviews_per_region"] == "1 partition(s)"
    p = kafka_cli(quickstart, "create", "user_behavior", "--partitions", "3")
    assert p.returncode == 1 and "exists with 2 partition(s)" in p.stderr
    p = kafka_cli(quickstart, "produce", "no_such_topic", str(EXAMPLES / "data" / "pageviews.json"))
    assert p.returncode == 1 and "does not exist" in p.stderr


def test_connector_quickstart(quickstart, tmp_path):
    want = {"pv": (6, 4), "buy": (2, 2), "cart": (1, 1), "fav": (1, 1)}

    def counts(rows):
        return {k: (r["events"], r["users"]) for k, r in final(rows, "behavior").items()}
    rows = rows_until(start(quickstart, "01_kafka_connector_quickstart.sql", tmp_path), lambda rs: counts(rs) == want,
                      f"the counts {want}")
    assert counts(rows) == want


def test_user_behavior_hourly_buys_closes_hours_over_two_partitions(quickstart, tmp_path):
    rows = rows_until(start(quickstart, "02_user_behavior_hourly_buys.sql", tmp_path), lambda rs: len(rs) >= 3,
                      "three hourly rows")
    assert [(r["hour_of_day"], r["buy_cnt"]) for r in rows] == [(9, 4), (10, 4), (11, 4)], \
        "hours 9-11 closed by the watermark of both partitions; hour 12 is still open"


def test_upsert_pageviews_per_region_read_back_with_consume(quickstart, tmp_path):
    want = {"eu": (4, 3), "us": (3, 2), "apac": (1, 1)}

    def latest():
        p = kafka_cli(quickstart, "consume", "pageviews_per_region", "--keys", "--idle-timeout", "0.5")
        assert p.returncode == 0, p.stderr
        out = {}
        for line in p.stdout.splitlines():
            key, value = line.split("\t")
            out[json.loads(key)["user_region"]] = None if value == "NULL" else json.loads(value)
        return {k: (v["pv"], v["uv"]) for k, v in out.items() if v is not None}

    job = start(quickstart, "03_upsert_pageviews_per_region.sql", tmp_path)
    try:
        job.wait_for(lambda: latest() == want, f"the upsert topic holding {want}")
    finally:
        job.signal(signal.SIGTERM)
        rc, _, err = job.finish()
    assert rc == 0 and "Traceback" not in err, err
    assert latest() == want
