"""Top-N over an insert-only input kept as Arrow rows gives the row-tuple operator's changelog exactly, for any
batch size, with ties, NULLs, several ORDER BY columns and identical rows, and after a restore."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.core.changelog import make_batch
from sqlstream.runtime.operators.rank_append import AppendRankOperator
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.state import StateBackend
from tests.rank_reference import RankReference

TYPES = [pa.string(), pa.int64(), pa.float64(), pa.string()]
NAMES = ["k", "price", "score", "tag", "rn"]


def rows(seed: int, n: int) -> list[tuple]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        out.append((rnd.choice(["a", "b", "c", None]), None if rnd.random() < 0.08 else rnd.randint(0, 30),
                    rnd.choice([0.5, 1.5, None, 2.5]), rnd.choice(["x", "y"])))
    return out


def opened(op):
    op.open(OperatorContext(StateBackend("rank")))
    return op


def changelog(op, data: list[tuple], batch: int, types=None, names=None) -> list[tuple]:
    """The rows `op` emits for `data` fed in batches of `batch` rows (of TYPES and NAMES unless given)."""
    types, names = types or TYPES, names or NAMES
    out = []
    for lo in range(0, len(data), batch):
        chunk = data[lo:lo + batch]
        cols = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(types)]
        for b in op.on_batch(make_batch(0, cols, names[:4])):
            d = b.to_pydict()
            out += list(zip(*[d[c] for c in b.schema.names]))
    return out


ORDERS = [[(1, True)], [(1, False)], [(2, True), (1, False)], [(3, False)], []]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("order", ORDERS, ids=["price desc", "price asc", "score desc, price", "tag",
                                          "no order (LIMIT without ORDER BY)"])
@pytest.mark.parametrize("limit", [2, 3])
def test_same_changelog_as_the_row_operator(seed, order, limit):
    data = rows(seed, 300)
    expected = changelog(RankReference([0], order, limit, NAMES, TYPES, append_only=True), data, 300)
    for batch in (1, 7, 300):
        assert changelog(opened(AppendRankOperator([0], order, limit, NAMES, TYPES)), data, batch) == expected


def test_restore_continues_exactly():
    data = rows(11, 400)
    full = changelog(opened(AppendRankOperator([0], [(1, True)], 3, NAMES, TYPES)), data, 50)
    first = AppendRankOperator([0], [(1, True)], 3, NAMES, TYPES)
    state = StateBackend("rank")
    first.open(OperatorContext(state))
    head = changelog(first, data[:200], 50)
    blobs = state.snapshot()
    second = AppendRankOperator([0], [(1, True)], 3, NAMES, TYPES)
    restored = StateBackend("rank")
    second.open(OperatorContext(restored))
    restored.restore(blobs)
    assert head + changelog(second, data[200:], 50) == full


@pytest.mark.parametrize("partition", [[], [0]], ids=["global", "per k"])
@pytest.mark.parametrize("with_rank", [True, False])
def test_no_order_keeps_the_first_rows_in_arrival_order_across_batches_and_restores(partition, with_rank):
    """LIMIT without ORDER BY: every row ties, so the first N rows (per partition) enter, +I each, and stay."""
    data = rows(12, 400)

    def make():
        return AppendRankOperator(partition, [], 5, NAMES, TYPES, with_rank=with_rank)
    expected = changelog(RankReference(partition, [], 5, NAMES, TYPES, append_only=True, with_rank=with_rank),
                         data, 400)
    assert {r[-1] for r in expected} == set(range(1, 6)) and len(expected) == 5 * (4 if partition else 1)
    for batch in (1, 3, 400):
        assert changelog(opened(make()), data, batch) == expected
    for cut in (2, 150):
        first, state = make(), StateBackend("rank")
        first.open(OperatorContext(state))
        head = changelog(first, data[:cut], 3)
        second, restored = make(), StateBackend("rank")
        second.open(OperatorContext(restored))
        restored.restore(state.snapshot())
        assert head + changelog(second, data[cut:], 7) == expected


def test_store_is_compacted():
    op = opened(AppendRankOperator([0], [(1, True)], 2, NAMES, TYPES))
    data = [("a", i, 1.0, "x") for i in np.random.default_rng(1).integers(0, 10 ** 6, 300_000).tolist()]
    changelog(op, data, 65_536)
    assert len(op.rows) < 80_000 and op.held == 2


WIDE_TYPES = [pa.int32(), pa.int64(), pa.timestamp("ms"), pa.string()]
WIDE_NAMES = ["p", "v", "ts", "s", "rn"]


def wide_rows(seed: int, n: int) -> list[tuple]:
    """Many partitions, a hot one whose values only rise (each row enters its top N), ties and NULLs."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        hot = rnd.random() < 0.3
        p = 0 if hot else rnd.choice([None] + list(range(1, 40)))
        v = i if hot and rnd.random() < 0.7 else (None if rnd.random() < 0.05 else rnd.randint(-5, 25))
        ts = None if rnd.random() < 0.05 else rnd.randint(0, 30) * 1000
        out.append((p, v, ts, rnd.choice(["x", "y", None])))
    return out


