"""`sqlstream savepoint JOB|PID`: asks a running `sqlstream run` job for a savepoint and waits for its answer, so a
savepoint that cannot be written is an error here, where it was asked for.

A job is named by its id or its checkpoint folder: the process signalled is the one the kernel shows holding
that folder's lock, never a PID taken on trust. A bare PID is accepted only for a live `sqlstream` process that
answers savepoint requests (a job without a checkpoint folder can be reached no other way)."""
from __future__ import annotations

import os
import signal
import sys
import time

from sqlstream import signals


def resolve_target(target: str) -> int | None:
    """The PID of the one live job `target` names (job id, checkpoint folder, or PID); None after saying why."""
    from sqlstream.runtime.job_lock import find_job_folders, live_holder
    folders = find_job_folders(target)
    if not folders and target.isdigit():
        return int(target)
    live = [(f, who) for f in folders if (who := live_holder(f)) is not None]
    if not live:
        known = f" (job folders there, none running: {', '.join(folders)})" if folders else ""
        sys.stderr.write(f"ERROR: no running sqlstream job at '{target}'{known}; nothing was sent\n")
        return None
    if len(live) > 1:
        sys.stderr.write(f"ERROR: {len(live)} jobs run under '{target}'; name one: "
                         + ", ".join(f for f, _ in live) + "\n")
        return None
    return live[0][1]["pid"]


def request_savepoint(pid: int, stop: bool, timeout: float) -> int:
    events = signals.events_path(pid)
    if not _alive(pid):
        sys.stderr.write(f"ERROR: no process {pid}\n")
        return 1
    if not os.path.exists(events) or not _runs_sqlstream(pid) or not _answers_of(pid, events):
        sys.stderr.write(f"ERROR: process {pid} is not a running `sqlstream run` job (it answers savepoint "
                         f"requests in {events}); nothing was sent\n")
        return 1
    with open(events, encoding="utf-8") as answers:  # kept open: readable even once the process removes it
        answers.seek(0, os.SEEK_END)
        os.kill(pid, signal.SIGUSR2 if stop else signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text += answers.read()
            answer = _answer(text)
            if answer is not None:
                if answer.startswith(signals.SAVEPOINT_WRITTEN):
                    sys.stderr.write(answer + (f"; process {pid} is stopping\n" if stop else "\n"))
                    return 0
                sys.stderr.write(f"ERROR: {answer}" + (f"; process {pid} keeps running\n" if stop else "\n"))
                return 1
            if not _alive(pid):
                text += answers.read()
                if _answer(text) is None:
                    sys.stderr.write(f"ERROR: process {pid} ended before writing the savepoint\n")
                    return 1
                continue
            time.sleep(0.05)
    sys.stderr.write(f"ERROR: no answer from process {pid} after {timeout:g}s; its stderr may say why\n")
    return 1


def _answer(text: str) -> str | None:
    for line in text.splitlines(keepends=True):
        if line.endswith("\n") and line.startswith((signals.SAVEPOINT_WRITTEN, signals.SAVEPOINT_FAILED)):
            return line.rstrip("\n")
    return None


def _runs_sqlstream(pid: int) -> bool:
    """Whether process `pid` runs sqlstream: an answers file left by a killed job must not make a process that
    later got its PID a target. True where the command line cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"sqlstream" in f.read()
    except OSError:
        return not os.path.isdir("/proc")


def _answers_of(pid: int, events: str) -> bool:
    """Whether the answers file was opened by process `pid` itself, not left by a killed job whose PID it got
    later: the file names the start time of the process that opened it. True where start times are unknown."""
    started = signals.process_start(pid)
    try:
        with open(events, encoding="utf-8") as f:
            first = f.readline().split()
    except OSError:
        return False
    if started is None or len(first) != 2 or first[0] != signals.PROCESS_START:
        return True
    return first[1] == started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
