"""The column-wise OVER operator gives the row-at-a-time operator's changelog (same rows, same order, values within
float rounding) on random data: ROWS/RANGE, bounded/unbounded frames, NULLs, ties, rows behind the watermark,
idle partitions cleaned up, random batch sizes, and across a checkpoint (its own, or the row-at-a-time one's)."""
import math
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.types import BIGINT, DOUBLE
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.event_time import MAX_WM
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.over_aggregate import OverAggregateOperator
from sqlstream.runtime.state import StateBackend
from tests.event_batches import cut_with_watermarks
from tests.reference_over import ReferenceOverOperator

NAMES = ["k", "i", "x", "ts"]
TYPES = [pa.string(), pa.int64(), pa.float64(), pa.timestamp("ms")]
AGGS = [AggCall("COUNT", (), BIGINT), AggCall("COUNT", (1,), BIGINT), AggCall("SUM", (1,), BIGINT),
        AggCall("SUM", (2,), DOUBLE), AggCall("AVG", (1,), BIGINT), AggCall("AVG", (2,), DOUBLE),
        AggCall("MIN", (2,), DOUBLE), AggCall("MAX", (1,), BIGINT), AggCall("VAR_SAMP", (1,), BIGINT),
        AggCall("STDDEV_POP", (2,), DOUBLE)]
FRAMES = [("ROWS", 3), ("ROWS", 0), ("ROWS", None), ("RANGE", 2000), ("RANGE", 0), ("RANGE", None)]


class RowOperator(ReferenceOverOperator):
    """The operator before the column-wise one: rows released by a watermark computed per partition."""


