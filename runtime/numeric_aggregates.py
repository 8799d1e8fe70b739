"""COUNT, SUM, SUM0, AVG, MIN, MAX and STDDEV/VAR as accumulators over dense group ids, with Flink's result rules.

A group's state is a few numbers held in numpy arrays indexed by group id (`state_names` says which: the running
sum, the non-NULL count `nn`, the extreme `ext` and whether it exists, the sum of squares `sq`). Every path is
vectorized over a batch of rows:

- `apply` (update / retract) folds rows into their groups with `np.add.at` / `np.minimum.at` (a window's rows,
  an OVER frame);
- `running` gives each row's result before and after it (GROUP BY's per-record changelog) by segmented scans
  over rows sorted by group, seeded with the groups' kept state;
- `frames` reduces each OVER frame's range of rows at once (`np.add.reduceat`, prefix sums of integers and a sparse
  table of extrema for long frames, floating sums in row order);
- `window_inputs` / `window_specs` / `finish` let a window aggregation compute the same state with Arrow's hash
  aggregation and answer from it (`finish` is `merge` into fresh groups then `evaluate`, kept in Arrow types).

Integers, decimals (unscaled) and times are exact int64; floating values float64; other values (MIN/MAX of
strings) Python objects. DISTINCT: COUNT counts first sightings of a (group, value) pair; SUM/AVG/VAR see only
the rows that change a group's set of values (`DistinctSigns`).
"""
from __future__ import annotations

import dataclasses
import decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import Accumulator, DistinctSigns
from sqlstream.functions.arrow import hashable

VARIANCES = ("STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP")
_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_UP)
_VALID = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)
_ONLY_VALID = pc.CountOptions(mode="only_valid")


# ---- numeric views of Arrow arrays -------------------------------------------------------------
_WIDE = decimal.Context(prec=100)  # exact for any DECIMAL(38, s)


def numeric_kind(t: pa.DataType) -> str:
    """The accumulator kind to_numeric gives values of type t."""
    if pa.types.is_floating(t):
        return "f"
    if pa.types.is_decimal(t) and t.precision > 18:  # unscaled values past an int64: Python ints
        return "o"
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
    if pa.types.is_decimal(t) and t.precision > 18:
        unscaled = [0 if d is None else int(d.scaleb(t.scale, _WIDE)) for d in arr.to_pylist()]
        return np.array(unscaled, dtype=object), valid, "o"
    if pa.types.is_decimal(t):
        words = np.frombuffer(arr.buffers()[1], dtype=np.int64).reshape(-1, 2)
        return words[arr.offset:arr.offset + len(arr), 0].copy() * valid, valid, "i"
    if pa.types.is_floating(t):
        return np.nan_to_num(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False).astype(np.float64),
                             nan=np.nan), valid, "f"
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        return pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(zero_copy_only=False), valid, "i"
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_duration(t):
        if pa.types.is_date32(t) or pa.types.is_time32(t):  # Arrow casts these to int32 only
            arr = arr.view(pa.int32())
        return pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(zero_copy_only=False), valid, "i"
    return np.array(arr.to_pylist(), dtype=object), valid, "o"


def _sorts_as_python(t: pa.DataType) -> bool:
    """Whether Arrow sorts values of `t` as Python compares them (strings by code point: UTF-8 byte order)."""
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
        or pa.types.is_large_binary(t)


def from_numeric(values: np.ndarray, valid: np.ndarray, t: pa.DataType) -> pa.Array:
    mask = ~valid
    if pa.types.is_decimal(t) and values.dtype == object:  # unscaled Python ints
        return pa.array([decimal.Decimal(int(v)).scaleb(-t.scale, _WIDE) if ok else None
                         for v, ok in zip(values, valid)], pa.decimal128(38, t.scale)).cast(t)
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
    if x.dtype == np.int64 and seeds.dtype == np.int64:
        if ufunc is np.add:
            return _seg_sum_int(x, seg, start_idx, seeds)
        if ufunc is np.maximum or ufunc is np.minimum:
            out = _seg_extreme_int(ufunc is np.maximum, x, seg, start_idx, seeds, identity)
            if out is not None:
                return out
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


