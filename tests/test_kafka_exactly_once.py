"""Exactly-once into Kafka against a real broker: a job reading a 4-partition topic, killed with SIGKILL at
random points and restarted, leaves exactly the output of an uninterrupted run in its output topics; recovery
commits a checkpoint's transaction once, whether or not the crash came before its commit.

Known limit of the test broker (tansu): `read_committed` does not hide aborted transactions. A kill inside the
short commit phase leaves an aborted transaction that Apache Kafka hides from these readers and tansu shows, so
the kill test waits for no transaction to be open before each kill; the commit-phase paths (fencing the crashed
producer, re-producing an uncommitted checkpoint, skipping a committed one) are tested directly below.
"""
import collections
import json
import random
import time
from pathlib import Path

import pyarrow as pa
import pytest

from benchmarks.core import make_data
from sqlstream.runtime.checkpoint import CheckpointStorage, read_checkpoint, unpack_committables
from tests.cli_job import PATIENCE_S, CliJob, latest_checkpoint_id

pytestmark = pytest.mark.kafka
ROWS, PARTITIONS = 200_000, 4

JOB = """
SET 'execution.checkpointing.interval' = '{interval}';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
SET 'sqlstream.batch-size' = '500';
CREATE TABLE events (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'kafka', 'topic' = '{topic}', 'properties.bootstrap.servers' = '{bootstrap}',
      'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'specific-offsets',
      'scan.bounded.specific-offsets' = '{bounds}', 'format' = 'json');
CREATE TABLE windowed (key STRING, ws TIMESTAMP(3), cnt BIGINT, total BIGINT)
WITH ('connector' = 'kafka', 'topic' = '{prefix}_windowed', 'properties.bootstrap.servers' = '{bootstrap}',
      'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = '{prefix}');
CREATE TABLE totals (key STRING, cnt BIGINT, total BIGINT, PRIMARY KEY (key) NOT ENFORCED)
WITH ('connector' = 'upsert-kafka', 'topic' = '{prefix}_totals', 'properties.bootstrap.servers' = '{bootstrap}',
      'key.format' = 'json', 'value.format' = 'json', 'sink.delivery-guarantee' = 'exactly-once',
      'sink.transactional-id-prefix' = '{prefix}');
INSERT INTO windowed SELECT key, window_start, COUNT(*), SUM(val)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY key, window_start, window_end;
INSERT INTO totals SELECT key, COUNT(*), SUM(val) FROM events WHERE val > 900 GROUP BY key;
"""


@pytest.fixture(scope="module")
def event_lines(tmp_path_factory) -> list[bytes]:
    """200k events (JSON lines), message i for partition i % 4."""
    path = tmp_path_factory.mktemp("data") / "events.json"
    make_data(str(path), ROWS, 500)
    return [line.encode() for line in path.read_text().splitlines()]


def produce(broker, topic: str, lines: list[bytes], start: int, stop: int) -> None:
    """Messages start..stop-1 of `lines`, message i into partition i % 4 (the topic is created with the first)."""
    if start == 0:
        broker.create_topic(topic, PARTITIONS)
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "log_level": 0})
    for i in range(start, stop):
        while True:
            try:
                p.produce(topic, lines[i], partition=i % PARTITIONS)
                break
            except BufferError:
                p.poll(0.05)
    p.flush()


# The same messages produced a part at a time into a topic of their own, read by a table bounded at the end of all
# of them: the killed job cannot end before the last part is produced, however fast it reads. Each part ends at a
# whole batch (500 messages) of every partition, so every run reads the uninterrupted run's batches.
PART = PARTITIONS * 500


@pytest.fixture(scope="module")
def events_topic(broker, event_lines):
    """The uninterrupted run's topic, produced whole; the job's bounds are the per-partition counts."""
    produce(broker, "eos_in", event_lines, 0, ROWS)
    return "eos_in"


BOUNDS = ";".join(f"partition:{q},offset:{len(range(q, ROWS, PARTITIONS))}" for q in range(PARTITIONS))


