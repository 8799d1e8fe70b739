"""The update-fast Top-N (Flink's UpdatableTopNFunction; its changelog is checked against Flink by the golden
cases topn_update_fast_*): the same changelog per partition for any batch size, and its state, split by key
group, restores at another parallelism and continues exactly as the unsplit operator does."""
import random

import pyarrow as pa
import pytest

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.rank_updatable import UpdatableRankOperator
from tests.keyed_rescale import fed, rescaled_run
from sqlstream.runtime.state import StateBackend

NAMES = ["p", "k", "v", "rk"]
TYPES = [pa.string(), pa.int64(), pa.int64()]


def counts(seed: int, n: int = 600) -> list[tuple]:
    """A GROUP BY p, k's changelog of a value that only rises (a COUNT): +I, then -U old/+U new."""
    rng = random.Random(seed)
    table: dict[tuple, int] = {}
    out = []
    for _ in range(n):
        key = (rng.choice([None] + [f"p{i}" for i in range(8)]), rng.randint(0, 6))
        old = table.get(key)
        new = (old or 0) + rng.choice([0, 1, 1, 2])
        table[key] = new
        out += [(INSERT, (*key, new))] if old is None else [(UPDATE_BEFORE, (*key, old)), (UPDATE_AFTER, (*key, new))]
    return out


def opened(with_rank: bool, limit: int = 3):
    op, backend = UpdatableRankOperator([0], [(2, True)], limit, [0, 1], NAMES, TYPES, with_rank), StateBackend("t")
    op.open(OperatorContext(backend))
    return op, backend


def feed(op, rows: list[tuple], size: int = 7) -> dict:
    return fed(op, rows, TYPES, NAMES[:3], size)


@pytest.mark.parametrize("with_rank", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_any_batch_size_gives_the_same_changelog(with_rank, seed):
    rows = counts(seed)
    expected = feed(opened(with_rank)[0], rows, 1)
    assert sum(map(len, expected.values())) > 20
    for size in (7, 10000):
        assert feed(opened(with_rank)[0], rows, size) == expected


@pytest.mark.parametrize("with_rank", [True, False])
@pytest.mark.parametrize("old, new", [(1, 1), (1, 3), (2, 3), (3, 1)])
def test_restored_state_continues_exactly_per_partition(with_rank, old, new):
    expected, got = rescaled_run(counts(11), lambda: opened(with_rank), feed, old, new)
    assert got == expected and sum(map(len, expected.values())) > 5


def test_a_row_pushed_out_of_the_top_n_is_forgotten_and_comes_back_as_new():
    rows = [(INSERT, ("a", 1, 5)), (INSERT, ("a", 2, 4)), (INSERT, ("a", 3, 6)),
            (UPDATE_BEFORE, ("a", 2, 4)), (UPDATE_AFTER, ("a", 2, 7))]
    op, _ = opened(False, limit=2)
    got = [(line[0], line[1:4]) for line in feed(op, rows, 1)["a"]]
    assert got == [(INSERT, ("a", 1, 5)), (INSERT, ("a", 2, 4)), (DELETE, ("a", 2, 4)), (INSERT, ("a", 3, 6)),
                   (DELETE, ("a", 1, 5)), (INSERT, ("a", 2, 7))]