def _seg_sum_int(x: np.ndarray, seg: np.ndarray, start_idx: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """`seg_accumulate` of integer sums in one pass: the batch's prefix sum less its value before each
    segment, plus the segment's seed (int64 wraps alike both ways, so a segment's sum is exact whenever it
    fits)."""
    total = np.cumsum(x)
    base = seeds[start_idx] - (total[start_idx] - x[start_idx])
    return total + base[seg]


def _seg_extreme_int(largest: bool, x: np.ndarray, seg: np.ndarray, start_idx: np.ndarray, seeds: np.ndarray,
                     identity) -> np.ndarray | None:
    """`seg_accumulate` of integer maxima (minima: of the negated values) in one pass: each segment's values
    are shifted above every earlier segment's, so one running maximum restarts at each segment. Values equal
    to `identity` hold nothing (when it is below every value, as a neutral element is). None when the
    shifted values would not fit in int64."""
    seg_seeds = seeds[start_idx]
    identity = np.int64(identity)
    present, seed_present = x != identity, seg_seeds != identity
    if not present.any() and not seed_present.any():
        return np.full(len(x), identity, np.int64)
    limit = 1 << 61
    vals = np.concatenate([x[present], seg_seeds[seed_present]])
    lo, hi = int(vals.min()), int(vals.max())
    if (identity > lo if largest else identity < hi) or lo <= -limit or hi >= limit:
        return None
    if not largest:
        lo, hi = -hi, -lo
    span = hi - lo + 2  # 0 stands for "nothing yet"
    if span * (len(start_idx) + 1) >= limit:
        return None
    y = x if largest else -x
    ys = seg_seeds if largest else -seg_seeds
    shift = seg * span
    run = np.maximum.accumulate(np.where(present, y - lo + 1, 0) + shift) - shift
    run = np.maximum(run, np.where(seed_present, ys - lo + 1, 0)[seg])
    out = run + (lo - 1)
    if not largest:
        out = -out
    return np.where(run > 0, out, identity)


def preceding(running: np.ndarray, first: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The running value before each row: the previous row's, or the seed at a segment's first row. A row's
    `before` is taken from here rather than undone from its `after` (x + v - v need not be x in floating
    point), so a -U/-D carries exactly the values emitted before."""
    out = np.empty_like(running)
    out[1:] = running[:-1]
    out[first] = seeds[first]
    return out


class Segments:
    """Rows sorted by group id (arrival order within a group) cut into runs: `first` starts a group's run,
    `sub_first` also where the group starts over empty (`fresh`), `seeded` runs start from the kept state."""

    def __init__(self, group_ids: np.ndarray, fresh: np.ndarray):
        self.sg = group_ids
        self.first = np.r_[True, group_ids[1:] != group_ids[:-1]] if len(group_ids) else np.zeros(0, bool)
        self.sub_first = self.first | fresh
        self.seeded = self.first & ~fresh
        self.last = np.r_[self.first[1:], True] if len(group_ids) else np.zeros(0, bool)

    def seeds(self, kept: np.ndarray, zero) -> np.ndarray:
        return np.where(self.seeded, kept[self.sg], zero)

    def store(self, kept: np.ndarray, running: np.ndarray) -> None:
        """A group's kept state is its last row's running value."""
        kept[self.sg[self.last]] = running[self.last]


def range_extreme(ufunc, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """ufunc (minimum or maximum) over x[lo..hi] for every range, from a sparse table: O(n log n) however long
    the ranges are."""
    levels = [x]
    span = int((hi - lo).max()) + 1
    k = 1
    while 2 * k <= span:
        prev = levels[-1]
        levels.append(ufunc(prev[:-k], prev[k:]) if len(prev) > k else prev[:0])
        k *= 2
    length = hi - lo + 1
    level = np.floor(np.log2(length)).astype(np.int64)
    out = np.empty(len(lo), x.dtype)
    for j in np.unique(level).tolist():
        rows = np.flatnonzero(level == j)
        table = levels[j]
        out[rows] = ufunc(table[lo[rows]], table[hi[rows] - (1 << j) + 1])
    return out


class RangeReducer:
    """Reductions of one column over many [lo, hi] row ranges: `np.add.reduceat` (floating sums add a range's
    rows in order), or prefix sums of integers and a sparse table of extrema when ranges are long."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        self.lo, self.hi = lo, hi
        self.long = len(lo) > 0 and float(np.mean(hi - lo)) > 16
        self.bounds = np.empty(2 * len(lo), dtype=np.int64)
        self.bounds[0::2], self.bounds[1::2] = lo, hi + 1

    def _reduceat(self, ufunc, x: np.ndarray, fill) -> np.ndarray:
        return ufunc.reduceat(np.append(x, np.array(fill, x.dtype)), self.bounds)[0::2]  # every end an index

    def add(self, x: np.ndarray) -> np.ndarray:
        if self.long and x.dtype == np.int64:
            c = np.concatenate([[0], np.cumsum(x)])
            return c[self.hi + 1] - c[self.lo]
        return self._reduceat(np.add, x, 0)

    def extreme(self, ufunc, x: np.ndarray, fill) -> np.ndarray:
        return range_extreme(ufunc, x, self.lo, self.hi) if self.long else self._reduceat(ufunc, x, fill)


# ---- Flink's result rules ----------------------------------------------------------------------
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


def average(total: pa.Array, count: pa.Array, a: AggCall) -> pa.Array:
    """AVG as Flink computes it: integer types truncate, DECIMAL rounds HALF_UP to the result scale."""
    t = a.type
    if isinstance(total, pa.ChunkedArray):
        total = total.combine_chunks()
    if isinstance(count, pa.ChunkedArray):
        count = count.combine_chunks()
    cnt = count.to_numpy(zero_copy_only=False).astype(np.int64)
    if t.is_integer:
        valid = np.asarray(pc.is_valid(total).to_numpy(zero_copy_only=False)) & (cnt > 0)
        # NULLs filled in Arrow: an integer array with NULLs would come to numpy as float64 and lose the digits
        s = np.where(valid, pc.fill_null(total, 0).to_numpy(zero_copy_only=False), 0).astype(np.int64)
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


def _combined(x):
    return x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x


# ---- accumulators ------------------------------------------------------------------------------
class NumericAccumulator(Accumulator):
    """Per-group numbers in numpy arrays named by `state_names`; subclasses say how rows move them."""

    state_names: tuple[str, ...] = ()

    def __init__(self, call: AggCall, arg_types: list[pa.DataType], kind: str | None = None):
        self.call = call
        self.arg_type = arg_types[0] if arg_types else pa.int64()
        self.result_type = call.type.to_arrow()
        self.kind = kind or numeric_kind(self.arg_type)
        dtype = {"i": np.int64, "f": np.float64, "o": object}[self.kind]
        self.sum = np.zeros(0, dtype=dtype)
        self.sq = np.zeros(0, dtype=dtype)
        self.nn = np.zeros(0, dtype=np.int64)
        self.ext = np.zeros(0, dtype=dtype)
        self.ext_valid = np.zeros(0, dtype=bool)
        self.distinct = DistinctSigns() if call.distinct else None

    @property
    def zero(self):
        return {"i": np.int64(0), "f": 0.0, "o": 0}[self.kind]

    def grow(self, size: int) -> None:
        if len(self.nn) >= size:
            return
        new = max(size, 2 * len(self.nn), 64)
        for name in ("sum", "sq", "nn", "ext", "ext_valid"):
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype)
            if old.dtype == object:
                arr[:] = 0 if name in ("sum", "sq") else None
            arr[:len(old)] = old
            setattr(self, name, arr)

    def _grow_for(self, group_ids: np.ndarray) -> None:
        if len(group_ids):
            self.grow(int(group_ids.max()) + 1)

    def clear(self, group_ids: np.ndarray) -> None:
        self._grow_for(group_ids)
        self.sum[group_ids] = self.zero
        self.sq[group_ids] = self.zero
        self.nn[group_ids] = 0
        self.ext_valid[group_ids] = False
        if self.distinct is not None:
            self.distinct.forget(group_ids)

    def size_bytes(self) -> int:
        return self.sum.nbytes + self.nn.nbytes + self.ext.nbytes + self.sq.nbytes + 64 * len(self.distinct or ())

    def _values(self, args: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
        """The argument as numbers and its validity (COUNT(*): every row counts)."""
        if not args:
            return np.ones(0, np.int64), np.ones(0, bool)
        v, ok, _ = to_numeric(args[0])
        if self.kind == "f" and v.dtype != np.float64:
            v = v.astype(np.float64)
        return v, ok

    def _distinct_signs(self, args, group_ids, signs, fresh) -> np.ndarray:
        if self.distinct is None:
            return signs
        return self.distinct.signs(group_ids, args[0].to_pylist(), signs, fresh)

    def frames(self, args, lo, hi):
        """Each frame's state reduced from its range of rows at once (DISTINCT and object values: the
        general way)."""
        if self.distinct is not None or self.kind == "o" or isinstance(self, CountDistinct):
            return super().frames(args, lo, hi)
        n = len(lo)
        self.grow(n)
        total = int(hi.max()) + 1 if n else 0
        if args:
            v, ok = self._values(args)
        else:
            v, ok = np.ones(total, np.int64), np.ones(total, bool)
        ranges = RangeReducer(lo, hi)
        ids = np.arange(n)
        if "nn" in self.state_names:
            self.nn[ids] = ranges.add(ok.astype(np.int64))
        if "sum" in self.state_names:
            self.sum[ids] = ranges.add(np.where(ok, v, 0).astype(self.sum.dtype))
        if "sq" in self.state_names:
            self.sq[ids] = ranges.add(np.where(ok, v * v, 0).astype(self.sq.dtype))
        if "ext" in self.state_names:
            low, big = Extreme._limits(self.ext.dtype)
            fill = big if self.smallest else low
            ufunc = np.minimum if self.smallest else np.maximum
            self.ext[ids] = ranges.extreme(ufunc, np.where(ok, v, fill).astype(self.ext.dtype), fill)
            self.ext_valid[ids] = ranges.add(ok.astype(np.int64)) > 0
        return self.evaluate(ids)

    # ---- state ----------------------------------------------------------------------------------
    def state(self, group_ids: np.ndarray) -> list[pa.Array]:
        self._grow_for(group_ids)
        out = []
        for name in self.state_names:
            if name in ("dvalues", "dcounts"):
                continue
            arr = getattr(self, name)[group_ids]
            out.append(pa.array(list(arr)) if arr.dtype == object else pa.array(arr))
        if self.distinct is not None:
            out += list(self.distinct.snapshot_column(group_ids, self.arg_type))
        return out

    def merge(self, states: list[pa.Array | None], group_ids: np.ndarray) -> None:
        """Fold in `state()` arrays (a missing one, None, counts as empty): kept groups add them up. With
        DISTINCT a group's values are not summed twice: only an empty group takes a DISTINCT state."""
        self._grow_for(group_ids)
        if self.distinct is not None and len(self.distinct) and self.distinct.holds(group_ids):
            raise ExecutionError(f"{self.call.fn}(DISTINCT ..) states can only be merged into empty groups")
        named = dict(zip(self.state_names, states))
        for name in ("nn", "sum", "sq"):
            if name in self.state_names and named.get(name) is not None:
                v, ok, _ = to_numeric(named[name])
                target = getattr(self, name)
                v = np.where(ok, v, 0).astype(target.dtype) if target.dtype != object else v
                np.add.at(target, group_ids, v)
        if named.get("dvalues") is not None and self.distinct is not None:
            self.distinct.merge_columns(named["dvalues"], named["dcounts"], group_ids)

    def finish(self, states: list[pa.Array]) -> pa.Array:
        """The results of groups 0..n-1 whose state (from Arrow's hash aggregation of a window's rows) is
        `states`: as `merge` into fresh groups then `evaluate`, in Arrow types."""
        n = len(states[0])
        self.merge(states, np.arange(n))
        return self.evaluate(np.arange(n))



class Count(NumericAccumulator):
    """COUNT(x) / COUNT(*): the group's non-NULL rows (its argument is a column of ones for COUNT(*))."""

    state_names = ("nn",)
    window_partials = True

    def _valid(self, args, n: int) -> np.ndarray:
        if not args:
            return np.ones(n, bool)
        return np.asarray(pc.is_valid(args[0]).to_numpy(zero_copy_only=False), dtype=bool)

    def apply(self, args, group_ids, signs):
        self._grow_for(group_ids)
        np.add.at(self.nn, group_ids, np.where(self._valid(args, len(group_ids)), signs, 0))

    def running(self, args, group_ids, signs, fresh):
        self._grow_for(group_ids)
        seg = Segments(group_ids, fresh)
        ok = self._valid(args, len(group_ids))
        contrib = np.where(ok, signs, 0)
        after = seg_accumulate(np.add, contrib, seg.sub_first, seg.seeds(self.nn, 0), 0)
        seg.store(self.nn, after)
        ones = np.ones(len(group_ids), bool)
        return from_numeric(after, ones, self.result_type), from_numeric(after - contrib, ones, self.result_type)

    def evaluate(self, group_ids):
        self._grow_for(group_ids)
        return pa.array(self.nn[group_ids]).cast(self.result_type)

    def window_inputs(self, args, n):
        return {"": args[0] if args else pa.array(np.ones(n, dtype=np.bool_))}

    def window_specs(self, c):
        return [(c, "count", _ONLY_VALID)]

    def window_state_columns(self, c):
        return [f"{c}_count"]

    def finish(self, states):
        return pc.cast(_combined(states[0]), self.result_type)


class CountDistinct(Count):
    """COUNT(DISTINCT x) over an insert-only input: a row counts when its (group, value) pair is new."""

    state_names = ("nn", "distinct")

    def __init__(self, call, arg_types):
        super().__init__(call, arg_types)
        self.distinct = None
        self.seen = _SeenPairs()
        self.retractable = False
        self.window_partials = False

    def apply(self, args, group_ids, signs):
        if (signs < 0).any():
            raise ExecutionError("COUNT(DISTINCT ..) of an insert-only aggregation cannot take a row back")
        self._grow_for(group_ids)
        np.add.at(self.nn, group_ids, self.seen.first_seen(group_ids, _combined(args[0])))

    def running(self, args, group_ids, signs, fresh):
        self._grow_for(group_ids)
        seg = Segments(group_ids, fresh)
        new = self.seen.first_seen(group_ids, _combined(args[0]))
        after = seg_accumulate(np.add, new, seg.first, seg.seeds(self.nn, 0), 0)
        seg.store(self.nn, after)
        ones = np.ones(len(group_ids), bool)
        return from_numeric(after, ones, self.result_type), from_numeric(after - new, ones, self.result_type)

    def clear(self, group_ids):
        super().clear(group_ids)
        self.seen.forget(group_ids)

    def size_bytes(self):
        return super().size_bytes() + 16 * len(self.seen)

    def state(self, group_ids):
        self._grow_for(group_ids)
        return [pa.array(self.nn[group_ids]), self.seen.snapshot_column(group_ids, self.arg_type)]

    def merge(self, states, group_ids):
        """The counted values (when kept) are counted again, so that values both sides saw count once."""
        self._grow_for(group_ids)
        if len(states) > 1 and states[1] is not None:
            lists = _combined(states[1])
            g = group_ids[np.asarray(pc.list_parent_indices(lists), dtype=np.int64)]
            np.add.at(self.nn, g, self.seen.first_seen(g, pc.list_flatten(lists)))
        elif states[0] is not None:
            np.add.at(self.nn, group_ids, np.asarray(_combined(states[0]).to_numpy(zero_copy_only=False), np.int64))

    def window_specs(self, c):
        return [(c, "count_distinct", _ONLY_VALID)]

    def window_state_columns(self, c):
        return [f"{c}_count_distinct"]


class Sum(NumericAccumulator):
    """SUM / SUM0 / AVG: the group's running sum and non-NULL count; AVG divides as Flink does."""

    state_names = ("sum", "nn")

    def __init__(self, call, arg_types, kind=None):
        super().__init__(call, arg_types, kind)
        self.window_partials = not call.distinct
        if call.distinct:
            self.state_names = ("sum", "nn", "dvalues", "dcounts")

    def apply(self, args, group_ids, signs):
        self._grow_for(group_ids)
        signs = self._distinct_signs(args, group_ids, signs, np.zeros(len(group_ids), bool))
        v, ok = self._values(args)
        np.add.at(self.nn, group_ids, np.where(ok, signs, 0))
        np.add.at(self.sum, group_ids, self._contrib(v, ok, signs))

    def _contrib(self, v, ok, signs):
        if self.kind == "o":
            return np.array([x * int(s) if k else 0 for x, s, k in zip(v, signs, ok)], dtype=object)
        return np.where(ok, v * signs, self.zero)

    def running(self, args, group_ids, signs, fresh):
        self._grow_for(group_ids)
        seg = Segments(group_ids, fresh)
        signs = self._distinct_signs(args, group_ids, signs, fresh)
        v, ok = self._values(args)
        counted = np.where(ok, signs, 0)
        nn_after = seg_accumulate(np.add, counted, seg.sub_first, seg.seeds(self.nn, 0), 0)
        sum_seed = seg.seeds(self.sum, self.zero)
        sum_after = seg_accumulate(np.add, self._contrib(v, ok, signs), seg.sub_first, sum_seed, self.zero)
        sum_before = preceding(sum_after, seg.first, sum_seed)
        seg.store(self.nn, nn_after)
        seg.store(self.sum, sum_after)
        return self._result(sum_after, nn_after), self._result(sum_before, nn_after - counted)

    def evaluate(self, group_ids):
        self._grow_for(group_ids)
        return self._result(self.sum[group_ids], self.nn[group_ids])

    def _total(self, s: np.ndarray, valid: np.ndarray, t: pa.DataType) -> pa.Array:
        if pa.types.is_decimal(self.arg_type):
            return from_numeric(s, valid, pa.decimal128(38, self.arg_type.scale)).cast(t)
        return from_numeric(s, valid, t)

    def _result(self, s: np.ndarray, c: np.ndarray) -> pa.Array:
        fn = self.call.fn
        if fn in ("SUM", "SUM0"):
            return self._total(s, c > 0 if fn == "SUM" else np.ones(len(c), bool), self.result_type)
        wide = (pa.decimal128(38, self.arg_type.scale) if pa.types.is_decimal(self.arg_type)
                else pa.float64() if self.kind == "f" else pa.int64())
        return average(self._total(s, c > 0, wide), pa.array(c), self.call)

    def window_inputs(self, args, n):
        col = args[0]
        if pa.types.is_decimal(col.type):
            col = pc.cast(col, pa.decimal128(38, col.type.scale))
        elif pa.types.is_integer(col.type):
            col = pc.cast(col, pa.int64())
        return {"": col}

    def window_specs(self, c):
        if self.call.distinct:
            return [(c, "distinct", _ONLY_VALID)]
        return [(c, "sum", _VALID), (c, "count", _ONLY_VALID)]

    def window_state_columns(self, c):
        return [f"{c}_distinct"] if self.call.distinct else [f"{c}_sum", f"{c}_count"]

    def finish(self, states):
        if self.call.distinct:  # the window's distinct values per group: their sum and count
            lists = _combined(states[0])
            flat = pc.list_flatten(lists)
            sub = pa.table({"g": pc.list_parent_indices(lists), "v": flat}).group_by("g").aggregate(
                [("v", "sum", pc.ScalarAggregateOptions(min_count=1)), ("v", "count")])
            s = np.full(len(lists), None, dtype=object)
            cnt = np.zeros(len(lists), dtype=np.int64)
            g = sub.column("g").to_numpy()
            s[g] = np.array(sub.column("v_sum").to_pylist(), dtype=object)
            cnt[g] = sub.column("v_count").to_numpy()
            total = pa.array(list(s), type=flat.type if len(flat) else lists.type.value_type)
            count = pa.array(cnt)
        else:
            total, count = _combined(states[0]), _combined(states[1])
        if self.call.fn == "SUM":
            return pc.cast(total, self.result_type, safe=False)
        if self.call.fn == "SUM0":
            return pc.fill_null(pc.cast(total, self.result_type, safe=False), 0)
        return average(total, count, self.call)


class Extreme(NumericAccumulator):
    """MIN / MAX over an insert-only input (the group keeps its extreme; DISTINCT changes nothing), and
    BOOL_AND / BOOL_OR, the MIN / MAX of booleans. Over an updating input the operators use the value-counting
    MIN/MAX of `value_aggregates`, which can retract."""

    state_names = ("ext", "ext_valid")
    retractable = False

    def __init__(self, call, arg_types):
        super().__init__(call, arg_types)
        self.distinct = None
        self.window_partials = call.fn in ("MIN", "MAX")
        self.smallest = call.fn in ("MIN", "BOOL_AND")
        self.window_fn = {"BOOL_AND": "all", "BOOL_OR": "any"}.get(call.fn, call.fn.lower())

    def apply(self, args, group_ids, signs):
        if (signs < 0).any():
            raise ExecutionError(f"{self.call.fn} of an insert-only aggregation cannot take a row back")
        self._grow_for(group_ids)
        v, ok = self._values(args)
        self._fold(v, ok, group_ids)

    @staticmethod
    def _limits(dtype) -> tuple:
        big = np.iinfo(np.int64).max if dtype.kind == "i" else np.inf
        low = np.iinfo(np.int64).min if dtype.kind == "i" else -np.inf
        return low, big

    def _none(self, dtype):
        low, big = self._limits(dtype)
        return big if self.smallest else low

    def running(self, args, group_ids, signs, fresh):
        self._grow_for(group_ids)
        seg = Segments(group_ids, fresh)
        if self.kind == "o" and _sorts_as_python(self.arg_type):
            return self._running_sorted(_combined(args[0]), seg)
        v, ok = self._values(args)
        sg = group_ids
        seeds_valid = seg.seeded & self.ext_valid[sg]
        seed_vals = self.ext[sg]
        if v.dtype == object:  # rank the values: the scan runs over their ranks
            pool = np.concatenate([v[ok], seed_vals[seeds_valid]])
            uniq = np.unique(pool) if len(pool) else np.array([], dtype=object)
            lookup = {x: i for i, x in enumerate(uniq.tolist())}
            rv = np.array([lookup[x] if k else -1 for x, k in zip(v, ok)], dtype=np.int64)
            rs = np.array([lookup[x] if k else -1 for x, k in zip(seed_vals, seeds_valid)], dtype=np.int64)
            back, ok_v, ok_s = uniq, rv >= 0, rs >= 0
        else:
            rv, rs, back, ok_v, ok_s = v, seed_vals, None, ok, seeds_valid
        none = self._none(rv.dtype)
        fn = np.minimum if self.smallest else np.maximum
        x = np.where(ok_v, rv, none)
        seeds = np.where(ok_s, rs, none)
        run = seg_accumulate(fn, x.astype(rv.dtype), seg.sub_first, seeds.astype(rv.dtype), none)
        prev_run = preceding(run, seg.first, seeds)
        after_valid, before_valid = run != none, prev_run != none
        last = seg.last
        g = sg[last]
        if back is None:
            self.ext[g] = run[last]
            conv_after, conv_before = run, prev_run
        else:
            self.ext[g] = np.array([back[r] if r != none else None for r in run[last]], dtype=object)
            conv_after = np.array([back[r] if r != none else None for r in run], dtype=object)
            conv_before = np.array([back[r] if r != none else None for r in prev_run], dtype=object)
        self.ext_valid[g] = after_valid[last]
        return (from_numeric(conv_after, after_valid, self.result_type),
                from_numeric(conv_before, before_valid, self.result_type))

    def _running_sorted(self, arr: pa.Array, seg: "Segments") -> tuple[pa.Array, pa.Array]:
        """`running` of strings and binaries without a Python object per row: the batch's distinct values (and
        the kept extremes it starts from) are ranked by Arrow's sort, the scan runs over ranks, and the results
        are taken from the sorted values."""
        n, sg = len(arr), seg.sg
        seeded = np.flatnonzero(seg.seeded & self.ext_valid[sg])
        kept = pa.array(self.ext[sg[seeded]].tolist(), arr.type)
        enc = pc.dictionary_encode(pa.concat_arrays([arr, kept]))
        order = pc.sort_indices(enc.dictionary)
        rank_of = np.empty(len(order), np.int64)
        rank_of[np.asarray(order)] = np.arange(len(order))
        none = self._none(np.dtype(np.int64))
        idx = enc.indices
        codes = np.asarray(pc.fill_null(idx, 0).to_numpy(zero_copy_only=False), np.int64)
        ranks = np.where(np.asarray(pc.is_valid(idx)), rank_of[codes] if len(rank_of) else none, none)
        seeds = np.full(n, none, np.int64)
        seeds[seeded] = ranks[n:]
        fn = np.minimum if self.smallest else np.maximum
        run = seg_accumulate(fn, ranks[:n], seg.sub_first, seeds, none)
        prev_run = preceding(run, seg.first, seeds)
        ordered = enc.dictionary.take(order)
        after = ordered.take(pa.array(run, mask=run == none))
        before = ordered.take(pa.array(prev_run, mask=prev_run == none))
        last = seg.last
        kept_after = np.empty(int(last.sum()), dtype=object)
        kept_after[:] = after.filter(pa.array(last)).to_pylist()
        self.ext[sg[last]] = kept_after
        self.ext_valid[sg[last]] = run[last] != none
        return after.cast(self.result_type), before.cast(self.result_type)

    def evaluate(self, group_ids):
        self._grow_for(group_ids)
        return from_numeric(self.ext[group_ids], self.ext_valid[group_ids], self.result_type)

    def merge(self, states, group_ids):
        self._grow_for(group_ids)
        v, ok, _ = to_numeric(states[0])
        if len(states) > 1 and states[1] is not None:
            ok = ok & np.asarray(_combined(states[1]).to_numpy(zero_copy_only=False), dtype=bool)
        self._fold(v, ok, group_ids)

    def _fold(self, v, ok, group_ids):
        g, v = group_ids[ok], v[ok]
        if self.kind == "o":
            better = (lambda a, b: a < b) if self.smallest else (lambda a, b: a > b)
            for gi, x in zip(g.tolist(), v.tolist()):
                if not self.ext_valid[gi] or better(x, self.ext[gi]):
                    self.ext[gi], self.ext_valid[gi] = x, True
            return
        v = v.astype(self.ext.dtype)
        fresh = g[~self.ext_valid[g]]
        self.ext[fresh] = self._none(self.ext.dtype)
        (np.minimum if self.smallest else np.maximum).at(self.ext, g, v)
        self.ext_valid[g] = True

    def window_specs(self, c):
        return [(c, self.window_fn, _VALID)]

    def window_state_columns(self, c):
        return [f"{c}_{self.window_fn}"]

    def finish(self, states):
        return pc.cast(_combined(states[0]), self.result_type)


class Variance(Sum):
    """STDDEV_POP/STDDEV_SAMP/VAR_POP/VAR_SAMP from the group's running SUM(x), COUNT(x) and SUM(x * x), as
    Flink rewrites them (see `variance`); a DECIMAL argument is taken as DOUBLE. `integer_arithmetic`: the
    formula runs on integers for integer arguments (Flink's OVER aggregation)."""

    state_names = ("sum", "nn", "sq")

    def __init__(self, call, arg_types, integer_arithmetic: bool = False):
        super().__init__(call, arg_types, "f" if arg_types and pa.types.is_decimal(arg_types[0]) else None)
        if self.kind == "o":
            raise ValidationError(f"{call.fn} needs a numeric argument")
        self.integer_arithmetic = integer_arithmetic
        self.window_partials = False
        self.state_names = ("sum", "nn", "sq", "dvalues", "dcounts") if call.distinct else ("sum", "nn", "sq")

    def _values(self, args):
        if args and pa.types.is_decimal(args[0].type):
            args = [pc.cast(args[0], pa.float64())]
        v, ok = super()._values(args)
        return np.where(ok, v, 0), ok

    def apply(self, args, group_ids, signs):
        self._grow_for(group_ids)
        signs = self._distinct_signs(args, group_ids, signs, np.zeros(len(group_ids), bool))
        x, ok = self._values(args)
        signed = signs * ok
        np.add.at(self.nn, group_ids, signed)
        np.add.at(self.sum, group_ids, x * signed)
        np.add.at(self.sq, group_ids, x * x * signed)

    def running(self, args, group_ids, signs, fresh):
        self._grow_for(group_ids)
        seg = Segments(group_ids, fresh)
        signs = self._distinct_signs(args, group_ids, signs, fresh)
        x, ok = self._values(args)
        signed = signs * ok
        zero = x.dtype.type(0)
        runs = {}
        for name, contrib in (("nn", signed), ("sum", x * signed), ("sq", x * x * signed)):
            kept = getattr(self, name)
            seed = seg.seeds(kept, 0 if name == "nn" else zero).astype(contrib.dtype)
            after = seg_accumulate(np.add, contrib, seg.sub_first, seed, contrib.dtype.type(0))
            runs[name] = after, preceding(after, seg.first, seed)
            seg.store(kept, after)
        return (self._result(runs["sum"][0], runs["nn"][0], runs["sq"][0]),
                self._result(runs["sum"][1], runs["nn"][1], runs["sq"][1]))

    def evaluate(self, group_ids):
        self._grow_for(group_ids)
        return self._result(self.sum[group_ids], self.nn[group_ids], self.sq[group_ids])

    def _result(self, total, count, squares):
        arrow = pa.int64() if self.sum.dtype.kind == "i" else pa.float64()
        valid = count > 0
        return variance(self.call, pa.array(total, arrow, mask=~valid), pa.array(count),
                        pa.array(squares, arrow, mask=~valid), self.integer_arithmetic)

    def window_inputs(self, args, n):
        col = pc.cast(args[0], pa.int64() if pa.types.is_integer(args[0].type) else pa.float64())
        return {"": col, "_sq": pc.multiply(col, col)}

    def window_specs(self, c):
        if self.call.distinct:
            return [(c, "distinct", _ONLY_VALID)]
        return [(c, "sum", _VALID), (c, "count", _ONLY_VALID), (f"{c}_sq", "sum", _VALID)]

    def window_state_columns(self, c):
        return [f"{c}_distinct"] if self.call.distinct else [f"{c}_sum", f"{c}_count", f"{c}_sq_sum"]

    def finish(self, states):
        if self.call.distinct:  # the window's distinct values per group, folded into fresh groups
            lists = _combined(states[0])
            acc = Variance(dataclasses.replace(self.call, distinct=False), [lists.type.value_type],
                           self.integer_arithmetic)
            flat = pc.list_flatten(lists)
            acc.update([flat], np.asarray(pc.list_parent_indices(lists), dtype=np.int64))
            return acc.evaluate(np.arange(len(lists)))
        return variance(self.call, *(_combined(x) for x in states), self.integer_arithmetic)


def _first_occurrences(codes: np.ndarray) -> np.ndarray:
    """The position of the first occurrence of each distinct code, in ascending code order: one sort by numpy's
    fastest (unstable) sort, and of each run of equal codes its smallest position."""
    if not len(codes):
        return np.zeros(0, np.int64)
    order = np.argsort(codes)
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return np.minimum.reduceat(order, starts)


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
        nulls = values.null_count > 0
        valid = np.asarray(pc.is_valid(values), dtype=bool) if nulls else np.ones(n, dtype=bool)
        coded = np.zeros(n, dtype=bool)
        if pa.types.is_integer(values.type):
            v = np.asarray((pc.fill_null(values, 0) if nulls else values).to_numpy(zero_copy_only=False))
            v = v.astype(np.int64, copy=False)
            coded = valid & (v >= -(1 << 31)) & (v < (1 << 31)) & (gids < (1 << 31))
            at = np.flatnonzero(coded)
            codes = (gids[at] << 32) | (v[at] + (1 << 31))
            first = _first_occurrences(codes)  # ascending codes walk the kept runs in order
            uniq = codes[first]
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
                key = (int(gids[pos]), hashable(x))  # an ARRAY as a tuple
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
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], b]))


def numeric_accumulator(call: AggCall, arg_types: list[pa.DataType]) -> NumericAccumulator | None:
    """The accumulator of a numeric aggregate over an insert-only input, or None for another aggregate."""
    fn = call.fn
    if fn == "COUNT":
        return CountDistinct(call, arg_types) if call.distinct else Count(call, arg_types)
    if fn in ("SUM", "SUM0", "AVG"):
        return Sum(call, arg_types)
    if fn in ("MIN", "MAX", "BOOL_AND", "BOOL_OR"):
        return Extreme(call, arg_types)
    if fn in VARIANCES:
        return Variance(call, arg_types)
    return None
