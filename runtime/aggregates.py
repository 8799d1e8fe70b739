"""Window aggregation over Arrow tables: a window's rows (or per-batch partials) are grouped by Arrow's hash
aggregation, which computes each aggregate's state, and the aggregate's accumulator answers from that state.

Which state an aggregate needs and how it answers (Flink's result rules) is its accumulator's business
(`runtime/accumulators.py`, `runtime/numeric_aggregates.py`); this module only moves columns.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import Accumulator, evaluate_groups, make_accumulator, uses_group_values
from sqlstream.runtime.numeric_aggregates import VARIANCES, average, variance

__all__ = ["VARIANCES", "average", "variance", "prepare_inputs", "aggregation_specs", "finalize", "aggregate_rows",
           "partials_merge", "merge_partials", "python_aggregate_for", "needed_columns", "expand_grouping_sets"]


def _windowed(a: AggCall, arg_types: list[pa.DataType]) -> Accumulator | None:
    """The accumulator that tells Arrow's hash aggregation what to compute for `a` and answers from it; None
    for the aggregates that take their group's rows as lists (`uses_group_values`)."""
    if uses_group_values(a):
        return None
    try:
        return make_accumulator(a, arg_types, input_updating=False)
    except ExecutionError:
        raise ExecutionError(f"aggregate {a.fn} is not supported in window aggregation") from None


def partials_merge(aggs: list[AggCall]) -> bool:
    """Whether a window may keep per-batch partial states of these aggregates instead of rows."""
    return all(acc is not None and acc.window_partials for acc in (_windowed(a, []) for a in aggs))


def prepare_inputs(table_cols: dict[str, pa.Array], aggs: list[AggCall], arg_names: list[str],
                   n: int | None = None) -> dict[str, pa.Array]:
    """Per aggregate, the (filtered) argument columns its state is computed from, named `$a{i}...`."""
    out = {}
    rows = n if n is not None else len(next(iter(table_cols.values())))
    for i, a in enumerate(aggs):
        c = f"$a{i}"
        args = [table_cols[arg_names[j]] for j in a.args]
        acc = _windowed(a, [x.type for x in args])
        if acc is not None:
            for suffix, col in acc.window_inputs(args, rows).items():
                out[c + suffix] = _filtered(col, a, table_cols, arg_names)
            continue
        # every argument, per group in row order (none: the rows, counted)
        for k, col in enumerate(args or [pa.array(np.ones(rows, dtype=np.bool_))]):
            out[f"{c}_arg{k}" if args else f"{c}_rows"] = _filtered(col, a, table_cols, arg_names)
    return out


def _filtered(col: pa.Array, a: AggCall, table_cols: dict[str, pa.Array], arg_names: list[str]) -> pa.Array:
    """NULL where the aggregate's FILTER (WHERE ..) rejects the row."""
    if a.filter is None:
        return col
    keep = pc.fill_null(table_cols[arg_names[a.filter]], False)
    return pc.if_else(keep, col, pa.scalar(None, col.type))


def aggregation_specs(aggs: list[AggCall]) -> list[tuple]:
    """pyarrow group_by aggregation list computing the state each AggCall needs."""
    specs = []
    for i, a in enumerate(aggs):
        c = f"$a{i}"
        acc = _windowed(a, [])
        if acc is not None:
            specs += acc.window_specs(c)
        else:
            specs += [(f"{c}_arg{k}", "list") for k in range(len(a.args))] or [(f"{c}_rows", "count")]
    return specs


def finalize(result: pa.Table, aggs: list[AggCall]) -> list[pa.Array]:
    """Turn the group_by result columns into one Flink-typed array per AggCall."""
    out = []
    for i, a in enumerate(aggs):
        c = f"$a{i}"
        acc = _windowed(a, [])
        if acc is not None:
            out.append(acc.finish([result.column(name) for name in acc.window_state_columns(c)]))
        elif not a.args:
            counts = np.asarray(result.column(f"{c}_rows_count").to_numpy(), dtype=np.int64)
            out.append(evaluate_groups(a, [], np.repeat(np.arange(result.num_rows), counts), result.num_rows))
        else:
            lists = [result.column(f"{c}_arg{k}_list").combine_chunks() for k in range(len(a.args))]
            groups = np.asarray(pc.list_parent_indices(lists[0]).to_numpy(zero_copy_only=False), dtype=np.int64)
            out.append(evaluate_groups(a, [pc.list_flatten(x) for x in lists], groups, result.num_rows))
    return [x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in out]


def aggregate_rows(table: pa.Table, group_cols: list[str], needed: list[int], aggs: list[AggCall]) -> pa.Table:
    """Group buffered rows (columns c<i>, plus `$rn` arrival numbers) and compute every AggCall's partials;
    `$rn_min` orders the groups by first arrival."""
    names = {f"c{i}": table.column(f"c{i}").combine_chunks() for i in needed}
    inputs = prepare_inputs(names, aggs, [f"c{i}" for i in range(max(needed, default=-1) + 1)], table.num_rows)
    work = pa.table({**{c: table.column(c) for c in group_cols}, "$rn": table.column("$rn"), **inputs})
    return work.group_by(group_cols, use_threads=False).aggregate(aggregation_specs(aggs) + [("$rn", "min")])


_MERGE = {"count": ("sum", None), "sum": ("sum", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)),
          "min": ("min", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)),
          "max": ("max", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1))}


def merge_partials(partials: pa.Table, group_cols: list[str]) -> pa.Table:
    """Combine partial aggregates (columns `<arg>_count|_sum|_min|_max` and `$rn`) of the same groups; the
    result has the column names `finalize` reads, plus `$rn_min`."""
    specs, rename = [], {}
    for c in partials.column_names:
        if c in group_cols:
            continue
        if c == "$rn":
            specs.append(("$rn", "min"))
            rename["$rn_min"] = "$rn_min"
            continue
        fn, opts = _MERGE[c.rsplit("_", 1)[1]]
        specs.append((c, fn, opts) if opts is not None else (c, fn))
        rename[f"{c}_{fn}"] = c
    merged = partials.group_by(group_cols, use_threads=False).aggregate(specs)
    return merged.rename_columns([rename.get(c, c) for c in merged.column_names])


def python_aggregate_for(a: AggCall):
    from sqlstream.core.udf import python_aggregate
    f = python_aggregate(a.fn)
    if f is None:
        raise ExecutionError(f"Python aggregate function {a.fn[5:]} is not registered in this process")
    return f


def needed_columns(keys: list[int], aggs: list[AggCall]) -> list[int]:
    """Input columns a window aggregation keeps: the keys and every aggregate's argument and filter."""
    cols = list(keys)
    for a in aggs:
        cols += list(a.args) + ([a.filter] if a.filter is not None else [])
    return sorted(set(cols))


def expand_grouping_sets(table: pa.Table, key_names: list[str], sets: list[list[int]]) -> pa.Table:
    """Flink's Expand: one copy of the rows per grouping set, absent keys NULL, plus `$gs` = set index."""
    parts = []
    for j, members in enumerate(sets):
        t = table
        for i, k in enumerate(key_names):
            if i not in members:
                t = t.set_column(t.schema.get_field_index(k), k, pa.nulls(t.num_rows, t.schema.field(k).type))
        parts.append(t.append_column("$gs", pa.array(np.full(t.num_rows, j, dtype=np.int32))))
    return pa.concat_tables(parts)