def write_job(folder: Path, broker, topic: str, prefix: str, interval: str = "300 ms", head: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for sink in ("windowed", "totals"):
        broker.create_topic(f"{prefix}_{sink}", 2)
    job = folder / "job.sql"
    job.write_text(head + JOB.format(interval=interval, dir=folder, bootstrap=broker.bootstrap, topic=topic,
                                     bounds=BOUNDS, prefix=prefix))
    return job


def read_committed(broker, topic: str) -> list[tuple]:
    """Every committed message of a topic as (partition, key, value), in partition order."""
    return [(m.partition(), m.key(), m.value())
            for m in broker.consume_all(topic, **{"isolation.level": "read_committed"})]


def outputs(broker, prefix: str) -> tuple[collections.Counter, dict]:
    """The windowed rows as a multiset, and the upsert table's final state (the last value per key)."""
    windowed = collections.Counter(json.dumps(json.loads(v), sort_keys=True)
                                   for _, _, v in read_committed(broker, f"{prefix}_windowed"))
    table = {}
    for _, k, v in read_committed(broker, f"{prefix}_totals"):
        if v is None:
            table.pop(k, None)
        else:
            table[k] = json.loads(v)
    return windowed, table


def open_transaction(broker, folder: Path, prefix: str) -> bool:
    """True while a sink has produced part of a checkpoint's transaction but not committed it: the newest
    checkpoint stages messages for a sink whose commit marker does not name that checkpoint yet."""
    from confluent_kafka import Consumer, TopicPartition
    storage = folder / "checkpoints"
    jobs = [d for d in storage.iterdir()] if storage.exists() else []
    latest = CheckpointStorage(str(jobs[0])).latest() if jobs else None
    if latest is None:
        return False
    try:
        manifest, files = read_checkpoint(latest)
    except FileNotFoundError:
        return True  # superseded and removed while being read: look again
    for c in unpack_committables(manifest["committables"], files).values():
        if not c:
            continue
        reader = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": c["transactional_id"],
                           "log_level": 0})
        topic = f"{prefix}_{c['transactional_id'].rsplit('-', 1)[1]}"
        marker = reader.committed([TopicPartition(topic, 0)], timeout=PATIENCE_S)[0]
        reader.close()
        if marker.offset != c["marker"]:
            return True
    return False


def frozen_between_transactions(p: CliJob, broker, folder: Path) -> bool:
    """True with the job frozen while none of its transactions is open (or once it has exited); otherwise the
    job goes on. Frozen, it cannot begin a transaction between this answer and a kill."""
    if not p.freeze():
        return True
    if not open_transaction(broker, folder, "killed"):
        return True
    p.thaw()
    return False


@pytest.fixture(scope="module")
def expected(broker, events_topic, tmp_path_factory):
    """The output of an uninterrupted run, which every interrupted run must end up with."""
    reference = write_job(tmp_path_factory.mktemp("reference"), broker, events_topic, "ref")
    rc, _, err = CliJob(reference).finish()
    assert rc == 0, err
    windowed, table = outputs(broker, "ref")
    assert sum(windowed.values()) > 1000 and len(table) == 500
    return windowed, table


