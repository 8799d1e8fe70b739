"""Fault tolerance: killed with SIGKILL at random points and restarted, a job's committed output equals an
uninterrupted run exactly; savepoints stop and resume a job; a torn checkpoint is never restored."""
import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.core import make_data
from runtime.checkpoint import LocalCheckpointStorage, read_checkpoint

REPO = Path(__file__).resolve().parent.parent

JOB = """
SET 'execution.checkpointing.interval' = '{interval}';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
SET 'sqlstream.batch-size' = '{batch}';
CREATE TABLE events (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');
CREATE TABLE windowed (key STRING, ws TIMESTAMP(3), cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/windowed', 'format' = 'json');
CREATE TABLE totals (key STRING, cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/totals', 'format' = 'debezium-json');
INSERT INTO windowed SELECT key, window_start, COUNT(*), SUM(val)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY key, window_start, window_end;
INSERT INTO totals SELECT key, COUNT(*), SUM(val) FROM events WHERE val > 900 GROUP BY key;
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "events.json"
    make_data(str(path), 200_000, 500)
    return str(path)


def write_job(folder: Path, data: str, interval: str = "100 ms", batch: int = 500) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "job.sql"
    job.write_text(JOB.format(interval=interval, dir=folder, data=data, batch=batch))
    return job


def start(job: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sqlstream.cli", "run", str(job), *extra], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed(folder: Path) -> dict[str, collections.Counter]:
    """Every committed row of both sinks, as multisets (readers never see in-progress files)."""
    out = {}
    for sink in ("windowed", "totals"):
        lines = collections.Counter()
        d = folder / "out" / sink
        for f in sorted(d.glob("part-*")) if d.exists() else []:
            lines.update(line for line in f.read_text().splitlines() if line)
        out[sink] = lines
    return out


def uninterrupted(folder: Path, data: str) -> dict[str, collections.Counter]:
    job = write_job(folder, data)
    p = start(job)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    return committed(folder)


def test_sigkill_at_random_points_gives_exactly_the_uninterrupted_output(tmp_path, data):
    expected = uninterrupted(tmp_path / "reference", data)
    assert sum(expected["windowed"].values()) > 1000 and sum(expected["totals"].values()) > 1000

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    job = write_job(folder, data)
    restored = 0
    delays = [rng.uniform(0.7, 1.8) for _ in range(5)]
    slow_retries = 3
    while delays:
        p = start(job)
        time.sleep(delays.pop(0))
        p.send_signal(signal.SIGKILL)
        _, err = p.communicate()
        restored += "restored from checkpoint" in err
        if not delays and slow_retries and not list(folder.rglob("_manifest.json")):
            slow_retries -= 1
            delays.append(3.0)  # a slow machine: no attempt lived to its first checkpoint yet
    p = start(job)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "restored from checkpoint" in err, \
        f"seed {seed}: the final run did not resume ({restored} of the killed attempts had resumed)"
    got = committed(folder)
    for sink in ("windowed", "totals"):
        missing = expected[sink] - got[sink]
        extra = got[sink] - expected[sink]
        assert not missing and not extra, (f"seed {seed}, sink {sink}: {sum(missing.values())} missing, "
                                           f"{sum(extra.values())} duplicated or unexpected")
    assert not list((folder / "out").rglob("*.inprogress")), "killed attempts' in-progress files are removed"


def test_rerunning_a_finished_job_writes_nothing_twice(tmp_path, data):
    folder = tmp_path / "twice"
    first = uninterrupted(folder, data)
    p = start(folder / "job.sql")
    _, err = p.communicate(timeout=120)
    assert "already finished" in err
    assert committed(folder) == first


def test_savepoint_on_sigterm_then_resume(tmp_path, data):
    expected = uninterrupted(tmp_path / "reference", data)
    folder = tmp_path / "sp"
    job = write_job(folder, data, interval="10 min", batch=200)
    p = start(job)
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert "savepoint written to" in err, err
    savepoint = err.split("savepoint written to ")[1].split()[0]
    manifest, _ = read_checkpoint(savepoint)
    assert manifest["kind"] == "savepoint" and not manifest["finished"]
    partial = committed(folder)
    assert sum(partial["windowed"].values()) < sum(expected["windowed"].values()), "stopped mid-stream"
    p = start(job, "--from-savepoint", savepoint)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "restored from savepoint" in err
    assert committed(folder) == expected


def test_torn_checkpoint_is_never_restored(tmp_path):
    storage = LocalCheckpointStorage(str(tmp_path / "ck"))
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


def test_crash_while_writing_a_checkpoint_restores_the_previous_one(tmp_path, data):
    """A checkpoint torn in the middle of a real job: the restart resumes from the one before it."""
    expected = uninterrupted(tmp_path / "reference", data)
    folder = tmp_path / "torn"
    job = write_job(folder, data)
    p = start(job)
    time.sleep(1.2)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    roots = list((folder / "checkpoints").iterdir())
    assert roots, "the job checkpointed before the kill"
    storage = LocalCheckpointStorage(str(roots[0]))
    latest = storage.latest()
    if latest is not None:
        n = int(Path(latest).name[4:]) + 1
        torn = roots[0] / f"chk-{n}"
        torn.mkdir(exist_ok=True)
        (torn / "000-garbage.arrow").write_bytes(b"\x00" * 10)
    p = start(job)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert committed(folder) == expected


def test_changed_query_is_a_different_job_and_a_bad_savepoint_names_the_operator(tmp_path, data):
    folder = tmp_path / "changed"
    job = write_job(folder, data, interval="10 min", batch=200)
    p = start(job)
    time.sleep(1.2)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    savepoint = err.split("savepoint written to ")[1].split()[0]
    changed = folder / "changed.sql"
    changed.write_text(job.read_text().replace("INSERT INTO totals SELECT key, COUNT(*), SUM(val) FROM events "
                                               "WHERE val > 900 GROUP BY key;", ""))
    p = start(changed, "--from-savepoint", savepoint)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1
    assert "GroupAggregate" in err and "--allow-non-restored-state" in err
    p = start(changed, "--from-savepoint", savepoint, "--allow-non-restored-state")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