class Reference(ReferenceOverOperator):
    """The row-at-a-time operator: each row's frame aggregated on its own."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.fast = False


def make(cls, frame, preceding):
    names = NAMES + [f"a{j}" for j in range(len(AGGS))]
    types = TYPES + [a.type.to_arrow() for a in AGGS]
    op = cls([0], 3, frame, preceding, AGGS, names, types)
    return op


def stream(seed: int, disordered: bool = False, dense: bool = False):
    """Batches of (k, i, x, ts) with per-row watermarks (3 s behind the newest timestamp), some rows far behind,
    and the watermark after each batch; `disordered`: two keys, many rows up to 12 s behind."""
    rng = random.Random(seed)
    n = rng.randint(20, 400) if not dense else 1500
    t = 1_700_000_000_000
    rows = []
    for _ in range(n):
        t += rng.choice([0, 1, 2, 5] if dense else [0, 0, 1, 50, 400, 1000, 2500, 9000])
        if disordered:
            ts = t - (rng.randint(0, 12000) if rng.random() < 0.3 else 0)
        else:
            ts = t - (rng.randint(0, 2500) if rng.random() < 0.3 else 0) - (7000 if rng.random() < 0.08 else 0)
        rows.append((rng.choice("ab" if disordered else "abcd"), None if rng.random() < 0.15 else rng.randint(-9, 9),
                     None if rng.random() < 0.15 else rng.choice([0.5, -1.25, 3.0, 0.1]), ts))
    return cut_with_watermarks(rows, [3, 7, 50] if disordered else [1, 2, 3, 7, 50, 1000], rng, 3000, 3)


def run(ops_for_phase, batches, restore_at=None, restore_into=None, names=NAMES, types=TYPES,
        rows=lambda chunk: chunk):
    """Feed the batches (rows made by `rows`) to an operator, restored into `restore_into()` at batch
    `restore_at`; every row it emits, per watermark, and its count of late rows dropped."""
    op = ops_for_phase()
    backend = StateBackend("t")
    op.open(OperatorContext(backend))
    out = []
    for n, (chunk, wms, wm) in enumerate(batches):
        if n == restore_at:
            blobs = backend.snapshot()
            op, backend = restore_into(), StateBackend("t")
            op.open(OperatorContext(backend))
            backend.restore(blobs)
        made = rows(chunk)
        arrays = [pa.array([r[j] for r in made], t) for j, t in enumerate(types)]
        op.on_batch(make_batch(INSERT, arrays, names, wm=np.array(wms, np.int64)))
        for b in op.on_watermark(wm):
            out.append([tuple(r.values()) for r in b.to_pylist()])
    for b in op.on_watermark(MAX_WM):
        out.append([tuple(r.values()) for r in b.to_pylist()])
    return out, op.late_dropped


def same(a, b) -> bool:
    if len(a) != len(b):
        return False
    for ba, bb in zip(a, b):
        if len(ba) != len(bb):
            return False
        for ra, rb in zip(ba, bb):
            for va, vb in zip(ra, rb):
                if isinstance(va, float) and isinstance(vb, float):
                    if not (math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-9) or (va != va and vb != vb)):
                        return False
                elif va != vb:
                    return False
    return True


@pytest.mark.parametrize("frame,preceding", FRAMES)
@pytest.mark.parametrize("seed", range(6))
def test_same_changelog_as_row_at_a_time(frame, preceding, seed):
    batches = stream(seed)
    expected, late = run(lambda: make(Reference, frame, preceding), batches)
    assert type(make(OverAggregateOperator, frame, preceding)) is OverAggregateOperator
    got, got_late = run(lambda: make(OverAggregateOperator, frame, preceding), batches)
    assert got_late == late
    assert same(got, expected)
    cut = len(batches) // 2
    restored, _ = run(lambda: make(OverAggregateOperator, frame, preceding), batches, restore_at=cut,
                      restore_into=lambda: make(OverAggregateOperator, frame, preceding))
    assert same(restored, expected)
    # a checkpoint of the row-at-a-time operator restores into the column-wise one
    upgraded, _ = run(lambda: make(RowOperator, frame, preceding), batches, restore_at=cut,
                      restore_into=lambda: make(OverAggregateOperator, frame, preceding))
    assert same(upgraded, expected)


@pytest.mark.parametrize("frame,preceding", [("RANGE", 2000), ("ROWS", 3)])
def test_disordered_input_with_idle_partitions(frame, preceding):
    """Many rows behind the watermark and partitions idle past their cleanup time, in batches that hold both."""
    for seed in range(40):
        batches = stream(seed, disordered=True)
        expected, late = run(lambda: make(Reference, frame, preceding), batches)
        got, got_late = run(lambda: make(OverAggregateOperator, frame, preceding), batches)
        assert got_late == late and same(got, expected), f"seed {seed}"


@pytest.mark.parametrize("frame,preceding", [("RANGE", 2000), ("ROWS", 40)])
def test_long_frames(frame, preceding):
    """Frames of hundreds of rows (prefix sums and a sparse table for the extrema)."""
    for seed in range(3):
        batches = stream(seed, dense=True)
        expected, late = run(lambda: make(Reference, frame, preceding), batches)
        got, got_late = run(lambda: make(OverAggregateOperator, frame, preceding), batches)
        assert got_late == late and same(got, expected), f"seed {seed}"


# every aggregate OVER supports, over (k, i, x, s, d, ts): s a string, d a DECIMAL(10, 2); LAG's offset and default
# come from the columns `one`/`dflt`
from sqlstream.core.types import FlinkType  # noqa: E402
from sqlstream.planner.functions import aggregate_type  # noqa: E402

WIDE_NAMES = ["k", "i", "x", "s", "d", "two", "dflt", "ts"]
WIDE_TYPES = [pa.string(), pa.int64(), pa.float64(), pa.string(), pa.decimal128(10, 2), pa.int32(), pa.int64(),
              pa.timestamp("ms")]
_FT = [FlinkType("VARCHAR", 2147483647), BIGINT, DOUBLE, FlinkType("VARCHAR", 2147483647), FlinkType("DECIMAL", 10, 2), FlinkType("INT"),
       BIGINT]


def _call(fn, args, distinct=False):
    return AggCall(fn, tuple(args), aggregate_type(fn, [_FT[i] for i in args], distinct), distinct)


WIDE_AGGS = [_call("COUNT", [3], True), _call("SUM", [1], True), _call("AVG", [2], True), _call("MIN", [3]),
             _call("MAX", [3]), _call("FIRST_VALUE", [1]), _call("LAST_VALUE", [3]), _call("FIRST_VALUE", [2]),
             _call("LISTAGG", [3]), _call("LISTAGG", [3, 0]), _call("SUM", [4]), _call("AVG", [4]),
             _call("MIN", [4]), _call("MAX", [4]), _call("SUM0", [1]), _call("VAR_POP", [1], True),
             _call("STDDEV_SAMP", [2]), _call("LAG", [1]), _call("LAG", [3, 5, 0]), _call("MAX", [1], True),
             _call("COUNT", [1]), _call("LISTAGG", [3], True)]


def wide_make(cls, frame, preceding, aggs):
    names = WIDE_NAMES + [f"a{j}" for j in range(len(aggs))]
    types = WIDE_TYPES + [a.type.to_arrow() for a in aggs]
    return cls([0], 7, frame, preceding, aggs, names, types)


def wide_rows(chunk):
    import decimal
    return [(k, i, x, None if i is None else f"{k}{i % 4}", None if x is None else decimal.Decimal(str(x)),
             2, -1, ts) for k, i, x, ts in chunk]


def wide_run(make_op, batches, restore_at=None):
    return run(make_op, batches, restore_at, make_op, WIDE_NAMES, WIDE_TYPES, wide_rows)


@pytest.mark.parametrize("frame,preceding", FRAMES)
@pytest.mark.parametrize("seed", range(3))
def test_every_over_aggregate_same_as_row_at_a_time(frame, preceding, seed):
    """DISTINCT, strings, DECIMALs, FIRST_VALUE/LAST_VALUE, LISTAGG (with a separator), LAG (with an offset and a
    default): the column-wise operator through the accumulators gives the row-at-a-time operator's changelog,
    also across a checkpoint."""
    aggs = [a for a in WIDE_AGGS if not (a.distinct and a.fn == "LISTAGG" and preceding is not None)]
    batches = stream(seed)
    expected, late = wide_run(lambda: wide_make(Reference, frame, preceding, aggs), batches)
    got, got_late = wide_run(lambda: wide_make(OverAggregateOperator, frame, preceding, aggs), batches)
    assert got_late == late
    assert same(got, expected)
    restored, _ = wide_run(lambda: wide_make(OverAggregateOperator, frame, preceding, aggs), batches,
                           restore_at=len(batches) // 2)
    assert same(restored, expected)


@pytest.mark.parametrize("frame,preceding", [("ROWS", 3), ("ROWS", 0), ("ROWS", None), ("RANGE", None)])
def test_processing_time_same_as_row_at_a_time(frame, preceding):
    """Ordered by a processing-time attribute: each batch's rows as they arrive, frames counted in rows."""
    aggs = [a for a in WIDE_AGGS if not (a.distinct and a.fn == "LISTAGG" and preceding is not None)]

    def proctime(cls):
        names = WIDE_NAMES + [f"a{j}" for j in range(len(aggs))]
        types = WIDE_TYPES + [a.type.to_arrow() for a in aggs]
        return cls([0], 7, frame, preceding, aggs, names, types, rowtime=False)

    def outputs(op):
        op.open(OperatorContext(StateBackend("t")))
        out = []
        for chunk, _, _ in stream(4):
            rows = [(k, i, x, None if i is None else f"{k}{i % 4}", None, 2, -1, ts) for k, i, x, ts in chunk]
            arrays = [pa.array([r[j] for r in rows], t) for j, t in enumerate(WIDE_TYPES)]
            out += [[tuple(r.values()) for r in b.to_pylist()] for b in op.on_batch(make_batch(INSERT, arrays,
                                                                                             WIDE_NAMES))]
        return out
    expected = outputs(proctime(Reference))
    assert sum(len(b) for b in expected) > 20
    assert same(outputs(proctime(OverAggregateOperator)), expected)


