"""A live one-line view of a running `sqlstream run` job on its terminal (stderr, only when it is a TTY):
rows in and out with their rates, the event-time watermark, late rows, the last checkpoint, Kafka lag, and
which source split holds the watermark back.

The line is redrawn in place at most every REDRAW_S; anything else written to stderr meanwhile (a warning, a
log record) first clears it, so it never mixes with other output."""
from __future__ import annotations

import os
import time
from typing import TextIO

from sqlstream.core.formatting import epoch_ms_text
from sqlstream.runtime.event_time import MAX_WM, MIN_WM

REDRAW_S = 0.5
HELD_S = 2.0  # a split at the minimum watermark that sent nothing for this long is named as holding it back
CLEAR = "\r\x1b[K"


class StatusLine:
    """Wraps the job's stderr: `show(job)` redraws the status, every other write clears it first."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.shown = False
        self.drawn_at = 0.0

    def write(self, text: str) -> int:
        self.clear()
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def clear(self) -> None:
        if self.shown:
            self.stream.write(CLEAR)
            self.shown = False

    def show(self, job, force: bool = False) -> None:
        """Redraw the line for a running job (an executor Job), at most every REDRAW_S unless forced."""
        now = time.monotonic()
        if not force and now - self.drawn_at < REDRAW_S:
            return
        self.drawn_at = now
        width = _columns(self.stream) - 1
        text = status_text(job)
        if len(text) > width:  # a wrapped line could not be redrawn in place
            text = text[:max(0, width - 1)] + "…"
        self.stream.write(CLEAR + text)
        self.stream.flush()
        self.shown = True


def status_text(job) -> str:
    """rows in/out and rates, watermark, late rows, last checkpoint, Kafka lag, a split holding the watermark."""
    snap = job.metrics.snapshot()
    ops = snap["operators"]
    rate_in = sum(o["numRecordsOutPerSecond"] for o in ops if o["kind"] == "source")
    rate_out = sum(o["numRecordsInPerSecond"] for o in ops if o["kind"] == "sink")
    parts = [f"in {job.stats.rows_in:,} ({_rate(rate_in)})", f"out {job.stats.rows_out:,} ({_rate(rate_out)})"]
    marks = [o["currentOutputWatermark"] for o in ops if o["operator_name"] == "WatermarkAssigner"]
    if marks:
        wm = min(marks)
        parts.append("watermark " + (epoch_ms_text(wm) if MIN_WM < wm < MAX_WM else
                                     "none yet" if wm == MIN_WM else "end of input"))
    late = sum(o["numLateRecordsDropped"] for o in ops)
    if late or marks:
        parts.append(f"late {late:,}")
    if snap["numberOfCompletedCheckpoints"] or snap["numberOfFailedCheckpoints"]:
        when = time.strftime("%H:%M:%S", time.localtime(snap["lastCheckpointCompletionTimestamp"] / 1000)) \
            if snap["lastCheckpointCompletionTimestamp"] > 0 else "-"
        text = f"checkpoints {snap['numberOfCompletedCheckpoints']} (last {when}, " \
               f"{snap['lastCheckpointDuration']} ms)"
        if snap["numberOfFailedCheckpoints"]:
            text += f", {snap['numberOfFailedCheckpoints']} failed"
        parts.append(text)
    pending = [s["pendingRecords"] for s in snap["splits"] if s["pendingRecords"] is not None]
    if pending:
        parts.append(f"kafka lag {sum(pending):,}")
    held = [(split, silent) for _, split, _, silent in job.held_back() if silent >= HELD_S]
    if held and marks:
        split, silent = max(held, key=lambda h: h[1])
        parts.append(f"split {split} holds the watermark back ({silent:.0f}s without data: "
                     f"'scan.watermark.idle-timeout')")
    return " | ".join(parts)


def _columns(stream) -> int:
    """The terminal's width (the line must not wrap, or it could not be redrawn in place)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 100
    except (AttributeError, OSError, ValueError):
        return 100


def _rate(per_second: float) -> str:
    if per_second >= 1e6:
        return f"{per_second / 1e6:.1f}M/s"
    if per_second >= 1e4:
        return f"{per_second / 1e3:.0f}k/s"
    return f"{per_second:,.0f}/s"


__all__ = ["StatusLine", "status_text"]
