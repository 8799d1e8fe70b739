"""The accumulator interface every aggregation uses, and the aggregates that keep per-group values.

An accumulator holds one aggregate call's state for many groups, addressed by dense group ids (as DataFusion's
GroupsAccumulator), and is vectorized over a batch of rows:

- `update` / `retract` (`apply` with a sign per row) fold argument arrays into the rows' groups;
- `running` gives each row's result before and after it, rows sorted by group (GROUP BY's per-record changelog);
- `state` gives the arrays a checkpoint keeps (named by `state_names`), `merge` folds such arrays back in;
- `evaluate` gives the result per group;
- `frames` gives the result of many frames over one array of rows, each frame a range of rows and one group.

Window aggregation updates an accumulator with a window's rows and evaluates once (COUNT/SUM/AVG/MIN/MAX/VAR
let Arrow's hash aggregation compute their state: `window_specs`, then `finish`); GROUP BY runs `running`; an
unbounded OVER frame runs `running` with a group per partition, a bounded one asks for `frames` (a
`retractable` accumulator takes rows back as a sliding frame moves; the numeric ones reduce each frame's range);
a MATCH_RECOGNIZE frame is one group.

`make_accumulator` picks the accumulator of an aggregate call: the numeric ones (`numeric_aggregates`), the ones
that keep values so an updating input can retract (`value_aggregates`), and the `GroupValues` ones here
(collections, PERCENTILE, Python aggregate functions, and DISTINCT over any of them).
"""
from __future__ import annotations

import decimal
import json
import math

import numpy as np
import pyarrow as pa

from sqlstream.core.errors import ExecutionError
from sqlstream.functions.json import json_text
from sqlstream.plan.logical import AggCall
from sqlstream.functions.arrow import hashable