@pytest.mark.parametrize("frame,preceding", [("ROWS", 3), ("RANGE", 2000), ("ROWS", None)])
def test_state_splits_by_key_group(frame, preceding):
    """Rescaling 1 -> 2 -> 1: the state splits by the key groups of the partition key, each subtask taking the rows
    of its key groups, and the parts merge back; the rows emitted are the uninterrupted run's."""
    from sqlstream.runtime.key_groups import group_range, key_groups
    batches = stream(3)  # 14 batches
    expected, _ = wide_run(lambda: wide_make(OverAggregateOperator, frame, preceding, WIDE_AGGS), batches)

    def opened():
        op, backend = wide_make(OverAggregateOperator, frame, preceding, WIDE_AGGS), StateBackend("t")
        op.open(OperatorContext(backend))
        return op, backend

    def feed(op, chunk, wms, wm, keep=None):
        rows = [(k, i, x, None if i is None else f"{k}{i % 4}", None if x is None else __import__("decimal").Decimal(
            str(x)), 2, -1, ts) for k, i, x, ts in chunk]
        arrays = [pa.array([r[j] for r in rows], t) for j, t in enumerate(WIDE_TYPES)]
        if keep is not None:
            groups = key_groups([arrays[0]], len(rows))
            mask = pa.array((groups >= keep.start) & (groups < keep.stop))
            arrays = [a.filter(mask) for a in arrays]
            wms = list(np.array(wms, np.int64)[mask.to_numpy(zero_copy_only=False)])
        if len(arrays[0]):
            op.on_batch(make_batch(INSERT, arrays, WIDE_NAMES, wm=np.array(wms, np.int64)))
        return [tuple(r.values()) for b in op.on_watermark(wm) for r in b.to_pylist()]
    a, b = len(batches) // 3, 2 * len(batches) // 3
    assert 0 < a < b < len(batches)
    one, backend = opened()
    out = [r for chunk, wms, wm in batches[:a] for r in feed(one, chunk, wms, wm)]
    ranges = [group_range(i, 2) for i in range(2)]
    parts = [backend.snapshot(r) for r in ranges]
    two = []
    for r in ranges:
        op, bk = opened()
        bk.restore(parts, r)
        two.append((op, bk, r))
    for chunk, wms, wm in batches[a:b]:
        out += [row for op, _, r in two for row in feed(op, chunk, wms, wm, r)]
    merged, backend = opened()
    backend.restore([bk.snapshot(r) for _, bk, r in two])
    for chunk, wms, wm in batches[b:]:
        out += feed(merged, chunk, wms, wm)
    out += [tuple(r.values()) for x in merged.on_watermark(MAX_WM) for r in x.to_pylist()]
    flat = [r for x in expected for r in x]
    key = lambda r: (r[0], r[7], str(r[1:7]))  # noqa: E731
    assert len(out) == len(flat) and same([sorted(out, key=key)], [sorted(flat, key=key)])


