"""Kafka -> TUMBLE -> Iceberg exactly once: the job SIGKILLed at 10 random points and restarted leaves the
Iceberg table an uninterrupted run leaves (no row missing, none twice), with one snapshot per committed
checkpoint that had rows. Kill points are observable moments chosen at random: just after a checkpoint
completed, after a data file was staged (written, not yet committed), or after a snapshot was committed."""
from __future__ import annotations

import collections
import json
import random
from pathlib import Path

import pytest

from tests.cli_job import CliJob, latest_checkpoint_id

pytest.importorskip("pyiceberg")
pytestmark = pytest.mark.kafka
ROWS, PARTITIONS, KEYS, KILLS = 40_000, 2, 20, 10

JOB = """
SET 'execution.checkpointing.interval' = '50 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
SET 'sqlstream.batch-size' = '100';
CREATE TABLE events (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'kafka', 'topic' = 'ice_in', 'properties.bootstrap.servers' = '{bootstrap}',
      'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'specific-offsets',
      'scan.bounded.specific-offsets' = '{bounds}', 'format' = 'json');
CREATE TABLE windowed (key STRING, window_start TIMESTAMP(3), cnt BIGINT, total BIGINT)
WITH ('connector' = 'iceberg', 'catalog-name' = 'ice', 'catalog-type' = 'sql', 'uri' = 'sqlite:///{lake}/cat.db',
      'warehouse' = 'file://{lake}/wh', 'catalog-database' = 'db', 'catalog-table' = '{table}');
INSERT INTO windowed SELECT key, window_start, COUNT(*), SUM(val)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY key, window_start, window_end;
"""


@pytest.fixture(scope="module")
def events_topic(broker, tmp_path_factory):
    from benchmarks.core import make_data
    path = tmp_path_factory.mktemp("data") / "events.json"
    make_data(str(path), ROWS, KEYS)
    broker.create_topic("ice_in", PARTITIONS)
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "log_level": 0})
    for i, line in enumerate(path.read_text().splitlines()):
        while True:
            try:
                p.produce("ice_in", line.encode(), partition=i % PARTITIONS)
                break
            except BufferError:
                p.poll(0.05)
    p.flush()
    return ";".join(f"partition:{q},offset:{len(range(q, ROWS, PARTITIONS))}" for q in range(PARTITIONS))


def write_job(folder: Path, lake: Path, broker, bounds: str, table: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "job.sql"
    job.write_text(JOB.format(dir=folder, lake=lake, bootstrap=broker.bootstrap, bounds=bounds, table=table))
    return job


def table_of(lake: Path, name: str):
    from pyiceberg.catalog.sql import SqlCatalog
    return SqlCatalog("ice", uri=f"sqlite:///{lake}/cat.db", warehouse=f"file://{lake}/wh").load_table(f"db.{name}")


def rows_of(table) -> collections.Counter:
    return collections.Counter(json.dumps(r, sort_keys=True, default=str) for r in table.scan().to_arrow().to_pylist())


def committed_checkpoints(table) -> list[int]:
    """The checkpoint each snapshot committed, in snapshot order; each snapshot must have added rows."""
    out = []
    for s in table.snapshots():
        extra = s.summary.additional_properties
        assert int(extra.get("added-records", "0")) > 0, f"snapshot {s.snapshot_id} added no rows: {extra}"
        out.append(int(extra["flink.max-committed-checkpoint-id"]))
    return out


def test_sigkill_at_10_random_points_leaves_the_uninterrupted_table(broker, events_topic, tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    rc, _, err = CliJob(write_job(tmp_path / "reference", lake, broker, events_topic, "reference")).finish()
    assert rc == 0, err
    reference = table_of(lake, "reference")
    expected = rows_of(reference)
    assert sum(expected.values()) >= KEYS * (ROWS // 1000)
    ids = committed_checkpoints(reference)
    assert len(ids) == len(set(ids)) and ids == sorted(ids)

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    job = write_job(folder, lake, broker, events_topic, "killed")
    checkpoints = folder / "checkpoints"
    data = lake / "wh" / "db" / "killed" / "data"
    metadata = lake / "wh" / "db" / "killed" / "metadata"

    def staged() -> int:
        return sum(1 for _ in data.rglob("*.parquet")) if data.exists() else 0

    def commits() -> int:
        return sum(1 for _ in metadata.glob("*.metadata.json")) if metadata.exists() else 0
    events = {"checkpoint": lambda: latest_checkpoint_id(checkpoints), "staged": staged, "commit": commits}
    kills, points = 0, []
    while kills < KILLS:
        kind = rng.choice(sorted(events))
        count = events[kind]
        target = count() + rng.randint(1, 2)
        p = CliJob(job)
        p.wait_for(lambda: count() >= target or p.exited(), f"seed {seed}: {kind} {target}")
        if p.exited():
            rc, _, err = p.finish()
            assert rc == 0, err
            break
        p.kill()
        p.finish()
        kills += 1
        points.append(f"{kind} {target}")
    rc, _, err = CliJob(job).finish()
    assert rc == 0, err
    assert kills == KILLS, f"seed {seed}: the job finished after {kills} kills ({points}); give it more work"
    assert "restored from checkpoint" in err, f"seed {seed}: the final run did not resume"
    killed = table_of(lake, "killed")
    got = rows_of(killed)
    missing, extra = expected - got, got - expected
    assert not missing and not extra, (f"seed {seed}, kills at {points}: {sum(missing.values())} rows missing, "
                                       f"{sum(extra.values())} duplicated or unexpected")
    ids = committed_checkpoints(killed)
    assert len(ids) == len(set(ids)) and ids == sorted(ids), f"seed {seed}: a checkpoint committed twice: {ids}"
