"""The Top-N operators' state is declared keyed rows, split by key group: a snapshot taken at one parallelism
restores at another (each subtask keeps the partitions it owns) and the operators continue exactly, per
partition, as the unsplit operator does; a checkpoint of the layout before is refused naming the columns."""
import random

import pyarrow as pa
import pytest

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.rank import RankOperator
from sqlstream.runtime.operators.rank_append import AppendRankOperator
from sqlstream.runtime.operators.top1 import Top1Operator
from tests.keyed_rescale import fed, rescaled_run
from sqlstream.runtime.state import MANY_FRAGMENTS, StateBackend

NAMES = ["p", "k", "v", "rk"]
TYPES = [pa.string(), pa.int64(), pa.int64()]
OPERATORS = {
    "Rank": lambda: RankOperator([0], [(2, True)], 3, NAMES, TYPES, with_rank=True),
    "AppendRank": lambda: AppendRankOperator([0], [(2, False)], 2, NAMES, TYPES),
    "AppendRank with ties": lambda: AppendRankOperator([0], [(2, True)], 3, NAMES, TYPES),
    "Top1": lambda: Top1Operator([0], [(2, True)], NAMES, TYPES),
}


def changelog(seed: int, updating: bool, ties: bool = False) -> list[tuple]:
    """Random rows, or identical rows of rising values (`ties`)."""
    rng = random.Random(seed)
    table: dict[tuple, tuple] = {}
    out = []
    for i in range(600):
        key = (rng.choice([None] + [f"p{i}" for i in range(12)]), 0 if ties else rng.randint(0, 5))
        row = (*key, i // 60 + rng.randint(0, 1) if ties else rng.randint(0, 999))
        old = table.get(key)
        if not updating:
            out.append((INSERT, row))
        elif old is None:
            table[key] = row
            out.append((INSERT, row))
        elif rng.random() < 0.2:
            del table[key]
            out.append((DELETE, old))
        else:
            table[key] = row
            out += [(UPDATE_BEFORE, old), (UPDATE_AFTER, row)]
    return out


def opened(name: str):
    op, backend = OPERATORS[name](), StateBackend(name)
    op.open(OperatorContext(backend))
    return op, backend


def feed(op, rows: list[tuple], size: int = 7, pieces: list | None = None) -> dict:
    """`pieces` gets the store's piece count after each batch."""
    return fed(op, rows, TYPES, NAMES[:3], size, None if pieces is None else lambda: pieces.append(op.rows.fragments()))


@pytest.mark.parametrize("name", OPERATORS)
@pytest.mark.parametrize("old, new", [(1, 3), (2, 3), (3, 1)])
def test_rescaled_top_n_continues_exactly_per_partition(name, old, new):
    expected, got = rescaled_run(changelog(5, updating=name == "Rank", ties="ties" in name), lambda: opened(name), feed, old, new)
    assert got == expected and sum(map(len, expected.values())) > 5


@pytest.mark.parametrize("name", OPERATORS)
def test_a_snapshot_of_the_layout_before_is_refused_naming_the_columns(name):
    before = pa.table({"c0": pa.array(["a"]), "c1": pa.array([1]), "c2": pa.array([2]), "$seq": pa.array([0])})
    before = before.replace_schema_metadata({"seq": "1"})
    op, backend = opened(name)
    with pytest.raises(ValueError, match=r"\$seq int64\) where the operator keeps .*\$live bool, \$key_group int64"):
        backend.tables["ranked_rows"].restore(before)


@pytest.mark.parametrize("name", OPERATORS)
def test_one_row_batches_keep_the_store_in_few_pieces(name):
    """A batch of one row (a low-latency source) appends a piece to the store; the operators join the newest
    pieces, so what costs per piece (taking rows, measuring the state) does not grow batch after batch."""
    rows = changelog(9, updating=name == "Rank", ties="ties" in name)[:150]
    pieces: list = []
    one_by_one = feed(opened(name)[0], rows, size=1, pieces=pieces)
    assert one_by_one == feed(opened(name)[0], rows, size=1000)
    assert len(pieces) == len(rows) and max(pieces) <= MANY_FRAGMENTS + 1
