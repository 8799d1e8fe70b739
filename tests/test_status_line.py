"""The live status line of `sqlstream run` on a terminal (a pseudo-terminal here): rows, rates, the watermark
as a timestamp, late rows, checkpoints, Kafka lag, the split that holds the watermark back; none with --quiet
or when stderr is not a terminal. Each step waits for what the terminal shows."""
from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.cli_job import PATIENCE_S, REPO, CliJob

pexpect = pytest.importorskip("pexpect")
from pexpect import fdpexpect  # noqa: E402

DATAGEN = """
SET 'execution.checkpointing.interval' = '300 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE ticks (id BIGINT, ts AS LOCALTIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'datagen', 'rows-per-second' = '2000');
CREATE TABLE counts (ws TIMESTAMP(3), c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO counts SELECT window_start, COUNT(*)
FROM TABLE(TUMBLE(TABLE ticks, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, window_end;
"""
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"
EPOCH_MS = re.compile(r"(?<![\d.])1\d{12}(?!\d)")  # a 13-digit epoch-ms number, which a user cannot read


class Terminal(fdpexpect.fdspawn):
    """A job whose standard streams are a pseudo-terminal of 24 x 200, read with pexpect.

    The job is started by `subprocess` (fork and exec in C), not by pexpect's own fork, which runs Python in the
    child before it execs: forked from a test process with many threads (Kafka clients, Ray), that child can die
    of SIGSEGV before it ever runs the job."""

    def __init__(self, args: list[str]):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
        self.proc = subprocess.Popen(args, cwd=str(REPO), stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)  # the job holds the only other end: its exit is the end of the master's input
        super().__init__(master, encoding="utf-8", timeout=PATIENCE_S)

    def kill(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def close(self, force: bool = False) -> None:
        if force and self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        super().close()


def spawn(job: Path, *args: str) -> Terminal:
    return Terminal([sys.executable, "-m", "sqlstream.cli", "run", str(job), *args])


def test_status_line_on_a_terminal(tmp_path):
    job = tmp_path / "job.sql"
    job.write_text(DATAGEN.format(dir=tmp_path))
    term = spawn(job)
    try:
        term.expect(r"\r\x1b\[Kin [\d,]+ \([\d,.kM]+/s\) \| out [\d,]+ \([\d,.kM]+/s\) \| watermark " + TIMESTAMP +
                    r" \| late 0 \| checkpoints [1-9]\d* \(last \d\d:\d\d:\d\d, \d+ ms\)")
        first = int(re.search(r"in ([\d,]+)", term.after).group(1).replace(",", ""))
        term.expect(r"\r\x1b\[Kin ([\d,]+) ")
        while int(term.match.group(1).replace(",", "")) <= first:  # the line is redrawn as rows come in
            term.expect(r"\r\x1b\[Kin ([\d,]+) ")
        term.kill(signal.SIGTERM)
        term.expect(pexpect.EOF)
        tail = term.before
        summary = tail[tail.index("Job finished"):]
        assert re.search(r"watermark: " + TIMESTAMP, summary), summary
        assert not EPOCH_MS.search(summary), summary
        assert "\x1b[K" not in summary  # the line was cleared before the summary
    finally:
        term.close(force=True)


def test_quiet_and_piped_stderr_show_no_status_line(tmp_path):
    data = tmp_path / "rows.csv"
    data.write_text("".join(f"{i},2024-01-01 00:00:{i % 60:02d}\n" for i in range(2000)))
    job = tmp_path / "job.sql"
    job.write_text(f"CREATE TABLE t (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ("
                   f"'connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');\n"
                   "CREATE TABLE s (id BIGINT) WITH ('connector' = 'blackhole');\n"
                   "INSERT INTO s SELECT id FROM t;\n")
    term = spawn(job, "--quiet")
    term.expect(pexpect.EOF)
    assert "Job finished: rows in: 2000" in term.before and "\x1b[K" not in term.before
    term.close()
    code, _, err = CliJob(job).finish()
    assert code == 0 and "Job finished: rows in: 2000" in err and "\x1b[K" not in err


def test_a_silent_kafka_partition_is_named_with_the_idle_timeout_option(broker, tmp_path):
    topic = "status_two_partitions"
    broker.create_topic(topic, partitions=2)
    broker.produce(topic, [(0, None, json.dumps({"v": i, "ts": f"2024-01-01 00:00:{i:02d}"}).encode())
                           for i in range(50)])
    job = tmp_path / "job.sql"
    job.write_text(f"CREATE TABLE k (v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'kafka', "
                   f"'topic' = '{topic}', 'properties.bootstrap.servers' = '{broker.bootstrap}', "
                   f"'scan.startup.mode' = 'earliest-offset', 'format' = 'json');\n"
                   "CREATE TABLE s (v INT) WITH ('connector' = 'blackhole');\n"
                   "INSERT INTO s SELECT v FROM k;\n")
    term = spawn(job)
    try:
        term.expect(r"in 50 .*\| watermark none yet \| late 0 \| kafka lag 0 \| split " + topic +
                    r"/1 holds the watermark back \(\d+s without data: 'scan.watermark.idle-timeout'\)")
        term.kill(signal.SIGTERM)
        term.expect(pexpect.EOF)
        summary = term.before[term.before.index("Job finished"):]
        assert f"split {topic}/1 holds the watermark back (no watermark yet" in summary
        assert "'scan.watermark.idle-timeout' on table" in summary
    finally:
        term.close(force=True)
