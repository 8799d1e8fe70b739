"""Signals to a `sqlstream run` process: SIGTERM and SIGINT stop the job (with a savepoint when checkpoints are
configured), SIGUSR1 asks for a savepoint, SIGUSR2 for a savepoint and then a stop.

The handlers are installed before anything else in the process, so a signal that arrives while the job is still
starting is kept until the job listens, never fatal. The process answers savepoint requests in an events file
(one line each) that `sqlstream savepoint PID` waits on, so the command can say whether the savepoint was written.
"""
from __future__ import annotations

import atexit
import os
import signal
import tempfile

from sqlstream.runtime.savepoint import SAVEPOINT_FAILED, SAVEPOINT_WRITTEN  # noqa: F401 (the answers' words)

STOP, SAVEPOINT, SAVEPOINT_AND_STOP = "stop", "savepoint", "savepoint-and-stop"
SIGNALS = {"SIGTERM": STOP, "SIGINT": STOP, "SIGUSR1": SAVEPOINT, "SIGUSR2": SAVEPOINT_AND_STOP}

_pending: list[str] = []
_listener = None


def install() -> dict:
    """Route the signals above to the listener (kept for it until one listens); the previous handlers, to put
    back. Outside the main thread nothing is installed (the caller stops its job itself)."""
    previous = {}
    for name, what in SIGNALS.items():
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            previous[sig] = signal.signal(sig, lambda signum, frame, what=what: _deliver(what))
        except ValueError:
            return {}
    _open_events_file()
    return previous


def restore(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def listen(callback) -> None:
    """Deliver requests to `callback(what)`, first those received before anyone listened."""
    global _listener
    _listener = callback
    while _pending:
        callback(_pending.pop(0))


def unlisten() -> None:
    global _listener
    _listener = None


def _deliver(what: str) -> None:
    if _listener is None:
        _pending.append(what)
    else:
        _listener(what)


PROCESS_START = "process-start"


def process_start(pid: int) -> str | None:
    """When process `pid` started, in the kernel's clock ticks since boot (/proc); None where unknown. Two
    processes that got the same PID one after the other never share it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return fields[19].decode() if len(fields) > 19 else None


def events_path(pid: int) -> str:
    """Where process `pid` answers savepoint requests."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"sqlstream-{uid}", f"{pid}.events")


_events_file: str | None = None


def _open_events_file() -> None:
    global _events_file
    if _events_file is not None:
        return
    path = events_path(os.getpid())
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{PROCESS_START} {process_start(os.getpid())}\n")
    except OSError:
        return
    _events_file = path
    atexit.register(_remove_events_file)


def _remove_events_file() -> None:
    try:
        os.remove(_events_file)
    except OSError:
        pass


def announce(line: str) -> None:
    """Append an answer to a savepoint request to this process's events file."""
    if _events_file is None:
        return
    try:
        with open(_events_file, "a", encoding="utf-8") as f:
            f.write(line.replace("\n", " ") + "\n")
    except OSError:
        pass
