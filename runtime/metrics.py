"""A running job's metrics, named and meant as Flink's: per operator, per source split and per job.

The job's thread updates plain counters once per batch (never per row) and, at most once a second, `tick()`
samples them for the per-second rates and refreshes the gauges that are costly to read (state size, late rows,
Kafka lag). Readers on other threads (the Prometheus endpoint, a REST API, the status line) call `snapshot()`,
which only reads those values: it never touches operators or connectors.

Interface for readers:
    live_jobs()             the JobMetrics of every job running in this process, oldest first
    JobMetrics.snapshot()   a dict of plain values (ints, floats, str, None):
        job_id, job_name, status, start_time (epoch ms), uptime (ms), numRestarts,
        numberOfCompletedCheckpoints, numberOfFailedCheckpoints, lastCheckpointDuration (ms),
        lastCheckpointSize (bytes), lastCheckpointRestoreTimestamp (epoch ms, -1: never restored),
        lastCheckpointCompletionTimestamp (epoch ms, -1: none yet),
        operators: [{operator_id, operator_name, kind ('source'|'operator'|'sink'), inputs (operator ids),
                     subtask_index, numRecordsIn, numRecordsOut, numRecordsInPerSecond,
                     numRecordsOutPerSecond, currentInputWatermark, currentOutputWatermark (ms; Long.MIN_VALUE
                     before the first), numLateRecordsDropped, busyTimeMsPerSecond,
                     backPressuredTimeMsPerSecond, idleTimeMsPerSecond, stateSizeBytes, stateSizeRows (None where
                     the state cannot tell),
                     own: {name: value} of what the operator counts itself through OperatorContext.metrics}],
        splits: [{operator_id, operator_name, table, split, subtask_index, numRecordsIn, currentWatermark,
                  idle (the split is idle and holds no watermark back), currentEmitEventTimeLag, watermarkLag,
                  pendingRecords, sourceIdleTime (ms; None where not known yet, pendingRecords None where the
                  source cannot tell)}]
"""
from __future__ import annotations

import threading
import time
from collections import deque

from sqlstream.runtime.event_time import MIN_WM

RATE_WINDOW_S = 10.0  # per-second rates and time shares are averaged over this many seconds
TICK_S = 1.0


class _Rate:
    """Per-second rate of a growing total over the last RATE_WINDOW_S (Flink's MeterView, a shorter span)."""

    __slots__ = ("samples",)

    def __init__(self) -> None:
        self.samples: deque = deque()

    def add(self, now: float, total: float) -> None:
        self.samples.append((now, total))
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW_S:
            self.samples.popleft()

    def per_second(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, v0), (t1, v1) = self.samples[0], self.samples[-1]
        return (v1 - v0) / (t1 - t0) if t1 > t0 else 0.0


class OperatorMetrics:
    """One operator (a source, a sink or an operator between them) of subtask 0.

    busy_ns is the time spent in the operator's own calls; backpressured_ns the time its output took
    downstream (it cannot go on meanwhile); the rest of the wall time it was idle, waiting for input.
    """

    __slots__ = ("operator_id", "operator_name", "kind", "inputs", "subtask_index", "records_in", "records_out",
                 "busy_ns", "backpressured_ns", "input_watermark", "output_watermark", "late_dropped",
                 "state_bytes", "state_rows", "own", "_in_rate", "_out_rate", "_busy_rate", "_bp_rate")

    def __init__(self, operator_id: str, operator_name: str, kind: str = "operator", inputs: tuple = ()):
        self.operator_id, self.operator_name, self.kind, self.inputs = operator_id, operator_name, kind, inputs
        self.subtask_index = 0
        self.records_in = self.records_out = 0
        self.busy_ns = self.backpressured_ns = 0
        self.input_watermark = self.output_watermark = MIN_WM
        self.late_dropped = 0
        self.state_bytes = 0
        self.state_rows: int | None = 0  # None: its state cannot tell how many rows it holds
        self.own: dict = {}  # what the operator counts itself (OperatorContext.metrics), by name
        self._in_rate, self._out_rate, self._busy_rate, self._bp_rate = _Rate(), _Rate(), _Rate(), _Rate()

    def sample(self, now: float) -> None:
        self._in_rate.add(now, self.records_in)
        self._out_rate.add(now, self.records_out)
        self._busy_rate.add(now, self.busy_ns)
        self._bp_rate.add(now, self.backpressured_ns)

    def snapshot(self) -> dict:
        busy = min(1000.0, self._busy_rate.per_second() / 1e6)
        bp = min(1000.0 - busy, self._bp_rate.per_second() / 1e6)
        return {"operator_id": self.operator_id, "operator_name": self.operator_name, "kind": self.kind,
                "inputs": list(self.inputs), "subtask_index": self.subtask_index,
                "numRecordsIn": self.records_in, "numRecordsOut": self.records_out,
                "numRecordsInPerSecond": self._in_rate.per_second(),
                "numRecordsOutPerSecond": self._out_rate.per_second(),
                "currentInputWatermark": self.input_watermark, "currentOutputWatermark": self.output_watermark,
                "numLateRecordsDropped": self.late_dropped,
                "busyTimeMsPerSecond": busy, "backPressuredTimeMsPerSecond": bp,
                "idleTimeMsPerSecond": 1000.0 - busy - bp,
                "stateSizeBytes": self.state_bytes, "stateSizeRows": self.state_rows, "own": dict(self.own)}


