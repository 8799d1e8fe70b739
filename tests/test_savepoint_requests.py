"""Savepoints asked of a running `sqlstream run` process: written and reported, or refused loudly where they were
asked for (never a success that did not happen); a signal while the job is still starting is not lost."""
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlstream.runtime.checkpoint import read_checkpoint
from sqlstream import signals
from tests.cli_job import PATIENCE_S, CliJob

REPO = Path(__file__).resolve().parent.parent

JOB = """{settings}
CREATE TABLE gen (v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '200', 'fields.v.min' = '1',
  'fields.v.max' = '5');
SELECT v, COUNT(*) AS n FROM gen GROUP BY v;
"""
CHECKPOINTS = "SET 'execution.checkpointing.interval' = '10 min';\nSET 'execution.checkpointing.dir' = '{dir}';"


def start(tmp_path: Path, settings: str = "") -> subprocess.Popen:
    """The job, its rows going to a file (a pipe nobody reads fills up and stops the job mid-write, so it would
    not answer a savepoint request on a loaded machine)."""
    job = tmp_path / "job.sql"
    job.write_text(JOB.format(settings=settings))
    with open(tmp_path / "rows.jsonl", "w") as rows:
        p = subprocess.Popen([sys.executable, "-m", "sqlstream.cli", "run", str(job), "--format", "jsonl"],
                             cwd=REPO, stdout=rows, stderr=subprocess.PIPE, text=True)
    p.rows = tmp_path / "rows.jsonl"
    return p


def wait_for_output(p: subprocess.Popen, timeout: float = PATIENCE_S) -> str:
    """The job's first row: it is running."""
    deadline = time.monotonic() + timeout
    while "\n" not in p.rows.read_text():
        assert time.monotonic() < deadline and p.poll() is None, "the job printed no row"
        time.sleep(0.01)  # polling the file for the job's first row, the observable event
    return p.rows.read_text().split("\n")[0]


def savepoint(pid: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sqlstream.cli", "savepoint", str(pid), "--timeout", str(PATIENCE_S),
                           *extra], cwd=REPO, capture_output=True, text=True, timeout=PATIENCE_S * 2)


def test_savepoint_without_a_checkpoint_dir_is_an_error_and_the_job_goes_on(tmp_path):
    p = start(tmp_path)
    try:
        wait_for_output(p)
        r = savepoint(p.pid)
        assert r.returncode == 1, r.stderr
        assert "Savepoint directory is not configured" in r.stderr and "requested" not in r.stderr
        r = savepoint(p.pid, "--stop")
        assert r.returncode == 1 and "keeps running" in r.stderr, r.stderr
        assert p.poll() is None, "a refused stop-with-savepoint leaves the job running"
        wait_for_output(p)
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=PATIENCE_S)
    assert p.returncode == 0, err
    assert "ERROR: savepoint failed: Savepoint directory is not configured" in err
    assert "stopping without a savepoint: 'execution.checkpointing.dir' is not set" in err


def test_savepoint_command_waits_for_the_savepoint_and_stop_stops(tmp_path):
    p = start(tmp_path, CHECKPOINTS.format(dir=tmp_path / "ck"))
    try:
        wait_for_output(p)
        r = savepoint(p.pid)
        assert r.returncode == 0, r.stderr
        location = r.stderr.split("savepoint written to ")[1].split()[0]
        manifest, _ = read_checkpoint(location)
        assert manifest["kind"] == "savepoint"
        r = savepoint(p.pid, "--stop")
        assert r.returncode == 0, r.stderr
        assert "is stopping" in r.stderr
        _, err = p.communicate(timeout=PATIENCE_S)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    second = r.stderr.split("savepoint written to ")[1].split(";")[0]
    assert f"savepoint written to {second}" in err and read_checkpoint(second)[0]["kind"] == "savepoint"


def written_since(path: str, since_ns: int) -> bool:
    """`path` was written at or after `since_ns`: a file a killed process left under a PID now reused is older."""
    try:
        return os.stat(path).st_mtime_ns >= since_ns
    except FileNotFoundError:
        return False


