"""Non-windowed GROUP BY with Flink's per-record changelog: +I for a new group, -U/+U when its result
changes (nothing when it does not), -D when its last row is retracted.

Rows are processed as Flink does, one at a time in arrival order, but computed for a whole batch at once:
rows are sorted by group, accumulators are running (segmented) sums/extrema seeded with the group's state,
and each row's before/after result decides what it emits. The output is identical for any batch size.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import DistinctSigns, GroupValues, make_accumulator, uses_group_values
from sqlstream.runtime.aggregates import VARIANCES, average, python_aggregate_for, variance
from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch, ops_of, \
    row_watermarks
from sqlstream.runtime.keys import KeyIndex
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.state import StateTtl
from sqlstream.runtime.aggregates import expand_grouping_sets
from sqlstream.runtime.value_aggregates import ValueAggregate
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import FlinkType

SUPPORTED = ("COUNT", "SUM", "SUM0", "AVG", "MIN", "MAX", "FIRST_VALUE", "LAST_VALUE", "LISTAGG", "ARRAY_AGG",
             "JSON_ARRAYAGG", "JSON_OBJECTAGG", "JSON_OBJECTAGG_ABSENT_ON_NULL", "PERCENTILE", "COLLECT") + VARIANCES
# DISTINCT: COUNT counts first sightings; SUM/AVG/VAR.. see the rows that change a group's set of values;
# aggregates on kept values wrap theirs; MIN/MAX are the same without it
DISTINCT_SUPPORTED = ("COUNT", "SUM", "SUM0", "AVG", "MIN", "MAX", "LISTAGG", "ARRAY_AGG", "JSON_ARRAYAGG",
                      "PERCENTILE", "COLLECT") + VARIANCES


# ---- numeric views of Arrow arrays -------------------------------------------------------------
def numeric_kind(t: pa.DataType) -> str:
    """The accumulator kind to_numeric gives values of type t."""
    if pa.types.is_floating(t):
        return "f"
    if (pa.types.is_decimal(t) or pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_timestamp(t)
            or pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_duration(t)):
        return "i"
    return "o"


def to_numeric(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, str]:
    """(values, valid, kind): kind 'i' exact int64 (ints, decimals unscaled, timestamps), 'f' float64, 'o' object."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    valid = np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False))
    t = arr.type
    if pa.types.is_decimal(t):
        if t.precision > 18:
            arr = pc.cast(arr, pa.decimal128(38, t.scale))
        words = np.frombuffer(arr.buffers()[1], dtype=np.int64).reshape(-1, 2)
        return words[arr.offset:arr.offset + len(arr), 0].copy() * valid, valid, "i"
    if pa.types.is_floating(t):
        return np.nan_to_num(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.float64),
                             nan=np.nan), valid, "f"
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(zero_copy_only=False), valid, "i"
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_duration(t):
        return pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(zero_copy_only=False), valid, "i"
    return np.array(arr.to_pylist(), dtype=object), valid, "o"


def from_numeric(values: np.ndarray, valid: np.ndarray, t: pa.DataType) -> pa.Array:
    mask = ~valid
    if pa.types.is_decimal(t):
        v = values.astype(np.int64)
        words = np.empty((len(v), 2), dtype=np.int64)
        words[:, 0] = v
        words[:, 1] = v >> 63
        bitmap = pa.array(valid).buffers()[1] if mask.any() else None
        arr = pa.Array.from_buffers(pa.decimal128(38, t.scale), len(v), [bitmap, pa.py_buffer(words.tobytes())])
        return arr.cast(t) if t.precision != 38 else arr
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
        base = pa.int32() if pa.types.is_date32(t) or pa.types.is_time32(t) else pa.int64()
        return pa.array(values.astype(np.int64), pa.int64(), mask=mask).cast(base).view(t) \
            if base == pa.int64() else pa.array(values.astype(np.int32), pa.int32(), mask=mask).view(t)
    if values.dtype == object:
        return pa.array([v if ok else None for v, ok in zip(values, valid)], t)
    return pa.array(values, mask=mask).cast(t, safe=False)


