"""A window firing alone merges its partial aggregates per key (its start and end left out of the grouping): the same
rows, in the same order, as aggregating the window's rows, with several windows firing at once, NULL keys, late
rows, grouping sets, batch sizes 1 to 2000 and a checkpoint restored mid-way."""
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
WINDOWS = {"tumble": WindowSpec("TUMBLE", 2, size=2000), "hop": WindowSpec("HOP", 2, size=3000, slide=1000),
           "cumulate": WindowSpec("CUMULATE", 2, size=3000, step=1000)}


def make(window: WindowSpec, partial: bool, sets: bool = False) -> tuple[WindowAggregateOperator, StateBackend]:
    aggs = [AggCall("COUNT", (), BIGINT), AggCall("SUM", (1,), BIGINT), AggCall("MIN", (1,), BIGINT),
            AggCall("AVG", (1,), BIGINT)]
    names = ["k", "window_start", "window_end", "window_time"] + (["$g"] if sets else []) + ["c", "s", "m", "a"]
    types = [BIGINT, TS, TS, TS] + ([BIGINT] if sets else []) + [BIGINT] * 4
    op = WindowAggregateOperator(window, [0], aggs, [[0], []] if sets else None, names, types)
    backend = StateBackend("w")
    op.open(OperatorContext(backend))
    op.partial = partial
    return op, backend


def run(window: WindowSpec, partial: bool, rows: list[tuple], rng: random.Random, jumps: bool,
        sets: bool = False) -> tuple[list[dict], int]:
    """The operator's output over the rows' batches, its watermark advanced after each batch (or, with `jumps`,
    after every few, so several windows fire at once), restored from a checkpoint half-way."""
    op, backend = make(window, partial, sets)
    batches = cut_with_watermarks(rows, [1, 7, 100, 2000], rng, 500, 2)
    out = []
    for i, (chunk, wms, top) in enumerate(batches):
        if i == len(batches) // 2:
            snapshot = backend.snapshot()
            op, backend = make(window, partial, sets)
            backend.restore([snapshot])
        arrays = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(TYPES)]
        op.on_batch(make_batch(INSERT, arrays, NAMES, wm=np.array(wms, np.int64)))
        if not jumps or rng.random() < 0.2:
            out += [r for b in op.on_watermark(top) for r in b.to_pylist()]
    return out + [r for b in op.on_watermark(MAX_WM) for r in b.to_pylist()], op.late_dropped


@pytest.mark.parametrize("jumps", [False, True])
@pytest.mark.parametrize("kind", list(WINDOWS))
@pytest.mark.parametrize("seed", range(6))
def test_partials_of_one_window_merge_to_its_rows_aggregates(seed, kind, jumps):
    rng = random.Random(seed)
    rows, t = [], 1_700_000_000_000
    for _ in range(rng.randint(50, 2500)):
        t += rng.choice([0, 1, 10, 300, 999])
        back = rng.choice([0, 1200, 2500]) if rng.random() < 0.05 else 0
        rows.append((rng.choice([None] + list(range(rng.choice([3, 50])))), rng.randint(-5, 5), t - back))
    window = WINDOWS[kind]
    expected = run(window, False, rows, random.Random(seed), jumps)
    assert expected[0]
    assert run(window, True, rows, random.Random(seed), jumps) == expected


@pytest.mark.parametrize("seed", range(3))
def test_grouping_sets_of_one_window_merge_to_its_rows_aggregates(seed):
    rng = random.Random(seed)
    rows = [(rng.choice([None, 1, 2, 3]), rng.randint(-5, 5), 1_700_000_000_000 + 7 * i) for i in range(3000)]
    expected = run(WINDOWS["tumble"], False, rows, random.Random(seed), False, sets=True)
    assert run(WINDOWS["tumble"], True, rows, random.Random(seed), False, sets=True) == expected


def test_a_window_firing_alone_takes_the_merge_per_key(monkeypatch):
    calls = []
    merge = WindowAggregateOperator._merge_window
    monkeypatch.setattr(WindowAggregateOperator, "_merge_window",
                        staticmethod(lambda *a: calls.append(1) or merge(*a)))
    rows = [(k % 7, k % 5, 1_700_000_000_000 + 40 * k) for k in range(3000)]
    got = run(WINDOWS["tumble"], True, rows, random.Random(1), False)
    assert calls and got == run(WINDOWS["tumble"], False, rows, random.Random(1), False)
