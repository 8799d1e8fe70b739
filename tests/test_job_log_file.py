"""A job's log file: `job.log` in its checkpoint folder (or `--log-file`) records the start, checkpoints,
restores, a watermark stall, the end and errors, with times, through Python's logging."""
from __future__ import annotations

import json
import re
import signal
from pathlib import Path

from tests.cli_job import CliJob

JOB = """
SET 'execution.checkpointing.interval' = '1 h';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE t (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH (
  'connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');
CREATE TABLE s (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '{dir}/out', 'format' = 'csv');
INSERT INTO s SELECT id FROM t;
"""
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) sqlstream\.\w+: ")


def job_file(tmp_path: Path, rows: str) -> Path:
    data = tmp_path / "rows.csv"
    data.write_text(rows)
    job = tmp_path / "job.sql"
    job.write_text(JOB.format(dir=tmp_path, data=data))
    return job


def test_log_in_the_checkpoint_folder_records_start_checkpoint_restore_and_end(tmp_path):
    job = job_file(tmp_path, "".join(f"{i},2024-01-01 00:00:{i % 60:02d}\n" for i in range(100)))
    code, _, err = CliJob(job).finish()
    assert code == 0, err
    [log] = list((tmp_path / "checkpoints").glob("*/job.log"))
    text = log.read_text()
    assert all(LINE.match(line) for line in text.splitlines()), text
    assert re.search(r"INFO sqlstream\.job: job \w+ \(insert-into_\S+\) starting: checkpoints every 1 h in ", text)
    assert re.search(r"INFO sqlstream\.checkpoint: checkpoint 1 completed in \d+ ms \(\d+ bytes\): ", text)
    assert re.search(r"INFO sqlstream\.job: job \w+ finished: Job finished: rows in: 100, rows out: 100", text)
    code, _, err = CliJob(job).finish()  # runs again: restores the final checkpoint, nothing to do
    assert code == 0 and "restored from checkpoint 1" in err
    assert re.search(r"INFO sqlstream\.job: restored from checkpoint 1 \(", log.read_text())


def test_log_file_option_records_the_error_once_on_the_terminal(tmp_path):
    job = job_file(tmp_path, "1,2024-01-01 00:00:01\nnot-a-number,2024-01-01 00:00:02\n")
    log = tmp_path / "logs" / "my.log"
    log.parent.mkdir()
    code, _, err = CliJob(job, "--log-file", str(log)).finish()
    assert code == 1
    text = log.read_text()
    failure = re.search(r"ERROR sqlstream\.job: job \w+ failed: (.+)", text)
    assert failure, text
    assert err.count("not-a-number") == 1  # the terminal shows the error once, as before
    assert not list((tmp_path / "checkpoints").glob("*/job.log"))  # --log-file replaces the default place


def test_a_watermark_stall_is_logged(broker, tmp_path):
    topic = "log_stall"
    broker.create_topic(topic, partitions=2)
    broker.produce(topic, [(0, None, json.dumps({"v": i, "ts": f"2024-01-01 00:00:{i:02d}"}).encode())
                           for i in range(20)])
    job = tmp_path / "job.sql"
    job.write_text(f"CREATE TABLE k (v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'kafka', "
                   f"'topic' = '{topic}', 'properties.bootstrap.servers' = '{broker.bootstrap}', "
                   f"'scan.startup.mode' = 'earliest-offset', 'format' = 'json');\n"
                   "CREATE TABLE s (v INT) WITH ('connector' = 'blackhole');\n"
                   "INSERT INTO s SELECT v FROM k;\n")
    log = tmp_path / "job.log"
    run = CliJob(job, "--log-file", str(log))
    try:
        run.wait_for(lambda: log.exists() and "holds the watermark back" in log.read_text(), "a stall in the log")
        assert re.search(rf"INFO sqlstream\.watermarks: split {topic}/1 of table \S+ holds the watermark back "
                         r"\(no watermark yet\): no data for \d+ s; 'scan.watermark.idle-timeout'", log.read_text())
        run.signal(signal.SIGTERM)
        code, _, err = run.finish()
        assert code == 0, err
        assert re.search(r"INFO sqlstream\.job: job \w+ stopped: ", log.read_text())
    finally:
        if not run.exited():
            run.kill()
            run.finish()
