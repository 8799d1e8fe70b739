"""The column-wise interval join emits exactly the rows, in the same order, of the per-row interval join
(checked against Flink by the golden cases): random inputs, per-row watermarks, outer kinds, conditions, any
batch size, and a snapshot and restore."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.plan.expr import Call, Ref
from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.runtime.operators.interval_join import IntervalJoinOperator as IntervalJoinColumnsOperator
from tests.reference_interval_join import IntervalJoinOperator
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.state import StateBackend
from sqlstream.core.types import BIGINT, BOOLEAN

TYPES = [pa.int64(), pa.timestamp("ms"), pa.int64()]
NAMES = ["k", "t", "v", "k2", "t2", "v2"]


def script(rng: random.Random) -> list[tuple]:
    """Steps: ("rows", side, [(k, t, v, row watermark)]) or ("wm", w); event times wander forward."""
    steps, clock, wms = [], [0, 0], [-(2 ** 63), -(2 ** 63)]
    for _ in range(rng.randint(3, 14)):
        if rng.random() < 0.2:
            steps.append(("wm", min(clock) - rng.randint(0, 3000)))
            continue
        side = rng.randrange(2)
        rows = []
        for _ in range(rng.randint(1, 12)):
            clock[side] += rng.randint(-400, 900)
            t = clock[side] if rng.random() > 0.05 else None
            wms[side] = max(wms[side], (t or -(2 ** 62)) - 1000)
            rows.append((rng.choice([None, 1, 2, 3]), t, rng.randint(0, 9), wms[side]))
        steps.append(("rows", side, rows))
    return steps


def run(make, steps, size, restore_at=None):
    op, backend = make(), StateBackend("t")
    op.open(OperatorContext(backend))
    out, other_wm = [], [-(2 ** 63), -(2 ** 63)]
    for i, step in enumerate(steps):
        if i == restore_at:
            blobs = backend.snapshot()
            op, backend = make(), StateBackend("t")
            op.open(OperatorContext(backend))
            backend.restore(blobs)
        op.input_watermarks = list(other_wm)
        if step[0] == "wm":
            batches = op.on_watermark(step[1])
        else:
            _, side, rows = step
            batches = []
            for at in range(0, len(rows), size):
                chunk = rows[at:at + size]
                b = make_batch(INSERT, [pa.array([r[0] for r in chunk], pa.int64()),
                                        pa.array([r[1] for r in chunk], pa.timestamp("ms")),
                                        pa.array([r[2] for r in chunk], pa.int64())], NAMES[:3],
                               wm=np.array([r[3] for r in chunk], np.int64))
                batches += op.on_batch(b, side)
            other_wm[side] = max(other_wm[side], rows[-1][3])
        for o in batches:
            out += list(zip(*[o.column(j).to_pylist() for j in range(o.num_columns)]))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_same_rows_in_the_same_order_as_the_per_row_join(seed):
    rng = random.Random(seed)
    steps = script(rng)
    kind = rng.choice(["INNER", "LEFT", "RIGHT", "FULL"])
    lower, upper = sorted(rng.sample(range(-1500, 1500), 2))
    condition = Call(BOOLEAN, ">=", (Ref(BIGINT, 2, "v"), Ref(BIGINT, 5, "v2"))) if rng.random() < 0.4 else None
    args = (kind, [0], [0], 1, 1, lower, upper, condition, TYPES, TYPES, NAMES)
    expected = run(lambda: IntervalJoinOperator(*args), steps, 1000)
    for size in (1, 3, 1000):
        assert run(lambda: IntervalJoinColumnsOperator(*args), steps, size) == \
            run(lambda: IntervalJoinOperator(*args), steps, size)
    assert run(lambda: IntervalJoinColumnsOperator(*args), steps, 1000) == expected
    assert run(lambda: IntervalJoinColumnsOperator(*args), steps, 4, restore_at=len(steps) // 2) == \
        run(lambda: IntervalJoinOperator(*args), steps, 4, restore_at=len(steps) // 2)
