"""Grouped aggregation over Arrow tables with Flink's result semantics (AVG of INT truncates, DECIMAL scale)."""
from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import evaluate_groups, uses_group_values
from sqlstream.core.errors import ExecutionError

_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)


def prepare_inputs(table_cols: dict[str, pa.Array], aggs: list[AggCall], arg_names: list[str],
                   n: int | None = None) -> dict[str, pa.Array]:
    """Per aggregate, the (filtered) argument column it aggregates, named `$a{i}`."""
    out = {}
    for i, a in enumerate(aggs):
        if uses_group_values(a) and not a.fn.startswith("UDAF:"):  # every argument, per group in row order
            for k, j in enumerate(a.args):
                out[f"$a{i}_arg{k}"] = _filtered(table_cols[arg_names[j]], a, table_cols, arg_names)
            continue
        if a.fn.startswith("UDAF:"):  # every argument is collected per group, in row order
            for k, j in enumerate(a.args[1:], 1):
                out[f"$a{i}_arg{k}"] = _filtered(table_cols[arg_names[j]], a, table_cols, arg_names)
        if a.fn == "LISTAGG" and len(a.args) > 1:  # the separator: the group's last row with a value gives it
            sep = table_cols[arg_names[a.args[1]]]
            out[f"$a{i}_sep"] = _filtered(pc.if_else(pc.is_valid(table_cols[arg_names[a.args[0]]]), sep,
                                                     pa.scalar(None, sep.type)), a, table_cols, arg_names)
        if a.args:
            col = table_cols[arg_names[a.args[0]]]
            if a.fn in ("SUM", "AVG", "SUM0") and pa.types.is_decimal(col.type):
                col = pc.cast(col, pa.decimal128(38, col.type.scale))
            elif a.fn in ("SUM", "AVG", "SUM0") and pa.types.is_integer(col.type):
                col = pc.cast(col, pa.int64())
            elif a.fn in VARIANCES:
                col = pc.cast(col, pa.int64() if pa.types.is_integer(col.type) else pa.float64())
                out[f"$a{i}_sq"] = _filtered(pc.multiply(col, col), a, table_cols, arg_names)
        else:
            rows = n if n is not None else len(next(iter(table_cols.values())))
            col = pa.array(np.ones(rows, dtype=np.bool_))
        out[f"$a{i}"] = _filtered(col, a, table_cols, arg_names)
    return out


def _filtered(col: pa.Array, a: AggCall, table_cols: dict[str, pa.Array], arg_names: list[str]) -> pa.Array:
    """NULL where the aggregate's FILTER (WHERE ..) rejects the row."""
    if a.filter is None:
        return col
    keep = pc.fill_null(table_cols[arg_names[a.filter]], False)
    return pc.if_else(keep, col, pa.scalar(None, col.type))


def aggregation_specs(aggs: list[AggCall]) -> list[tuple]:
    """pyarrow group_by aggregation list computing the partial values each AggCall needs."""
    specs = []
    only_valid = pc.CountOptions(mode="only_valid")
    for i, a in enumerate(aggs):
        c = f"$a{i}"
        if uses_group_values(a) and not a.fn.startswith("UDAF:"):
            specs += [(f"{c}_arg{k}", "list") for k in range(len(a.args))]
        elif a.fn == "COUNT":
            specs.append((c, "count_distinct" if a.distinct else "count", only_valid))
        elif a.fn in ("SUM", "SUM0", "AVG"):
            if a.distinct:
                specs.append((c, "distinct", only_valid))
            else:
                specs.append((c, "sum", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)))
                specs.append((c, "count", only_valid))
        elif a.fn in ("MIN", "MAX"):
            specs.append((c, a.fn.lower(), pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)))
        elif a.fn in ("FIRST_VALUE", "LAST_VALUE"):
            specs.append((c, "first" if a.fn == "FIRST_VALUE" else "last",
                          pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)))
        elif a.fn in VARIANCES:
            specs += [(c, "sum", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)), (c, "count", only_valid),
                      (f"{c}_sq", "sum", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1))]
        elif a.fn == "LISTAGG":
            specs.append((c, "list"))
            if len(a.args) > 1:
                specs.append((f"{c}_sep", "last", pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)))
        elif a.fn.startswith("UDAF:"):
            specs += [(c, "list")] + [(f"{c}_arg{k}", "list") for k in range(1, len(a.args))]
        elif a.fn in ("BOOL_AND", "BOOL_OR"):
            specs.append((c, "all" if a.fn == "BOOL_AND" else "any",
                          pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)))
        else:
            raise ExecutionError(f"aggregate {a.fn} is not supported in window aggregation")
    return specs


