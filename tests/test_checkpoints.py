"""Fault tolerance: killed with SIGKILL at random points and restarted, a job's committed output equals an
uninterrupted run exactly; savepoints stop and resume a job; a torn checkpoint is never restored.

Each kill or stop follows an event the job made visible (its "Job running" line, a checkpoint completed on
disk), never a span of wall-clock time, so the tests hold on a machine of any speed."""
import collections
import os
import random
import signal
import time
from pathlib import Path

import pytest

from sqlstream.runtime.checkpoint import CheckpointStorage, read_checkpoint
from tests.cli_job import CliJob, latest_checkpoint_id

JOB = """
SET 'execution.checkpointing.interval' = '{interval}';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
SET 'sqlstream.batch-size' = '{batch}';
CREATE TABLE events (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json'{source});
CREATE TABLE windowed (key STRING, ws TIMESTAMP(3), cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/windowed', 'format' = 'json'{files});
CREATE TABLE totals (key STRING, cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/totals', 'format' = 'debezium-json'{files});
INSERT INTO windowed SELECT key, window_start, COUNT(*), SUM(val)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY key, window_start, window_end;
INSERT INTO totals SELECT key, COUNT(*), SUM(val) FROM events WHERE val > 900 GROUP BY key;
"""


# how the sinks roll their part files: Flink's defaults (128MB, 30 min: a file stays in progress across every
# checkpoint of the job), rolling on size and time, and auto-compaction of each checkpoint's rolled files
ROLLING = {"default": "",
           "rolling": ", 'sink.rolling-policy.file-size' = '16kb', 'sink.rolling-policy.rollover-interval' = '1 s',"
                      " 'sink.rolling-policy.check-interval' = '200 ms'",
           "compaction": ", 'sink.rolling-policy.file-size' = '4kb', 'auto-compaction' = 'true',"
                         " 'compaction.file-size' = '64kb'"}