def test_sigkill_at_random_points_gives_exactly_the_uninterrupted_output(broker, event_lines, expected, tmp_path):
    """Five runs, each killed; a part of the topic is produced before each, the last part after the kills, so
    none of them can end before its kill."""
    expected_windowed, expected_table = expected

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    job = write_job(folder, broker, "eos_killed", "killed")
    checkpoints = folder / "checkpoints"
    ends = [ROWS // PART * k // 6 * PART for k in range(7)]
    for attempt in range(5):
        produce(broker, "eos_killed", event_lines, ends[attempt], ends[attempt + 1])
        # killed after 0-2 checkpoints of its own (the first attempt after at least one), at a random point of
        # the work after it, and only while no transaction is open (see the module docstring)
        target = latest_checkpoint_id(checkpoints) + (rng.randint(0, 2) if attempt else 1)
        p = CliJob(job)
        p.wait_for(lambda: latest_checkpoint_id(checkpoints) >= target or p.exited(),
                   f"seed {seed}: checkpoint {target}")
        time.sleep(rng.uniform(0, 0.3))  # only moves the kill point: nothing waits on it
        p.wait_for(lambda: frozen_between_transactions(p, broker, folder), f"seed {seed}: no transaction open")
        assert not p.exited(), f"seed {seed}: run {attempt} ended before the topic's end was produced: {p.err}"
        p.kill()
        p.finish()
    produce(broker, "eos_killed", event_lines, ends[5], ROWS)
    rc, _, err = CliJob(job).finish()
    assert rc == 0, err
    assert "restored from checkpoint" in err, f"seed {seed}: the final run did not resume"
    got_windowed, got_table = outputs(broker, "killed")
    missing, extra = expected_windowed - got_windowed, got_windowed - expected_windowed
    assert not missing and not extra, (f"seed {seed}: {sum(missing.values())} windowed rows missing, "
                                       f"{sum(extra.values())} duplicated or unexpected")
    assert got_table == expected_table


KILLED_WORKERS = """
SET 'parallelism.default' = '2';
SET 'restart-strategy.type' = 'fixed-delay';
SET 'restart-strategy.fixed-delay.attempts' = '1000';
SET 'restart-strategy.fixed-delay.delay' = '0 s';"""


def test_killed_workers_of_a_parallel_job_give_exactly_the_uninterrupted_output(broker, event_lines, expected,
                                                                                tmp_path):
    """Up to 10 worker processes of a parallelism-2 job killed with SIGKILL, each after a checkpoint of its own:
    the job's restart strategy restarts it from its last checkpoint, and the committed output equals an
    uninterrupted parallelism-1 run. Half the topic is produced before the kills, the rest after them, so the job
    cannot end before the kills."""
    from tests.test_parallel import kill_workers
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    folder = tmp_path / "workers"
    half = ROWS // PART // 2 * PART
    produce(broker, "eos_workers", event_lines, 0, half)
    job = CliJob(write_job(folder, broker, "eos_workers", "workers", head=KILLED_WORKERS))
    kills, _ = kill_workers(job, folder / "checkpoints", rng, seed, 10,
                            release=lambda: produce(broker, "eos_workers", event_lines, half, ROWS))
    assert kills == 10, f"seed {seed}"
    got_windowed, got_table = outputs(broker, "workers")
    missing, extra = expected[0] - got_windowed, got_windowed - expected[0]
    assert not missing and not extra, (f"seed {seed}: {sum(missing.values())} windowed rows missing, "
                                       f"{sum(extra.values())} duplicated or unexpected after {kills} kills")
    assert got_table == expected[1], f"seed {seed}: the upsert table differs after {kills} kills"


# ---- the commit phase, step by step ------------------------------------------------------------------
def sink_config(broker, topic: str, prefix: str):
    from sqlstream.connectors.base import TableSchema
    from sqlstream.connectors.kafka.config import parse
    from sqlstream.core.types import FlinkType
    schema = TableSchema(["v"], [FlinkType.of("STRING")])
    return parse("t", {"connector": "kafka", "topic": topic, "properties.bootstrap.servers": broker.bootstrap,
                       "format": "raw", "sink.delivery-guarantee": "exactly-once",
                       "sink.transactional-id-prefix": prefix}, schema, upsert=False)


def staged(values: list[bytes]) -> pa.Table:
    from sqlstream.connectors.kafka.produce import MESSAGES
    n = len(values)
    return pa.Table.from_arrays([pa.nulls(n, pa.binary()), pa.array(values, pa.binary()), pa.nulls(n, pa.int32()),
                                 pa.nulls(n, pa.int64()), pa.nulls(n, MESSAGES.field("headers").type)],
                                schema=MESSAGES)


def test_recovery_commits_an_uncommitted_checkpoint_once_and_skips_a_committed_one(broker):
    from sqlstream.connectors.kafka.transactions import TransactionalProducer, transactional_id
    broker.create_topic("eos_steps", 2)
    cfg = sink_config(broker, "eos_steps", "steps")
    first = TransactionalProducer(cfg, "eos_steps", transactional_id(cfg))
    done = first.committable(staged([b"a", b"b"]), 7)
    first.commit(done)
    first.close()
    pending = first.committable(staged([b"c", b"d", b"e"]), 8)  # its manifest was written, then a crash

    again = TransactionalProducer(cfg, "eos_steps", transactional_id(cfg))
    assert again.recover(done) is False, "checkpoint 7's transaction committed before the crash"
    assert again.recover(pending) is True
    assert again.committed_marker() == pending["marker"]
    assert again.recover(pending) is False, "a second restore from checkpoint 8 writes nothing"
    again.close()
    assert sorted(v for _, _, v in read_committed(broker, "eos_steps")) == [b"a", b"b", b"c", b"d", b"e"]


def test_restarting_fences_the_crashed_producer(broker):
    from confluent_kafka import KafkaException
    from sqlstream.connectors.kafka.transactions import TransactionalProducer, transactional_id
    broker.create_topic("eos_fence", 2)
    cfg = sink_config(broker, "eos_fence", "fence")
    crashed = TransactionalProducer(cfg, "eos_fence", transactional_id(cfg))
    crashed.producer.begin_transaction()
    crashed.producer.produce("eos_fence", b"half")
    crashed.producer.flush()
    restarted = TransactionalProducer(cfg, "eos_fence", transactional_id(cfg))
    assert restarted.recover(None) is False
    with pytest.raises(KafkaException, match="PRODUCER_FENCED|fence"):
        crashed.producer.produce("eos_fence", b"late")
        crashed.producer.commit_transaction(10)
    restarted.close()


def test_exactly_once_needs_a_prefix_and_checkpoints_on_an_unbounded_job(broker):
    import io
    from sqlstream.core.errors import OptionError, ValidationError
    from sqlstream.script import ScriptRunner
    broker.create_topic("eos_src", 1)
    sink = ("CREATE TABLE o (v STRING) WITH ('connector' = 'kafka', 'topic' = 'eos_src', 'format' = 'raw', "
            f"'properties.bootstrap.servers' = '{broker.bootstrap}', 'sink.delivery-guarantee' = 'exactly-once'")
    src = ("CREATE TABLE i (v STRING) WITH ('connector' = 'kafka', 'topic' = 'eos_src', 'format' = 'raw', "
           f"'properties.bootstrap.servers' = '{broker.bootstrap}');")
    with pytest.raises(OptionError, match="requires 'sink.transactional-id-prefix'"):
        ScriptRunner(out=io.StringIO(), err=io.StringIO()).run(src + sink + ");INSERT INTO o SELECT v FROM i;")
    with pytest.raises(ValidationError, match="set 'execution.checkpointing.interval'"):
        ScriptRunner(out=io.StringIO(), err=io.StringIO()).run(
            src + sink + ", 'sink.transactional-id-prefix' = 'p');INSERT INTO o SELECT v FROM i;")
