"""A regular join's kept rows: each side's rows in sorted runs (Arrow segments with their rows' key ids sorted
and a live mask), merged as they grow as in an LSM tree, and the declared state kind that keeps a side
(`JoinSideRows`): it snapshots itself in the per-row join's layout (c0..cN, $assoc, $written, in arrival
order) with each row's key group, so a side splits by key-group range and restores at another parallelism,
and it applies the state TTL to its rows."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa

from sqlstream.runtime.key_groups import DEFAULT_MAX_PARALLELISM, key_groups
from sqlstream.runtime.keys import ascending_pairs, equal_pairs
from sqlstream.runtime.rows import take_rows
from sqlstream.runtime.sort import sorted_order, stable_argsort

KeyIds = Callable[[list, int], tuple[np.ndarray, np.ndarray]]  # columns, rows -> (key id per row, key usable)


class Run:
    """Some rows of one side: their columns, arrival numbers, key ids (sorted, with row positions) and liveness.
    The key ids are sorted when first probed; a run not probed yet is `pending` (its side may still combine it
    with the runs appended after it before sorting them once)."""

    def __init__(self, table: pa.Table, ids: np.ndarray, gids: np.ndarray, order: np.ndarray | None = None,
                 written: np.ndarray | None = None, assoc: np.ndarray | None = None, pending: bool = False):
        self.table, self.ids, self.gids = table, ids, gids
        self.written = np.zeros(len(ids), dtype=np.int64) if written is None else written  # ms, for state TTL
        self.assoc = np.zeros(len(ids), dtype=np.int64) if assoc is None else assoc  # matches (outer joins)
        self._order, self._sorted = order, None
        self.pending = pending
        self.live = np.ones(len(ids), dtype=bool)
        self.dead = 0
        self.scans = 0  # passes over the unsorted key ids that probes made instead of sorting them

    @property
    def order(self) -> np.ndarray:
        """Row positions by key id (stable)."""
        if self._order is None:
            self._order, self._sorted = sorted_order(self.gids)
        return self._order

    @property
    def is_sorted(self) -> bool:
        """Whether the key ids have been sorted (a run scanned by its probes so far has not)."""
        return self._order is not None

    @property
    def sorted(self) -> np.ndarray:
        """The key ids in `order`."""
        if self._sorted is None:
            self._sorted = self.gids[self.order]
        return self._sorted

    def __len__(self) -> int:
        return len(self.ids) - self.dead

    def probe(self, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probe row, row position in this run) for every live row with an equal key id."""
        if self._scans_instead(len(gids)):
            return self._scanned(gids)
        return self._live_pairs(*equal_pairs(self.sorted, gids))

    def probe_ascending(self, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`probe` for key ids in ascending order: (needle, row position in this run)."""
        if self._scans_instead(len(needles)):
            return self._scanned(needles)
        return self._live_pairs(*ascending_pairs(self.sorted, needles))

    def _scans_instead(self, probes: int) -> bool:
        """Whether a probe of `probes` key ids compares them with the unsorted key ids, one pass each, rather
        than sorting the run: while all the passes made so far stay under log2 of its rows (a sort costs more),
        so a run probed again and again is sorted once the passes have cost about as much. A large run probed
        by a few rows (nexmark q7's window maximum against every bid held: a sort of 18M key ids, ~2 s, for one
        probe row) is not sorted at all."""
        if self._order is not None or self.scans + probes > len(self.gids).bit_length():
            return False
        self.scans += probes
        return True

    def _scanned(self, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`probe` by one comparison pass per probe row: pairs by probe row, positions ascending (the stable
        order a sorted run gives)."""
        pairs = [(np.full(len(pos), i, dtype=np.int64), pos)
                 for i, pos in ((i, np.flatnonzero(self.gids == g)) for i, g in enumerate(gids.tolist())) if len(pos)]
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        probe, pos = (np.concatenate(c) for c in zip(*pairs))
        if self.dead:
            alive = self.live[pos]
            probe, pos = probe[alive], pos[alive]
        return probe, pos

    def _live_pairs(self, probe: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (probe, position in `order`) as (probe, row position), the dead rows' left out."""
        pos = self.order[at]
        if self.dead:
            alive = self.live[pos]
            probe, pos = probe[alive], pos[alive]
        return probe, pos

    def alive(self) -> "Run":
        if not self.dead:
            return self
        keep = np.flatnonzero(self.live)
        order = None
        if self._order is not None:
            new_pos = np.cumsum(self.live) - 1
            order = new_pos[self._order[self.live[self._order]]]  # still sorted by key
        return Run(take_rows(self.table, keep), self.ids[keep], self.gids[keep], order, self.written[keep],
                   self.assoc[keep], self.pending)

    def expire(self, cutoff: int) -> None:
        """table.exec.state.ttl: rows written before `cutoff` are gone (never matched again, nothing emitted)."""
        old = self.live & (self.written < cutoff)
        if old.any():
            self.live &= ~old
            self.dead += int(old.sum())


def probe_runs(runs: list[Run], gids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probe row, run, row position in the run) for every live row of `runs` with a key id of `gids`, per probe
    row in arrival order (the per-row join's order). The probe keys are sorted once for all the runs."""
    pairs = []
    needles_order = needles = None
    for r, run in enumerate(runs):
        if needles is None:
            needles_order, needles = sorted_order(gids)
        at_needle, pos = run.probe_ascending(needles)
        if len(pos):
            pairs.append((needles_order[at_needle], np.full(len(pos), r, dtype=np.int64), pos))
    if not pairs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    probe, run_of, pos = (np.concatenate(c) for c in zip(*pairs)) if len(pairs) > 1 else pairs[0]
    # runs are in arrival order and a probe row's rows within a run come by position (arrival): a stable sort
    # by probe row leaves each row's matches in arrival order
    order = stable_argsort(probe)
    return probe[order], run_of[order], pos[order]


def gather(runs: list[Run], run_of: np.ndarray, pos: np.ndarray) -> pa.Table:
    """The rows at (run, position), in the order given: one take from the runs' chunks."""
    first = int(run_of[0]) if len(run_of) else 0
    if not len(run_of) or (run_of == first).all():
        return take_rows(runs[first].table, pos)
    starts = np.cumsum([0] + [r.table.num_rows for r in runs])
    return take_rows(pa.concat_tables([r.table for r in runs]), starts[run_of] + pos)


MAX_CHUNKS = 128  # a run's rows stay in the chunks they came in until there are this many


def _concatenated(tables: list[pa.Table]) -> pa.Table:
    """Tables as one, their chunks kept (merging runs copies no rows; a probe takes from the chunks) until a run
    would hold more than MAX_CHUNKS of them."""
    table = pa.concat_tables(tables)
    if table.num_columns and table.column(0).num_chunks > MAX_CHUNKS:
        table = table.combine_chunks()
    return table


def merged(a: Run, b: Run) -> Run:
    """Two consecutive runs as one. When neither has sorted its key ids yet (nothing probed them often enough to
    need them sorted: nexmark q7's bids, probed only by each window's maximum, are scanned, never sorted), the
    merged run leaves them unsorted too, as `combined` does: the merge would sort both from scratch, a sort that
    nothing asked for (0.13 s of a worker's 2 s in q7 at parallelism 2, where a worker's last batch of bids is
    merged with the runs combined before it)."""
    if not a.is_sorted and not b.is_sorted:
        return combined([a, b])
    a, b = a.alive(), b.alive()
    table = _concatenated([a.table, b.table])
    # two sorted runs: a stable sort of their concatenation merges them (and keeps a's rows first on ties)
    both = np.concatenate([a.order, b.order + len(a.ids)])
    order = both[np.argsort(np.concatenate([a.sorted, b.sorted]), kind="stable")]
    return Run(table, np.concatenate([a.ids, b.ids]), np.concatenate([a.gids, b.gids]), order,
               np.concatenate([a.written, b.written]), np.concatenate([a.assoc, b.assoc]))


def combined(runs: list[Run]) -> Run:
    """Consecutive runs as one; its key ids are sorted when it is first probed (`merged` keeps a run never
    sorted unsorted)."""
    runs = [r.alive() for r in runs]
    table = _concatenated([r.table for r in runs])
    return Run(table, *(np.concatenate([getattr(r, a) for r in runs]) for a in ("ids", "gids")), None,
               *(np.concatenate([getattr(r, a) for r in runs]) for a in ("written", "assoc")))


class SortedRuns:
    """One side's rows as sorted runs, in arrival order by `ids`; `settle` merges runs as they grow.

    Runs appended since the side was last probed stay pending: a side nothing probes (the other side has no
    rows yet, as a join with a window's result before the window fires) neither sorts nor merges them batch
    after batch. Reading `runs` (to probe, retract, expire or snapshot) combines the pending runs but the last
    into one sorted run, and the last (the batch an operator just appended) is a run of its own until the next
    settle, as when runs were settled on every append."""

    MAX_PENDING = 64  # a side never probed still combines its pending runs this often
    MAX_MERGED_ROWS = 1 << 20  # runs stop growing by merges here: a merge copies its runs' arrays once more

    def __init__(self, names: list[str], types: list[pa.DataType]):
        self.names, self.types = names, types
        self._runs: list[Run] = []
        self.next_id = 0

    @property
    def runs(self) -> list[Run]:
        if self._runs and self._runs[-1].pending:
            self._organize()
        return self._runs

    @runs.setter
    def runs(self, runs: list[Run]) -> None:
        self._runs = list(runs)

    def append(self, table: pa.Table, gids: np.ndarray, now: int = 0) -> Run:
        run = Run(table, self.next_id + np.arange(table.num_rows), gids,
                  written=np.full(table.num_rows, now, dtype=np.int64), pending=True)
        self.next_id += table.num_rows
        self._runs.append(run)
        return run

    def settle(self) -> None:
        """Drops empty runs, compacts runs that hold more dead rows than live ones, and merges a run into the one
        before it once it is at least half its size (pending runs wait to be probed)."""
        self._runs = [r.alive() if r.dead > len(r) else r for r in self._runs if len(r)]
        self._merge()
        if sum(r.pending for r in self._runs) > self.MAX_PENDING:
            self._organize()
            self._merge()

    def _merge(self) -> None:
        """Merges the sorted runs (those before the pending ones) from the last: a side probed after every
        append has one pending run at a time, and its sorted runs would otherwise only pile up. A side of many
        rows keeps runs of about MAX_MERGED_ROWS each (a probe searches a few more runs; no merge holds two
        copies of all its rows)."""
        runs = self._runs
        end = len(runs)
        while end and runs[end - 1].pending:
            end -= 1
        while end > 1 and len(runs[end - 2]) <= 2 * len(runs[end - 1]) \
                and len(runs[end - 2]) + len(runs[end - 1]) <= self.MAX_MERGED_ROWS:
            runs[end - 2] = merged(runs[end - 2], runs.pop(end - 1))
            end -= 1

    def _organize(self) -> None:
        """The pending runs but the last combined into one sorted run and merged; the last sorted alone."""
        first = next(i for i, r in enumerate(self._runs) if r.pending)
        *older, last = self._runs[first:]
        self._runs = self._runs[:first]
        if older:
            self._runs.append(combined(older))
            self._merge()
        last.pending = False
        self._runs.append(last)

    def size_bytes(self) -> int:
        return sum(r.table.nbytes + r.gids.nbytes * 4 for r in self._runs)

    def size_rows(self) -> int:
        return sum(len(r) for r in self._runs)



class JoinSideRows:
    """A join side's rows as declared state: the rows with a usable key in sorted runs (`keyed`) and, for the
    NULL-aware anti join of NOT IN, the rows with a NULL key apart (`nulls`). The operator gives the key
    columns' positions and how to turn key columns into key ids (its key index is shared by both sides)."""

    splits_by_key_group = True

    def __init__(self, names: list[str], types: list[pa.DataType], key_positions: list[int], key_ids: KeyIds,
                 keep_null_keys: bool = False, clock: Callable[[], int] | None = None,
                 on_restore: Callable[[], None] | None = None, max_parallelism: int = DEFAULT_MAX_PARALLELISM):
        self.names, self.types, self.key_positions = names, types, key_positions
        self.key_ids, self.keep_null_keys, self.clock, self.on_restore = key_ids, keep_null_keys, clock, on_restore
        self.max_parallelism = max_parallelism
        self.keyed, self.nulls = SortedRuns(names, types), SortedRuns(names, types)

    def expire(self, cutoff: int) -> None:
        """table.exec.state.ttl: rows written before `cutoff` are gone (never matched again, nothing emitted)."""
        for run in self.keyed.runs:
            run.expire(cutoff)
        self.keyed.settle()

    def snapshot(self, groups: range | None = None) -> pa.Table:
        """The live rows (of the key groups `groups`, or all): c0..cN, $assoc, $written, $key_group."""
        table = pa.concat_tables([_rows_table(side) for side in (self.keyed, self.nulls)])
        keys = [table.column(f"c{i}").combine_chunks() for i in self.key_positions]
        group = key_groups(keys, table.num_rows, self.max_parallelism)
        table = table.append_column("$key_group", pa.array(group, pa.int64()))
        if groups is not None:
            table = table.filter(pa.array((group >= groups.start) & (group < groups.stop)))
        return table

    def restore(self, table: pa.Table, groups: range | None = None) -> None:
        """Replace the rows with a snapshot's (one subtask's, or several concatenated, keeping the rows of the key
        groups `groups`); a snapshot without write times restores its rows as written now."""
        for side in (self.keyed, self.nulls):  # emptied in place: the operator holds them
            side.runs, side.next_id = [], 0
        n = len(self.types)
        missing = [c for c in [f"c{i}" for i in range(n)] + ["$assoc"] if c not in table.column_names]
        if missing:
            raise ValueError(f"the snapshot of a join side lacks column(s) {', '.join(missing)} (it was written by "
                             f"another version of the operator)")
        table = table.replace_schema_metadata(None).combine_chunks()
        if groups is not None:
            group = np.asarray(table.column("$key_group"), dtype=np.int64) if "$key_group" in table.column_names \
                else key_groups([table.column(f"c{i}") for i in self.key_positions], table.num_rows,
                                self.max_parallelism)
            table = table.filter(pa.array((group >= groups.start) & (group < groups.stop)))
        data = pa.table({name: table.column(f"c{i}") for i, name in enumerate(self.names[:n])}).combine_chunks()
        if data.num_rows:
            gids, valid = self.key_ids(data.columns, data.num_rows)
            written = np.asarray(table.column("$written"), dtype=np.int64) if "$written" in table.column_names \
                else np.full(data.num_rows, self.clock() if self.clock else 0, dtype=np.int64)
            assoc = np.asarray(table.column("$assoc"), dtype=np.int64)
            for side, rows in ((self.keyed, valid), (self.nulls, ~valid)):
                if rows.any() and (side is self.keyed or self.keep_null_keys):
                    at = np.flatnonzero(rows)
                    run = side.append(data.take(pa.array(at)), gids[at] if side is self.keyed
                                      else np.zeros(len(at), np.int64))
                    run.written, run.assoc = written[at], assoc[at]
        if self.on_restore is not None:
            self.on_restore()

    def size_bytes(self) -> int:
        return self.keyed.size_bytes() + self.nulls.size_bytes()

    def size_rows(self) -> int:
        return self.keyed.size_rows() + self.nulls.size_rows()


def _rows_table(side: SortedRuns) -> pa.Table:
    """A side's live rows in arrival order, in the per-row join's layout."""
    runs = [r.alive() for r in side.runs]
    if runs:
        t = pa.concat_tables([r.table for r in runs])
        t = t.take(pa.array(np.argsort(np.concatenate([r.ids for r in runs]), kind="stable")))
    else:
        t = pa.table({n: pa.array([], ty) for n, ty in zip(side.names, side.types)})
    cols = {f"c{i}": t.column(i) for i in range(t.num_columns)}
    written = np.concatenate([r.written for r in runs]) if runs else np.zeros(0, dtype=np.int64)
    assoc = np.concatenate([r.assoc for r in runs]) if runs else np.zeros(0, dtype=np.int64)
    if runs:
        by_arrival = np.argsort(np.concatenate([r.ids for r in runs]), kind="stable")
        written, assoc = written[by_arrival], assoc[by_arrival]
    cols["$assoc"] = pa.array(assoc, pa.int64())
    cols["$written"] = pa.array(written, pa.int64())
    return pa.table(cols)
