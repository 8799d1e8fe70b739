"""One live job per checkpoint folder: an OS file lock (flock) held for the job's life.

The kernel drops the lock when the process dies, however it dies, so a SIGKILLed job never blocks its own
restart. The lock file also says who holds it (job id, PID, start time), which is how `sqlstream savepoint`
finds a job and checks that the PID it signals is that job and nothing else.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import tempfile
import time

from sqlstream.core.errors import CheckpointError, storage_error

LOCK_FILE = "_job.lock"


def _run_dir() -> str:
    """Per-user folder naming the running jobs by id (links to their checkpoint folders)."""
    return os.path.join(tempfile.gettempdir(), f"sqlstream-{os.getuid()}")  # beside the jobs' answer files


class JobLock:
    """The exclusive lock on a job's checkpoint folder; `release()` (or the process's death) frees it."""

    def __init__(self, folder: str, job_id: str):
        self.folder, self.job_id = folder, job_id
        self.path = os.path.join(folder, LOCK_FILE)
        self.link: str | None = None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise storage_error(e, f"the job's lock file {LOCK_FILE}", folder) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            who = read_holder(folder) or {}
            pid = who.get("pid")
            by = f"process {pid}" + (" (this process)" if pid == os.getpid() else "") if pid else "another process"
            since = f", running since {who['started']}" if who.get("started") else ""
            raise CheckpointError(
                f"Checkpoint folder '{folder}' is in use by job {who.get('job', job_id)} in {by}{since}: the same "
                f"job is already running. Stop it first (`sqlstream savepoint --stop {folder}`), or give this run "
                f"its own 'execution.checkpointing.dir'") from None
        self.fd = fd
        info = {"job": job_id, "pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._register()

    def _register(self) -> None:
        """Name the job in the per-user run folder so `sqlstream savepoint JOB_ID` finds it."""
        try:
            run_dir = _run_dir()
            os.makedirs(run_dir, mode=0o700, exist_ok=True)
            link = os.path.join(run_dir, self.job_id)
            tmp = f"{link}.{os.getpid()}.tmp"
            os.symlink(os.path.abspath(self.folder), tmp)
            os.replace(tmp, link)
            self.link = link
        except OSError:
            self.link = None  # addressing by id is a convenience; the folder still works

    def release(self) -> None:
        if self.fd is None:
            return
        if self.link is not None:
            try:
                if os.path.realpath(self.link) == os.path.realpath(self.folder):
                    os.remove(self.link)
            except OSError:
                pass
        os.close(self.fd)  # the file stays: removing it would race with the next job locking it
        self.fd = None


def read_holder(folder: str) -> dict | None:
    """What the lock file of a job folder says about its last holder (not proof that it still runs)."""
    try:
        with open(os.path.join(folder, LOCK_FILE)) as f:
            return json.loads(f.read() or "null")
    except (OSError, ValueError):
        return None


def _flock_holders(path: str) -> set[int] | None:
    """PIDs holding an flock on `path` per /proc/locks; None where the kernel does not list locks."""
    try:
        st = os.stat(path)
        with open("/proc/locks") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    pids = set()
    for line in lines:
        parts = line.split()
        if "->" in parts:
            parts.remove("->")  # a waiter
            continue
        if len(parts) < 6 or parts[1] != "FLOCK":
            continue
        try:
            major, minor, inode = parts[5].split(":")
            if (int(major, 16), int(minor, 16), int(inode)) == (os.major(st.st_dev), os.minor(st.st_dev),
                                                                 st.st_ino):
                pids.add(int(parts[4]))
        except ValueError:
            continue
    return pids


def live_holder(folder: str) -> dict | None:
    """The running job holding `folder`'s lock (its lock file's record), or None if no job holds it.

    The PID is only trusted when the kernel confirms that this very process holds the lock, so a stale lock
    file never sends a signal to an unrelated process that reused the PID.
    """
    path = os.path.join(folder, LOCK_FILE)
    if not os.path.exists(path):
        return None
    who = read_holder(folder)
    if not who or not isinstance(who.get("pid"), int):
        return None
    holders = _flock_holders(path)
    if holders is not None:
        return who if who["pid"] in holders else None
    fd = os.open(path, os.O_RDONLY)  # no lock table to read: a job runs if the lock cannot be taken
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return who
    finally:
        os.close(fd)


def find_job_folders(target: str) -> list[str]:
    """Job folders a savepoint target names: a job folder, a checkpoint dir holding job folders, or a job id."""
    if target.startswith("file://"):
        target = target[len("file://"):]
    if os.path.isdir(target):
        if os.path.exists(os.path.join(target, LOCK_FILE)):
            return [target]
        return sorted(os.path.join(target, d) for d in os.listdir(target)
                      if os.path.exists(os.path.join(target, d, LOCK_FILE)))
    if "://" in target:  # a job folder on an object store: its lock is on this machine, found by the job id
        target = target.rstrip("/").rsplit("/", 1)[-1]
    link = os.path.join(_run_dir(), os.path.basename(target))
    if os.path.basename(target) == target and os.path.isdir(link):
        return [os.path.realpath(link)]
    return []