def wide_changelog(op, data: list[tuple], batch: int, restore_at: int | None = None) -> list[tuple]:
    """The operator's changelog over `data` cut into batches; from row `restore_at` on, a new operator restored
    from a snapshot (through Arrow IPC, as checkpoints store it) continues."""
    state = StateBackend("rank")
    op_now = op()
    op_now.open(OperatorContext(state))
    out = []
    for lo in range(0, len(data), batch):
        if restore_at is not None and lo >= restore_at:
            blobs, restore_at = state.snapshot(), None
            op_now, state = op(), StateBackend("rank")
            op_now.open(OperatorContext(state))
            state.restore(blobs)
        out += changelog(op_now, data[lo:lo + batch], batch, WIDE_TYPES, WIDE_NAMES)
    return out


CASES = [([(1, True)], 10, True), ([(1, False)], 4, True), ([(2, True)], 10, True), ([(2, False)], 1, True),
         ([(1, True)], 4, False), ([(2, False)], 3, False)]


@pytest.mark.parametrize("order,limit,with_rank", CASES,
                         ids=["int desc", "int asc", "time desc", "time asc 1", "no rank", "time no rank"])
def test_column_wise_lists_give_the_row_changelog(order, limit, with_rank):
    """The column-wise lists (integer and temporal orders) against the row-at-a-time reference, with many
    partitions, a partition every row of which enters, any batch size and a restore half-way."""
    data = wide_rows(limit + len(order), 300)
    expected = changelog_of_reference(data, order, limit, with_rank)

    def make():
        return AppendRankOperator([0], order, limit, WIDE_NAMES, WIDE_TYPES, with_rank=with_rank)
    assert make().columnar
    for batch in (1, 7, 300):
        assert wide_changelog(make, data, batch) == expected, batch
    assert wide_changelog(make, data, 40, restore_at=150) == expected


def changelog_of_reference(data, order, limit, with_rank):
    ref = RankReference([0], order, limit, WIDE_NAMES, WIDE_TYPES, append_only=True, with_rank=with_rank)
    return wide_changelog(lambda: ref, data, len(data))


def test_row_lists_restore_as_column_wise_lists():
    """A snapshot of the row lists (an order the column-wise path does not take) has the same layout: its rows
    restore into column-wise lists when the sort key is an integer, and continue exactly."""
    data = wide_rows(5, 400)
    expected = changelog_of_reference(data, [(1, True)], 3, True)
    state = StateBackend("rank")
    rows_op = AppendRankOperator([0], [(1, True)], 3, WIDE_NAMES, WIDE_TYPES)
    rows_op.columnar = False
    rows_op.open(OperatorContext(state))
    head = changelog(rows_op, data[:200], 40, WIDE_TYPES, WIDE_NAMES)
    blobs = state.snapshot()

    def restored():
        op = AppendRankOperator([0], [(1, True)], 3, WIDE_NAMES, WIDE_TYPES)
        return op
    second, backend = restored(), StateBackend("rank")
    second.open(OperatorContext(backend))
    backend.restore(blobs)
    tail = changelog(second, data[200:], 40, WIDE_TYPES, WIDE_NAMES)
    assert head + tail == expected
