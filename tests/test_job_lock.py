"""One run per checkpoint folder: a second run of the same job is refused naming the process that runs it (0
duplicates), a killed job's lock goes with it, and `sqlstream savepoint` addresses jobs, never a bare process."""
import subprocess
import sys
from pathlib import Path

import pytest

from sqlstream.runtime.job_lock import live_holder
from tests.cli_job import PATIENCE_S, REPO, CliJob, wait_until
from tests.test_checkpoints import committed, start, write_job, write_unbounded_job


def wait_for_lock(folder: Path, p: CliJob) -> Path:
    """The job's checkpoint folder, once process p holds its lock (an event, not a span of time)."""
    found = []

    def held() -> bool:
        roots = list((folder / "checkpoints").glob("*")) if (folder / "checkpoints").exists() else []
        found[:] = [r for r in roots if (live_holder(str(r)) or {}).get("pid") == p.proc.pid]
        return bool(found)
    p.wait_for(held, "the job holds its checkpoint folder")
    return found[0]


def savepoint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sqlstream.cli", "savepoint", "--timeout", str(PATIENCE_S), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=PATIENCE_S * 2)


def test_a_second_run_on_the_same_checkpoint_folder_is_refused(tmp_path, data, expected):
    folder = tmp_path / "race"
    job = write_job(folder, data)
    first = start(job)
    wait_for_lock(folder, first)
    assert first.freeze(), "the first run holds the folder however fast the machine is"
    try:
        rc, _, err = start(job).finish()
    finally:
        first.thaw()
    assert rc == 1, err
    assert "is in use by job" in err and f"process {first.proc.pid}" in err and "Traceback" not in err, err
    rc, _, err = first.finish()
    assert rc == 0, err
    assert committed(folder) == expected


def test_two_runs_started_together_write_nothing_twice(tmp_path, data, expected):
    """One is refused (or, where the other was quicker than its start, finds the job finished); 0 duplicates."""
    folder = tmp_path / "together"
    job = write_job(folder, data)
    procs = [start(job), start(job)]
    results = [p.finish() for p in procs]
    refused = [err for rc, _, err in results if rc == 1 and "is in use by job" in err]
    ran = [err for rc, _, err in results if rc == 0]
    assert len(refused) + len(ran) == 2 and len(refused) <= 1, results
    assert len(refused) == 1 or any("already finished" in err for err in ran), results
    assert committed(folder) == expected


def test_a_killed_job_does_not_block_its_restart(tmp_path, data):
    folder = tmp_path / "killed"
    job = write_unbounded_job(folder, data)
    p = start(job)
    root = wait_for_lock(folder, p)
    p.kill()
    p.finish()
    assert live_holder(str(root)) is None, "the kernel released the dead job's lock"
    p = start(job)
    assert wait_for_lock(folder, p) == root
    p.kill()
    p.finish()


def test_savepoint_addresses_the_job_by_id_or_folder_and_nothing_else(tmp_path, data):
    folder = tmp_path / "addressed"
    job = write_unbounded_job(folder, data)
    p = start(job)
    root = wait_for_lock(folder, p)
    p.wait_for_stderr(f"`sqlstream savepoint {root.name}`")
    try:
        r = savepoint(str(folder / "checkpoints"))
        assert r.returncode == 0 and "savepoint written to" in r.stderr, r.stderr
        r = savepoint(root.name, "--stop")
        assert r.returncode == 0 and "savepoint written to" in r.stderr, r.stderr
    finally:
        rc, _, err = p.finish()
    assert rc == 0 and err.count("savepoint written to") == 2, err
    r = savepoint(str(root))
    assert r.returncode == 1 and "no running sqlstream job" in r.stderr, r.stderr

    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        r = savepoint(str(sleeper.pid))
        assert r.returncode == 1 and "nothing was sent" in r.stderr, r.stderr
        assert sleeper.poll() is None, "nothing but a live sqlstream job is ever signalled"
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("command, answers", [
    (["sleep", "300"], ""),  # a process that is not sqlstream
    ([sys.executable, "-c", "import time; time.sleep(300)", "sqlstream"], "{start} 1\n"),  # another process's file
])
def test_a_left_over_answer_file_does_not_make_another_process_a_target(command, answers):
    """A SIGKILLed job leaves its answer file; a process that later gets its PID is not signalled: it is not
    sqlstream, or the file names the start time of another process than it."""
    from sqlstream import signals
    sleeper = subprocess.Popen(command)
    events = Path(signals.events_path(sleeper.pid))
    try:
        events.parent.mkdir(parents=True, exist_ok=True)
        events.write_text(answers.format(start=signals.PROCESS_START))
        r = savepoint(str(sleeper.pid))
        assert r.returncode == 1 and "not a running `sqlstream run` job" in r.stderr, r.stderr
        assert sleeper.poll() is None
    finally:
        events.unlink(missing_ok=True)
        sleeper.kill()
        sleeper.wait()


def test_a_job_in_the_shell_holds_the_folder_too(tmp_path):
    """Two runs in one process (the shell's background jobs) are refused the same way (flock is per open file)."""
    from sqlstream.runtime.job_lock import JobLock
    from sqlstream.core.errors import CheckpointError
    first = JobLock(str(tmp_path), "job1")
    try:
        try:
            JobLock(str(tmp_path), "job1")
            raise AssertionError("a second lock on the same folder was granted")
        except CheckpointError as e:
            assert "(this process)" in str(e)
    finally:
        first.release()
    JobLock(str(tmp_path), "job1").release()
    wait_until(lambda: live_holder(str(tmp_path)) is None, "the lock is free")
