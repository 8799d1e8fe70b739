"""The column-wise Top-1 / deduplication operator emits exactly the changelog of the per-row Top-N operator
(checked against Flink by the golden cases), for any batch size and across a snapshot and restore."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import INSERT, make_batch
from sqlstream.runtime.operators.rank_append import AppendRankOperator
from sqlstream.runtime.operators import top1
from sqlstream.runtime.operators.top1 import Top1Operator
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.state import StateBackend
from tests.rank_reference import RankReference

NAMES = ["k", "v", "s", "rk"]
TYPES = [pa.int64(), pa.int64(), pa.string()]


def run(make, batches, restore_at=None):
    """Output rows of an operator made by `make`; at batch `restore_at` it is replaced by a new one restored
    from a snapshot of its state (through Arrow IPC, as checkpoints store it)."""
    op, backend = make(), StateBackend("t")
    op.open(OperatorContext(backend))
    out = []
    for i, b in enumerate(batches):
        if i == restore_at:
            blobs = backend.snapshot()
            op, backend = make(), StateBackend("t")
            op.open(OperatorContext(backend))
            backend.restore(blobs)
        for o in op.on_batch(b):
            out += list(zip(*[o.column(j).to_pylist() for j in range(o.num_columns)]))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_same_changelog_as_the_per_row_operator(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    rows = [(rng.randint(0, 4), rng.choice([None, 1, 2, 3, 3, 4]), rng.choice([None, "a", "b", "b"]))
            for _ in range(n)]
    order = rng.choice([[(1, True)], [(1, False)], [(1, True), (2, False)], [(2, True), (1, True)]])
    newest = rng.random() < 0.5

    def batches(size):
        return [make_batch(INSERT, [pa.array([r[j] for r in rows[i:i + size]], t) for j, t in enumerate(TYPES)],
                           NAMES[:3]) for i in range(0, n, size)]
    expected = run(lambda: RankReference([0], order, 1, NAMES, TYPES, append_only=True, newest_wins_ties=newest),
                   batches(1))
    assert expected, "the reference emits something"

    def top1():
        return Top1Operator([0], order, NAMES, TYPES, newest)
    for size in (1, 4, 100):
        assert run(top1, batches(size)) == expected
    assert run(top1, batches(3), restore_at=len(batches(3)) // 2) == expected


@pytest.mark.parametrize("seed", range(30))
def test_top_n_skipping_hopeless_rows_changes_nothing(seed):
    """Top-N over an insert-only input skips rows that cannot beat a full partition's N-th row; its changelog
    equals that of the operator that processes every row."""
    rng = random.Random(seed)
    n, limit, desc = rng.randint(1, 80), rng.randint(2, 4), rng.random() < 0.5
    rows = [(rng.randint(0, 3), rng.choice([None, 1, 2, 2, 3, 5, 8]), rng.choice(["a", "b"])) for _ in range(n)]

    def batches(size):
        return [make_batch(INSERT, [pa.array([r[j] for r in rows[i:i + size]], t) for j, t in enumerate(TYPES)],
                           NAMES[:3]) for i in range(0, n, size)]
    expected = run(lambda: RankReference([0], [(1, desc)], limit, NAMES, TYPES), batches(1))
    for size in (1, 5, 100):
        assert run(lambda: AppendRankOperator([0], [(1, desc)], limit, NAMES, TYPES), batches(size)) == expected



@pytest.mark.parametrize("seed", range(3))
def test_integer_keys_take_their_sort_positions(seed):
    """ORDER BY positions of integer, timestamp and date keys without NULLs (packed into one integer, or ranked
    by Arrow when their ranges are too wide to pack) are the rows' dense positions in a Python sort."""
    rng = np.random.default_rng(seed)
    n = 300
    values = [rng.integers(-5, 5, n), rng.integers(0, 10**6, n), rng.integers(0, 30, n), rng.integers(-2**62, 2**62, n)]
    cols = [pa.array(values[0]), pa.array(values[1].astype("datetime64[ms]")),
            pa.array(values[2].astype(np.int32)).cast(pa.date32()), pa.array(values[3])]
    for picks in ([0], [1, 0], [0, 2, 1], [3, 0], [0, 3]):
        for desc in ([bool(b) for b in rng.integers(0, 2, len(picks))] for _ in range(3)):
            rows = [tuple(-int(values[i][r]) if d else int(values[i][r]) for i, d in zip(picks, desc))
                    for r in range(n)]
            rank = {row: at for at, row in enumerate(sorted(set(rows)))}
            keys = [cols[i] for i in picks]
            assert (top1._packed_positions(keys, desc) is None) == (3 in picks)
            assert top1.sort_positions(keys, desc).tolist() == [rank[row] for row in rows]
            chunked = [pa.chunked_array([k.slice(0, 100), k.slice(100)]) for k in keys]
            assert top1.sort_positions(chunked, desc).tolist() == [rank[row] for row in rows]


@pytest.mark.parametrize("newest", [False, True])
def test_long_input_through_compactions_and_a_restore(newest):
    """Thousands of rows in batches of varied sizes: batches stored whole or by their kept rows, the store's
    pieces joined and its replaced rows dropped, a restore in the middle: still the per-row changelog."""
    rng = random.Random(5)
    rows = [(rng.randint(0, 30), rng.choice([None, i, i, i // 2]), rng.choice(["a", "b"])) for i in range(6000)]
    sizes = [rng.choice([1, 2, 3]) for _ in range(60)]
    sizes += [40] * ((len(rows) - sum(sizes)) // 40 + 1)
    starts = np.cumsum([0] + sizes[:-1])

    def batches(bounds):
        return [make_batch(INSERT, [pa.array([r[j] for r in rows[a:b]], t) for j, t in enumerate(TYPES)],
                           NAMES[:3]) for a, b in bounds]
    order = [(1, True), (2, False)]
    expected = run(lambda: RankReference([0], order, 1, NAMES, TYPES, append_only=True, newest_wins_ties=newest),
                   batches([(i, i + 1) for i in range(len(rows))]))
    varied = batches([(a, min(a + s, len(rows))) for a, s in zip(starts, sizes)])
    assert run(lambda: Top1Operator([0], order, NAMES, TYPES, newest), varied, restore_at=len(varied) - 3) == expected
