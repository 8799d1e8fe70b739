"""HOP windows aggregated once per slide (the slices a row's windows share) give what aggregating every
(row, window) pair gives: random keys, rows out of order, late rows, batches within one slice and across many,
batch sizes 1 to 2000."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.types import BIGINT, FlinkType
from sqlstream.plan.logical import AggCall, WindowSpec
from sqlstream.runtime.event_time import MAX_WM
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.window_aggregate import WindowAggregateOperator
from sqlstream.runtime.state import StateBackend
from tests.event_batches import cut_with_watermarks

NAMES = ["k", "v", "ts"]
TYPES = [pa.int64(), pa.int64(), pa.timestamp("ms")]
TS = FlinkType("TIMESTAMP", precision=3)


def make(partial: bool) -> WindowAggregateOperator:
    aggs = [AggCall("COUNT", (), BIGINT), AggCall("SUM", (1,), BIGINT), AggCall("MAX", (1,), BIGINT),
            AggCall("AVG", (1,), BIGINT)]
    op = WindowAggregateOperator(WindowSpec("HOP", 2, size=3000, slide=1000), [0], aggs, None,
                                 ["k", "window_start", "window_end", "window_time", "c", "s", "m", "a"],
                                 [BIGINT, TS, TS, TS, BIGINT, BIGINT, BIGINT, BIGINT])
    op.open(OperatorContext(StateBackend("w")))
    op.partial = partial
    return op


def run(op: WindowAggregateOperator, rows: list[tuple], rng: random.Random) -> tuple[list[dict], int]:
    out = []
    for chunk, wms, top in cut_with_watermarks(rows, [1, 7, 100, 2000], rng, 500, 2):
        arrays = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(TYPES)]
        op.on_batch(make_batch(INSERT, arrays, NAMES, wm=np.array(wms, np.int64)))
        out += [r for b in op.on_watermark(top) for r in b.to_pylist()]
    return out + [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()], op.late_dropped


@pytest.mark.parametrize("seed", range(12))
def test_slices_give_the_windows_of_every_row(seed):
    rng = random.Random(seed)
    rows, t = [], 1_700_000_000_000
    for _ in range(rng.randint(50, 1500)):
        t += rng.choice([0, 1, 10, 300, 999])
        back = rng.choice([0, 1200, 2500]) if rng.random() < 0.05 else 0
        rows.append((rng.randint(0, rng.choice([3, 50])), rng.randint(-5, 5), t - back))
    assert run(make(True), rows, random.Random(seed)) == run(make(False), rows, random.Random(seed))


def test_batches_in_time_order_are_aggregated_by_slice(monkeypatch):
    """Batches within one slice and across several take the slice path (and give the same windows)."""
    rows = [(k % 7, k % 5, 1_700_000_000_000 + 40 * k) for k in range(3000)]
    sliced = []
    by_slice = WindowAggregateOperator._by_slice
    monkeypatch.setattr(WindowAggregateOperator, "_by_slice",
                        lambda self, *a: sliced.append(by_slice(self, *a)) or sliced[-1])
    got = run(make(True), rows, random.Random(1))
    assert len(sliced) >= 3 and all(sliced)
    assert got == run(make(False), rows, random.Random(1))
