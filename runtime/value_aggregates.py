"""Aggregates that keep the values they aggregate, so that a retraction can take one back exactly.

MIN, MAX and COUNT(DISTINCT) keep a count per distinct value (as Flink's MaxWithRetractAggFunction and its
distinct views do): the result is the extreme, or the number, of the values whose count is positive.
FIRST_VALUE, LAST_VALUE and LISTAGG keep every occurrence in arrival order; a retraction removes the oldest
occurrence of an equal value (as Flink's FirstValueWithRetract, LastValueWithRetract and ListAggWsWithRetract
do), and NULLs are skipped.

Rows are applied one at a time in arrival order within each group (the order decides the result), so `before`
of a row is exactly `after` of the row before it.
"""
from __future__ import annotations

import bisect
from collections import deque

import numpy as np
import pyarrow as pa

COUNTED = ("MIN", "MAX", "COUNT")
ORDERED = ("FIRST_VALUE", "LAST_VALUE", "LISTAGG")


class _Counted:
    """One group's values: value -> count, and the values with a positive count, sorted."""
    __slots__ = ("counts", "present")

    def __init__(self):
        self.counts: dict = {}
        self.present: list = []

    def add(self, v, _sep=None) -> None:
        c = self.counts.get(v, 0) + 1
        if c == 0:
            del self.counts[v]
            return
        self.counts[v] = c
        if c == 1:
            bisect.insort(self.present, v)

    def remove(self, v, _sep=None) -> None:
        c = self.counts.get(v, 0) - 1
        if c == 0:
            del self.counts[v]
            del self.present[bisect.bisect_left(self.present, v)]
        else:
            self.counts[v] = c  # a negative count waits for the row it retracts, as in Flink


class _Ordered:
    """One group's values in arrival order (arrival number -> value) and, per value, its arrival numbers."""
    __slots__ = ("values", "seqs", "sep")

    def __init__(self):
        self.values: dict[int, object] = {}
        self.seqs: dict[object, deque] = {}
        self.sep = ","

    def add(self, v, sep, seq: int) -> None:
        self.values[seq] = v
        seqs = self.seqs.get(v)
        if seqs is None:
            self.seqs[v] = deque((seq,))
        else:
            seqs.append(seq)
        if sep is not None:
            self.sep = sep

    def remove(self, v, sep) -> None:
        if sep is not None:
            self.sep = sep
        seqs = self.seqs.get(v)
        if not seqs:
            return
        del self.values[seqs.popleft()]
        if not seqs:
            del self.seqs[v]


def _count(grp):
    return len(grp.present) if grp is not None else 0


def _min(grp):
    return grp.present[0] if grp is not None and grp.present else None


def _max(grp):
    return grp.present[-1] if grp is not None and grp.present else None


def _first(grp):
    return next(iter(grp.values.values())) if grp is not None and grp.values else None


def _last(grp):
    return next(reversed(grp.values.values())) if grp is not None and grp.values else None


def _listagg(grp):
    return grp.sep.join(grp.values.values()) if grp is not None and grp.values else None


_RESULT = {"COUNT": _count, "MIN": _min, "MAX": _max, "FIRST_VALUE": _first, "LAST_VALUE": _last,
           "LISTAGG": _listagg}


class ValueAggregate:
    """The groups' kept values for one aggregate call, by group id."""

    def __init__(self, fn: str):
        self.fn = fn
        self.groups: dict[int, _Counted | _Ordered] = {}
        self.seq = 0  # arrival number of the next occurrence (FIRST_VALUE, LAST_VALUE, LISTAGG)

    def _new(self):
        return _Counted() if self.fn in COUNTED else _Ordered()

    def result(self, grp):
        """The aggregate's value for one group's kept values (None: no group)."""
        return _RESULT[self.fn](grp)

    def run(self, sg: np.ndarray, signs: np.ndarray, values: list, seps: list | None, fresh: np.ndarray) -> \
            tuple[list, list]:
        """(after, before) results of each row, rows sorted by group id in arrival order within a group;
        `fresh` marks rows that start a group with no kept values (new, or emptied earlier)."""
        after, before = [], []
        ordered = self.fn in ORDERED
        groups, result = self.groups, _RESULT[self.fn]
        starts = np.r_[True, sg[1:] != sg[:-1]] | fresh if len(sg) else fresh
        grp, current = None, None
        for k, (g, sign, v, start) in enumerate(zip(sg.tolist(), signs.tolist(), values, starts.tolist())):
            if start:
                if fresh[k]:
                    groups.pop(g, None)
                grp = groups.get(g)
                current = result(grp)
            before.append(current)
            if v is not None:
                if grp is None:
                    grp = groups[g] = self._new()
                if ordered:
                    sep = seps[k] if seps is not None else None
                    if sign > 0:
                        grp.add(v, sep, self.seq)
                        self.seq += 1
                    else:
                        grp.remove(v, sep)
                elif sign > 0:
                    grp.add(v)
                else:
                    grp.remove(v)
                current = result(grp)
            after.append(current)
        return after, before

    def grow(self, size: int) -> None:
        pass

    def clear(self, gids: np.ndarray) -> None:
        for g in gids.tolist():
            self.groups.pop(g, None)

    def size_bytes(self) -> int:
        if self.fn in COUNTED:
            return sum(64 * len(grp.counts) for grp in self.groups.values())
        return sum(96 * len(grp.values) for grp in self.groups.values())

    # ---- state: one row per live group ------------------------------------------------------
    def snapshot_columns(self, live: np.ndarray, value_type: pa.DataType, prefix: str) -> dict[str, pa.Array]:
        grps = [self.groups.get(g) for g in live.tolist()]
        if self.fn in COUNTED:
            vals = [list(grp.counts) if grp else [] for grp in grps]
            nums = [list(grp.counts.values()) if grp else [] for grp in grps]
            return {f"{prefix}_values": pa.array(vals, pa.list_(value_type)),
                    f"{prefix}_counts": pa.array(nums, pa.list_(pa.int64()))}
        return {f"{prefix}_values": pa.array([list(grp.values.values()) if grp else [] for grp in grps],
                                             pa.list_(value_type)),
                f"{prefix}_seqs": pa.array([list(grp.values) if grp else [] for grp in grps], pa.list_(pa.int64())),
                f"{prefix}_sep": pa.array([grp.sep if grp else "," for grp in grps], pa.string())}

    def restore_columns(self, table: pa.Table, prefix: str) -> None:
        self.groups = {}
        values = table.column(f"{prefix}_values").to_pylist()
        if self.fn in COUNTED:
            for g, (vals, nums) in enumerate(zip(values, table.column(f"{prefix}_counts").to_pylist())):
                if vals:
                    grp = self.groups[g] = _Counted()
                    grp.counts = dict(zip(vals, nums))
                    grp.present = sorted(v for v, c in grp.counts.items() if c > 0)
            return
        seqs = table.column(f"{prefix}_seqs").to_pylist()
        for g, (vals, ss, sep) in enumerate(zip(values, seqs, table.column(f"{prefix}_sep").to_pylist())):
            if vals:
                grp = self.groups[g] = _Ordered()
                grp.sep = sep
                for v, s in zip(vals, ss):
                    grp.add(v, None, s)
                self.seq = max(self.seq, ss[-1] + 1)
