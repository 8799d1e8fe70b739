"""A window aggregation cascaded on another's results whose keys are the window's bounds (nexmark q5's MAX per
window) aggregates a window's rows as one group without hashing the keys: the same rows as grouping them, and
the row-at-a-time maximum and count, with batches down to one row; keys with several values take the grouped
path."""
import random

import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.core.types import BIGINT, FlinkType
from sqlstream.plan.logical import AggCall
from sqlstream.runtime.event_time import MAX_WM
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators import window_group_aggregate
from sqlstream.runtime.operators.window_group_aggregate import WindowGroupAggregateOperator
from sqlstream.runtime.state import StateBackend

TS = pa.timestamp("ms")
NAMES = ["num", "starttime", "endtime", "k"]
TYPES = [pa.int64(), TS, TS, pa.int64()]
TSF = FlinkType("TIMESTAMP", precision=3)


def run(keys: list[int], rows_per_window, sizes) -> list[dict]:
    aggs = [AggCall("MAX", (0,), BIGINT), AggCall("COUNT", (), BIGINT)]
    out_types = [TSF if i in (1, 2) else BIGINT for i in keys] + [BIGINT, BIGINT]
    op = WindowGroupAggregateOperator(2, {"keys": keys, "aggs": aggs, "out_names": [f"o{i}" for i in keys] +
                                          ["maxn", "n"], "out_types": out_types}, NAMES, len(keys))
    op.open(OperatorContext(StateBackend("g")))
    out = []
    for end, rows in rows_per_window:
        i = 0
        while i < len(rows):
            chunk = rows[i:i + next(sizes)]
            i += len(chunk)
            arrays = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(TYPES)]
            op.on_batch(make_batch(INSERT, arrays, NAMES))
        out += [r for b in op.on_watermark(end - 1) for r in b.to_pylist()]
    return out + [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()]


@pytest.mark.parametrize("keys", [[1, 2], [1, 2, 3]])
@pytest.mark.parametrize("seed", range(4))
def test_one_group_per_window_gives_the_grouped_rows(seed, keys, monkeypatch):
    rng = random.Random(seed)
    windows = []
    for w in range(1, 6):
        end = w * 2000
        windows.append((end, [(rng.choice([None, rng.randint(0, 50)]), end - 10000, end, rng.randrange(3))
                              for _ in range(rng.randint(1, 300))]))

    def sizes():
        while True:
            yield rng.choice([1, 13, 300])
    fast = run(keys, windows, sizes())
    monkeypatch.setattr(window_group_aggregate, "one_key", lambda cols, n: None)
    grouped = run(keys, windows, sizes())
    assert fast == grouped
    if keys == [1, 2]:
        for (end, rows), got in zip(windows, fast):
            values = [r[0] for r in rows if r[0] is not None]
            assert (got["maxn"], got["n"]) == (max(values) if values else None, len(rows))