class SplitMetrics:
    """One source split (a Kafka partition, a file): FLIP-33's source metrics, per split."""

    __slots__ = ("operator_id", "operator_name", "table", "split", "subtask_index", "records_in", "last_record_at",
                 "emitted_at_ms", "event_time_ms", "watermark", "pending", "idle")

    def __init__(self, operator_id: str, operator_name: str, table: str, split: str):
        self.operator_id, self.operator_name, self.table, self.split = operator_id, operator_name, table, split
        self.subtask_index = 0
        self.records_in = 0
        self.last_record_at: float | None = None  # monotonic time of the newest batch read
        self.emitted_at_ms: int | None = None  # wall time the newest batch was emitted, and the event time of its
        self.event_time_ms: int | None = None  # last row (what currentEmitEventTimeLag compares)
        self.watermark = MIN_WM
        self.pending: int | None = None
        self.idle = False  # marked idle (scan.watermark.idle-timeout): it does not hold the watermark back

    def snapshot(self, now: float, now_ms: int) -> dict:
        lag = None
        if self.emitted_at_ms is not None and self.event_time_ms is not None:
            lag = self.emitted_at_ms - self.event_time_ms
        return {"operator_id": self.operator_id, "operator_name": self.operator_name, "table": self.table,
                "split": self.split, "subtask_index": self.subtask_index, "numRecordsIn": self.records_in,
                "currentWatermark": self.watermark, "idle": self.idle, "currentEmitEventTimeLag": lag,
                "watermarkLag": now_ms - self.watermark if self.watermark != MIN_WM else None,
                "pendingRecords": self.pending,
                "sourceIdleTime": int((now - self.last_record_at) * 1000) if self.last_record_at is not None
                else None}


class JobMetrics:
    """The metrics of one job across its restarts: the job-level values survive an attempt, the operators' and
    splits' are those of the current attempt (as Flink redeploys tasks on a restart)."""

    def __init__(self, job_id: str, job_name: str):
        self.job_id, self.job_name = job_id, job_name
        self.status = "RUNNING"
        self.start_time_ms = int(time.time() * 1000)
        self._started = time.monotonic()
        self.restarts = 0
        self.completed_checkpoints = self.failed_checkpoints = 0
        self.last_checkpoint_duration = self.last_checkpoint_size = 0
        self.last_checkpoint_completed_ms = -1
        self.last_restore_ms = -1
        self.operators: dict[str, OperatorMetrics] = {}
        self.splits: list[SplitMetrics] = []
        self._last_tick = 0.0

    # ---- updated by the job's thread ----------------------------------------------------------
    def new_attempt(self) -> None:
        """A (re)started attempt registers its operators and splits afresh."""
        self.operators, self.splits = {}, []
        self._last_tick = 0.0

    def operator(self, operator_id: str, operator_name: str, kind: str = "operator",
                 inputs: tuple = ()) -> OperatorMetrics:
        m = self.operators.get(operator_id)
        if m is None:
            m = self.operators[operator_id] = OperatorMetrics(operator_id, operator_name, kind, tuple(inputs))
        return m

    def split(self, operator_id: str, operator_name: str, table: str, split: str) -> SplitMetrics:
        m = SplitMetrics(operator_id, operator_name, table, split)
        self.splits.append(m)
        return m

    def due(self, now: float) -> bool:
        """Whether a tick is due (at most one a second: refreshing gauges costs more than counting)."""
        return now - self._last_tick >= TICK_S

    def tick(self, now: float) -> None:
        self._last_tick = now
        for m in list(self.operators.values()):
            m.sample(now)

    def checkpoint_completed(self, duration_ms: int, size_bytes: int) -> None:
        self.completed_checkpoints += 1
        self.last_checkpoint_duration, self.last_checkpoint_size = duration_ms, size_bytes
        self.last_checkpoint_completed_ms = int(time.time() * 1000)

    def checkpoint_failed(self) -> None:
        self.failed_checkpoints += 1

    def restored(self) -> None:
        self.last_restore_ms = int(time.time() * 1000)

    # ---- read from any thread ------------------------------------------------------------------
    def snapshot(self) -> dict:
        now, now_ms = time.monotonic(), int(time.time() * 1000)
        return {"job_id": self.job_id, "job_name": self.job_name, "status": self.status,
                "start_time": self.start_time_ms, "uptime": int((now - self._started) * 1000),
                "numRestarts": self.restarts,
                "numberOfCompletedCheckpoints": self.completed_checkpoints,
                "numberOfFailedCheckpoints": self.failed_checkpoints,
                "lastCheckpointDuration": self.last_checkpoint_duration,
                "lastCheckpointSize": self.last_checkpoint_size,
                "lastCheckpointCompletionTimestamp": self.last_checkpoint_completed_ms,
                "lastCheckpointRestoreTimestamp": self.last_restore_ms,
                "operators": sorted((m.snapshot() for m in list(self.operators.values())),
                                    key=lambda o: o["operator_id"]),
                "splits": [s.snapshot(now, now_ms) for s in list(self.splits)]}


_LIVE: list[JobMetrics] = []
_LOCK = threading.Lock()


def register(job: JobMetrics) -> None:
    """Make a job's metrics visible to readers (live_jobs) until `unregister`."""
    with _LOCK:
        if not any(j is job for j in _LIVE):
            _LIVE.append(job)


def unregister(job: JobMetrics) -> None:
    with _LOCK:
        _LIVE[:] = [j for j in _LIVE if j is not job]


def live_jobs() -> list[JobMetrics]:
    with _LOCK:
        return list(_LIVE)


__all__ = ["JobMetrics", "OperatorMetrics", "SplitMetrics", "live_jobs", "register", "unregister", "MIN_WM"]