# ---- segmented running accumulation ------------------------------------------------------------
def seg_accumulate(ufunc, x: np.ndarray, starts: np.ndarray, seeds: np.ndarray, identity) -> np.ndarray:
    """r[i] = ufunc-accumulation of seed and x over the sub-segment holding i, in row order.

    Segments up to a length that keeps the padding within budget are accumulated together as the rows of one
    matrix; the few longer ones (a hot key) one by one. The order of operations within a segment is the
    sequential one, so floating sums come out as a row-at-a-time loop would give them."""
    n = len(x)
    if n == 0:
        return x.copy()
    start_idx = np.flatnonzero(starts)
    seg = np.cumsum(starts) - 1
    lens = np.diff(np.append(start_idx, n))
    budget = 4 * n + 4096
    sizes, counts = np.unique(lens, return_counts=True)
    fits = np.cumsum(counts) * (sizes + 1) <= budget  # matrix cells if every segment up to that size joins
    cap = int(sizes[fits].max()) if fits.any() else 0
    out = np.empty_like(x)
    small = lens <= cap
    if small.any():
        rows = np.flatnonzero(small)
        row_of_seg = np.full(len(start_idx), -1, dtype=np.int64)
        row_of_seg[rows] = np.arange(len(rows))
        m = np.full((len(rows), cap + 1), identity, dtype=x.dtype)
        m[:, 0] = seeds[start_idx[rows]]
        in_small = small[seg]
        r = row_of_seg[seg[in_small]]
        pos = (np.arange(n) - start_idx[seg] + 1)[in_small]
        m[r, pos] = x[in_small]
        out[in_small] = ufunc.accumulate(m, axis=1)[r, pos]
    for a, ln in zip(start_idx[~small].tolist(), lens[~small].tolist()):
        out[a:a + ln] = ufunc.accumulate(np.concatenate(([seeds[a]], x[a:a + ln])))[1:]
    return out


