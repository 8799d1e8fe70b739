"""A savepoint asked of a running job (by a signal, `sqlstream savepoint` or STOP JOB .. WITH SAVEPOINT) and its
answer. Kept free of heavy imports: the signal handlers that create requests load it at process start."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

SAVEPOINT_WRITTEN, SAVEPOINT_FAILED = "savepoint written to ", "savepoint failed: "


@dataclass
class SavepointRequest:
    """`stop`: stop the job once the savepoint is written. `done` is set when answered, with `location` or `error`;
    `notify(line)` (optional) is told the answer too, e.g. to write it where `sqlstream savepoint` waits for it."""

    stop: bool = False
    notify: Callable[[str], None] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    location: str | None = None
    error: str | None = None

    def answer(self, location: str | None = None, error: str | None = None) -> None:
        self.location, self.error = location, error
        if self.notify is not None:
            self.notify(SAVEPOINT_WRITTEN + location if location else SAVEPOINT_FAILED + (error or ""))
        self.done.set()