@pytest.mark.parametrize("name,frame,preceding", [("rows_3", "ROWS", 3), ("range_2000", "RANGE", 2000),
                                                  ("rows_unbounded", "ROWS", None),
                                                  ("range_unbounded", "RANGE", None)])
def test_restores_the_earlier_column_wise_layout(name, frame, preceding):
    """A checkpoint of the column-wise operator as it was before its aggregates went through accumulators
    (tests/state_formats/over_columnar_v1: layout columnar-1, written by that operator halfway through stream(3),
    with what it emitted after) restores, and the operator emits the same rows."""
    import json
    from pathlib import Path
    here = Path(__file__).parent / "state_formats" / "over_columnar_v1"
    op = make(OverAggregateOperator, frame, preceding)
    backend = StateBackend("t")
    op.open(OperatorContext(backend))
    backend.restore({"over": (here / f"{name}.arrow").read_bytes()})
    batches = stream(3)
    out = []
    for chunk, wms, wm in batches[len(batches) // 2:]:
        arrays = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(TYPES)]
        op.on_batch(make_batch(INSERT, arrays, NAMES, wm=np.array(wms, np.int64)))
        out += [[str(v) if not isinstance(v, (int, float, type(None))) else v for v in r.values()]
                for b in op.on_watermark(wm) for r in b.to_pylist()]
    out += [[str(v) if not isinstance(v, (int, float, type(None))) else v for v in r.values()]
            for b in op.on_watermark(MAX_WM) for r in b.to_pylist()]
    expected = json.loads((here / f"{name}.json").read_text())
    assert len(out) > 20 and same([out], [expected])
