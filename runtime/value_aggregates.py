"""Aggregates that keep the values they aggregate, so that a retraction can take one back exactly.

MIN, MAX and COUNT(DISTINCT) keep a count per distinct value (as Flink's MaxWithRetractAggFunction and its
distinct views do): the result is the extreme, or the number, of the values whose count is positive.
FIRST_VALUE, LAST_VALUE and LISTAGG keep every occurrence in arrival order; a retraction removes the oldest
occurrence of an equal value (as Flink's FirstValueWithRetract, LastValueWithRetract and ListAggWsWithRetract
do), and NULLs are skipped.

Rows are applied one at a time in arrival order within each group (the order decides the result), so `before`
of a row is exactly `after` of the row before it.

Over an insert-only input FIRST_VALUE, LAST_VALUE and LISTAGG need no values kept: `Appended` keeps only each
group's current result.
"""
from __future__ import annotations

import bisect
from collections import deque

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.plan.logical import AggCall
from sqlstream.functions.arrow import hashable
from sqlstream.runtime.accumulators import Accumulator
from sqlstream.runtime.numeric_aggregates import Segments, preceding, seg_accumulate

_VALID = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)

COUNTED = ("MIN", "MAX", "COUNT")
ORDERED = ("FIRST_VALUE", "LAST_VALUE", "LISTAGG")


def _order_of(v):
    """How kept values are sorted: an ARRAY, MAP or ROW value (a tuple, which may hold NULLs) by its text."""
    return repr if isinstance(v, tuple) else None


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
            bisect.insort(self.present, v, key=_order_of(v))

    def remove(self, v, _sep=None) -> None:
        c = self.counts.get(v, 0) - 1
        if c == 0:
            del self.counts[v]
            key = _order_of(v)
            del self.present[bisect.bisect_left(self.present, v if key is None else key(v), key=key)]
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


class ValueAggregate(Accumulator):
    """The groups' kept values for one aggregate call, by group id."""

    def __init__(self, fn: str, call: AggCall | None = None, value_type: pa.DataType | None = None):
        self.fn, self.call, self.value_type = fn, call, value_type
        self.groups: dict[int, _Counted | _Ordered] = {}
        self.seq = 0  # arrival number of the next occurrence (FIRST_VALUE, LAST_VALUE, LISTAGG)
        self.state_names = ("values", "counts") if fn in COUNTED else ("values", "seqs", "sep")

    # ---- the accumulator interface ----------------------------------------------------------------
    def running(self, args, group_ids, signs, fresh):
        """args: the (FILTERed) values and, for LISTAGG, the separators."""
        values = args[0].to_pylist()
        if pa.types.is_nested(args[0].type):  # ARRAY, MAP and ROW values kept as tuples (dictionary keys)
            values = [hashable(v) for v in values]
        seps = args[1].to_pylist() if self.fn == "LISTAGG" and len(args) > 1 else None
        after, before = self.run(group_ids, signs, values, seps, fresh)
        t = self.call.type.to_arrow()
        return pa.array(after, t), pa.array(before, t)

    def apply(self, args, group_ids, signs):
        order = np.argsort(group_ids, kind="stable")
        self.running([a.take(pa.array(order)) for a in args], group_ids[order], signs[order],
                     np.zeros(len(order), bool))

    def evaluate(self, group_ids):
        return pa.array([self.result(self.groups.get(g)) for g in group_ids.tolist()], self.call.type.to_arrow())

    def state(self, group_ids):
        cols = self.snapshot_columns(group_ids, self.value_type, "")
        return [cols[f"_{name}"] for name in self.state_names]

    def merge(self, states, group_ids):
        if any(g in self.groups for g in group_ids.tolist()):
            raise ExecutionError(f"{self.fn} kept values cannot be merged into a group that has values")
        table = pa.table({f"_{name}": col for name, col in zip(self.state_names, states)})
        kept, self.groups = self.groups, {}
        self.restore_columns(table, "")
        kept.update({int(group_ids[g]): grp for g, grp in self.groups.items()})
        self.groups = kept

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
        if pa.types.is_nested(table.column(f"{prefix}_values").type.value_type):
            values = [[hashable(v) for v in vals] if vals else vals for vals in values]
        if self.fn in COUNTED:
            for g, (vals, nums) in enumerate(zip(values, table.column(f"{prefix}_counts").to_pylist())):
                if vals:
                    grp = self.groups[g] = _Counted()
                    grp.counts = dict(zip(vals, nums))
                    grp.present = sorted((v for v, c in grp.counts.items() if c > 0),
                                         key=_order_of(vals[0]))
            return
        seqs = table.column(f"{prefix}_seqs").to_pylist()
        for g, (vals, ss, sep) in enumerate(zip(values, seqs, table.column(f"{prefix}_sep").to_pylist())):
            if vals:
                grp = self.groups[g] = _Ordered()
                grp.sep = sep
                for v, s in zip(vals, ss):
                    grp.add(v, None, s)
                self.seq = max(self.seq, ss[-1] + 1)


