"""Non-windowed GROUP BY with Flink's per-record changelog: +I for a new group, -U/+U when its result
changes (nothing when it does not), -D when its last row is retracted.

Rows are processed as Flink does, one at a time in arrival order, but computed for a whole batch at once:
rows are sorted by group, each aggregate call's accumulator (`make_accumulator`; the operator knows no function)
gives every row's result before and after it (`running`: segmented scans seeded with the group's state), and
those decide what each row emits. The output is identical for any batch size. The state is declared
(`KeyedAccumulators`: each live group's key, row count and accumulators, by key group, with the state TTL), so
it snapshots itself and splits by key group.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import Accumulator, GroupValues, make_accumulator
from sqlstream.runtime.aggregates import expand_grouping_sets, python_aggregate_for
from sqlstream.runtime.numeric_aggregates import seg_accumulate
from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch, ops_of, \
    row_watermarks
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.sort import sorted_order
from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.core.types import FlinkType

# DISTINCT changes which rows reach an aggregate, except for these, which take every row as it comes
NO_DISTINCT = ("FIRST_VALUE", "LAST_VALUE", "JSON_OBJECTAGG", "JSON_OBJECTAGG_ABSENT_ON_NULL")


class GroupAggregateOperator(Operator):
    name = "GroupAggregate"

    def __init__(self, keys: list[int], aggs: list[AggCall], grouping_sets: list[list[int]] | None,
                 out_names: list[str], out_types: list[FlinkType], input_types: list[FlinkType],
                 input_updating: bool, ttl_ms: int = 0, clock=None):
        # one accumulator per aggregate call (grouping sets run in an inner operator)
        self.states: list[Accumulator] = []
        for a in aggs:
            if a.fn.startswith("UDAF:"):
                fn = python_aggregate_for(a)
                if input_updating and not fn.can_retract:
                    raise ValidationError(f"Python aggregate function {fn.name} needs a retract(accumulator, ..) "
                                          f"method to consume an updating input")
            elif a.distinct and a.fn in NO_DISTINCT:
                raise ValidationError(f"{a.fn}(DISTINCT ..) is not supported in a non-windowed GROUP BY yet")
            try:
                acc = make_accumulator(a, [input_types[i].to_arrow() for i in a.args], input_updating and a.retracts)
            except ExecutionError:
                raise ValidationError(f"Aggregate function {a.fn} is not supported in a non-windowed GROUP BY "
                                      f"yet") from None
            if grouping_sets is None:
                self.states.append(acc)
        self.keys, self.aggs, self.sets = keys, aggs, grouping_sets
        self.input_updating = input_updating
        self.out_names, self.out_types, self.input_types = out_names, out_types, input_types
        self.ttl_ms, self.clock = ttl_ms, clock
        self.expired = 0
        self._inner: GroupAggregateOperator | None = None

    def open(self, ctx: OperatorContext) -> None:
        if self.sets is not None:
            self._inner = self._make_inner()
            self._inner.open(ctx)
            return
        key_types = [self.input_types[i].to_arrow() for i in self.keys]
        self.groups = ctx.state.keyed_accumulators("groups", key_types, self.states, self.ttl_ms,
                                                   self.clock or ctx.clock)

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
        groups = self.groups
        self.expired += groups.expire()
        gids = groups.slots(key_cols, n)
        groups.touch(gids)
        sign = np.where((ops == INSERT) | (ops == UPDATE_AFTER), 1, -1).astype(np.int64)
        order, sg = sorted_order(gids)
        ss = sign[order]
        first = np.r_[True, sg[1:] != sg[:-1]]
        prev_count = groups.count[sg]
        c_after = prev_count + seg_accumulate(np.add, ss, first, np.zeros(n, dtype=np.int64), 0)
        c_before = c_after - ss
        # a row starts its group over empty when the group had no rows before it (new, or emptied earlier)
        resets = np.r_[False, (c_after[:-1] == 0) & ~first[1:]]
        fresh = (first & (prev_count <= 0)) | resets

        after_cols, before_cols = [], []
        in_group_order = _Taken(cols, pa.array(order))
        for call, acc in zip(self.aggs, self.states):
            args = self._args(call, acc, in_group_order)
            if not call.retracts:  # a retracted row leaves this MAX / MIN as it is: it reads as NULL
                args[0] = pc.if_else(pa.array(ss > 0), args[0], pa.nulls(n, args[0].type))
            a, b = acc.running(args, sg, self._signs(call, acc, in_group_order, ss), fresh)
            after_cols.append(a)
            before_cols.append(b)

        # emission per row, in arrival order
        inv = np.empty(n, dtype=np.int64)
        inv[order] = np.arange(n)
        cb, ca = c_before[inv], c_after[inv]
        same_sorted = np.ones(n, dtype=bool)
        for a, b in zip(after_cols, before_cols):
            same_sorted &= _same(a, b)
        same = same_sorted[inv]
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
        groups.count[g_last] = c_after[last]
        groups.live[g_last] = True
        emptied = g_last[c_after[last] <= 0]
        if len(emptied):
            groups.drop(emptied)
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

    def metrics(self) -> dict:
        if self._inner is not None:
            return self._inner.metrics()
        return {"state_bytes": self.groups.size_bytes(), "expired_keys": self.expired}

    @staticmethod
    def _args(call: AggCall, acc: Accumulator, cols: "_Taken") -> list[pa.Array]:
        """The aggregate's argument arrays in group order (COUNT(*): a column of ones); the FILTER (WHERE ..)
        makes the first one NULL where it rejects a row, except for per-group-values aggregates, which may
        count NULLs (ARRAY_AGG): see `_signs`."""
        args = [cols.column(i) for i in call.args] or [cols.ones()]
        if call.filter is not None and not isinstance(acc, GroupValues):
            args[0] = cols.filtered(call.args[0] if call.args else None, call.filter)
        return args if call.args or not isinstance(acc, GroupValues) else []

    @staticmethod
    def _signs(call: AggCall, acc: Accumulator, cols: "_Taken", ss: np.ndarray) -> np.ndarray:
        """Each row's sign; a row the FILTER rejects leaves a per-group-values accumulator as it is (sign 0)."""
        if call.filter is None or not isinstance(acc, GroupValues):
            return ss
        keep = np.asarray(pc.fill_null(cols.column(call.filter), False).to_numpy(zero_copy_only=False))
        return np.where(keep, ss, 0)

    def _make_inner(self) -> "GroupAggregateOperator":
        """Grouping sets run as one aggregation keyed by (keys, grouping set index) over expanded rows."""
        from sqlstream.core.types import INT
        n_in = len(self.input_types)
        return GroupAggregateOperator(
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
        ops = expanded.column("$op").combine_chunks()
        sub = make_batch(ops, new_cols, names + ["$gs"])
        outs = self._inner.on_batch(sub)
        return outs


class _Taken:
    """A batch's columns in group order, each taken once however many aggregate calls read it (and each FILTERed
    argument once: COUNT(DISTINCT x) FILTER (WHERE p) and SUM(x) FILTER (WHERE p) share it)."""

    def __init__(self, cols: list[pa.Array], order: pa.Array):
        self.cols, self.order = cols, order
        self.taken: dict = {}

    def column(self, i: int) -> pa.Array:
        if i not in self.taken:
            self.taken[i] = self.cols[i].take(self.order)
        return self.taken[i]

    def ones(self) -> pa.Array:
        """COUNT(*)'s argument."""
        if "ones" not in self.taken:
            self.taken["ones"] = pa.array(np.ones(len(self.order), dtype=np.int64))
        return self.taken["ones"]

    def filtered(self, arg: int | None, flt: int) -> pa.Array:
        """The argument (COUNT(*)'s ones for None), NULL where the FILTER column is not TRUE."""
        key = ("filtered", arg, flt)
        if key not in self.taken:
            value = self.ones() if arg is None else self.column(arg)
            keep = pc.fill_null(self.column(flt), False)
            self.taken[key] = pc.if_else(keep, value, pa.scalar(None, value.type))
        return self.taken[key]


def _same(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Per row, whether the results are the same (NULL the same as NULL): the row changes nothing."""
    if pa.types.is_nested(a.type):  # no Arrow kernel compares lists
        return np.array([x == y for x, y in zip(a.to_pylist(), b.to_pylist())], dtype=bool)
    eq = np.asarray(pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False), dtype=bool)
    if a.null_count or b.null_count:
        eq |= np.asarray(pc.is_null(a).to_numpy(zero_copy_only=False)) \
            & np.asarray(pc.is_null(b).to_numpy(zero_copy_only=False))
    return eq
