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


def changelog(op, data: list[tuple], batch: int) -> list[tuple]:
    out = []
    for lo in range(0, len(data), batch):
        chunk = data[lo:lo + batch]
        cols = [pa.array([r[j] for r in chunk], t) for j, t in enumerate(TYPES)]
        for b in op.on_batch(make_batch(0, cols, NAMES[:4])):
            d = b.to_pydict()
            out += list(zip(*[d[c] for c in b.schema.names]))
    return out


ORDERS = [[(1, True)], [(1, False)], [(2, True), (1, False)], [(3, False)]]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("order", ORDERS, ids=["price desc", "price asc", "score desc, price", "tag"])
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


def test_store_is_compacted():
    op = opened(AppendRankOperator([0], [(1, True)], 2, NAMES, TYPES))
    data = [("a", i, 1.0, "x") for i in np.random.default_rng(1).integers(0, 10 ** 6, 300_000).tolist()]
    changelog(op, data, 65_536)
    assert len(op.rows) < 80_000 and op.held == 2
