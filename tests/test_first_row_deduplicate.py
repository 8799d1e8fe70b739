"""Keep-first deduplication on rowtime against a row-at-a-time model of Flink's operator
(RowTimeDeduplicateKeepFirstRowFunction): random keys, times and watermarks, any batch size, a snapshot and
restore mid-stream, and a row store compacted often."""
import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, data_columns, make_batch
from sqlstream.runtime.operators.first_row_deduplicate import FirstRowDeduplicateOperator
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.state import StateBackend

NAMES = ["k", "v", "ts", "rn"]


def stream(seed: int, n: int = 400):
    """(key, value, rowtime ms, watermark before the row) in arrival order; out of order by up to 3 s,
    watermark = max time - 1 s, so about a third of the rows are late."""
    rng = np.random.default_rng(seed)
    ts = np.arange(n) * 100 + rng.integers(0, 3000, n)
    keys = rng.integers(0, 40, n)
    wm_after = np.maximum.accumulate(ts) - 1000
    wm_before = np.r_[np.iinfo(np.int64).min, wm_after[:-1]]
    return [(f"k{k}", i, int(t), int(w)) for i, (k, t, w) in enumerate(zip(keys, ts, wm_before))]


def model(rows) -> list[tuple]:
    """Flink's rule row by row: late rows dropped; a key's row waits for the watermark, an earlier row replaces
    it; once emitted the key is done."""
    pending, done, out = {}, set(), []

    def fire(wm):
        for k, r in sorted(((k, r) for k, r in pending.items() if r[2] <= wm), key=lambda kr: (kr[1][2], kr[1][1])):
            out.append(r)
            done.add(k)
            del pending[k]
    for k, v, t, w in rows:
        fire(w)
        if t < w or k in done:
            continue
        if k not in pending or t < pending[k][2]:
            pending[k] = (k, v, t)
    fire(np.iinfo(np.int64).max)
    return out


def run(rows, batch_size: int, restore_at: int | None = None) -> list[tuple]:
    def make():
        op = FirstRowDeduplicateOperator([0], 2, True, NAMES, [pa.string(), pa.int64(), pa.timestamp("ms")])
        op.compact_above = 5
        backend = StateBackend("dedup")
        op.open(OperatorContext(backend))
        return op, backend
    op, backend = make()
    out = []
    for i, start in enumerate(range(0, len(rows), batch_size)):
        if i == restore_at:
            blobs = backend.snapshot()
            op, backend = make()
            backend.restore(blobs)
        part = rows[start:start + batch_size]
        batch = make_batch(INSERT, [pa.array([r[0] for r in part]), pa.array([r[1] for r in part], pa.int64()),
                                    pa.array([r[2] for r in part], pa.timestamp("ms"))], NAMES[:3],
                           wm=np.array([r[3] for r in part], np.int64))
        assert op.on_batch(batch) == []
        next_wm = rows[start + batch_size][3] if start + batch_size < len(rows) else np.iinfo(np.int64).max
        for b in op.on_watermark(next_wm):
            cols = data_columns(b)
            out += list(zip(cols[0].to_pylist(), cols[1].to_pylist(),
                            pc_ms(cols[2]), strict=True))
    return out


def pc_ms(col: pa.Array) -> list[int]:
    return col.cast(pa.int64()).to_pylist()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("batch_size", [1, 7, 50])
def test_same_rows_as_flinks_rule(seed, batch_size):
    rows = stream(seed)
    expected = model(rows)
    assert len(expected) > 10
    got = run(rows, batch_size)
    assert sorted(got) == sorted(expected)
    if batch_size == 1:  # emitted as the watermark reaches each row's time, in time order
        assert got == expected
    assert sorted(run(rows, batch_size, restore_at=len(rows) // batch_size // 2)) == sorted(expected)