def finalize(result: pa.Table, aggs: list[AggCall]) -> list[pa.Array]:
    """Turn the group_by result columns into one Flink-typed array per AggCall."""
    out = []
    for i, a in enumerate(aggs):
        c = f"$a{i}"
        t = a.type.to_arrow()
        if uses_group_values(a) and not a.fn.startswith("UDAF:"):
            lists = [result.column(f"{c}_arg{k}_list").combine_chunks() for k in range(len(a.args))]
            groups = np.asarray(pc.list_parent_indices(lists[0]).to_numpy(zero_copy_only=False), dtype=np.int64)
            out.append(evaluate_groups(a, [pc.list_flatten(x) for x in lists], groups, result.num_rows))
            continue
        if a.fn == "COUNT":
            v = result.column(f"{c}_count_distinct" if a.distinct else f"{c}_count")
            out.append(pc.cast(v, t))
            continue
        if a.fn in ("SUM", "SUM0", "AVG"):
            if a.distinct:
                lists = result.column(f"{c}_distinct").combine_chunks()
                flat = pc.list_flatten(lists)
                parents = pc.list_parent_indices(lists)
                sub = pa.table({"g": parents, "v": flat}).group_by("g").aggregate(
                    [("v", "sum", pc.ScalarAggregateOptions(min_count=1)), ("v", "count")])
                s = np.full(len(lists), None, dtype=object)
                cnt = np.zeros(len(lists), dtype=np.int64)
                g = sub.column("g").to_numpy()
                s[g] = np.array(sub.column("v_sum").to_pylist(), dtype=object)
                cnt[g] = sub.column("v_count").to_numpy()
                total = pa.array(list(s), type=flat.type if len(flat) else result.schema.field(f"{c}_distinct").type.value_type)
                count = pa.array(cnt)
            else:
                total = result.column(f"{c}_sum").combine_chunks()
                count = result.column(f"{c}_count").combine_chunks()
            if a.fn == "SUM":
                out.append(_cast_sum(total, a))
            elif a.fn == "SUM0":
                out.append(pc.fill_null(_cast_sum(total, a), 0))
            else:
                out.append(average(total, count, a))
            continue
        if a.fn in ("MIN", "MAX", "FIRST_VALUE", "LAST_VALUE"):
            name = {"MIN": "min", "MAX": "max", "FIRST_VALUE": "first", "LAST_VALUE": "last"}[a.fn]
            out.append(pc.cast(result.column(f"{c}_{name}"), t))
            continue
        if a.fn in VARIANCES:
            total, count, squares = (result.column(f"{c}_sum"), result.column(f"{c}_count"),
                                     result.column(f"{c}_sq_sum"))
            out.append(variance(a, *(x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x
                                     for x in (total, count, squares))))
            continue
        if a.fn == "LISTAGG":
            lists = result.column(f"{c}_list").combine_chunks().to_pylist()
            seps = result.column(f"{c}_sep_last").to_pylist() if len(a.args) > 1 else [","] * len(lists)
            out.append(pa.array([(sep if sep is not None else ",").join(x for x in v if x is not None)
                                 if v and any(x is not None for x in v) else None
                                 for v, sep in zip(lists, seps)], pa.string()))
            continue
        if a.fn in ("BOOL_AND", "BOOL_OR"):
            out.append(result.column(f"{c}_{'all' if a.fn == 'BOOL_AND' else 'any'}"))
            continue
        if a.fn.startswith("UDAF:"):
            lists = [result.column(f"{c}_list")] + [result.column(f"{c}_arg{k}_list") for k in range(1, len(a.args))]
            lists = [x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in lists]
            groups = np.asarray(pc.list_parent_indices(lists[0]).to_numpy(zero_copy_only=False), dtype=np.int64)
            out.append(evaluate_groups(a, [pc.list_flatten(x) for x in lists], groups, result.num_rows))
            continue
        raise ExecutionError(f"aggregate {a.fn} is not supported")
    return [x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in out]


VARIANCES = ("STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP")


def variance(a: AggCall, total: pa.Array, count: pa.Array, squares: pa.Array,
             integer_arithmetic: bool = False) -> pa.Array:
    """STDDEV_POP/STDDEV_SAMP/VAR_POP/VAR_SAMP from SUM(x), COUNT(x) and SUM(x * x), by the formula Flink
    rewrites them into: (SUM(x*x) - SUM(x)*SUM(x) / COUNT(x)) / COUNT(x) [- 1], then POWER(.., 0.5) for STDDEV.
    An integer result truncates the DOUBLE value (window and group aggregation: VAR_SAMP of 1 and 2 is 0); with
    `integer_arithmetic` (Flink's OVER aggregation) the formula itself runs on integers, so it is 1."""
    cnt = np.asarray(count.to_numpy(zero_copy_only=False)).astype(np.int64)
    valid = np.asarray(pc.is_valid(total).to_numpy(zero_copy_only=False)) & (cnt > 0)
    sample = a.fn.endswith("SAMP")
    if sample:
        valid &= cnt > 1
    divisor = np.where(valid, cnt - 1 if sample else cnt, 1)
    safe_cnt = np.where(cnt > 0, cnt, 1)
    if integer_arithmetic and pa.types.is_integer(total.type):
        s = np.where(valid, np.asarray(pc.fill_null(total, 0).to_numpy(zero_copy_only=False)), 0).astype(np.int64)
        sq = np.where(valid, np.asarray(pc.fill_null(squares, 0).to_numpy(zero_copy_only=False)), 0).astype(np.int64)
        var = _java_div(sq - _java_div(s * s, safe_cnt), divisor)
    else:
        s = np.asarray(pc.fill_null(pc.cast(total, pa.float64(), safe=False), 0.0).to_numpy(zero_copy_only=False))
        sq = np.asarray(pc.fill_null(pc.cast(squares, pa.float64(), safe=False), 0.0)
                        .to_numpy(zero_copy_only=False))
        var = (sq - s * s / safe_cnt) / divisor
    result = np.power(var.astype(np.float64), 0.5) if a.fn.startswith("STDDEV") else var
    if a.type.is_integer and not (integer_arithmetic and pa.types.is_integer(total.type)):
        result = java_double_to_integer(result, a.type.to_arrow())
    elif a.type.is_integer:
        result = np.trunc(np.nan_to_num(result.astype(np.float64))).astype(np.int64)
    return pa.array(result, mask=~valid).cast(a.type.to_arrow(), safe=False)


