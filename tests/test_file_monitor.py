"""The filesystem source with 'source.monitor-interval' (Flink's continuous directory watching): unbounded, it lists
its path again every interval and reads each file it had not seen once; the paths read are in its checkpointed
position, so a restore (after SIGKILL, or from a savepoint) reads no file twice and reads those that appeared while
the job was down.

The reader's tests drive a fake clock; the jobs' tests wait for rows committed by the exactly-once filesystem sink
(its files become visible when a checkpoint commits them after they rolled), never for a span of wall-clock time."""
from __future__ import annotations

import collections
import json
import os
import random
import re
import signal
from pathlib import Path

import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.filesystem import FileSystemSource, create_source
from sqlstream.core.errors import OptionError
from sqlstream.core.types import INT
from tests.cli_job import CliJob, latest_checkpoint_id


def write_file(folder: Path, name: str, file_no: int, rows: int) -> None:
    """A file of `rows` rows, each naming its file and its place in it, written whole before it is visible (as
    Flink asks of monitored folders: a file is read as it is when discovered)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text("".join(json.dumps({"f": file_no, "i": i}) + "\n" for i in range(rows)))
    os.rename(tmp, path)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def source(folder: Path, interval: str = "1 s", **extra: str) -> FileSystemSource:
    schema = TableSchema(["f", "i"], [INT, INT])
    return create_source("t", {"connector": "filesystem", "path": str(folder), "format": "json",
                               "source.monitor-interval": interval, **extra}, schema)


def drain(reader, max_rows: int = 3) -> list[tuple[int, int]]:
    """Every row the reader gives now (a poll returning nothing: nothing more until the next listing)."""
    rows = []
    while True:
        batch = reader.poll(max_rows)
        if batch is None or batch.num_rows == 0:
            return rows
        rows += list(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))


def test_files_added_later_are_read_once_at_the_first_listing_after_the_interval(tmp_path):
    write_file(tmp_path, "a.json", 1, 5)
    src = source(tmp_path, "10 s")
    assert not src.bounded
    clock = Clock()
    reader = src.reader("0")
    reader.discovered.clock = clock
    assert drain(reader) == [(1, i) for i in range(5)]
    write_file(tmp_path, "b.json", 2, 4)
    clock.now = 9.9
    assert drain(reader) == [], "not listed again before the interval has passed"
    clock.now = 10.0
    assert drain(reader) == [(2, i) for i in range(4)]
    with open(tmp_path / "a.json", "a") as f:  # a file is identified by its path: read once, even if it grows
        f.write(json.dumps({"f": 1, "i": 99}) + "\n")
    clock.now = 30.0
    assert drain(reader) == [] and not reader.finished


def test_hidden_in_progress_and_unmatched_files_are_skipped_partition_folders_are_walked(tmp_path):
    write_file(tmp_path, "dt=1/a.json", 1, 2)
    write_file(tmp_path, "_tmp/x.json", 7, 2)
    write_file(tmp_path, ".hidden/y.json", 8, 2)
    write_file(tmp_path, "_in-progress.json", 9, 2)
    write_file(tmp_path, "b.csv", 3, 1)
    clock = Clock()
    reader = source(tmp_path).reader("0")
    reader.discovered.clock = clock
    assert sorted(drain(reader)) == [(1, 0), (1, 1), (3, 0)]
    write_file(tmp_path, "dt=2/c.json", 4, 1)
    clock.now = 1.0
    assert drain(reader) == [(4, 0)]
    matched = source(tmp_path, **{"source.path.regex-pattern": f"{re.escape(str(tmp_path))}/dt=[0-9]+/.*json"})
    assert sorted(drain(matched.reader("0"))) == [(1, 0), (1, 1), (4, 0)]


def test_the_files_flink_reads_from_a_monitored_folder(tmp_path):
    """What Flink 2.3 read (PyFlink, 'source.monitor-interval' = '1s', streaming, rows collected as they came) from
    this folder, without and with 'source.path.regex-pattern' = '.*/f[0-9]+\\.json': the files present at start,
    then those added while it ran."""
    for name, k in (("f1.json", 1), ("_h.json", 2), (".h.json", 3), ("sub/f2.json", 4), ("_hdir/f5.json", 5),
                    (".ddir/f6.json", 6), ("g7.json", 7), ("sub/x.csv", 8)):
        write_file(tmp_path, name, k, 1)
    clock = Clock()
    plain, matched = source(tmp_path).reader("0"), \
        source(tmp_path, **{"source.path.regex-pattern": r".*/f[0-9]+\.json"}).reader("0")
    plain.discovered.clock = matched.discovered.clock = clock
    assert sorted(f for f, _ in drain(plain)) == [1, 4, 7, 8]
    assert sorted(f for f, _ in drain(matched)) == [1, 4]
    write_file(tmp_path, "new/f9.json", 9, 1)
    write_file(tmp_path, "f10.json", 10, 1)
    clock.now = 1.0
    assert sorted(f for f, _ in drain(plain)) == [9, 10]
    assert sorted(f for f, _ in drain(matched)) == [9, 10]


def test_a_restored_reader_reads_no_file_twice_and_reads_files_that_appeared_meanwhile(tmp_path):
    for k in range(3):
        write_file(tmp_path, f"f{k}.json", k, 10)
    src = source(tmp_path)
    for cut in (0, 4, 10, 17, 30):  # mid-file, at a file's end, after all
        reader = src.reader("0")
        got = []
        while len(got) < cut:
            got += drain_some(reader, cut - len(got))
        position = json.loads(json.dumps(reader.position()))  # as a checkpoint stores it
        reader.close()
        write_file(tmp_path, f"late{cut}.json", 100 + cut, 2)  # appears while the job is down
        restored = src.reader("0", position)
        got += drain(restored)
        restored.close()
        expected = [(k, i) for k in range(3) for i in range(10)] + [(100 + cut, i) for i in range(2)]
        assert sorted(got) == sorted(expected), f"cut after {cut} rows"
        (tmp_path / f"late{cut}.json").unlink()


def drain_some(reader, most: int) -> list[tuple[int, int]]:
    batch = reader.poll(min(most, 3))
    assert batch is not None and batch.num_rows, "rows were left to read"
    return list(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))


def test_a_position_of_the_unmonitored_source_is_taken_over(tmp_path):
    for k in range(2):
        write_file(tmp_path, f"f{k}.json", k, 6)
    schema = TableSchema(["f", "i"], [INT, INT])
    plain = create_source("t", {"connector": "filesystem", "path": str(tmp_path), "format": "json"}, schema)
    assert plain.bounded
    reader = plain.reader("0")
    got = drain_some(reader, 3) + drain_some(reader, 3) + drain_some(reader, 2)
    position = reader.position()
    reader.close()
    assert isinstance(position, list)
    got += drain(source(tmp_path).reader("0", position))
    assert sorted(got) == [(k, i) for k in range(2) for i in range(6)]


def test_the_unmonitored_source_takes_over_a_position_of_the_monitored_one(tmp_path):
    """A savepoint of the monitored source resumed by the same table without 'source.monitor-interval' (an internal
    error before: the position's form was not known to it) reads the rest of the files discovered, once."""
    for k in range(2):
        write_file(tmp_path, f"f{k}.json", k, 6)
    schema = TableSchema(["f", "i"], [INT, INT])
    reader = source(tmp_path).reader("0")
    got = drain_some(reader, 3) + drain_some(reader, 3) + drain_some(reader, 2)
    position = json.loads(json.dumps(reader.position()))  # as a checkpoint stores it
    reader.close()
    assert isinstance(position, dict)
    plain = create_source("t", {"connector": "filesystem", "path": str(tmp_path), "format": "json"}, schema)
    restored = plain.reader("0", position)
    got += drain(restored)
    assert restored.finished
    assert sorted(got) == [(k, i) for k in range(2) for i in range(6)]


def test_the_interval_must_be_positive_and_the_pattern_valid(tmp_path):
    with pytest.raises(OptionError, match="greater than 0"):
        source(tmp_path, "0 s")
    with pytest.raises(OptionError, match="regular expression"):
        source(tmp_path, **{"source.path.regex-pattern": "("})


# ---- jobs ---------------------------------------------------------------------------------------------------------

JOB = """
SET 'execution.checkpointing.interval' = '100 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE files (f INT, i INT) WITH ('connector' = 'filesystem', 'path' = '{dir}/in', 'format' = 'json',
  'source.monitor-interval' = '50 ms');
CREATE TABLE copied (f INT, i INT, twice INT) WITH ('connector' = 'filesystem', 'path' = '{dir}/out', 'format' = 'json',
  'sink.rolling-policy.rollover-interval' = '200 ms', 'sink.rolling-policy.check-interval' = '50 ms');
INSERT INTO copied SELECT f, i, i * 2 FROM files;
"""


_parsed: dict[Path, collections.Counter] = {}  # committed part files never change: each is read once


def committed(folder: Path) -> collections.Counter:
    """The rows the sink committed, as a multiset (in-progress files are hidden)."""
    lines: collections.Counter = collections.Counter()
    out = folder / "out"
    for f in sorted(out.glob("part-*")) if out.exists() else []:
        if f not in _parsed:
            _parsed[f] = collections.Counter((r["f"], r["i"]) for r in map(json.loads, f.read_text().splitlines()))
        lines.update(_parsed[f])
    return lines


def expected(files: dict[int, int]) -> collections.Counter:
    return collections.Counter((k, i) for k, n in files.items() for i in range(n))


class MonitoredJob:
    """The job over `folder/in`, and the files it was given: file number -> rows."""

    def __init__(self, folder: Path, parallelism: int = 1):
        self.folder, self.files, self.parallelism = folder, {}, parallelism
        self.job = folder / "job.sql"
        self.job.write_text(JOB.format(dir=folder))

    def add(self, k: int, rows: int) -> None:
        write_file(self.folder / "in", f"part{k % 3}/f{k}.json" if k % 2 else f"f{k}.json", k, rows)
        self.files[k] = rows

    def start(self, *args: str) -> CliJob:
        return CliJob(self.job, "-p", str(self.parallelism), *args)

    def wait_all_committed(self, p: CliJob) -> None:
        want = expected(self.files)
        p.wait_for(lambda: not want - committed(self.folder), f"the rows of files {sorted(self.files)} committed")

    def stop(self, p: CliJob) -> str:
        """Stop with a savepoint (SIGTERM); the savepoint's path."""
        p.signal(signal.SIGTERM)
        rc, _, err = p.finish()
        assert rc == 0, err
        assert "savepoint written to" in err, err
        return err.split("savepoint written to ")[1].split()[0]

    def check(self, note: str = "") -> None:
        got, want = committed(self.folder), expected(self.files)
        missing, extra = want - got, got - want
        assert got == want, (f"{note}{sum(missing.values())} rows missing (of files {sorted({f for f, _ in missing})}), "
                             f"{sum(extra.values())} duplicated (of files {sorted({f for f, _ in extra})})")


@pytest.mark.parametrize("parallelism", [1, 2])
def test_files_added_while_the_job_runs_are_read_exactly_once(tmp_path, parallelism):
    job = MonitoredJob(tmp_path, parallelism)
    job.add(0, 300)
    p = job.start()
    job.wait_all_committed(p)
    if parallelism > 1:
        assert "source divided among them" in p.err, p.err
    for k in range(1, 5):
        job.add(k, 200 + 50 * k)
        job.wait_all_committed(p)
    assert not p.exited(), "an unbounded job keeps running"
    job.stop(p)
    job.check()


@pytest.mark.parametrize("parallelism", [1, 2])
def test_sigkill_after_a_checkpoint_and_a_restart_read_each_file_once(tmp_path, parallelism):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    job = MonitoredJob(tmp_path, parallelism)
    for k in range(3):
        job.add(k, 20_000)
    checkpoints = tmp_path / "checkpoints"
    for attempt in range(3):
        p = job.start()
        target = latest_checkpoint_id(checkpoints) + 1
        p.wait_for(lambda: latest_checkpoint_id(checkpoints) >= target, f"seed {seed}: checkpoint {target}")
        job.add(10 + attempt, rng.randint(1, 5000))  # discovered before or after the kill
        if rng.random() < 0.5:
            p.wait_for(lambda: latest_checkpoint_id(checkpoints) >= target + 1, f"seed {seed}: another checkpoint")
        p.kill()
        p.finish()
    p = job.start()
    job.wait_all_committed(p)
    job.stop(p)
    assert "restored from checkpoint" in p.err, p.err
    job.check(f"seed {seed}: ")


@pytest.mark.parametrize("before, after", [(1, 1), (1, 2), (2, 1)])
def test_a_savepoint_stop_and_restore_reads_the_files_added_while_the_job_was_down(tmp_path, before, after):
    job = MonitoredJob(tmp_path, before)
    job.add(0, 500)
    job.add(1, 700)
    p = job.start()
    job.wait_all_committed(p)
    savepoint = job.stop(p)
    job.check()
    job.add(2, 400)  # while the job is down
    job.add(3, 100)
    job.parallelism = after  # a savepoint restores at another parallelism
    p = job.start("--from-savepoint", savepoint)
    job.wait_all_committed(p)
    job.add(4, 50)
    job.wait_all_committed(p)
    job.stop(p)
    assert "restored from savepoint" in p.err, p.err
    job.check()


@pytest.mark.parametrize("before, after", [(1, 2), (2, 1)])
def test_the_same_table_unmonitored_resumes_a_savepoint_of_the_monitored_one(tmp_path, before, after):
    """Without 'source.monitor-interval' the table resumes the monitored job's savepoint (an internal error before,
    at either parallelism): the rest of the files discovered is read, once, and the job ends."""
    job = MonitoredJob(tmp_path, before)
    for k in range(3):
        job.add(k, 20_000)
    p = job.start()
    p.wait_for(lambda: latest_checkpoint_id(tmp_path / "checkpoints") >= 1, "a checkpoint")
    savepoint = job.stop(p)
    bounded = tmp_path / "bounded.sql"
    bounded.write_text(job.job.read_text().replace(",\n  'source.monitor-interval' = '50 ms'", ""))
    assert "'source.monitor-interval'" not in bounded.read_text()
    rc, _, err = CliJob(bounded, "-p", str(after), "--from-savepoint", savepoint).finish()
    assert rc == 0 and "restored from savepoint" in err, err
    job.check()


WINDOWED = """
SET 'execution.checkpointing.interval' = '100 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE events (k INT, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json'{monitor});
CREATE TABLE windows (k INT, ws TIMESTAMP(3), c BIGINT, s BIGINT) WITH ('connector' = 'filesystem',
  'path' = '{dir}/out', 'format' = 'json', 'sink.rolling-policy.rollover-interval' = '200 ms',
  'sink.rolling-policy.check-interval' = '50 ms');
INSERT INTO windows SELECT k, window_start, COUNT(*), SUM(v)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY k, window_start, window_end;
"""


def windows(folder: Path) -> collections.Counter:
    out = folder / "out"
    return collections.Counter(line for f in sorted(out.glob("part-*")) if out.exists()
                               for line in f.read_text().splitlines())


@pytest.mark.parametrize("parallelism", [1, 2])
def test_a_monitored_source_gives_the_windows_and_late_rows_of_the_bounded_one(tmp_path, parallelism):
    """Out-of-order rows (some late) in files present at start, then one far ahead that fires every window before
    it: the monitored source, at parallelism 1 or divided among 2 subtasks, commits the windows the bounded source
    gives (but the last one's, which only the bounded source's end fires)."""
    rng = random.Random(7)
    data = tmp_path / "in"
    data.mkdir()
    base = 1_700_000_000_000
    for f in range(4):
        rows = [{"k": rng.randrange(20), "v": rng.randrange(1000),
                 "ts": _ts(base + (f * 6000 + i) * 10 - rng.randrange(3000))} for i in range(6000)]
        (data / f"f{f}.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (data / "zz.json").write_text(json.dumps({"k": 0, "v": 0, "ts": _ts(base + 86_400_000)}) + "\n")
    reference = tmp_path / "bounded"
    reference.mkdir()
    (reference / "job.sql").write_text(WINDOWED.format(dir=reference, data=data, monitor=""))
    rc, _, err = CliJob(reference / "job.sql").finish()
    assert rc == 0, err
    late = int(err.split("late rows dropped: ")[1].split(",")[0])
    assert late > 100, err
    last = f'"ws": "{_ts(base + 86_400_000)[:-4]}'
    want = collections.Counter({line: n for line, n in windows(reference).items() if last not in line})
    assert 0 < sum(want.values()) < sum(windows(reference).values())
    monitored = tmp_path / "monitored"
    monitored.mkdir()
    (monitored / "job.sql").write_text(WINDOWED.format(dir=monitored, data=data,
                                                        monitor=", 'source.monitor-interval' = '50 ms'"))
    p = CliJob(monitored / "job.sql", "-p", str(parallelism))
    p.wait_for(lambda: sum(windows(monitored).values()) >= sum(want.values()), "the windows committed")
    p.signal(signal.SIGTERM)
    rc, _, err = p.finish()
    assert rc == 0, err
    assert windows(monitored) == want
    assert f"late rows dropped: {late}," in err, err
    if parallelism > 1:
        assert "source divided among them" in err, err


def _ts(ms: int) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


IDLE = """
SET 'execution.checkpointing.interval' = '100 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
{idle}
CREATE TABLE busy (k INT, i BIGINT, ts AS CAST(TO_TIMESTAMP_LTZ(i * 1000, 3) AS TIMESTAMP(3)),
  WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'rows-per-second' = '200', 'fields.i.kind' = 'sequence',
  'fields.i.start' = '0', 'fields.i.end' = '100000000', 'fields.k.min' = '0', 'fields.k.max' = '0');
CREATE TABLE quiet (k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem',
  'path' = '{dir}/in', 'format' = 'json', 'source.monitor-interval' = '50 ms');
CREATE TABLE windows (ws TIMESTAMP(3), c BIGINT) WITH ('connector' = 'filesystem', 'path' = '{dir}/out',
  'format' = 'json', 'sink.rolling-policy.rollover-interval' = '200 ms', 'sink.rolling-policy.check-interval' = '50 ms');
CREATE TEMPORARY VIEW both_sources AS SELECT k, ts FROM busy UNION ALL SELECT k, ts FROM quiet;
INSERT INTO windows SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE both_sources, DESCRIPTOR(ts),
  INTERVAL '2' SECOND)) GROUP BY window_start, window_end;
"""


def test_an_idle_monitored_source_stops_holding_back_the_watermark_after_the_idle_timeout(tmp_path):
    """A monitored folder with one early row, unioned with a source that keeps sending rows: with
    table.exec.source.idle-timeout the folder's source goes idle once it has read its files, and the windows of
    the other source's rows fire (without it, its watermark of 0 would hold every window back)."""
    write_file(tmp_path / "in", "early.json", 0, 0)
    (tmp_path / "in" / "early.json").write_text(json.dumps({"k": 1, "ts": "1970-01-01 00:00:00.500"}) + "\n")
    (tmp_path / "job.sql").write_text(IDLE.format(dir=tmp_path, idle="SET 'table.exec.source.idle-timeout' = '100 ms';"))
    p = CliJob(tmp_path / "job.sql")
    p.wait_for(lambda: len(windows(tmp_path)) >= 3, "three windows committed")
    p.signal(signal.SIGTERM)
    rc, _, err = p.finish()
    assert rc == 0, err
    first = [json.loads(line) for line in windows(tmp_path) if json.loads(line)["ws"].startswith("1970-01-01 00:00:00")]
    assert first and first[0]["c"] == 3, "the window of the folder's row counts it with the other source's two rows"


def test_parquet_reads_only_the_files_the_pattern_matches_and_refuses_monitoring(tmp_path):
    """The Parquet source takes 'source.path.regex-pattern' as the text formats do; monitoring it is refused (the
    job would end after the files present, as if unmonitored)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    for name, rows in (("a.parquet", [1, 2]), ("b.parquet", [3]), ("skip.parquet", [4])):
        pq.write_table(pa.table({"f": pa.array(rows, pa.int32()), "i": pa.array(rows, pa.int32())}), tmp_path / name)
    schema = TableSchema(["f", "i"], [INT, INT])
    options = {"connector": "filesystem", "path": str(tmp_path), "format": "parquet"}
    src = create_source("t", {**options, "source.path.regex-pattern": r".*/[ab]\.parquet"}, schema)
    reader = src.reader("0")
    assert sorted(f for f, _ in drain(reader)) == [1, 2, 3]
    with pytest.raises(OptionError, match="'source.monitor-interval' is not supported for the parquet format"):
        create_source("t", {**options, "source.monitor-interval": "1 s"}, schema)


def window_rows(folder: Path) -> collections.Counter:
    """Each committed window's (k, ws) -> (rows, sum)."""
    return collections.Counter({(r["k"], r["ws"]): (r["c"], r["s"]) for r in map(json.loads, windows(folder))})


def positions_checkpointed(checkpoints: Path) -> list:
    """The source positions in the job's newest completed checkpoint (none yet: [])."""
    from sqlstream.runtime.checkpoint import CheckpointError, CheckpointStorage, read_checkpoint
    for root in checkpoints.iterdir() if checkpoints.exists() else []:
        latest = CheckpointStorage(str(root)).latest()
        try:
            return list(read_checkpoint(latest)[0]["positions"].values()) if latest is not None else []
        except CheckpointError:  # a newer one completed and this one was discarded meanwhile
            return []
    return []


@pytest.mark.parametrize("parallelism", [1, 2])
def test_max_rows_in_ends_a_resumed_job_where_an_uninterrupted_run_ends(tmp_path, parallelism):
    """`--max-rows-in N` ends each source after the job's first N rows, counted across a stop with a savepoint
    and the resume from it (the count is kept in checkpoints): the resumed run commits the windows of an
    uninterrupted run with the same bound, the last one cut at row N too. Before, the count began again at the
    resume, so the resumed source read N rows more than the uninterrupted one and the windows ended elsewhere
    (the last one with other rows)."""
    base, per_file, cap = 1_700_000_000_000, 3000, 7500  # the bound falls within the third file

    def add(data: Path, f: int) -> None:
        rng = random.Random(f)
        (data / f"f{f}.json").write_text("".join(
            json.dumps({"k": rng.randrange(3), "v": rng.randrange(100), "ts": _ts(base + (f * per_file + i) * 10)})
            + "\n" for i in range(per_file)))

    def job(name: str, data: Path) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "job.sql").write_text(WINDOWED.format(dir=folder, data=data,
                                                         monitor=", 'source.monitor-interval' = '50 ms'"))
        return folder / "job.sql"

    whole, parts = tmp_path / "whole", tmp_path / "parts"
    whole.mkdir()
    parts.mkdir()
    for f in range(4):
        add(whole, f)
    rc, _, err = CliJob(job("uninterrupted", whole), "--max-rows-in", str(cap)).finish()
    assert rc == 0 and f"rows in: {cap}," in err, err
    reference = window_rows(tmp_path / "uninterrupted")
    assert sum(c for c, _ in reference.values()) == cap

    add(parts, 0)  # the first run reads one file, fewer rows than the bound, and waits for more
    resumed = job("resumed", parts)
    p = CliJob(resumed, "-p", str(parallelism), "--max-rows-in", str(cap))
    checkpoints = tmp_path / "resumed" / "checkpoints"
    p.wait_for(lambda: [[{"files": [str(parts / "f0.json")], "at": [1, 0, 0, 0]}]] == positions_checkpointed(checkpoints),
               "a checkpoint after the first file")
    p.signal(signal.SIGTERM)
    rc, _, err = p.finish()
    assert rc == 0 and "savepoint written to" in err, err
    savepoint = err.split("savepoint written to ")[1].split()[0]
    for f in range(1, 4):  # the rest arrives while the job is down
        add(parts, f)
    rc, _, err = CliJob(resumed, "-p", str(parallelism), "--from-savepoint", savepoint,
                        "--max-rows-in", str(cap)).finish()
    assert rc == 0 and "restored from savepoint" in err, err
    assert f"rows in: {cap - per_file}," in err, err
    assert window_rows(tmp_path / "resumed") == reference
