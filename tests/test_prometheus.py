"""`sqlstream run --metrics-port` serves Flink-named metrics for Prometheus: a running job reading a Kafka topic
and a file, with window aggregations and checkpoints, is scraped until its values show what it did; the
Kafka source's pendingRecords falls to 0 once the topic's messages are read, and rises and falls again when
more arrive. Every wait is for what a scrape shows, never for a span of time."""
from __future__ import annotations

import json
import re
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.cli_job import CliJob

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from sqlstream.prometheus import (JOB_METRICS, OPERATOR_METRICS, SOURCE_METRICS, TASK_METRICS,  # noqa: E402
                                  exported_names)

JOB = """
SET 'execution.checkpointing.interval' = '200 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE clicks (user_id STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'kafka', 'topic' = '{topic}', 'properties.bootstrap.servers' = '{bootstrap}',
      'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
CREATE TABLE orders (id BIGINT, amount INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');
CREATE TABLE click_counts (ws TIMESTAMP(3), user_id STRING, c BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/clicks', 'format' = 'json');
CREATE TABLE order_sums (ws TIMESTAMP(3), total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/orders', 'format' = 'json');
INSERT INTO click_counts SELECT window_start, user_id, COUNT(*)
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, user_id;
INSERT INTO order_sums SELECT window_start, SUM(amount)
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end;
"""
ORDERS = 5000
CLICKS = 300  # per produce round, over 2 partitions


def clicks(first: int, n: int) -> list[tuple]:
    return [(i % 2, None, json.dumps({"user_id": f"u{i % 5}",
                                      "ts": f"2024-01-01 00:{(i // 60) % 60:02d}:{i % 60:02d}"}).encode())
            for i in range(first, first + n)]


def scrape(url: str) -> dict[str, list]:
    """name -> [(labels, value)] of one scrape."""
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    return {f.name: [(s.labels, s.value) for s in f.samples] for f in text_string_to_metric_families(text)}


def value(metrics: dict, name: str, **labels) -> float | None:
    found = [v for lab, v in metrics.get(name, []) if all(lab.get(k) == x for k, x in labels.items())]
    return found[0] if len(found) == 1 else None


def test_scrape_a_running_job(broker, tmp_path: Path):
    topic = "metrics_clicks"
    broker.create_topic(topic, partitions=2)
    broker.produce(topic, clicks(0, CLICKS))
    data = tmp_path / "orders.csv"
    data.write_text("".join(f"{i},{i % 10},2024-01-01 00:{(i // 100) % 60:02d}:{i % 60:02d}\n"
                            for i in range(ORDERS)))
    job = tmp_path / "job.sql"
    job.write_text(JOB.format(dir=tmp_path, topic=topic, bootstrap=broker.bootstrap, data=data))
    run = CliJob(job, "--metrics-port", "0")
    try:
        run.wait_for(lambda: re.search(r"Metrics: (http://\S+/metrics)", run.err), "the metrics address")
        url = re.search(r"Metrics: (http://\S+/metrics)", run.err).group(1)
        op = "flink_taskmanager_job_task_operator_"
        seen: dict = {}

        def consumed(total: int):
            def check() -> bool:
                seen.update(scrape(url))
                return value(seen, op + "numRecordsIn", operator_name="Source: clicks") == total and \
                    value(seen, op + "pendingRecords", operator_name="Source: clicks") == 0 and \
                    value(seen, op + "numRecordsOut", operator_name="Source: orders") == ORDERS
            return check
        run.wait_for(consumed(CLICKS), f"{CLICKS} clicks read and none pending")
        first = dict(seen)
        # every metric of the job, its tasks and its operators is there, with Flink's labels
        assert exported_names() <= set(first), sorted(exported_names() - set(first))
        for name in JOB_METRICS:
            assert value(first, "flink_jobmanager_job_" + name) is not None, name
        for name in TASK_METRICS:
            assert first["flink_taskmanager_job_task_" + name], name
        for name in list(OPERATOR_METRICS) + list(SOURCE_METRICS):
            assert first[op + name], name
        labels = first[op + "numRecordsIn"][0][0]
        assert {"job_id", "job_name", "task_id", "task_name", "subtask_index", "operator_id",
                "operator_name"} <= set(labels) and labels["subtask_index"] == "0"
        names = {lab["operator_name"] for lab, _ in first[op + "numRecordsIn"]}
        assert {"Source: clicks", "Source: orders", "WindowAggregate", "Sink: click_counts",
                "Sink: order_sums"} <= names
        # plausible values
        splits = {lab["split"]: v for lab, v in first[op + "split_pendingRecords"]}
        assert len(splits) == 2 and set(splits.values()) == {0}
        assert sum(v for lab, v in first[op + "split_numRecordsIn"] if lab["operator_name"] == "Source: clicks") \
            == CLICKS
        windows = [(lab, v) for lab, v in first[op + "numRecordsIn"] if lab["operator_name"] == "WindowAggregate"]
        assert sorted(v for _, v in windows) == [CLICKS, ORDERS]
        wm = [v for lab, v in first[op + "currentOutputWatermark"] if lab["operator_name"] == "WindowAggregate"]
        assert max(wm) > 1.7e12  # an event-time watermark (2024), not Long.MIN_VALUE
        lag = value(first, op + "watermarkLag", operator_name="Source: clicks")
        assert lag is not None and lag > 0
        assert value(first, op + "numLateRecordsDropped", operator_name="Source: clicks") == 0
        assert value(first, op + "sourceIdleTime", operator_name="Source: clicks") >= 0
        for _, busy in first["flink_taskmanager_job_task_busyTimeMsPerSecond"]:
            assert 0 <= busy <= 1000
        # changing values: checkpoints complete, the job's uptime grows, new messages are read
        checkpoints = value(first, "flink_jobmanager_job_numberOfCompletedCheckpoints")
        uptime = value(first, "flink_jobmanager_job_uptime")

        def later() -> bool:
            now = scrape(url)
            return value(now, "flink_jobmanager_job_numberOfCompletedCheckpoints") > checkpoints and \
                value(now, "flink_jobmanager_job_uptime") > uptime and \
                value(now, "flink_jobmanager_job_lastCheckpointSize") > 0
        run.wait_for(later, "more checkpoints and a longer uptime")
        broker.produce(topic, clicks(CLICKS, CLICKS))
        run.wait_for(consumed(2 * CLICKS), f"{2 * CLICKS} clicks read and none pending")
        assert value(seen, op + "numRecordsIn", operator_name="WindowAggregate") is None  # two of them
        run.signal(signal.SIGTERM)
        code, _, err = run.finish()
        assert code == 0, err
    finally:
        if not run.exited():
            run.kill()
            run.finish()
