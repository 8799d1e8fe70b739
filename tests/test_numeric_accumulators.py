"""COUNT/SUM/SUM0/AVG/MIN/MAX/STDDEV/VAR as accumulators of the one interface: the same results whether rows are
folded in by group (`update` / `retract`, a window's or a frame's rows), run row by row (`running`, GROUP BY's
changelog), split and merged through `state` (a checkpoint, partial aggregation), or computed by Arrow's hash
aggregation of a window (`window_specs` then `finish`); compared with a row-at-a-time reference."""
import decimal
import statistics

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import BIGINT, DOUBLE, INT, STRING, FlinkType
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.accumulators import make_accumulator

DEC = FlinkType("DECIMAL", precision=10, scale=2)
AVG_DEC = FlinkType("DECIMAL", precision=38, scale=6)

CASES = [  # (call, argument type, values)
    (AggCall("COUNT", (0,), BIGINT), pa.int32(), "ints"),
    (AggCall("COUNT", (0,), BIGINT, distinct=True), pa.int32(), "ints"),
    (AggCall("SUM", (0,), INT), pa.int32(), "ints"),
    (AggCall("SUM", (0,), INT, distinct=True), pa.int32(), "ints"),
    (AggCall("SUM0", (0,), DOUBLE), pa.float64(), "floats"),
    (AggCall("AVG", (0,), INT), pa.int32(), "ints"),
    (AggCall("AVG", (0,), DOUBLE), pa.float64(), "floats"),
    (AggCall("AVG", (0,), AVG_DEC), pa.decimal128(10, 2), "decimals"),
    (AggCall("SUM", (0,), FlinkType("DECIMAL", precision=38, scale=2)), pa.decimal128(10, 2), "decimals"),
    (AggCall("MIN", (0,), INT), pa.int32(), "ints"),
    (AggCall("MAX", (0,), STRING), pa.string(), "strings"),
    (AggCall("MIN", (0,), STRING), pa.string(), "strings"),
    (AggCall("MAX", (0,), BIGINT), pa.int64(), "ints"),
    (AggCall("VAR_SAMP", (0,), INT), pa.int32(), "ints"),
    (AggCall("STDDEV_POP", (0,), DOUBLE), pa.float64(), "floats"),
    (AggCall("VAR_POP", (0,), DOUBLE, distinct=True), pa.float64(), "floats"),
]


def values(kind, n, rng):
    raw = rng.integers(0, 7, n)
    if kind == "ints":
        return [None if x == 0 else int(x) - 3 for x in raw]
    if kind == "floats":
        return [None if x == 0 else float(x) / 4 for x in raw]
    if kind == "decimals":
        return [None if x == 0 else decimal.Decimal(int(x) * 125).scaleb(-2) for x in raw]
    return [None if x == 0 else ("é" if x == 6 else "s") + str(x) * int(x % 3) for x in raw]


def reference(call, vals):
    """One group's result, row at a time, as Flink gives it."""
    vs = [v for v in vals if v is not None]
    if call.distinct:
        vs = list(dict.fromkeys(vs))
    fn = call.fn
    if fn == "COUNT":
        return len(vs)
    if fn == "SUM0":
        return sum(vs) if vs else 0
    if not vs:
        return None
    if fn == "SUM":
        return sum(vs)
    if fn == "MIN":
        return min(vs)
    if fn == "MAX":
        return max(vs)
    if fn == "AVG":
        total = sum(vs)
        if call.type.is_integer:
            return int(total / len(vs))
        if call.type.is_decimal:
            return (total / len(vs)).quantize(decimal.Decimal(1).scaleb(-call.type.scale), decimal.ROUND_HALF_UP)
        return total / len(vs)
    var = {"VAR_SAMP": statistics.variance, "VAR_POP": statistics.pvariance,
           "STDDEV_POP": statistics.pstdev}[fn]
    if fn.endswith("SAMP") and len(vs) < 2:
        return None
    r = var([float(v) for v in vs])
    return int(r) if call.type.is_integer else r


