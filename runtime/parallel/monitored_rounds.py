"""Rounds of a monitored filesystem source ('source.monitor-interval') divided among source subtasks: the job's
process lists the path (`connectors/file_monitor.py`: once the interval has passed since the last listing) and
cuts the files discovered so far into rounds of blocks as `FileRounds` cuts a folder's files, subtask j of N reading
the j-th block of each round; every subtask so reads a share of each file, in parallelism 1's order, and the
position is parallelism 1's reader's (`{"files": ..., "at": ...}`), so a job restores at either parallelism. With
nothing new to read a round is not asked for: the source never ends."""
from __future__ import annotations

import os
import time
from typing import Callable

from sqlstream.connectors.file_monitor import WAIT_S, MonitoredPosition
from sqlstream.runtime.parallel.rounds import FileRounds


class MonitoredFileRounds:
    unbounded = True  # no round now is not the end of the source

    def __init__(self, listing: Callable[[], list[str]], interval_ms: int, batch_rows: int, pieces: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.listing, self.interval_ms, self.clock = listing, interval_ms, clock
        self.batch_rows, self.pieces = batch_rows, pieces
        self.restore(None)

    def restore(self, position) -> None:
        self.discovered = MonitoredPosition(position, self.listing, self.interval_ms, self.clock)
        self.rounds = FileRounds([], self.batch_rows, self.pieces)
        self._extend()
        self.rounds.restore(self.discovered.at)

    def _extend(self) -> None:
        """The rounds run on into the files discovered since they were last extended."""
        for path in self.discovered.files[len(self.rounds.files):]:
            self.rounds.files.append(path)
            self.rounds.sizes.append(os.path.getsize(path))

    def next_round(self) -> tuple | None:
        if self.discovered.discover():
            self._extend()
        request = self.rounds.next_round()
        if request is None:
            time.sleep(WAIT_S)  # nothing new: the job does not spin idle
        return request

    def merged_round(self, request: tuple, replies: list[dict]) -> int:
        rows = self.rounds.merged_round(request, replies)
        self.discovered.at = self.rounds.position()
        return rows

    def position(self):
        return self.discovered.state()