def java_double_to_integer(values: np.ndarray, arrow_type: pa.DataType) -> np.ndarray:
    """Java's (int) / (long) cast of a double, as Flink's CAST of the DOUBLE formula does: NaN is 0, the
    fraction is cut, and a value past the type's range is its bound (VAR_POP of large INTs is 2147483647)."""
    info = np.iinfo(np.dtype(f"int{arrow_type.bit_width}"))  # Flink's integer types are signed
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=np.inf, neginf=-np.inf)
    out = np.zeros(len(v), np.int64)
    inside = (v > info.min) & (v < info.max)
    out[inside] = np.trunc(v[inside]).astype(np.int64)
    out[v >= info.max] = info.max
    out[v <= info.min] = info.min
    return out


def _java_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division truncating toward zero."""
    q = np.floor_divide(a, b)
    return q + ((np.remainder(a, b) != 0) & ((a < 0) ^ (b < 0)))


def _cast_sum(total: pa.Array, a: AggCall) -> pa.Array:
    t = a.type.to_arrow()
    if isinstance(total, pa.ChunkedArray):
        total = total.combine_chunks()
    return pc.cast(total, t, safe=False)


def average(total: pa.Array, count: pa.Array, a: AggCall) -> pa.Array:
    """AVG as Flink computes it: integer types truncate, DECIMAL rounds HALF_UP to the result scale."""
    t = a.type
    if isinstance(total, pa.ChunkedArray):
        total = total.combine_chunks()
    if isinstance(count, pa.ChunkedArray):
        count = count.combine_chunks()
    cnt = count.to_numpy(zero_copy_only=False).astype(np.int64)
    if t.is_integer:
        s = total.to_numpy(zero_copy_only=False)
        valid = np.asarray(pc.is_valid(total).to_numpy(zero_copy_only=False)) & (cnt > 0)
        s = np.where(valid, s, 0).astype(np.int64)
        c = np.where(cnt > 0, cnt, 1)
        q = np.floor_divide(s, c)
        q += ((np.remainder(s, c) != 0) & ((s < 0) ^ (c < 0))).astype(np.int64)
        return pa.array(q, pa.int64(), mask=~valid).cast(t.to_arrow(), safe=False)
    if t.is_decimal:
        quant = decimal.Decimal(1).scaleb(-t.scale)
        vals = []
        for s, c in zip(total.to_pylist(), cnt):
            vals.append(None if s is None or c == 0 else
                        _CTX.divide(decimal.Decimal(s), decimal.Decimal(int(c))).quantize(quant, context=_CTX))
        return pa.array(vals, t.to_arrow())
    s = pc.cast(total, pa.float64(), safe=False)  # sums past 2**53 round, as Java's long-to-double does
    return pc.cast(pc.divide(s, pc.cast(pa.array(np.where(cnt > 0, cnt, np.nan)), pa.float64())), t.to_arrow())


def aggregate_rows(table: pa.Table, group_cols: list[str], needed: list[int], aggs: list[AggCall]) -> pa.Table:
    """Group buffered rows (columns c<i>, plus `$rn` arrival numbers) and compute every AggCall's partials;
    `$rn_min` orders the groups by first arrival."""
    names = {f"c{i}": table.column(f"c{i}").combine_chunks() for i in needed}
    inputs = prepare_inputs(names, aggs, [f"c{i}" for i in range(max(needed, default=-1) + 1)], table.num_rows)
    work = pa.table({**{c: table.column(c) for c in group_cols}, "$rn": table.column("$rn"), **inputs})
    return work.group_by(group_cols, use_threads=False).aggregate(aggregation_specs(aggs) + [("$rn", "min")])


MERGEABLE = ("COUNT", "SUM", "SUM0", "AVG", "MIN", "MAX")
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