def test_sigterm_while_the_job_starts_still_writes_a_savepoint(tmp_path):
    before = time.time_ns() - 50_000_000  # the file system's clock may lag the system clock by a tick
    p = start(tmp_path, CHECKPOINTS.format(dir=tmp_path / "ck"))
    events = signals.events_path(p.pid)
    deadline = time.monotonic() + PATIENCE_S
    while not written_since(events, before):  # the handlers are installed: the job itself has not started yet
        assert time.monotonic() < deadline and p.poll() is None, "the process never installed its handlers"
        time.sleep(0.005)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=PATIENCE_S)
    assert p.returncode == 0, err
    location = err.split("savepoint written to ")[1].split()[0]
    assert read_checkpoint(location)[0]["kind"] == "savepoint"


def test_savepoint_command_refuses_a_process_that_is_not_a_job():
    other = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])  # until killed
    try:
        r = savepoint(other.pid)
        assert r.returncode == 1 and "is not a running `sqlstream run` job" in r.stderr, r.stderr
        assert other.poll() is None, "nothing was sent to it"
    finally:
        other.kill()
        other.wait()
    r = savepoint(other.pid)
    assert r.returncode == 1 and f"no process {other.pid}" in r.stderr


def send_to_thread(pid: int, tid: int, sig: int) -> None:
    """tgkill: `sig` to one thread of process `pid`, as the kernel gives a process's signal to any thread that does
    not block it when the main thread cannot take it (stopped, or with a signal of its own pending)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.tgkill(pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {tid}, {sig})")


def other_thread_taking(pid: int, sig: int) -> int:
    """A thread of process `pid` other than its main thread that does not block `sig` (a Python thread)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        blocked = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
        if int(task.name) != pid and not blocked >> (sig - 1) & 1:
            return int(task.name)
    raise AssertionError(f"process {pid} has no other thread that takes signal {sig}")


def test_a_signal_another_thread_received_is_handled_while_the_job_runs(tmp_path):
    """Python runs signal handlers in the main thread, which waits for the job's thread: a savepoint request the
    kernel gave to another thread was kept until the job ended (an unbounded job: never)."""
    job = tmp_path / "job.sql"
    job.write_text(JOB.format(settings=CHECKPOINTS.format(dir=tmp_path / "ck")))
    p = CliJob(job, "--format", "jsonl")
    try:
        p.wait_for(lambda: "\n" in p.out, "the job's first row")
        send_to_thread(p.proc.pid, other_thread_taking(p.proc.pid, signal.SIGUSR1), signal.SIGUSR1)
        p.wait_for(lambda: "savepoint written to" in p.err, "the savepoint asked of another thread")
        p.signal(signal.SIGTERM)
        rc, _, err = p.finish()
    finally:
        if not p.exited():
            p.kill()
    assert rc == 0 and err.count("savepoint written to") == 2, err


def test_a_stopped_job_that_is_sent_sigterm_stops_with_a_savepoint_once_continued(tmp_path):
    """A shell's `kill` of a suspended job: SIGTERM while it is stopped, then SIGCONT. The stopped main thread
    cannot take the signal, so the kernel may give it to any other thread of the job's once it runs again."""
    job = tmp_path / "job.sql"
    job.write_text(JOB.format(settings=CHECKPOINTS.format(dir=tmp_path / "ck")))
    p = CliJob(job, "--format", "jsonl")
    try:
        p.wait_for(lambda: "\n" in p.out, "the job's first row")
        for n in range(1, 4):
            r = p.request_savepoint()
            assert r.returncode == 0 and p.err.count("savepoint written to") == n, r.stderr
        assert p.freeze()
        p.signal(signal.SIGTERM)
        p.thaw()
        rc, _, err = p.finish()
    finally:
        if not p.exited():
            p.kill()
    assert rc == 0 and err.count("savepoint written to") == 4, err