def write_job(folder: Path, data: str, interval: str = "100 ms", batch: int = 500, files: str = "",
              source: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "job.sql"
    job.write_text(JOB.format(interval=interval, dir=folder, data=data, batch=batch, files=files, source=source))
    return job


def write_unbounded_job(folder: Path, data: str) -> Path:
    """The job reading an unbounded datagen table instead of the file: it is still running when a signal or a
    savepoint request reaches it, however fast the machine reads (the filesystem source is bounded)."""
    job = write_job(folder, data, interval="10 min", batch=200)
    bounded = f"WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');"
    assert bounded in job.read_text()
    job.write_text(job.read_text().replace(bounded, "WITH ('connector' = 'datagen', 'rows-per-second' = '2000', "
                                           "'fields.val.min' = '0', 'fields.val.max' = '1000');"))
    return job


def write_monitored_job(folder: Path, data: str, **settings) -> Path:
    """The job reading the data file's folder with 'source.monitor-interval': unbounded, it is still running when a
    signal or a savepoint request reaches it, however fast the machine reads. The bounded job (`write_job`) resumes
    its savepoint, reads the rest of the file and commits what an uninterrupted run does."""
    return write_job(folder, str(Path(data).parent), source=", 'source.monitor-interval' = '1 h'", **settings)


def start(job: Path, *extra: str) -> CliJob:
    return CliJob(job, *extra)


def committed(folder: Path) -> dict[str, collections.Counter]:
    """Every committed row of both sinks, as multisets (readers never see in-progress files)."""
    out = {}
    for sink in ("windowed", "totals"):
        lines = collections.Counter()
        d = folder / "out" / sink
        # pathlib's glob matches hidden names too: in-progress files (.part-..inprogress) are not committed
        for f in sorted(f for f in d.glob("*part-*") if not f.name.startswith(".")) if d.exists() else []:
            lines.update(line for line in f.read_text().splitlines() if line)
        out[sink] = lines
    return out


def uninterrupted(folder: Path, data: str) -> dict[str, collections.Counter]:
    job = write_job(folder, data)
    rc, _, err = start(job).finish()
    assert rc == 0, err
    return committed(folder)


@pytest.mark.parametrize("rolling", sorted(ROLLING))
def test_sigkill_at_random_points_gives_exactly_the_uninterrupted_output(tmp_path, data, expected, rolling):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    job = write_job(folder, data, files=ROLLING[rolling])
    killed = 0
    for attempt in range(5):
        # each attempt is killed after 0-2 checkpoints of its own (the first after at least one, so that the
        # final run has one to resume from), at a random point of the work that follows: mid-batch, mid-
        # checkpoint, mid-commit, or during start-up and restore; a slow machine moves the point, nothing waits
        # on the random delay
        target = latest_checkpoint_id(folder / "checkpoints") + (rng.randint(0, 2) if attempt else 1)
        p = start(job)
        p.wait_for(lambda: latest_checkpoint_id(folder / "checkpoints") >= target or p.exited(),
                   f"seed {seed}: checkpoint {target}")
        time.sleep(rng.uniform(0, 0.15))
        if p.exited():  # the job came to its end first
            rc, _, err = p.finish()
            assert rc == 0, err
            break
        p.kill()
        p.finish()
        killed += 1
    rc, _, err = start(job).finish()
    assert rc == 0, err
    assert "restored from checkpoint" in err, f"seed {seed}: the final run did not resume ({killed} kills)"
    got = committed(folder)
    for sink in ("windowed", "totals"):
        missing = expected[sink] - got[sink]
        extra = got[sink] - expected[sink]
        assert not missing and not extra, (f"seed {seed}, sink {sink}: {sum(missing.values())} missing, "
                                           f"{sum(extra.values())} duplicated or unexpected")
    assert not list((folder / "out").rglob(".*")), "killed attempts' in-progress files are removed"


def test_rerunning_a_finished_job_writes_nothing_twice(tmp_path, data, expected):
    folder = tmp_path / "twice"
    assert uninterrupted(folder, data) == expected
    _, _, err = start(folder / "job.sql").finish()
    assert "already finished" in err
    assert committed(folder) == expected


def test_savepoint_on_sigterm_then_resume(tmp_path, data, expected):
    folder = tmp_path / "sp"
    p = start(write_monitored_job(folder, data, interval="100 ms", batch=200))
    p.wait_for(lambda: latest_checkpoint_id(folder / "checkpoints") > 0, "a first checkpoint (the job is under way)")
    p.signal(signal.SIGTERM)
    rc, _, err = p.finish()
    assert rc == 0, err
    assert "savepoint written to" in err, err
    savepoint = err.split("savepoint written to ")[1].split()[0]
    manifest, _ = read_checkpoint(savepoint)
    assert manifest["kind"] == "savepoint" and not manifest["finished"]
    partial = committed(folder)
    assert sum(partial["windowed"].values()) < sum(expected["windowed"].values()), "stopped mid-stream"
    rc, _, err = start(write_job(folder, data, interval="100 ms", batch=200), "--from-savepoint", savepoint).finish()
    assert rc == 0, err
    assert "restored from savepoint" in err
    assert committed(folder) == expected


def test_torn_checkpoint_is_never_restored(tmp_path):
    storage = CheckpointStorage(str(tmp_path / "ck"))
    storage.write("chk-1", {"a.arrow": b"one"}, {"checkpoint_id": 1, "state_files": ["a.arrow"], "operators": {}})
    torn = tmp_path / "ck" / "chk-2"
    torn.mkdir()
    (torn / "a.arrow").write_bytes(b"half")
    (torn / "_manifest.json.tmp").write_text('{"checkpoint_id": 2')  # crashed before the rename
    assert storage.latest() == str(tmp_path / "ck" / "chk-1")
    manifest, files = read_checkpoint(storage.latest())
    assert manifest["checkpoint_id"] == 1 and files == {"a.arrow": b"one"}
    storage.write("chk-3", {}, {"checkpoint_id": 3, "state_files": [], "operators": {}})
    storage.retain(1)
    assert sorted(os.listdir(tmp_path / "ck")) == ["chk-3"]


def test_crash_while_writing_a_checkpoint_restores_the_previous_one(tmp_path, data, expected):
    """A checkpoint torn in the middle of a real job: the restart resumes from the one before it."""
    folder = tmp_path / "torn"
    job = write_job(folder, data)
    p = start(job)
    p.wait_for(lambda: latest_checkpoint_id(folder / "checkpoints") > 0, "a first checkpoint")
    p.kill()
    p.finish()
    roots = list((folder / "checkpoints").iterdir())
    storage = CheckpointStorage(str(roots[0]))
    latest = storage.latest()
    if latest is not None:
        n = int(Path(latest).name[4:]) + 1
        torn = roots[0] / f"chk-{n}"
        torn.mkdir(exist_ok=True)
        (torn / "000-garbage.arrow").write_bytes(b"\x00" * 10)
    rc, _, err = start(job).finish()
    assert rc == 0, err
    assert "restored from checkpoint" in err
    assert committed(folder) == expected


def test_changed_query_is_a_different_job_and_a_bad_savepoint_names_the_operator(tmp_path, data):
    folder = tmp_path / "changed"
    job = write_unbounded_job(folder, data)
    p = start(job)
    p.wait_for_stderr("Job running: checkpoints every 10 min")
    p.signal(signal.SIGTERM)
    rc, _, err = p.finish()
    assert rc == 0 and "savepoint written to " in err, err
    savepoint = err.split("savepoint written to ")[1].split()[0]
    changed = folder / "changed.sql"
    changed.write_text(job.read_text().replace("INSERT INTO totals SELECT key, COUNT(*), SUM(val) FROM events "
                                               "WHERE val > 900 GROUP BY key;", ""))
    rc, _, err = start(changed, "--from-savepoint", savepoint).finish()
    assert rc == 1
    assert "GroupAggregate" in err and "--allow-non-restored-state" in err
    p = start(changed, "--from-savepoint", savepoint, "--allow-non-restored-state")
    p.wait_for_stderr("Job running: checkpoints every 10 min")
    p.signal(signal.SIGTERM)
    rc, _, err = p.finish()
    assert rc == 0 and "restored from savepoint" in err, err
