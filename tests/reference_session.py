"""Reference: SESSION window aggregation one row at a time, as runtime/operators/session_window_aggregate.py must
behave (that column-wise operator is checked against this one on random inputs). Flink's merging windows: a row
at t opens [t, t + gap) and merges every open session of its partition that is still open at the row's watermark
(end - 1 > watermark) and intersects it (touching counts); one that merges nothing and whose own window is
behind the watermark is late and dropped. A watermark fires every session with end - 1 <= watermark: its rows
aggregate per (window_start, window_end, group key), groups in order of window end, then of first arrival.

Rows are tuples (partition key, group key, value, rowtime ms); the aggregates are COUNT(*), SUM(value) and
MAX(value)."""
from __future__ import annotations

import datetime


class _Session:
    def __init__(self, start: int, end: int):
        self.start, self.end = start, end
        self.rows: list[tuple[int, tuple]] = []  # (arrival number, row)


class SessionReference:
    def __init__(self, gap: int):
        self.gap = gap
        self.open: dict[object, list[_Session]] = {}
        self.seq = 0
        self.late = 0

    def row(self, row: tuple, watermark: int) -> None:
        """One row, with the watermark in force before it."""
        part, t = row[0], row[3]
        lo, hi = t, t + self.gap
        live = self.open.setdefault(part, [])
        merged = [s for s in live if s.end - 1 > watermark and s.start <= hi and lo <= s.end]
        seq, self.seq = self.seq, self.seq + 1
        if not merged:
            if hi - 1 <= watermark:
                self.late += 1
                return
            merged = [_Session(lo, hi)]
            live.append(merged[0])
        target = merged[0]
        target.start, target.end = min(target.start, lo), max(target.end, hi)
        for other in merged[1:]:
            target.start, target.end = min(target.start, other.start), max(target.end, other.end)
            target.rows += other.rows
            live.remove(other)
        target.rows.append((seq, row))

    def watermark(self, wm: int) -> list[dict]:
        """The rows of the sessions this watermark fires."""
        groups: dict[tuple, list[tuple[int, tuple]]] = {}
        for part, live in self.open.items():
            for s in [s for s in live if s.end - 1 <= wm]:
                live.remove(s)
                for seq, row in s.rows:
                    groups.setdefault((s.start, s.end, row[1]), []).append((seq, row))
        out = []
        for (start, end, key), rows in sorted(groups.items(), key=lambda g: (g[0][1], min(r[0] for r in g[1]))):
            values = [r[2] for _, r in rows if r[2] is not None]
            out.append({"k": key, "window_start": _ts(start), "window_end": _ts(end), "window_time": _ts(end - 1),
                        "c": len(rows), "s": sum(values) if values else None, "m": max(values, default=None)})
        return out


def _ts(ms: int) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