class Accumulator:
    """One aggregate call's state for many groups (dense group ids)."""

    retractable = True
    state_names: tuple[str, ...] = ("state",)
    window_partials = False  # a window's per-batch partial states merge (counts and sums add, extremes fold)

    def update(self, args: list[pa.Array], group_ids: np.ndarray) -> None:
        """Add each row (its arguments, already FILTERed: NULL where the FILTER rejects it) to its group."""
        self.apply(args, group_ids, np.ones(len(group_ids), np.int64))

    def retract(self, args: list[pa.Array], group_ids: np.ndarray) -> None:
        """Take each row back from its group, as Flink's retract does."""
        self.apply(args, group_ids, -np.ones(len(group_ids), np.int64))

    def apply(self, args: list[pa.Array], group_ids: np.ndarray, signs: np.ndarray) -> None:
        raise NotImplementedError

    def running(self, args: list[pa.Array], group_ids: np.ndarray, signs: np.ndarray,
                fresh: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """Each row's (after, before) result, rows in arrival order; `fresh` marks rows whose group starts
        empty (its kept state is dropped first)."""
        raise NotImplementedError

    def merge(self, states: list[pa.Array], group_ids: np.ndarray) -> None:
        raise NotImplementedError

    def state(self, group_ids: np.ndarray) -> list[pa.Array]:
        raise NotImplementedError

    def evaluate(self, group_ids: np.ndarray) -> pa.Array:
        raise NotImplementedError

    def clear(self, group_ids: np.ndarray) -> None:
        raise NotImplementedError

    def grow(self, size: int) -> None:
        """Room for group ids below `size` (accumulators that keep arrays)."""

    def size_bytes(self) -> int:
        return 0

    def finish(self, states: list[pa.Array]) -> pa.Array:
        """The results of groups 0..n-1 whose state is `states`: `merge` into fresh groups, then `evaluate`."""
        ids = np.arange(len(states[0]))
        self.merge(states, ids)
        return self.evaluate(ids)

    # ---- a window's rows, through Arrow's hash aggregation ----------------------------------------
    def window_inputs(self, args: list[pa.Array], n: int) -> dict[str, pa.Array]:
        """The columns (suffix -> array) Arrow's hash aggregation reads for this aggregate."""
        return {"": args[0]}

    def window_specs(self, c: str) -> list[tuple]:
        """Arrow hash aggregations of `window_inputs` (named `c` + suffix) whose results `finish` answers from."""
        raise NotImplementedError

    def window_state_columns(self, c: str) -> list[str]:
        """The names of `window_specs`' result columns, in the order `finish` takes them."""
        raise NotImplementedError

    def frames(self, args: list[pa.Array], lo: np.ndarray, hi: np.ndarray) -> pa.Array:
        """The result of each frame j, the rows lo[j]..hi[j] of `args`, on an empty accumulator (frame j is group
        j). A retractable accumulator slides: a frame that starts and ends no earlier than the one before it and
        overlaps it takes the rows that enter and gives back the rows that leave (`running`); another one adds
        each frame's rows to its own group."""
        n = len(lo)
        if n == 0:
            return pa.array([], self.result_type)
        if not self.retractable:
            lens = hi - lo + 1
            rows = np.repeat(lo - np.cumsum(np.r_[0, lens[:-1]]), lens) + np.arange(int(lens.sum()))
            take = pa.array(rows)
            self.update([a.take(take) for a in args], np.repeat(np.arange(n), lens))
            return self.evaluate(np.arange(n))
        prev_lo, prev_hi = np.r_[lo[0], lo[:-1]], np.r_[hi[0], hi[:-1]]
        slides = (lo >= prev_lo) & (hi >= prev_hi) & (lo <= prev_hi + 1)
        slides[0] = False
        run = np.cumsum(~slides) - 1
        # each frame's events: the rows leaving (a sliding frame), then the rows entering, in row order
        out_lo = np.where(slides, prev_lo, 0)
        out_n = np.where(slides, lo - prev_lo, 0)
        in_lo = np.where(slides, prev_hi + 1, lo)
        in_n = np.where(slides, hi - prev_hi, hi - lo + 1)
        per_frame = out_n + in_n
        total = int(per_frame.sum())
        frame_of = np.repeat(np.arange(n), per_frame)
        k = np.arange(total) - np.repeat(np.cumsum(per_frame) - per_frame, per_frame)
        leaving = k < out_n[frame_of]
        rows = np.where(leaving, out_lo[frame_of] + k, in_lo[frame_of] + k - out_n[frame_of])
        signs = np.where(leaving, -1, 1).astype(np.int64)
        take = pa.array(rows)
        after, _ = self.running([a.take(take) for a in args], run[frame_of], signs, np.zeros(total, bool))
        # a frame is the value after its last event; a frame with no events (the same rows) the one before it
        last_event = np.cumsum(per_frame) - 1
        has = per_frame > 0
        pick = np.maximum.accumulate(np.where(has, np.arange(n), -1))
        return after.take(pa.array(last_event[pick]))


class GroupValues(Accumulator):
    """An accumulator whose groups each keep a Python object (the values it needs to answer and to take a
    row back). Subclasses say how a group starts (`new`), takes a row (`add`, sign +1 or -1), answers
    (`value`) and is kept in a checkpoint (`dump` / `load`, one JSON-able object per group)."""

    def __init__(self, call: AggCall, arg_types: list[pa.DataType]):
        self.call, self.arg_types = call, arg_types
        self.result_type = call.type.to_arrow()
        self.groups: dict[int, object] = {}

    # ---- one group --------------------------------------------------------------------------
    def new(self):
        raise NotImplementedError

    def add(self, grp, row: tuple, sign: int) -> None:
        raise NotImplementedError

    def value(self, grp):
        raise NotImplementedError

    def empty_value(self):
        return self.value(self.new())

    def dump(self, grp):
        return grp

    def load(self, data):
        return data

    def combine(self, grp, other) -> None:
        raise ExecutionError(f"{self.call.fn} partial results cannot be merged")

    # ---- many groups ------------------------------------------------------------------------
    def _rows(self, args: list[pa.Array], n: int) -> list[tuple]:
        return list(zip(*(a.to_pylist() for a in args))) if args else [()] * n

    def apply(self, args, group_ids, signs):
        groups = self.groups
        for g, row, sign in zip(group_ids.tolist(), self._rows(args, len(group_ids)), signs.tolist()):
            grp = groups.get(g)
            if grp is None:
                grp = groups[g] = self.new()
            self.add(grp, row, sign)

    def running(self, args, group_ids, signs, fresh):
        groups = self.groups
        after, before = [], []
        empty = self.empty_value()
        for g, row, sign, start in zip(group_ids.tolist(), self._rows(args, len(group_ids)), signs.tolist(),
                                       fresh.tolist()):
            if start:
                groups.pop(g, None)
            grp = groups.get(g)
            before.append(self.value(grp) if grp is not None else empty)
            if grp is None:
                grp = groups[g] = self.new()
            self.add(grp, row, sign)
            after.append(self.value(grp))
        return self._array(after), self._array(before)

    def evaluate(self, group_ids):
        empty = self.empty_value()
        return self._array([self.value(self.groups[g]) if g in self.groups else empty for g in group_ids.tolist()])

    def state(self, group_ids):
        return [pa.array([json.dumps(self.dump(self.groups[g]), default=_json_default) if g in self.groups
                          else None for g in group_ids.tolist()], pa.string())]

    def merge(self, states, group_ids):
        for g, text in zip(group_ids.tolist(), states[0].to_pylist()):
            if text is None:
                continue
            other = self.load(json.loads(text))
            if g in self.groups:
                self.combine(self.groups[g], other)
            else:
                self.groups[g] = other

    def clear(self, group_ids):
        for g in group_ids.tolist():
            self.groups.pop(g, None)

    def size_bytes(self) -> int:
        return 96 * len(self.groups)

    def _array(self, values: list) -> pa.Array:
        try:
            return pa.array(values, self.result_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise ExecutionError(f"{self.call.fn} gave a value that is not {self.call.type}: {e}") from None


def _json_default(v):
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


class _Occurrences:
    """A group's values in arrival order; a retraction removes the oldest equal occurrence."""
    __slots__ = ("values", "next")

    def __init__(self):
        self.values: dict[int, object] = {}
        self.next = 0

    def append(self, v) -> None:
        self.values[self.next] = v
        self.next += 1

    def remove(self, v) -> bool:
        for seq, x in self.values.items():
            if x == v and (x is None) == (v is None):
                del self.values[seq]
                return True
        return False


class _Listed(GroupValues):
    """Aggregates over a group's kept values in arrival order (ARRAY_AGG, JSON_ARRAYAGG)."""

    keep_nulls = True

    def new(self):
        return _Occurrences()

    def add(self, grp, row, sign):
        v = row[0]
        if not self.keep_nulls and v is None:
            return
        if sign > 0:
            grp.append(v)
        else:
            grp.remove(v)

    def dump(self, grp):
        return list(grp.values.values())

    def load(self, data):
        grp = _Occurrences()
        for v in data:
            grp.append(v)
        return grp

    def combine(self, grp, other):
        for v in other.values.values():
            grp.append(v)


class ArrayAgg(_Listed):
    """ARRAY_AGG(x): the group's values in arrival order (NULLs kept), NULL for no values."""

    def value(self, grp):
        return list(grp.values.values()) or None


class JsonArrayAgg(_Listed):
    """JSON_ARRAYAGG(x): a JSON array text of the values in arrival order; NULLs are left out (ABSENT ON
    NULL, Flink's default)."""

    keep_nulls = False

    def value(self, grp):
        return "[" + ",".join(json_text(v) for v in grp.values.values()) + "]"


class JsonArrayAggNullOnNull(_Listed):
    """JSON_ARRAYAGG(x NULL ON NULL): as JSON_ARRAYAGG, a NULL written as null."""

    def value(self, grp):
        return "[" + ",".join(json_text(v) for v in grp.values.values()) + "]"


class JsonObjectAgg(GroupValues):
    """JSON_OBJECTAGG(KEY k VALUE v): a JSON object text, keys sorted; a NULL value is written as null (NULL
    ON NULL, Flink's default); a NULL or repeated key is an error, as in Flink."""

    def new(self):
        return {}

    def add(self, grp, row, sign):
        k, v = row[0], row[1]
        if k is None:
            raise ExecutionError("The key of JSON_OBJECTAGG must not be NULL")
        if sign < 0:
            grp.pop(k, None)
            return
        if k in grp:
            raise ExecutionError(f"Key '{k}' is already present. Duplicate keys are not allowed in "
                                 f"JSON_OBJECTAGG. Please ensure that keys are unique.")
        grp[k] = v

    def value(self, grp):
        absent = self.call.fn.endswith("_ABSENT_ON_NULL")
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{json_text(v)}"
                              for k, v in sorted(grp.items()) if not (absent and v is None)) + "}"

    def dump(self, grp):
        return list(grp.items())

    def load(self, data):
        return {k: v for k, v in data}


class Collect(GroupValues):
    """COLLECT(x): the MULTISET of the group's non-NULL values (value -> count, Flink's CollectAggFunction),
    empty for no values; retractable."""

    def new(self):
        return {}

    def add(self, grp, row, sign):
        v = row[0]
        if v is None:
            return
        v = hashable(v)  # an ARRAY, MAP or ROW value as a tuple
        c = grp.get(v, 0) + sign
        if c == 0:
            del grp[v]
        else:
            grp[v] = c

    def value(self, grp):
        return sorted(((v, c) for v, c in grp.items() if c > 0), key=_by_value)

    def dump(self, grp):
        return list(grp.items())

    def load(self, data):
        return {hashable(v): c for v, c in data}


def _by_value(pair):
    """Values in order; ARRAY, MAP and ROW values (tuples, which may hold NULLs) by their text."""
    return repr(pair[0]) if isinstance(pair[0], tuple) else pair[0]


class Percentile(GroupValues):
    """PERCENTILE(x, p): the exact p-th percentile of the group's non-NULL values with linear interpolation
    between the two nearest ranks (Flink's PercentileAggFunction), as DOUBLE; retractable."""

    def new(self):
        return {}

    def add(self, grp, row, sign):
        v, p = row[0], row[1]
        if v is None:
            return
        if p is not None:
            grp["$p"] = p
        counts = grp.setdefault("$c", {})
        c = counts.get(v, 0) + sign
        if c == 0:
            del counts[v]
        else:
            counts[v] = c

    def value(self, grp):
        counts = grp.get("$c")
        p = grp.get("$p")
        if not counts or p is None:
            return None
        if not 0 <= float(p) <= 1:
            raise ExecutionError(f"PERCENTILE: the percentage must be between 0.0 and 1.0, got {p}")
        values = sorted((float(v), c) for v, c in counts.items() if c > 0)
        total = sum(c for _, c in values)
        if total == 0:
            return None
        pos = float(p) * (total - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        lo_v = hi_v = None
        seen = 0
        for v, c in values:
            if lo_v is None and lo < seen + c:
                lo_v = v
            if hi < seen + c:
                hi_v = v
                break
            seen += c
        return lo_v if lo == hi else lo_v + (pos - lo) * (hi_v - lo_v)

    def dump(self, grp):
        return {"p": grp.get("$p"), "values": [[v, c] for v, c in grp.get("$c", {}).items()]}

    def load(self, data):
        grp = {"$c": {v: c for v, c in data["values"]}}
        if data["p"] is not None:
            grp["$p"] = data["p"]
        return grp


class ListAgg(GroupValues):
    """LISTAGG(x [, sep]) kept as occurrences, so a retraction takes a value back (ListAggWsWithRetract)."""

    def new(self):
        return [_Occurrences(), ","]

    def add(self, grp, row, sign):
        v = row[0]
        if len(row) > 1 and row[1] is not None:
            grp[1] = row[1]
        if v is None:
            return
        if sign > 0:
            grp[0].append(v)
        else:
            grp[0].remove(v)

    def value(self, grp):
        vals = list(grp[0].values.values())
        return grp[1].join(vals) if vals else None

    def dump(self, grp):
        return [list(grp[0].values.values()), grp[1]]

    def load(self, data):
        grp = self.new()
        for v in data[0]:
            grp[0].append(v)
        grp[1] = data[1]
        return grp


class PythonAggregate(GroupValues):
    """A Python aggregate function (sqlstream.core.udf). An accumulator class keeps its own accumulator object
    per group; a vectorized function keeps the group's argument arrays and is called on all of them."""

    def __init__(self, call, arg_types, fn):
        super().__init__(call, arg_types)
        self.fn = fn
        self.retractable = fn.can_retract

    def new(self):
        return [] if self.fn.vectorized else self.fn.create()

    def add(self, grp, row, sign):
        (self.fn.accumulate if sign > 0 else self.fn.retract)(grp, row)

    def value(self, grp):
        if self.fn.vectorized:
            arrays = [pa.concat_arrays([chunk[i] for chunk in grp]) if grp else pa.array([], t)
                      for i, t in enumerate(self.arg_types)]
            return self.fn.over_arrays(arrays)
        return self.fn.value(grp)

    def apply(self, args, group_ids, signs):
        if not self.fn.vectorized:
            return super().apply(args, group_ids, signs)
        if (signs < 0).any():
            raise ExecutionError(f"Python aggregate function {self.fn.name} is vectorized and cannot take a row "
                                 f"back")
        order = np.argsort(group_ids, kind="stable")
        sg = group_ids[order]
        starts = np.flatnonzero(np.r_[True, sg[1:] != sg[:-1]]) if len(sg) else np.zeros(0, np.int64)
        for lo, hi in zip(starts.tolist(), np.r_[starts[1:], len(sg)].tolist()):
            take = pa.array(order[lo:hi])
            self.groups.setdefault(int(sg[lo]), []).append([a.take(take) for a in args])

    def running(self, args, group_ids, signs, fresh):
        if not self.fn.vectorized:
            return super().running(args, group_ids, signs, fresh)
        after, before = [], []
        for k, (g, start) in enumerate(zip(group_ids.tolist(), fresh.tolist())):
            if start:
                self.groups.pop(g, None)
            grp = self.groups.setdefault(g, [])
            before.append(self.value(grp))
            self.apply([a.slice(k, 1) for a in args], np.array([g]), signs[k:k + 1])
            after.append(self.value(grp))
        return self._array(after), self._array(before)

    def dump(self, grp):
        import base64
        import pickle
        return base64.b64encode(pickle.dumps(grp)).decode()

    def load(self, data):
        import base64
        import pickle
        return pickle.loads(base64.b64decode(data))

    def _array(self, values):
        try:
            return pa.array(values, self.result_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise ExecutionError(f"Python aggregate function {self.fn.name} returned a value that is not "
                                 f"{self.call.type}: {e}") from None


class Lag(GroupValues):
    """LAG(x [, k [, default]]): the value k rows (1 when not given) before the group's last row, or the
    default when there are not that many; keeps only the rows that can still be asked for."""

    retractable = False

    def new(self):
        return [[], 0]

    def add(self, grp, row, sign):
        rows = grp[0]
        rows.append(row)
        offset = self._offset(row)
        grp[1] = max(grp[1], offset)
        if len(rows) > grp[1] + 1:
            del rows[:len(rows) - grp[1] - 1]

    def _offset(self, row) -> int:
        return int(row[1]) if len(row) > 1 and row[1] is not None else 1

    def value(self, grp):
        rows = grp[0]
        if not rows:
            return None
        last = rows[-1]
        offset = self._offset(last)
        return rows[-1 - offset][0] if len(rows) > offset else (last[2] if len(last) > 2 else None)

    def dump(self, grp):
        import base64
        import pickle
        return base64.b64encode(pickle.dumps(grp)).decode()

    def load(self, data):
        import base64
        import pickle
        return pickle.loads(base64.b64decode(data))


class Distinct(GroupValues):
    """DISTINCT over another per-group aggregate: a row reaches it only when its value's count in the group
    goes from 0 to 1 (update) or from 1 to 0 (retract), as Flink's distinct MapView does."""

    def __init__(self, inner: GroupValues):
        super().__init__(inner.call, inner.arg_types)
        self.inner = inner

    def new(self):
        return [{}, self.inner.new()]

    def add(self, grp, row, sign):
        key = _hashable(row[0])  # NULL is a value too (ARRAY_AGG keeps it; the others skip it themselves)
        counts = grp[0]
        c = counts.get(key, 0)
        if sign > 0:
            counts[key] = c + 1
            if c == 0:
                self.inner.add(grp[1], row, 1)
        elif c > 0:
            if c == 1:
                del counts[key]
                self.inner.add(grp[1], row, -1)
            else:
                counts[key] = c - 1

    def value(self, grp):
        return self.inner.value(grp[1])

    def dump(self, grp):
        return [list(grp[0].items()), self.inner.dump(grp[1])]

    def load(self, data):
        return [{_hashable(k): c for k, c in data[0]}, self.inner.load(data[1])]


def _hashable(v):
    """A value as a key of a dict: an ARRAY's list as a tuple (ARRAY values are distinct by their elements)."""
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v


class DistinctSigns:
    """Which rows change the set of distinct values of their group: +1 where a value's count in the group goes
    from 0 to 1, -1 where it goes from 1 to 0, else 0. SUM/AVG(DISTINCT ..) feed their numeric accumulators
    with these signs instead of the rows' own."""

    def __init__(self):
        self.counts: dict[tuple, int] = {}

    def __len__(self) -> int:
        return len(self.counts)

    def signs(self, group_ids: np.ndarray, values: list, signs: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        out = np.zeros(len(group_ids), np.int64)
        counts = self.counts
        for k, (g, v, s, start) in enumerate(zip(group_ids.tolist(), values, signs.tolist(), fresh.tolist())):
            if start:
                self.forget_group(g)
            if v is None:
                continue
            key = (g, v)
            c = counts.get(key, 0)
            if s > 0:
                counts[key] = c + 1
                out[k] = 1 if c == 0 else 0
            elif c > 0:
                if c == 1:
                    del counts[key]
                    out[k] = -1
                else:
                    counts[key] = c - 1
        return out

    def holds(self, group_ids: np.ndarray) -> bool:
        """Whether any of the groups has values."""
        wanted = set(group_ids.tolist())
        return any(g in wanted for g, _ in self.counts)

    def forget_group(self, g: int) -> None:
        for key in [k for k in self.counts if k[0] == g]:
            del self.counts[key]

    def forget(self, group_ids: np.ndarray) -> None:
        gone = set(group_ids.tolist())
        if gone:
            self.counts = {k: c for k, c in self.counts.items() if k[0] not in gone}

    def snapshot_column(self, live: np.ndarray, value_type: pa.DataType) -> tuple[pa.Array, pa.Array]:
        row = {g: r for r, g in enumerate(live.tolist())}
        vals: list[list] = [[] for _ in range(len(live))]
        nums: list[list] = [[] for _ in range(len(live))]
        for (g, v), c in self.counts.items():
            if g in row:
                vals[row[g]].append(v)
                nums[row[g]].append(c)
        return pa.array(vals, pa.list_(value_type)), pa.array(nums, pa.list_(pa.int64()))

    def restore_columns(self, values: pa.Array, counts: pa.Array) -> None:
        self.counts = {}
        self.merge_columns(values, counts, np.arange(len(values)))

    def merge_columns(self, values: pa.Array, counts: pa.Array, group_ids: np.ndarray) -> None:
        """Adds `snapshot_column`'s counts, row r going to group group_ids[r]."""
        for g, vs, cs in zip(group_ids.tolist(), values.to_pylist(), counts.to_pylist()):
            for v, c in zip(vs or [], cs or []):
                self.counts[(g, v)] = self.counts.get((g, v), 0) + c


GROUP_VALUE_AGGREGATES = {"ARRAY_AGG": ArrayAgg, "JSON_ARRAYAGG": JsonArrayAgg,
                          "JSON_ARRAYAGG_NULL_ON_NULL": JsonArrayAggNullOnNull, "JSON_OBJECTAGG": JsonObjectAgg,
                          "JSON_OBJECTAGG_ABSENT_ON_NULL": JsonObjectAgg, "PERCENTILE": Percentile,
                          "COLLECT": Collect}


def uses_group_values(call: AggCall) -> bool:
    """Whether `call` runs on a GroupValues accumulator in every aggregation."""
    return (call.fn in GROUP_VALUE_AGGREGATES or call.fn.startswith("UDAF:")
            or (call.fn == "LISTAGG" and call.distinct))


def make_accumulator(call: AggCall, arg_types: list[pa.DataType], input_updating: bool | None = None,
                     over: bool = False) -> Accumulator:
    """The accumulator of `call` over arguments of `arg_types`. `input_updating`: the GROUP BY's input is
    updating (True: MIN/MAX, FIRST_VALUE/LAST_VALUE, LISTAGG and COUNT(DISTINCT) keep their values so that
    they can retract) or insert-only (False: FIRST_VALUE/LAST_VALUE/LISTAGG keep only their result); None for
    window aggregation and bounded OVER frames (LISTAGG keeps its values, so that a sliding frame retracts).
    `over`: an OVER aggregation's (FIRST_VALUE/LAST_VALUE over insert-only rows, LAG, and VAR/STDDEV in
    integer arithmetic for integer arguments, as Flink's OVER aggregation computes them)."""
    if over:
        from sqlstream.runtime import numeric_aggregates, value_aggregates
        if call.fn in numeric_aggregates.VARIANCES:
            return numeric_aggregates.Variance(call, arg_types, integer_arithmetic=True)
        if call.fn in ("FIRST_VALUE", "LAST_VALUE"):
            return value_aggregates.Appended(call, arg_types)
        if call.fn == "LAG":
            return Lag(call, arg_types)
    if not uses_group_values(call):
        from sqlstream.runtime import numeric_aggregates, value_aggregates
        fn = call.fn
        if input_updating and (fn in ("MIN", "MAX", "FIRST_VALUE", "LAST_VALUE", "LISTAGG")
                               or fn == "COUNT" and call.distinct):
            return value_aggregates.ValueAggregate(fn, call, arg_types[0] if arg_types else None)
        if input_updating is False and fn in ("FIRST_VALUE", "LAST_VALUE", "LISTAGG"):
            return value_aggregates.Appended(call, arg_types)
        acc = numeric_aggregates.numeric_accumulator(call, arg_types)
        if acc is not None:
            return acc
    if call.fn.startswith("UDAF:"):
        from sqlstream.runtime.aggregates import python_aggregate_for
        return PythonAggregate(call, arg_types, python_aggregate_for(call))
    cls = GROUP_VALUE_AGGREGATES.get(call.fn)
    if cls is None and call.fn == "LISTAGG":
        cls = ListAgg
    if cls is None:
        raise ExecutionError(f"aggregate {call.fn} has no accumulator")
    acc = cls(call, arg_types)
    return Distinct(acc) if call.distinct else acc


def evaluate_groups(call: AggCall, args: list[pa.Array], group_ids: np.ndarray, n_groups: int) -> pa.Array:
    """One result per group 0..n_groups-1 from rows (a window's or a frame's) assigned to groups."""
    acc = make_accumulator(call, [a.type for a in args])
    acc.update(args, group_ids)
    return acc.evaluate(np.arange(n_groups))


