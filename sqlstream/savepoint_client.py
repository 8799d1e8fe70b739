"""`sqlstream savepoint PID`: asks a running `sqlstream run` process for a savepoint and waits for its answer, so a
savepoint that cannot be written is an error here, where it was asked for."""
from __future__ import annotations

import os
import signal
import sys
import time

from sqlstream import signals


def request_savepoint(pid: int, stop: bool, timeout: float) -> int:
    events = signals.events_path(pid)
    if not _alive(pid):
        sys.stderr.write(f"ERROR: no process {pid}\n")
        return 1
    if not os.path.exists(events):
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