class Appended(Accumulator):
    """FIRST_VALUE, LAST_VALUE and LISTAGG over an insert-only input (NULLs skipped): a group keeps only its
    current result. FIRST/LAST_VALUE pick the row by a segmented running min/max of row positions; LISTAGG
    appends each row's value (and the separator) to the result."""

    state_names = ("ext", "ext_valid")
    retractable = False

    def __init__(self, call: AggCall, arg_types: list[pa.DataType]):
        self.call = call
        self.result_type = call.type.to_arrow()
        self.ext = np.zeros(0, dtype=object)
        self.ext_valid = np.zeros(0, dtype=bool)

    def grow(self, size: int) -> None:
        if len(self.ext) >= size:
            return
        new = max(size, 2 * len(self.ext), 64)
        ext = np.full(new, None, dtype=object)
        ext[:len(self.ext)] = self.ext
        valid = np.zeros(new, dtype=bool)
        valid[:len(self.ext_valid)] = self.ext_valid
        self.ext, self.ext_valid = ext, valid

    def clear(self, group_ids):
        if len(group_ids):
            self.grow(int(group_ids.max()) + 1)
        self.ext_valid[group_ids] = False

    def size_bytes(self) -> int:
        return self.ext.nbytes + self.ext_valid.nbytes

    def running(self, args, group_ids, signs, fresh):
        if len(group_ids):
            self.grow(int(group_ids.max()) + 1)
        seg = Segments(group_ids, fresh)
        vs = args[0]
        seed_ok = seg.seeded & self.ext_valid[group_ids]  # segments that start from the group's kept result
        if self.call.fn == "LISTAGG":
            return self._listagg(vs, args[1] if len(args) > 1 else None, seg, seed_ok)
        n = len(group_ids)
        ok = np.asarray(pc.is_valid(vs).to_numpy(zero_copy_only=False), dtype=bool)
        pos = np.arange(n, dtype=np.int64)
        first, sub_first, sg = seg.first, seg.sub_first, group_ids
        if self.call.fn == "FIRST_VALUE":
            # the first valid row of the segment, unless the kept result comes first
            none = np.int64(n)
            run = seg_accumulate(np.minimum, np.where(ok, pos, none), sub_first,
                                 np.where(seed_ok, np.int64(-1), none), none)
        else:
            none = np.int64(-2)
            run = seg_accumulate(np.maximum, np.where(ok, pos, none), sub_first,
                                 np.where(seed_ok, np.int64(-1), none), none)
        prev = preceding(run, first, np.where(seed_ok, np.int64(-1), none))
        # position -1 means the kept result: index n + (the row's segment start) in the pool below
        t = self.result_type
        seeds = pa.array([self.ext[g] if okay else None for g, okay in zip(sg[first].tolist(),
                                                                           seed_ok[first].tolist())], t)
        seed_slot = np.cumsum(first) - 1
        pool = pa.concat_arrays([vs.cast(t), seeds])

        def pick(r):
            idx = np.where(r == -1, n + seed_slot, r)
            missing = r == none
            return pool.take(pa.array(np.where(missing, 0, idx), mask=missing))
        after, before = pick(run), pick(prev)
        kept = after.filter(pa.array(seg.last)).to_pylist()
        g = sg[seg.last]
        self.ext[g] = np.array(kept + [None], dtype=object)[:-1]
        self.ext_valid[g] = [v is not None for v in kept]
        return after, before

    # ---- a window's rows, through Arrow's hash aggregation ----------------------------------------
    def window_inputs(self, args, n):
        cols = {"": args[0]}
        if self.call.fn == "LISTAGG" and len(args) > 1:  # the separator: the group's last row with a value's
            cols["_sep"] = pc.if_else(pc.is_valid(args[0]), args[1], pa.scalar(None, args[1].type))
        return cols

    def window_specs(self, c):
        fn = self.call.fn
        if fn == "LISTAGG":
            return [(c, "list")] + ([(f"{c}_sep", "last", _VALID)] if len(self.call.args) > 1 else [])
        return [(c, "first" if fn == "FIRST_VALUE" else "last", _VALID)]

    def window_state_columns(self, c):
        fn = self.call.fn
        if fn == "LISTAGG":
            return [f"{c}_list"] + ([f"{c}_sep_last"] if len(self.call.args) > 1 else [])
        return [f"{c}_{'first' if fn == 'FIRST_VALUE' else 'last'}"]

    def finish(self, states):
        states = [x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in states]
        if self.call.fn != "LISTAGG":
            return pc.cast(states[0], self.result_type)
        lists = states[0].to_pylist()
        seps = states[1].to_pylist() if len(states) > 1 else [","] * len(lists)
        return pa.array([(sep if sep is not None else ",").join(x for x in v if x is not None)
                         if v and any(x is not None for x in v) else None
                         for v, sep in zip(lists, seps)], self.result_type)

    def apply(self, args, group_ids, signs):
        if (signs < 0).any():
            raise ExecutionError(f"{self.call.fn} of an insert-only aggregation cannot take a row back")
        order = np.argsort(group_ids, kind="stable")
        take = pa.array(order)
        self.running([a.take(take) for a in args], group_ids[order], signs[order], np.zeros(len(order), bool))

    def _listagg(self, vs, seps, seg, seed_ok):
        seps = seps.to_pylist() if seps is not None else None
        after, before = [], []
        cur = None
        n = len(seg.sg)
        for k, (v, g) in enumerate(zip(vs.to_pylist(), seg.sg.tolist())):
            if seg.sub_first[k]:
                cur = self.ext[g] if seed_ok[k] else None
            before.append(cur)
            if v is not None:
                cur = v if cur is None else cur + (seps[k] if seps is not None and seps[k] is not None else ",") + v
            after.append(cur)
            if k + 1 == n or seg.first[k + 1]:
                self.ext[g], self.ext_valid[g] = cur, cur is not None
        return pa.array(after, self.result_type), pa.array(before, self.result_type)

    def evaluate(self, group_ids):
        self.grow(int(group_ids.max()) + 1 if len(group_ids) else 0)
        return pa.array([v if ok else None for v, ok in zip(self.ext[group_ids], self.ext_valid[group_ids])],
                        self.result_type)

    def state(self, group_ids):
        self.grow(int(group_ids.max()) + 1 if len(group_ids) else 0)
        return [pa.array(list(self.ext[group_ids])), pa.array(self.ext_valid[group_ids])]

    def merge(self, states, group_ids):
        if len(group_ids):
            self.grow(int(group_ids.max()) + 1)
        values = states[0].to_pylist()
        valid = np.asarray(states[1].to_numpy(zero_copy_only=False), dtype=bool)
        for g, v, ok in zip(group_ids.tolist(), values, valid.tolist()):
            if ok and not self.ext_valid[g]:
                self.ext[g], self.ext_valid[g] = v, True
