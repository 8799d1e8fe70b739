"""Continuous file discovery ('source.monitor-interval'), as Flink's FileSource monitoring continuously: the path is
listed again once the interval has passed since the last listing, and each file never seen before is read once,
whole, in the order it was discovered (by path within one listing).

The position (in checkpoints and savepoints) is `{"files": [every path discovered, in reading order], "at":
[file index, byte offset, line, rows served]}`: files before the index were read, the one at it is being read
there, the later ones wait. A restore therefore reads no file twice and lists the path again, so a file that
appeared while the job was down is read after it. A position of the unmonitored source (`[file index, ...]` over
the files present) is taken over as those files discovered; the other way, the unmonitored source reads the rest
of the files a monitored position names (`taken_over`)."""
from __future__ import annotations

import time
from typing import Callable

import pyarrow as pa

from sqlstream.connectors.base import SplitReader

WAIT_S = 0.005  # how long a poll that finds nothing new waits (as a broker's poll): the job does not spin idle


class MonitoredPosition:
    """The files discovered so far in reading order and where reading them stands; new ones are appended."""

    def __init__(self, position, listing: Callable[[], list[str]], interval_ms: int,
                 clock: Callable[[], float] = time.monotonic):
        self.listing, self.interval_ms, self.clock = listing, interval_ms, clock
        self.listed_at: float | None = None
        if isinstance(position, dict):
            self.files, self.at = list(position["files"]), list(position["at"])
        elif position:  # the unmonitored source's position, over the files present
            self.files, self.at = listing(), list(position)
        else:
            self.files, self.at = [], [0, 0, 0, 0]
        self.known = set(self.files)

    def discover(self) -> int:
        """List the path if the interval has passed since the last listing (or none was made) and append the paths
        not discovered before; how many were new."""
        now = self.clock()
        if self.listed_at is not None and (now - self.listed_at) * 1000 < self.interval_ms:
            return 0
        self.listed_at = now
        new = [f for f in self.listing() if f not in self.known]
        self.files += new
        self.known.update(new)
        return len(new)

    def state(self) -> dict:
        return {"files": list(self.files), "at": list(self.at)}


def taken_over(position) -> tuple[list[str] | None, list | None]:
    """The files and the position in them an unmonitored reader restores from a position of either form: a monitored
    source's gives the files it had discovered (None: an unmonitored source's, over the files it lists)."""
    if isinstance(position, dict):
        return list(position["files"]), list(position["at"])
    return None, position


class MonitoredFilesReader(SplitReader):
    """Reads the files discovered so far (`open_files(files, at)`: a reader of those files from position `at`),
    then lists the path again every `interval_ms`; it never finishes."""

    paced = True

    def __init__(self, listing: Callable[[], list[str]], open_files: Callable[[list[str], list], SplitReader],
                 interval_ms: int, position=None, clock: Callable[[], float] = time.monotonic):
        self.open_files = open_files
        self.discovered = MonitoredPosition(position, listing, interval_ms, clock)
        self.inner: SplitReader | None = None
        self.finished = False
        self.last_metrics: dict = {}

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        self.discovered.discover()
        while True:
            if self.inner is None:
                if self.discovered.at[0] >= len(self.discovered.files):
                    time.sleep(WAIT_S)
                    return None
                self.inner = self.open_files(list(self.discovered.files), self.discovered.at)
            batch = self.inner.poll(max_rows)
            self.discovered.at = list(self.inner.position())
            if batch is not None and batch.num_rows:
                return batch
            if not self.inner.finished:
                return None
            self.last_metrics = self.inner.metrics()
            self.inner.close()  # read to the end of the files discovered when it opened
            self.inner = None
            self.discovered.at = [self.discovered.at[0], 0, 0, 0]

    def position(self):
        return self.discovered.state()

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
            self.inner = None

    def metrics(self) -> dict:
        return self.inner.metrics() if self.inner is not None else self.last_metrics