def close(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b


@pytest.mark.parametrize("call,arg_type,kind", CASES, ids=[f"{c.fn}{'_distinct' if c.distinct else ''}-{t}"
                                                           for c, t, _ in CASES])
def test_update_running_merge_and_window_agree_with_a_row_at_a_time_reference(call, arg_type, kind):
    rng = np.random.default_rng(len(call.fn) + call.distinct)
    n, n_groups = 300, 7
    vals = values(kind, n, rng)
    gids = rng.integers(0, n_groups, n).astype(np.int64)
    arr = pa.array(vals, arg_type)
    want = [reference(call, [v for v, g in zip(vals, gids) if g == k]) for k in range(n_groups)]

    # update, in two batches, then evaluate
    acc = make_accumulator(call, [arg_type])
    acc.update([arr.slice(0, 100)], gids[:100])
    acc.update([arr.slice(100)], gids[100:])
    got = acc.evaluate(np.arange(n_groups)).to_pylist()
    assert all(close(g, w) for g, w in zip(got, want)), (got, want)

    # state of two halves merged into a third accumulator
    a, b = make_accumulator(call, [arg_type]), make_accumulator(call, [arg_type])
    a.update([arr.slice(0, 150)], gids[:150])
    ids = np.arange(n_groups)
    merged = make_accumulator(call, [arg_type])
    merged.merge(a.state(ids), ids)
    if call.distinct and call.fn != "COUNT":  # SUM/AVG/VAR(DISTINCT) states merge only into empty groups
        with pytest.raises(ExecutionError, match="only be merged into empty groups"):
            merged.merge(a.state(ids), ids)
        merged.update([arr.slice(150)], gids[150:])
    else:
        b.update([arr.slice(150)], gids[150:])
        merged.merge(b.state(ids), ids)
    got = merged.evaluate(ids).to_pylist()
    assert all(close(g, w) for g, w in zip(got, want)), (got, want)

    # running: rows sorted by group; each row's after is the result of its group's rows so far
    order = np.argsort(gids, kind="stable")
    run = make_accumulator(call, [arg_type], input_updating=False)
    sg = gids[order]
    fresh = np.r_[True, sg[1:] != sg[:-1]]
    after, before = run.running([arr.take(pa.array(order))], sg, np.ones(n, np.int64), fresh)
    seen: dict[int, list] = {}
    for k, g in enumerate(sg.tolist()):
        prior = seen.setdefault(g, [])
        assert close(before[k].as_py(), reference(call, prior) if prior else reference(call, []))
        prior.append(vals[order[k]])
        assert close(after[k].as_py(), reference(call, prior))


@pytest.mark.parametrize("call,arg_type,kind", [c for c in CASES if c[0].fn in ("COUNT", "SUM", "SUM0", "AVG")
                                                and not (c[0].distinct and c[0].fn == "COUNT")])
def test_retract_takes_rows_back(call, arg_type, kind):
    rng = np.random.default_rng(3)
    vals = values(kind, 200, rng)
    gids = rng.integers(0, 5, 200).astype(np.int64)
    arr = pa.array(vals, arg_type)
    acc = make_accumulator(call, [arg_type])
    acc.update([arr], gids)
    acc.retract([arr.slice(0, 120)], gids[:120])
    want = [reference(call, [v for v, g in zip(vals[120:], gids[120:]) if g == k]) for k in range(5)]
    got = acc.evaluate(np.arange(5)).to_pylist()
    assert all(close(g, w) for g, w in zip(got, want)), (got, want)


@pytest.mark.parametrize("call,arg_type,kind", CASES, ids=[f"{c.fn}{'_distinct' if c.distinct else ''}-{t}"
                                                           for c, t, _ in CASES])
def test_a_window_through_arrow_hash_aggregation_gives_the_same(call, arg_type, kind):
    from sqlstream.runtime.aggregates import aggregate_rows, finalize
    rng = np.random.default_rng(11)
    vals = values(kind, 200, rng)
    keys = rng.integers(0, 4, 200)
    table = pa.table({"c0": pa.array(vals, arg_type), "c1": pa.array(keys), "$rn": pa.array(np.arange(200))})
    window_call = AggCall(call.fn, (0,), call.type, call.distinct)
    result = aggregate_rows(table, ["c1"], [0, 1], [window_call])
    got = dict(zip(result.column("c1").to_pylist(), finalize(result, [window_call])[0].to_pylist()))
    for k in range(4):
        want = reference(call, [v for v, g in zip(vals, keys) if g == k])
        assert close(got[k], want), (k, got[k], want)