def preceding(running: np.ndarray, first: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The running value before each row: the previous row's, or the seed at a segment's first row. A row's
    `before` is taken from here rather than undone from its `after` (x + v - v need not be x in floating
    point), so a -U/-D carries exactly the values emitted before."""
    out = np.empty_like(running)
    out[1:] = running[:-1]
    out[first] = seeds[first]
    return out


class _AggState:
    """Accumulator arrays of one aggregate, indexed by group id."""

    def __init__(self, call: AggCall, kind: str):
        self.call, self.kind = call, kind
        dtype = {"i": np.int64, "f": np.float64, "o": object}[kind]
        self.sum = np.zeros(0, dtype=dtype)
        self.nn = np.zeros(0, dtype=np.int64)
        self.ext = np.zeros(0, dtype=dtype)
        self.ext_valid = np.zeros(0, dtype=bool)
        self.sq = np.zeros(0, dtype=dtype)  # sum of squares (STDDEV/VAR)

    def grow(self, size: int) -> None:
        if len(self.nn) >= size:
            return
        new = max(size, 2 * len(self.nn), 64)
        for name in ("sum", "nn", "ext", "ext_valid", "sq"):
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype)
            if old.dtype == object:
                arr[:] = 0 if name in ("sum", "sq") else None
            arr[:len(old)] = old
            setattr(self, name, arr)

    def clear(self, gids: np.ndarray) -> None:
        self.sum[gids] = 0
        self.sq[gids] = 0
        self.nn[gids] = 0
        self.ext_valid[gids] = False


class _SeenPairs:
    """The (group id, value) pairs a COUNT(DISTINCT ..) has counted. Integer values that fit 32 bits (with
    group ids below 2**31) are int64 codes in sorted runs, merged as they grow; other values a Python set."""

    def __init__(self):
        self.runs: list[np.ndarray] = []
        self.other: set = set()

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs) + len(self.other)

    def first_seen(self, gids: np.ndarray, values: pa.Array) -> np.ndarray:
        """1 for each row that is the first with a pair not counted before (and counts it), else 0."""
        n = len(gids)
        new = np.zeros(n, dtype=np.int64)
        valid = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
        coded = np.zeros(n, dtype=bool)
        if pa.types.is_integer(values.type):
            v = np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False)).astype(np.int64)
            coded = valid & (v >= -(1 << 31)) & (v < (1 << 31)) & (gids < (1 << 31))
            at = np.flatnonzero(coded)
            codes = (gids[at] << 32) | (v[at] + (1 << 31))
            uniq, first = np.unique(codes, return_index=True)
            fresh = np.ones(len(uniq), dtype=bool)
            for run in self.runs:
                i = np.searchsorted(run, uniq)
                fresh &= ~((i < len(run)) & (run[np.minimum(i, len(run) - 1)] == uniq))
            new[at[first[fresh]]] = 1
            self._add(uniq[fresh])
        rest = np.flatnonzero(valid & ~coded)
        if len(rest):
            py = values.take(pa.array(rest)).to_pylist()
            for pos, x in zip(rest.tolist(), py):
                key = (int(gids[pos]), x)
                if key not in self.other:
                    self.other.add(key)
                    new[pos] = 1
        return new

    def forget(self, gids: np.ndarray) -> None:
        """Drops the pairs of groups that are gone (expired by the state TTL): their ids get reused."""
        if not len(self):
            return
        self.runs = [r for r in (run[~np.isin(run >> 32, gids)] for run in self.runs) if len(r)]
        gone = set(gids.tolist())
        self.other = {p for p in self.other if p[0] not in gone}

    def snapshot_column(self, live: np.ndarray, value_type: pa.DataType) -> pa.Array:
        """The values counted for each live group (group ids ascending), as one list per group."""
        codes = np.concatenate(self.runs) if self.runs else np.zeros(0, np.int64)
        pairs = list(zip((codes >> 32).tolist(), ((codes & 0xFFFFFFFF) - (1 << 31)).tolist())) + list(self.other)
        row = {g: r for r, g in enumerate(live.tolist())}
        per_group: list[list] = [[] for _ in range(len(live))]
        for g, v in pairs:
            if g in row:
                per_group[row[g]].append(v)
        return pa.array(per_group, pa.list_(value_type))

    def _add(self, codes: np.ndarray) -> None:
        if not len(codes):
            return
        self.runs.append(codes)
        while len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1]):
            b = self.runs.pop()
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], b]), kind="stable")


class GroupAggregateOperator(Operator):
    name = "GroupAggregate"

    def __init__(self, keys: list[int], aggs: list[AggCall], grouping_sets: list[list[int]] | None,
                 out_names: list[str], out_types: list[FlinkType], input_types: list[FlinkType],
                 input_updating: bool, ttl_ms: int = 0, clock=None):
        for a in aggs:
            if a.fn.startswith("UDAF:"):
                fn = python_aggregate_for(a)
                if input_updating and not fn.can_retract:
                    raise ValidationError(f"Python aggregate function {fn.name} needs a retract(accumulator, ..) "
                                          f"method to consume an updating input")
                continue
            if a.fn not in SUPPORTED:
                raise ValidationError(f"Aggregate function {a.fn} is not supported in a non-windowed GROUP BY yet")
            if a.distinct and a.fn not in DISTINCT_SUPPORTED:
                raise ValidationError(f"{a.fn}(DISTINCT ..) is not supported in a non-windowed GROUP BY yet")
        self.keys, self.aggs, self.sets = keys, aggs, grouping_sets
        self.input_updating = input_updating
        self.out_names, self.out_types, self.input_types = out_names, out_types, input_types
        self.index = KeyIndex()
        self.count = np.zeros(0, dtype=np.int64)
        self.ttl = StateTtl(ttl_ms, clock)
        self.last_access = np.zeros(0, dtype=np.int64)
        self.expired = 0
        self.states: list[_AggState | GroupValues | ValueAggregate | None] = [None] * len(aggs)
        self.distinct_seen: list[_SeenPairs] = [_SeenPairs() for _ in aggs]
        self.distinct_signs: list[DistinctSigns] = [DistinctSigns() for _ in aggs]

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("groups", self)

    # ---- state interface -------------------------------------------------------------------
    def snapshot(self) -> pa.Table:
        """Live groups as rows: key columns, the record count and every accumulator."""
        if self.sets is not None:
            return self._inner.snapshot() if hasattr(self, "_inner") else pa.table({"count": pa.array([], pa.int64())})
        live = np.array([g for g, k in enumerate(self.index.keys) if k is not None], dtype=np.int64)
        keys = [self.index.keys[g] for g in live]
        cols: dict[str, pa.Array] = {}
        for i, ki in enumerate(self.keys):
            cols[f"k{i}"] = pa.array([k[i] for k in keys], self.input_types[ki].to_arrow())
        cols["count"] = pa.array(self.count[live] if len(live) else [], pa.int64())
        for j, st in enumerate(self.states):
            if isinstance(st, GroupValues):
                cols[f"a{j}_state"] = st.state(live)[0]
                continue
            if isinstance(st, ValueAggregate):
                cols.update(st.snapshot_columns(live, self._value_type(self.aggs[j]), f"a{j}"))
                continue
            if st is None:
                continue
            for name in ("sum", "nn", "ext", "ext_valid", "sq"):
                arr = getattr(st, name)[live] if len(live) else getattr(st, name)[:0]
                cols[f"a{j}_{name}"] = pa.array(list(arr)) if arr.dtype == object else pa.array(arr)
        for j, seen in enumerate(self.distinct_seen):
            if len(seen):
                cols[f"a{j}_distinct"] = seen.snapshot_column(live, self._value_type(self.aggs[j]))
        for j, signs in enumerate(self.distinct_signs):
            if len(signs):
                cols[f"a{j}_dvalues"], cols[f"a{j}_dcounts"] = signs.snapshot_column(
                    live, self._value_type(self.aggs[j]))
        return pa.table(cols)

    def restore(self, table: pa.Table) -> None:
        if self.sets is not None:
            if not hasattr(self, "_inner"):
                self._make_inner()
            self._inner.restore(table)
            return
        n = table.num_rows
        key_cols = [table.column(f"k{i}").to_pylist() for i in range(len(self.keys))]
        self.index = KeyIndex()
        for r in range(n):
            self.index._add(tuple(c[r] for c in key_cols))
        self.count = np.asarray(table.column("count").to_numpy(zero_copy_only=False), dtype=np.int64).copy()
        for j, call in enumerate(self.aggs):
            if f"a{j}_state" in table.column_names:
                st = self.states[j] = make_accumulator(call, self._arg_types(call))
                st.merge([table.column(f"a{j}_state").combine_chunks()], np.arange(n))
                continue
            if f"a{j}_dvalues" in table.column_names:
                self.distinct_signs[j].restore_columns(table.column(f"a{j}_dvalues").combine_chunks(),
                                                       table.column(f"a{j}_dcounts").combine_chunks())
            if f"a{j}_distinct" in table.column_names:
                lists = table.column(f"a{j}_distinct").combine_chunks()
                self.distinct_seen[j] = _SeenPairs()
                self.distinct_seen[j].first_seen(np.asarray(pc.list_parent_indices(lists), dtype=np.int64),
                                                 pc.list_flatten(lists))
            if f"a{j}_values" in table.column_names:
                st = self.states[j] = ValueAggregate(self._value_fn(call))
                st.restore_columns(table, f"a{j}")
                continue
            if f"a{j}_sum" not in table.column_names:
                continue
            kind = self._kind(call)
            st = _AggState(call, kind)
            for name in ("sum", "nn", "ext", "ext_valid", "sq"):
                if f"a{j}_{name}" not in table.column_names:
                    continue
                col = table.column(f"a{j}_{name}")
                arr = np.array(col.to_pylist(), dtype=object) if getattr(st, name).dtype == object else \
                    np.asarray(col.to_numpy(zero_copy_only=False)).astype(getattr(st, name).dtype)
                setattr(st, name, arr)
            self.states[j] = st

    def size_bytes(self) -> int:
        total = self.count.nbytes
        for s in self.states:
            if isinstance(s, _AggState):
                total += s.sum.nbytes + s.nn.nbytes + s.ext.nbytes
            elif s is not None:
                total += s.size_bytes()
        return total + 100 * len(self.index.ids)

    def size_rows(self) -> int:
        return len(self.index.ids)

    # ---- processing --------------------------------------------------------------------------
    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        ops = ops_of(batch)
        wm = row_watermarks(batch)
        if self.sets is not None:
            return self._with_grouping_sets(batch)
        key_cols = [cols[i] for i in self.keys]
        cutoff = self.ttl.tick()
        now = self.ttl.now
        if cutoff is not None:
            self._expire(cutoff)
        gids, _ = self.index.lookup(key_cols, n)
        size = len(self.index)
        if self.ttl_ms > 0:
            if len(self.last_access) < size:
                grown = np.zeros(max(size, 2 * len(self.last_access), 64), dtype=np.int64)
                grown[:len(self.last_access)] = self.last_access
                self.last_access = grown
            self.last_access[gids] = now
        if len(self.count) < size:
            grown = np.zeros(max(size, 2 * len(self.count), 64), dtype=np.int64)
            grown[:len(self.count)] = self.count
            self.count = grown
        sign = np.where((ops == INSERT) | (ops == UPDATE_AFTER), 1, -1).astype(np.int64)
        order = np.argsort(gids, kind="stable")
        sg = gids[order]
        ss = sign[order]
        first = np.r_[True, sg[1:] != sg[:-1]]
        prev_count = self.count[sg]
        c_after = prev_count + seg_accumulate(np.add, ss, first, np.zeros(n, dtype=np.int64), 0)
        c_before = c_after - ss
        resets = np.r_[False, (c_after[:-1] == 0) & ~first[1:]]
        sub_first = first | resets
        seeded = first & (prev_count > 0)

        after_cols, before_cols = [], []
        for j, call in enumerate(self.aggs):
            a, b = self._run_agg(j, call, cols, order, sg, ss, first, sub_first, seeded, size)
            after_cols.append(a)
            before_cols.append(b)

        # emission per row, in arrival order
        inv = np.empty(n, dtype=np.int64)
        inv[order] = np.arange(n)
        cb, ca = c_before[inv], c_after[inv]
        same = np.ones(n, dtype=bool)
        for a, b in zip(after_cols, before_cols):
            a_r, b_r = a.take(pa.array(inv)), b.take(pa.array(inv))
            if pa.types.is_nested(a_r.type):  # no Arrow kernel compares lists
                same &= np.array([x == y for x, y in zip(a_r.to_pylist(), b_r.to_pylist())], dtype=bool)
                continue
            eq = pc.equal(a_r, b_r)
            both_null = pc.and_(pc.is_null(a_r), pc.is_null(b_r))
            eqn = np.asarray(pc.fill_null(pc.or_kleene(eq, both_null), False).to_numpy(zero_copy_only=False))
            same &= eqn
        if self.ttl_ms > 0:
            same[:] = False  # as Flink: with state TTL an unchanged result is still sent (-U/+U)
        ins = (cb <= 0) & (ca > 0)
        upd = (cb > 0) & (ca > 0) & ~same
        dele = (cb > 0) & (ca <= 0)
        per_row = ins.astype(np.int64) + 2 * upd + dele
        rows = np.repeat(np.arange(n), per_row)
        kinds = np.empty(len(rows), dtype=np.int8)
        use_before = np.zeros(len(rows), dtype=bool)
        pos = np.cumsum(per_row) - per_row
        kinds[pos[ins]] = INSERT
        kinds[pos[dele]] = DELETE
        use_before[pos[dele]] = True
        kinds[pos[upd]] = UPDATE_BEFORE
        use_before[pos[upd]] = True
        kinds[pos[upd] + 1] = UPDATE_AFTER

        # state: last row of each group in the batch
        last = np.r_[first[1:], True]
        g_last = sg[last]
        self.count[g_last] = c_after[last]
        emptied = g_last[c_after[last] <= 0]
        if len(emptied):
            self.count[emptied] = 0
            for s in self.states:
                if s is not None:
                    s.clear(emptied)
            for signs in self.distinct_signs:
                signs.forget(emptied)
        if len(rows) == 0:
            return []
        out = []
        take_rows = pa.array(rows)
        for i in self.keys:
            out.append(cols[i].take(take_rows))
        src_sorted = inv[rows]
        idx = pa.array(np.where(use_before, src_sorted + n, src_sorted))
        for a, b in zip(after_cols, before_cols):
            out.append(pa.concat_arrays([a, b]).take(idx))
        out = [o.cast(t.to_arrow()) if o.type != t.to_arrow() else o for o, t in zip(out, self.out_types)]
        return [make_batch(kinds, out, self.out_names, wm=None if wm is None else wm[rows])]

    @property
    def ttl_ms(self) -> int:
        return self.ttl.ttl_ms

    def _expire(self, cutoff: int) -> None:
        """table.exec.state.ttl: forget groups not accessed since `cutoff` (processing time), as Flink does."""
        live = len(self.index)
        if live == 0:
            return
        idle = np.flatnonzero((self.last_access[:live] < cutoff) & (self.count[:live] != 0))
        idle = np.array([g for g in idle if self.index.keys[g] is not None], dtype=np.int64)
        if len(idle) == 0:
            return
        self.count[idle] = 0
        for s in self.states:
            if s is not None:
                s.grow(live)
                s.clear(idle)
        for seen in self.distinct_seen:
            seen.forget(idle)
        for signs in self.distinct_signs:
            signs.forget(idle)
        self.index.release(idle)
        self.expired += len(idle)

    def metrics(self) -> dict:
        return {"state_bytes": self.size_bytes(), "expired_keys": self.expired}

    def _run_agg(self, j, call: AggCall, cols, order, sg, ss, first, sub_first, seeded, size):
        """(after, before) result arrays of aggregate j, in group-sorted row order."""
        if uses_group_values(call):
            return self._run_group_values(j, call, cols, order, sg, ss, first, sub_first, seeded)
        if self._value_fn(call) is not None:
            return self._run_values(j, call, cols, order, sg, ss, first, sub_first, seeded)
        if call.args:
            arg = cols[call.args[0]]
        else:
            arg = pa.array(np.ones(len(order), dtype=np.int64))
        if call.filter is not None:
            keep = pc.fill_null(cols[call.filter], False)
            arg = pc.if_else(keep, arg, pa.scalar(None, arg.type))
        if call.fn in ("FIRST_VALUE", "LAST_VALUE", "LISTAGG"):
            return self._run_appended(j, call, arg, cols, order, sg, first, sub_first, seeded, size)
        if call.fn in VARIANCES and pa.types.is_decimal(arg.type):
            arg = pc.cast(arg, pa.float64())
        vals, valid, kind = to_numeric(arg)
        st = self.states[j]
        if st is None:
            st = self.states[j] = _AggState(call, kind)
        st.grow(size)
        v, ok = vals[order], valid[order]
        out_t = call.type.to_arrow()
        if call.distinct and call.fn == "COUNT" or call.distinct and call.fn in ("MIN", "MAX"):
            if call.fn == "COUNT":
                return self._run_distinct(j, call, arg, order, sg, first, seeded, st, out_t)
        elif call.distinct:  # the rows that add a value new to the group or take its last occurrence back
            ss = self.distinct_signs[j].signs(sg, arg.take(pa.array(order)).to_pylist(), ss,
                                              sub_first & ~(first & seeded))
        if call.fn in VARIANCES:
            return self._run_variance(call, st, v, ok, ss, sg, first, sub_first, seeded, kind)
        nn_seed = np.where(seeded, st.nn[sg], 0)
        nn_after = seg_accumulate(np.add, np.where(ok, ss, 0), sub_first, nn_seed, 0)
        nn_before = nn_after - np.where(ok, ss, 0)
        if call.fn == "COUNT":
            after, before = nn_after, nn_before
            self._store(st, "nn", sg, first, nn_after)
            ones = np.ones(len(order), bool)
            return from_numeric(after, ones, out_t), from_numeric(before, ones, out_t)
        if call.fn in ("MIN", "MAX"):
            return self._run_extreme(call, st, v, ok, sg, first, sub_first, seeded, out_t)
        zero = 0 if kind != "f" else 0.0
        contrib = np.where(ok, v * ss, zero) if kind != "o" else np.array(
            [x * s if k else 0 for x, s, k in zip(v, ss, ok)], dtype=object)
        sum_seed = np.where(seeded, st.sum[sg], zero)
        sum_after = seg_accumulate(np.add, contrib, sub_first, sum_seed, zero)
        sum_before = preceding(sum_after, first, sum_seed)
        self._store(st, "nn", sg, first, nn_after)
        self._store(st, "sum", sg, first, sum_after)
        in_t = arg.type
        if call.fn in ("SUM", "SUM0"):
            def res(s, c):
                valid_out = c > 0 if call.fn == "SUM" else np.ones(len(c), bool)
                return self._sum_array(s, valid_out, in_t, out_t)
            return res(sum_after, nn_after), res(sum_before, nn_before)

        def avg(s, c):
            total = self._sum_array(s, c > 0, in_t, pa.decimal128(38, in_t.scale) if pa.types.is_decimal(in_t)
                                    else (pa.float64() if kind == "f" else pa.int64()))
            return average(total, pa.array(c), call)
        return avg(sum_after, nn_after), avg(sum_before, nn_before)

    def _value_fn(self, call: AggCall) -> str | None:
        """The ValueAggregate that computes `call`, if it needs one: aggregates that must take a value back
        when an updating input retracts it."""
        if not self.input_updating:
            return None
        if call.fn in ("MIN", "MAX", "FIRST_VALUE", "LAST_VALUE", "LISTAGG"):
            return call.fn
        return "COUNT" if call.fn == "COUNT" and call.distinct else None

    def _value_type(self, call: AggCall) -> pa.DataType:
        return self.input_types[call.args[0]].to_arrow()

    def _arg_types(self, call: AggCall) -> list[pa.DataType]:
        return [self.input_types[i].to_arrow() for i in call.args]

    def _run_group_values(self, j, call: AggCall, cols, order, sg, ss, first, sub_first, seeded):
        """An aggregate on a GroupValues accumulator: each row's result before and after it, in group order."""
        st = self.states[j]
        if st is None:
            st = self.states[j] = make_accumulator(call, self._arg_types(call))
        take = pa.array(order)
        args = [cols[i].take(take) for i in call.args]
        if call.filter is not None:  # a row the FILTER rejects leaves the accumulator as it is
            keep = np.asarray(pc.fill_null(cols[call.filter].take(take), False).to_numpy(zero_copy_only=False))
            ss = np.where(keep, ss, 0)
        return st.running(args, sg, ss, sub_first & ~(first & seeded))

    def _run_variance(self, call, st, v, ok, ss, sg, first, sub_first, seeded, kind):
        """STDDEV/VAR from running SUM(x), COUNT(x) and SUM(x * x), as Flink rewrites them (see `variance`)."""
        if kind == "o":
            raise ValidationError(f"{call.fn} needs a numeric argument")
        x = np.where(ok, v, 0)
        signed = ss * ok
        zero = x.dtype.type(0)
        nn_seed = np.where(seeded, st.nn[sg], 0)
        sum_seed = np.where(seeded, st.sum[sg], zero).astype(x.dtype)
        sq_seed = np.where(seeded, st.sq[sg], zero).astype(x.dtype)
        nn_after = seg_accumulate(np.add, signed, sub_first, nn_seed, 0)
        sum_after = seg_accumulate(np.add, x * signed, sub_first, sum_seed, zero)
        sq_after = seg_accumulate(np.add, x * x * signed, sub_first, sq_seed, zero)
        nn_before = preceding(nn_after, first, nn_seed)
        sum_before = preceding(sum_after, first, sum_seed)
        sq_before = preceding(sq_after, first, sq_seed)
        self._store(st, "nn", sg, first, nn_after)
        self._store(st, "sum", sg, first, sum_after)
        self._store(st, "sq", sg, first, sq_after)
        arrow = pa.int64() if x.dtype.kind == "i" else pa.float64()

        def result(total, count, squares):
            valid = count > 0
            return variance(call, pa.array(total, arrow, mask=~valid), pa.array(count),
                            pa.array(squares, arrow, mask=~valid))
        return result(sum_after, nn_after, sq_after), result(sum_before, nn_before, sq_before)

    def _kind(self, call: AggCall) -> str:
        if call.fn in ("FIRST_VALUE", "LAST_VALUE", "LISTAGG"):
            return "o"
        if call.fn in VARIANCES and pa.types.is_decimal(self._value_type(call)):
            return "f"
        return numeric_kind(self.input_types[call.args[0]].to_arrow()) if call.args else "i"

    def _run_values(self, j, call: AggCall, cols, order, sg, ss, first, sub_first, seeded):
        """An aggregate over an updating input that keeps its values (per-value counts or occurrences)."""
        st = self.states[j]
        if st is None:
            st = self.states[j] = ValueAggregate(self._value_fn(call))
        take = pa.array(order)
        arg = cols[call.args[0]]
        if call.filter is not None:
            arg = pc.if_else(pc.fill_null(cols[call.filter], False), arg, pa.scalar(None, arg.type))
        values = arg.take(take).to_pylist()
        seps = cols[call.args[1]].take(take).to_pylist() if call.fn == "LISTAGG" and len(call.args) > 1 else None
        after, before = st.run(sg, ss, values, seps, sub_first & ~(first & seeded))
        t = call.type.to_arrow()
        return pa.array(after, t), pa.array(before, t)

    def _run_appended(self, j, call: AggCall, arg, cols, order, sg, first, sub_first, seeded, size):
        """FIRST_VALUE, LAST_VALUE and LISTAGG over an insert-only input (NULLs skipped): the group keeps only
        its current result. FIRST/LAST_VALUE pick the row by a segmented running min/max of row positions."""
        st = self.states[j]
        if st is None:
            st = self.states[j] = _AggState(call, "o")
        st.grow(size)
        n = len(order)
        vs = arg.take(pa.array(order))
        ok = np.asarray(pc.is_valid(vs).to_numpy(zero_copy_only=False), dtype=bool)
        seed_ok = first & seeded & st.ext_valid[sg]  # segments that start from the group's kept result
        t = call.type.to_arrow()
        if call.fn == "LISTAGG":
            return self._run_listagg(st, call, cols, order, vs, sg, first, sub_first, seed_ok, t)
        pos = np.arange(n, dtype=np.int64)
        if call.fn == "FIRST_VALUE":
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
        seeds = pa.array([st.ext[g] if okay else None for g, okay in zip(sg[first].tolist(), seed_ok[first].tolist())],
                         t)
        seed_slot = np.cumsum(first) - 1
        pool = pa.concat_arrays([vs.cast(t), seeds])

        def pick(r):
            idx = np.where(r == -1, n + seed_slot, r)
            missing = r == none
            return pool.take(pa.array(np.where(missing, 0, idx), mask=missing))
        after, before = pick(run), pick(prev)
        last = np.r_[first[1:], True]
        kept = after.filter(pa.array(last)).to_pylist()
        g = sg[last]
        st.ext[g] = np.array(kept + [None], dtype=object)[:-1]
        st.ext_valid[g] = [v is not None for v in kept]
        return after, before

    def _run_listagg(self, st, call, cols, order, vs, sg, first, sub_first, seed_ok, t):
        """LISTAGG over an insert-only input: each row appends its value (and the separator) to the result."""
        seps = cols[call.args[1]].take(pa.array(order)).to_pylist() if len(call.args) > 1 else None
        after, before = [], []
        cur = None
        for k, (v, g) in enumerate(zip(vs.to_pylist(), sg.tolist())):
            if sub_first[k]:
                cur = st.ext[g] if seed_ok[k] else None
            before.append(cur)
            if v is not None:
                cur = v if cur is None else cur + (seps[k] if seps is not None and seps[k] is not None else ",") + v
            after.append(cur)
            if k + 1 == len(order) or first[k + 1]:
                st.ext[g], st.ext_valid[g] = cur, cur is not None
        return pa.array(after, t), pa.array(before, t)

    @staticmethod
    def _sum_array(s: np.ndarray, valid: np.ndarray, in_t: pa.DataType, out_t: pa.DataType) -> pa.Array:
        if pa.types.is_decimal(in_t):
            return from_numeric(s, valid, pa.decimal128(38, in_t.scale)).cast(out_t)
        return from_numeric(s, valid, out_t)

    @staticmethod
    def _store(st: _AggState, name: str, sg: np.ndarray, first: np.ndarray, running: np.ndarray) -> None:
        last = np.r_[first[1:], True]
        getattr(st, name)[sg[last]] = running[last]

    def _run_extreme(self, call, st, v, ok, sg, first, sub_first, seeded, out_t):
        seeds_valid = seeded & st.ext_valid[sg]
        seed_vals = st.ext[sg]
        pool = np.concatenate([v[ok], seed_vals[seeds_valid]]) if v.dtype == object else None
        if v.dtype == object:
            uniq = np.unique(pool) if len(pool) else np.array([], dtype=object)
            lookup = {x: i for i, x in enumerate(uniq.tolist())}
            rv = np.array([lookup[x] if k else -1 for x, k in zip(v, ok)], dtype=np.int64)
            rs = np.array([lookup[x] if k else -1 for x, k in zip(seed_vals, seeds_valid)], dtype=np.int64)
            back = uniq
        else:
            rv, rs, back = v, seed_vals, None
        big = np.iinfo(np.int64).max if rv.dtype.kind == "i" else np.inf
        if call.fn == "MAX":
            none, fn = (-big if rv.dtype.kind != "i" else np.iinfo(np.int64).min), np.maximum
        else:
            none, fn = big, np.minimum
        x = np.where(ok if back is None else rv >= 0, rv, none)
        seeds = np.where(seeds_valid if back is None else rs >= 0, rs, none)
        run = seg_accumulate(fn, x.astype(rv.dtype), sub_first, seeds.astype(rv.dtype), none)
        prev_run = preceding(run, first, seeds)
        after_valid = run != none
        before_valid = prev_run != none
        last = np.r_[first[1:], True]
        g = sg[last]
        if back is None:
            st.ext[g] = run[last]
            conv_after, conv_before = run, prev_run
        else:
            st.ext[g] = np.array([back[r] if r != none else None for r in run[last]], dtype=object)
            conv_after = np.array([back[r] if r != none else None for r in run], dtype=object)
            conv_before = np.array([back[r] if r != none else None for r in prev_run], dtype=object)
        st.ext_valid[g] = after_valid[last]
        return from_numeric(conv_after, after_valid, out_t), from_numeric(conv_before, before_valid, out_t)

    def _run_distinct(self, j, call, arg, order, sg, first, seeded, st, out_t):
        new = self.distinct_seen[j].first_seen(sg, arg.take(pa.array(order)))
        seed = np.where(seeded, st.nn[sg], 0)
        after = seg_accumulate(np.add, new, first, seed, 0)
        before = after - new
        self._store(st, "nn", sg, first, after)
        ones = np.ones(len(order), bool)
        return from_numeric(after, ones, out_t), from_numeric(before, ones, out_t)

    def _make_inner(self) -> None:
        """Grouping sets run as one aggregation keyed by (keys, grouping set index) over expanded rows."""
        from sqlstream.core.types import INT
        n_in = len(self.input_types)
        self._inner = GroupAggregateOperator(
            self.keys + [n_in], self.aggs, None,
            self.out_names[:len(self.keys)] + ["$gs"] + self.out_names[len(self.keys) + 1:],
            self.out_types, self.input_types + [INT], self.input_updating)

    def _with_grouping_sets(self, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        names = [f"c{i}" for i in range(len(cols))]
        table = pa.table(dict(zip(names, cols)))
        table = table.append_column("$op", batch.column(0))
        expanded = expand_grouping_sets(table, [names[i] for i in self.keys], self.sets)
        # row by row, each row's copies in set order (as Flink's Expand): the changelog order then does not
        # depend on the batch size
        row_major = np.arange(expanded.num_rows).reshape(len(self.sets), table.num_rows).T.ravel()
        expanded = expanded.take(pa.array(row_major))
        gs = expanded.column("$gs").combine_chunks()
        new_cols = [expanded.column(nm).combine_chunks() for nm in names] + [gs]
        if not hasattr(self, "_inner"):
            self._make_inner()
        ops = expanded.column("$op").combine_chunks()
        sub = make_batch(ops, new_cols, names + ["$gs"])
        outs = self._inner.on_batch(sub)
        return outs
