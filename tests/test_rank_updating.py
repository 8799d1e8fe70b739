"""Top-N over an updating input gives the row-at-a-time reference's changelog exactly (same rows, same order):
random changelogs with updates, deletes and retractions of rows never seen, ties, NULLs, one numeric or several
ORDER BY columns, with and without the row number, at random batch sizes and across a checkpoint."""
import random

import pyarrow as pa
import pytest

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, make_batch
from sqlstream.runtime.operator import OperatorContext
from sqlstream.runtime.operators.rank import RankOperator
from sqlstream.runtime.state import StateBackend
from tests.rank_reference import RankReference

NAMES = ["p", "k", "v", "s", "rk"]
TYPES = [pa.int64(), pa.int64(), pa.int64(), pa.string()]


def changelog(seed: int, keys: int = 6, values: tuple = (None, 1, 2, 2, 3, 5, 8), arriving: int = 0) -> list[tuple]:
    """(op, row) of an upsert table keyed by (p, k) as a GROUP BY emits it, plus a few stray retractions. With
    `arriving`, new partitions keep coming (one every `arriving` rows), next to those already there."""
    rng = random.Random(seed)
    table: dict[tuple, tuple] = {}
    out = []
    for step in range(rng.randint(10, 400) + (200 if arriving else 0)):
        p, k = rng.choice([None, 0, 1, 2]), rng.randint(0, keys)
        if arriving:
            p = rng.choice([None, rng.randint(max(0, step // arriving - 5), step // arriving + 1)])
        row = (p, k, rng.choice(values), rng.choice([None, "a", "b"]))
        old = table.get((p, k))
        r = rng.random()
        if r < 0.05:
            out.append((rng.choice([UPDATE_BEFORE, DELETE]), row))  # a retraction of a row never emitted
        elif old is None:
            table[(p, k)] = row
            out.append((INSERT, row))
        elif r < 0.2:
            del table[(p, k)]
            out.append((DELETE, old))
        else:
            table[(p, k)] = row
            out += [(UPDATE_BEFORE, old), (UPDATE_AFTER, row)]
    return out


def run(make, log, size, restore_at=None):
    op, backend = make(), StateBackend("t")
    op.open(OperatorContext(backend))
    out = []
    batches = [log[i:i + size] for i in range(0, len(log), size)]
    for i, chunk in enumerate(batches):
        if i == restore_at:
            blobs = backend.snapshot()
            op, backend = make(), StateBackend("t")
            op.open(OperatorContext(backend))
            backend.restore(blobs)
        ops = pa.array([o for o, _ in chunk], pa.int8())
        arrays = [pa.array([r[j] for _, r in chunk], t) for j, t in enumerate(TYPES)]
        for b in op.on_batch(make_batch(ops, arrays, NAMES[:4])):
            out += list(zip(*[b.column(j).to_pylist() for j in range(b.num_columns)]))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_same_changelog_as_row_at_a_time(seed):
    rng = random.Random(1000 + seed)
    order = rng.choice([[(2, True)], [(2, False)], [(2, True), (3, False)], [(3, True), (2, True)]])
    limit = rng.randint(1, 4)
    newest = rng.random() < 0.3
    with_rank = rng.random() < 0.6
    log = changelog(seed)

    def make(cls):
        return lambda: cls([0], order, limit, NAMES, TYPES, append_only=False, newest_wins_ties=newest,
                           with_rank=with_rank)
    expected = run(make(RankReference), log, 1)
    for size in (1, 3, 50, 1000):
        assert run(make(RankOperator), log, size) == expected, f"batch size {size}"
    assert run(make(RankOperator), log, 5, restore_at=len(log) // 10) == expected


def run_sizes(make, log, sizes):
    """Output rows with the log cut into batches of the given sizes in turn."""
    op, backend = make(), StateBackend("t")
    op.open(OperatorContext(backend))
    out, at, i = [], 0, 0
    while at < len(log):
        chunk = log[at:at + sizes[i % len(sizes)]]
        at, i = at + len(chunk), i + 1
        ops = pa.array([o for o, _ in chunk], pa.int8())
        arrays = [pa.array([r[j] for _, r in chunk], t) for j, t in enumerate(TYPES)]
        for b in op.on_batch(make_batch(ops, arrays, NAMES[:4])):
            out += list(zip(*[b.column(j).to_pylist() for j in range(b.num_columns)]))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_same_changelog_at_random_batch_sizes_and_larger_n(seed):
    rng = random.Random(5000 + seed)
    order = rng.choice([[(2, True)], [(2, False)], [(3, False), (2, True)]])
    limit = rng.choice([1, 2, 5, 10])
    with_rank = rng.random() < 0.5
    log = changelog(seed) + changelog(seed + 100)

    def make(cls):
        return lambda: cls([0], order, limit, NAMES, TYPES, with_rank=with_rank)
    expected = run(make(RankReference), log, 1)
    sizes = [rng.randint(1, 40) for _ in range(8)]
    assert run_sizes(make(RankOperator), log, sizes) == expected, f"batch sizes {sizes}"


def factory(order, limit: int, newest: bool, with_rank: bool, spare: int):
    """make(cls): a function making a new operator of class cls with these settings (the reference's and the
    operator's the same)."""
    def make(cls):
        def new():
            op = cls([0], order, limit, NAMES, TYPES, newest_wins_ties=newest, with_rank=with_rank)
            op.spare = spare
            return op
        return new
    return make


@pytest.mark.parametrize("seed", range(12))
def test_top_lists_and_rests_give_the_same_changelog(seed):
    """Partitions of dozens of rows ordered by one integer column keep only their best entries in a list and the
    others in columns (rests): rows that land in or leave a rest, rests joining a list that could run short
    within a batch, lists cut and refilled between batches, a checkpoint, and a value outside the packed key range
    that turns the rests back into lists."""
    rng = random.Random(9000 + seed)
    order = [(2, rng.random() < 0.5)]
    limit = rng.choice([1, 2, 3, 5])
    newest = rng.random() < 0.3
    with_rank = rng.random() < 0.5
    spare = rng.choice([1, 2, 3])
    values = (None, 1, 2, 2, 3, 5, 8, 8, 13, -4)
    log = changelog(seed, 40, values) + changelog(seed + 100, 40, values) + changelog(seed + 200, 40, values)
    if seed % 4 == 0:
        log += [(INSERT, (p, 100 + i, (1 << 62) * (-1) ** i, "x")) for i, p in enumerate((0, 1, 2, None))]
        log += changelog(seed + 300, 40, values)

    make = factory(order, limit, newest, with_rank, spare)
    expected = run(make(RankReference), log, 1)
    sizes = [1, 2] + [rng.randint(1, 60) for _ in range(6)]
    assert run_sizes(make(RankOperator), log, sizes) == expected, f"batch sizes {sizes}"
    assert run(make(RankOperator), log, 37, restore_at=len(log) // 74) == expected


def duplicates(seed: int) -> list[tuple]:
    """(op, row) of a changelog that holds equal rows at once and retracts one of them at random."""
    rng = random.Random(seed)
    live, out = [], []
    for _ in range(rng.randint(50, 300)):
        if live and rng.random() < 0.4:
            row = live.pop(rng.randrange(len(live)))
            out.append((rng.choice([UPDATE_BEFORE, DELETE]), row))
        else:
            row = (rng.choice([0, 1]), rng.randint(0, 2), rng.choice([1, 2, 3]), rng.choice(["a", None]))
            live.append(row)
            out.append((rng.choice([INSERT, UPDATE_AFTER]), row))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_equal_rows_are_taken_back_in_arrival_order(seed):
    """Equal rows held at once share a hash: a retraction takes the oldest (the newest when the newest wins
    ties), within a batch and across batches, as the row-at-a-time reference does."""
    rng = random.Random(7000 + seed)
    order = rng.choice([[(2, True)], [(2, False)], [(2, True), (3, False)]])
    limit, newest, with_rank = rng.choice([1, 2, 4]), rng.random() < 0.5, rng.random() < 0.5
    log = duplicates(seed)

    make = factory(order, limit, newest, with_rank, 1)
    expected = run(make(RankReference), log, 1)
    sizes = [1, 2] + [rng.randint(1, 60) for _ in range(6)]
    assert run_sizes(make(RankOperator), log, sizes) == expected, f"batch sizes {sizes}"
    assert run(make(RankOperator), log, 23, restore_at=3) == expected


@pytest.mark.parametrize("seed", range(16))
def test_partitions_new_in_a_batch_give_the_same_changelog(seed):
    """Partitions that hold nothing when a batch starts, next to partitions that hold rows: ties, NULLs, updates
    and retractions within the batch, with and without the row number, batches down to one row, and a checkpoint."""
    rng = random.Random(11000 + seed)
    order = [(2, rng.random() < 0.7)]
    limit = rng.choice([1, 2, 3, 5])
    newest = rng.random() < 0.3
    with_rank = rng.random() < 0.5
    spare = rng.choice([1, 2, 8])
    log = changelog(seed, rng.choice([3, 6, 12]), (None, 1, 1, 2, 2, 3, 4, 7), arriving=rng.choice([4, 10, 30]))

    make = factory(order, limit, newest, with_rank, spare)
    expected = run(make(RankReference), log, 1)
    for size in (1, 60, 5000):
        assert run(make(RankOperator), log, size) == expected, f"batch size {size}"
    sizes = [1, 2] + [rng.randint(1, 90) for _ in range(6)]
    assert run_sizes(make(RankOperator), log, sizes) == expected, f"batch sizes {sizes}"
    assert run(make(RankOperator), log, 45, restore_at=len(log) // 90) == expected


@pytest.mark.parametrize("seed", range(12))
def test_new_partitions_of_many_rows_give_the_same_changelog(seed):
    """New partitions of dozens of rows in one batch, most of which stay: rows behind N + 1 earlier rows that stay
    are left out of the ranking over the batch, updates and retractions of them and of the rows ahead included,
    ties, NULLs, with and without the row number, batches down to one row, and a checkpoint."""
    rng = random.Random(13000 + seed)
    order = [(2, rng.random() < 0.7)]
    limit = rng.choice([1, 2, 3, 5])
    newest = rng.random() < 0.3
    with_rank = rng.random() < 0.5
    log = changelog(seed, rng.choice([30, 60]), (None, 1, 1, 1, 2, 3, 5), arriving=rng.choice([60, 120]))

    make = factory(order, limit, newest, with_rank, rng.choice([1, 8]))
    expected = run(make(RankReference), log, 1)
    for size in (1, 5000):
        assert run(make(RankOperator), log, size) == expected, f"batch size {size}"
    sizes = [rng.randint(40, 300) for _ in range(6)]
    assert run_sizes(make(RankOperator), log, sizes) == expected, f"batch sizes {sizes}"
    assert run(make(RankOperator), log, 150, restore_at=2) == expected


def count_updates(seed: int, keys: int, events: int) -> list[tuple]:
    """(op, row) of a GROUP BY count per (p, k) as it emits them: -U of the old count then +U of the new one, one
    hot partition taking most events (long update chains of its keys within a batch), new partitions arriving next
    to old ones, a few deletes and NULL partitions."""
    rng = random.Random(seed)
    counts: dict[tuple, int] = {}
    out = []
    for step in range(events):
        p = 0 if rng.random() < 0.6 else rng.choice([None, rng.randint(1, 3 + step // 20)])
        k = min(int(rng.expovariate(0.3)), keys)  # a few hot keys
        c = counts.get((p, k))
        row = (p, k, (c or 0) + 1, "x" if k % 3 else None)
        if c is None:
            out.append((INSERT, row))
        elif rng.random() < 0.05:
            out.append((DELETE, (p, k, c, row[3])))
            del counts[(p, k)]
            continue
        else:
            out += [(UPDATE_BEFORE, (p, k, c, row[3])), (UPDATE_AFTER, row)]
        counts[(p, k)] = c = row[2]
    return out


@pytest.mark.parametrize("seed", range(10))
def test_hot_partition_count_update_chains(seed):
    """One partition receiving long chains of -U/+U count updates of its keys within a batch (an update whose new
    entry lands where the old one was replaces it in one step), counts ordered either way, ties, NULLs, new and
    old partitions in one batch, with and without the row number, batches down to one row, and a checkpoint."""
    rng = random.Random(17000 + seed)
    order = [(2, rng.random() < 0.7)]
    limit = rng.choice([1, 2, 3, 5])
    newest = rng.random() < 0.3
    with_rank = rng.random() < 0.5
    log = count_updates(seed, rng.choice([4, 12, 40]), rng.choice([150, 400]))

    make = factory(order, limit, newest, with_rank, rng.choice([1, 2, 8]))
    expected = run(make(RankReference), log, 1)
    for size in (1, 5000):
        assert run(make(RankOperator), log, size) == expected, f"batch size {size}"
    sizes = [2, 3] + [rng.randint(1, 200) for _ in range(6)]
    assert run_sizes(make(RankOperator), log, sizes) == expected, f"batch sizes {sizes}"
    assert run(make(RankOperator), log, 97, restore_at=len(log) // 194) == expected


def hot_rises_and_falls(seed: int, events: int) -> list[tuple]:
    """(op, row) of an upsert table whose values go up and down: one hot partition of hundreds of keys (most of
    them behind its top list), deletes of the leaders, NULL values, retractions of rows never emitted."""
    rng = random.Random(seed)
    table: dict[tuple, tuple] = {}
    out = []
    for _ in range(events):
        p = 0 if rng.random() < 0.9 else rng.choice([None, 1, 2])
        k = rng.randint(0, 300)
        old = table.get((p, k))
        if old is not None and rng.random() < 0.05:
            out.append((DELETE, old))
            del table[(p, k)]
            continue
        if rng.random() < 0.02:
            out.append((UPDATE_BEFORE, (p, k, rng.randint(0, 9), None)))
            continue
        if rng.random() < 0.5 or old is None or old[2] is None:
            v = None if rng.random() < 0.05 else rng.randint(-5, 40)
        else:
            v = old[2] + rng.choice([-3, -1, 1, 1, 2, 5])
        row = (p, k, v, rng.choice(["a", None]))
        out += [(INSERT, row)] if old is None else [(UPDATE_BEFORE, old), (UPDATE_AFTER, row)]
        table[(p, k)] = row
    return out


class RepackedRankOperator(RankOperator):
    """The operator with its compiled lists made again from their entries after every batch (as a compaction
    does)."""

    def on_batch(self, batch, input=0):
        out = super().on_batch(batch, input)
        assert self.lists is not None
        self.lists.fill(*self.lists.entries(), len(self.part_index))
        return out


@pytest.mark.parametrize("seed", range(8))
def test_compiled_lists_of_a_hot_partition_with_retractions(seed, kernels):
    """The steps, in Python and compiled, on one partition of hundreds of keys whose values rise and fall: adds behind the top
    list, retractions of rest entries, top lists refilled from their rests when a leader is deleted or falls,
    within batches of thousands of rows and of one, a checkpoint, and lists repacked between batches."""
    rng = random.Random(21000 + seed)
    order = [(2, rng.random() < 0.6)]
    limit = rng.choice([1, 3, 10])
    newest = rng.random() < 0.3
    with_rank = rng.random() < 0.6
    log = hot_rises_and_falls(seed, 2500)

    make = factory(order, limit, newest, with_rank, rng.choice([1, 4, 8]))
    expected = run(make(RankReference), log, 1)
    assert len(expected) > 20
    assert run(make(RankOperator), log, 5000) == expected
    sizes = [1, 700] + [rng.randint(1, 400) for _ in range(4)]
    assert run_sizes(make(RankOperator), log, sizes) == expected, f"batch sizes {sizes}"
    assert run_sizes(make(RepackedRankOperator), log, sizes) == expected, f"batch sizes {sizes}"
    assert run(make(RankOperator), log, 300, restore_at=4) == expected


@pytest.mark.parametrize("seed", range(12))
def test_no_order_ranks_by_arrival_like_the_reference(seed):
    """LIMIT without ORDER BY over an updating input: every row ties, so rows keep their arrival order; a
    retraction moves the rows after it up, an update's new row goes last."""
    rng = random.Random(7000 + seed)
    partition = rng.choice([[], [0]])
    limit, with_rank = rng.randint(1, 4), rng.random() < 0.5
    log = changelog(seed)

    def make(cls):
        return lambda: cls(partition, [], limit, NAMES, TYPES, append_only=False, with_rank=with_rank)
    expected = run(make(RankReference), log, 1)
    for size in (1, 3, 50, 1000):
        assert run(make(RankOperator), log, size) == expected, f"batch size {size}"
    assert run(make(RankOperator), log, 5, restore_at=len(log) // 10) == expected
