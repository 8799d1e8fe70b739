"""The column-wise INNER join emits exactly the changelog of the per-row join (checked against Flink by the
golden cases) over insert-only and updating inputs, for any batch size and across a snapshot and restore."""
import random

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.plan.expr import Call, Ref
from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, make_batch
from sqlstream.runtime.operators.inner_join import InnerJoinOperator
from tests.reference_join import RowJoinOperator
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.state import StateBackend
from sqlstream.core.types import BIGINT, BOOLEAN

TYPES = [pa.int64(), pa.int64(), pa.string()]
NAMES = ["k", "v", "s", "k2", "v2", "s2"]


def changelog(rng: random.Random, n: int, updating: bool) -> list[tuple]:
    """(op, row): inserts, and when updating, retractions of rows inserted before (sometimes twice-inserted)."""
    live, out = [], []
    for _ in range(n):
        if updating and live and rng.random() < 0.35:
            row = live.pop(rng.randrange(len(live)))
            out.append((rng.choice([UPDATE_BEFORE, DELETE]), row))
        else:
            row = (rng.choice([None, 0, 1, 2]), rng.randint(0, 3), rng.choice([None, "a", "b"]))
            live.append(row)
            out.append((rng.choice([INSERT, UPDATE_AFTER]) if updating else INSERT, row))
    return out


def run(make, inputs, size, restore_at=None):
    """Feeds (side, changelog) inputs in chunks of `size` rows, alternating sides in the given order."""
    op, backend = make(), StateBackend("t")
    op.open(OperatorContext(backend))
    out = []
    for i, (side, rows) in enumerate(inputs):
        if i == restore_at:
            blobs = backend.snapshot()
            op, backend = make(), StateBackend("t")
            op.open(OperatorContext(backend))
            backend.restore(blobs)
        for at in range(0, len(rows), size):
            chunk = rows[at:at + size]
            b = make_batch(np.array([r[0] for r in chunk], np.int8),
                           [pa.array([r[1][j] for r in chunk], t) for j, t in enumerate(TYPES)], NAMES[:3])
            for o in op.on_batch(b, side):
                out += list(zip(*[o.column(j).to_pylist() for j in range(o.num_columns)]))
    return out


def interleaved(rng: random.Random, streams: list[list]) -> list[tuple]:
    """Each side's changelog cut into pieces of 1 to 12 rows, the pieces of both sides interleaved."""
    inputs, cuts = [], [0, 0]
    while cuts[0] < len(streams[0]) or cuts[1] < len(streams[1]):
        side = rng.randrange(2)
        step = rng.randint(1, 12)
        if cuts[side] < len(streams[side]):
            inputs.append((side, streams[side][cuts[side]:cuts[side] + step]))
            cuts[side] += step
    return inputs


@pytest.mark.parametrize("seed", range(40))
def test_same_changelog_as_the_per_row_join(seed):
    rng = random.Random(seed)
    updating = (rng.random() < 0.7, rng.random() < 0.7)
    inputs = interleaved(rng, [changelog(rng, rng.randint(5, 40), updating[s]) for s in (0, 1)])
    condition = Call(BOOLEAN, ">=", (Ref(BIGINT, 1, "v"), Ref(BIGINT, 4, "v2"))) if rng.random() < 0.5 else None
    nulls_equal = rng.random() < 0.2
    keys = ([0], [0]) if rng.random() < 0.6 else ([0, 2], [0, 2])

    expected = run(lambda: RowJoinOperator("INNER", *keys, condition, TYPES, TYPES, NAMES, TYPES + TYPES,
                                           nulls_equal=nulls_equal), inputs, 1)

    def inner():
        return InnerJoinOperator(*keys, condition, TYPES, TYPES, NAMES, nulls_equal)
    for size in (1, 3, 100):
        assert run(inner, inputs, size) == expected
    assert run(inner, inputs, 4, restore_at=len(inputs) // 2) == expected


@pytest.mark.parametrize("seed", range(6))
def test_a_side_fed_long_before_it_is_probed(seed):
    """Rows pile up on one side (more pending runs than it keeps before combining them) before the other side
    probes them, with retractions among them, then both sides go on."""
    rng = random.Random(seed)
    left, right = changelog(rng, 300, rng.random() < 0.5), changelog(rng, 60, True)
    inputs = [(0, left[:200]), (1, right[:30]), (0, left[200:]), (1, right[30:])]
    condition = Call(BOOLEAN, ">=", (Ref(BIGINT, 1, "v"), Ref(BIGINT, 4, "v2"))) if seed % 2 else None
    expected = run(lambda: RowJoinOperator("INNER", [0], [0], condition, TYPES, TYPES, NAMES, TYPES + TYPES),
                   inputs, 1)
    for size in (1, 7):
        assert run(lambda: InnerJoinOperator([0], [0], condition, TYPES, TYPES, NAMES), inputs, size) == expected
    assert run(lambda: InnerJoinOperator([0], [0], condition, TYPES, TYPES, NAMES), inputs, 1,
               restore_at=2) == expected


@pytest.mark.parametrize("updating", [False, True])
@pytest.mark.parametrize("max_merged", [None, 64])
def test_sides_probed_after_every_batch_keep_few_runs(updating, max_merged, monkeypatch):
    """Batches alternate between the sides, so each side is probed after every append: its runs still merge
    as they grow (a logarithmic number of them, of at most MAX_MERGED_ROWS rows), and the changelog is the
    per-row join's."""
    from sqlstream.runtime.sorted_runs import SortedRuns
    if max_merged:
        monkeypatch.setattr(SortedRuns, "MAX_MERGED_ROWS", max_merged)
    rng = random.Random(7)
    left, right = changelog(rng, 400, updating), changelog(rng, 400, updating)
    inputs = [(s, rows[at:at + 2]) for at in range(0, 400, 2) for s, rows in ((0, left), (1, right))]
    condition = Call(BOOLEAN, ">=", (Ref(BIGINT, 1, "v"), Ref(BIGINT, 4, "v2")))
    expected = run(lambda: RowJoinOperator("INNER", [0], [0], condition, TYPES, TYPES, NAMES, TYPES + TYPES),
                   inputs, 1)
    ops = []

    def inner():
        ops.append(InnerJoinOperator([0], [0], condition, TYPES, TYPES, NAMES))
        return ops[-1]
    assert run(inner, inputs, 2) == expected
    runs = [r for side in ops[-1].sides for r in side.runs]
    assert len(runs) <= (10 if max_merged is None else 24)
    assert max(len(r) for r in runs) <= (max_merged or 400)


def test_rows_kept_in_chunks_are_taken_as_from_one_table():
    from sqlstream.runtime.sorted_runs import take_rows
    rng = np.random.default_rng(5)
    pieces = [pa.table({"k": pa.array(rng.integers(0, 9, size)),
                        "s": pa.array([None if v % 5 == 0 else f"s{v}" for v in rng.integers(0, 99, size)],
                                      pa.string())}) for size in rng.integers(0, 40, 20)]
    table = pa.concat_tables(pieces)
    whole = table.combine_chunks()
    for pos in (rng.integers(0, whole.num_rows, 50), np.arange(3), np.zeros(0, np.int64),
                np.arange(whole.num_rows)[::-1]):
        assert take_rows(table, pos).equals(whole.take(pa.array(pos, pa.int64())))
