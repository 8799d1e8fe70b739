"""Top-N over an updating input whose rows have a unique key and whose sort key only moves up (Flink's
UpdatableTopNFunction, chosen by `planner/rank_strategy.py`).

The input's -U rows are ignored; every other row is the new version of the row of its unique key. A partition
keeps only its top rows, sorted by sort key and, within one, by the order they took that key; a row of the
top N that is updated moves (up) in place, and a row pushed out of the top N is forgotten, so it comes back as
a new row if it climbs again. With the row number read downstream, each rank position whose row changes gets
-U/+U (+I for a new position); without it, an updated row gets -U old/+U new, a new row +I, and the row it
pushes out of the top N -D.

Ordered by one numeric column, rows that cannot change a partition are dropped over the batch first: not kept
(by the hash of their unique key) and not beating the partition's last kept row when it is full. As kept rows
only move up and a full partition stays full, that last row only gets better within the batch, so the test
against its value at the start of the batch is safe.

State: the kept rows with the arrival number of their sort key, a keyed snapshot split by key group."""
from __future__ import annotations

import bisect
import operator

import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns, make_batch
from sqlstream.runtime.int_keys import key_index
from sqlstream.runtime.key_groups import hash_keys
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.rank import order_key
from sqlstream.runtime.rows import batch_rows, columns


class _Partition:
    """A partition's top rows: the distinct sort keys in order, each with its rows' unique keys in the order
    they took that sort key, and the rows by unique key (row, arrival number)."""

    __slots__ = ("okeys", "raws", "groups", "rows", "count")

    def __init__(self):
        self.okeys: list[tuple] = []  # comparable sort keys, ascending
        self.raws: list[tuple] = []  # the same sort keys as values
        self.groups: dict[tuple, list[tuple]] = {}
        self.rows: dict[tuple, list] = {}
        self.count = 0

    def put(self, raw: tuple, okey: tuple, rk: tuple) -> None:
        group = self.groups.get(raw)
        if group is None:
            i = bisect.bisect_left(self.okeys, okey)
            self.okeys.insert(i, okey)
            self.raws.insert(i, raw)
            group = self.groups[raw] = []
        group.append(rk)
        self.count += 1

    def remove(self, raw: tuple, rk: tuple) -> None:
        group = self.groups[raw]
        group.remove(rk)
        self.count -= 1
        if not group:
            self._drop(raw)

    def _drop(self, raw: tuple) -> None:
        i = self.raws.index(raw)
        del self.okeys[i], self.raws[i], self.groups[raw]

    def move(self, old_raw: tuple, raw: tuple, okey: tuple, rk: tuple) -> None:
        """A row takes a new sort key (at the end of its rows); alone under its old key and landing in the same
        place among the keys, it keeps its slot."""
        group = self.groups[old_raw]
        if len(group) == 1 and raw not in self.groups:
            i = self.raws.index(old_raw)
            okeys = self.okeys
            if (i == 0 or okeys[i - 1] < okey) and (i + 1 == len(okeys) or okey < okeys[i + 1]):
                okeys[i], self.raws[i] = okey, raw
                del self.groups[old_raw]
                self.groups[raw] = group
                return
        self.remove(old_raw, rk)
        self.put(raw, okey, rk)

    def remove_last(self) -> tuple:
        raw = self.raws[-1]
        rk = self.groups[raw].pop()
        self.count -= 1
        if not self.groups[raw]:
            self._drop(raw)
        return rk

    def remove_all(self, raw: tuple) -> list[list]:
        """Drops the rows of a sort key; their (row, arrival number, unique key hash)."""
        gone = [self.rows.pop(rk) for rk in self.groups[raw]]
        self.count -= len(gone)
        self._drop(raw)
        return gone

    def admits(self, okey: tuple, limit: int) -> bool:
        """Whether a new row with this sort key enters the kept rows (it beats the last, or there is room)."""
        return not self.okeys or okey < self.okeys[-1] or self.count < limit

    def rank_of(self, raw: tuple, rk: tuple) -> int:
        rank = 0
        for r in self.raws:
            group = self.groups[r]
            if r == raw:
                return rank + group.index(rk) + 1
            rank += len(group)
        raise RuntimeError("a kept row is missing from its partition's sort keys")


def _getter(cols: list[int]):
    """A function giving a row's values of `cols` as a tuple."""
    if len(cols) == 1:
        i = cols[0]
        return lambda row: (row[i],)
    return operator.itemgetter(*cols) if cols else (lambda row: ())


class UpdatableRankOperator(Operator):
    name = "Rank"

    def __init__(self, partition: list[int], order: list[tuple[int, bool]], limit: int, row_key: list[int],
                 names: list[str], types: list[pa.DataType], with_rank: bool = True):
        self.partition, self.order, self.limit, self.row_key = partition, order, limit, row_key
        self.names, self.types, self.with_rank = names, types, with_rank  # input types; output adds the rank
        self.order_cols = [i for i, _ in order]
        self._raw, self._part_key, self._row_key = (_getter(c) for c in (self.order_cols, partition, row_key))
        self.parts: dict[tuple, _Partition] = {}
        self.seq = 0
        col, desc = order[0]
        self.screens = len(order) == 1 and (pa.types.is_integer(types[col]) or pa.types.is_floating(types[col]))
        self.sign = 1.0 if desc else -1.0  # a larger signed value ranks higher
        self._reset_screen()

    def _reset_screen(self) -> None:
        self.index = key_index([self.types[i] for i in self.partition])
        self.floor = np.zeros(0)  # partition id -> signed value a new row must beat (-inf: it enters anyway)
        self.kept_hashes: dict[int, int] = {}  # hash of a kept row's unique key -> kept rows with that hash

    def _screen(self, cols: list[pa.Array], n: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows (of `rows`) that may change their partition, and their partition ids."""
        gids, _ = self.index.lookup([cols[i] for i in self.partition], n)
        if len(self.floor) < len(self.index):
            self.floor = np.concatenate([self.floor, np.full(len(self.index) - len(self.floor), -np.inf)])
        col = cols[self.order[0][0]]
        v = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64) * self.sign
        # NaN (NULL) is let through, and so are integers beyond float64's exact range
        beats = ~(v <= self.floor[gids]) | (np.abs(v) >= 2.0 ** 53)
        hashes = hash_keys([cols[i] for i in self.row_key], n)
        entering = set(hashes[beats].tolist())
        kept = self.kept_hashes
        may = beats.copy()
        for j in np.flatnonzero(~beats[rows]).tolist():
            h = int(hashes[rows[j]])
            if h in kept or h in entering:
                may[rows[j]] = True
        rows = rows[may[rows]]
        return rows, gids[rows], hashes[rows]

    def _refloor(self, g: int, part: _Partition) -> None:
        if part.count < self.limit or not part.raws or part.raws[-1][0] is None:
            self.floor[g] = -np.inf
        else:
            self.floor[g] = part.raws[-1][0] * self.sign

    def open(self, ctx: OperatorContext) -> None:
        ctx.keyed_snapshot("updatable_rank", self, [f"c{i}" for i in self.partition])

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        n = batch.num_rows
        if n == 0:
            return []
        ops = np.asarray(batch.column(0).to_numpy(zero_copy_only=False))
        cols = data_columns(batch)
        rows = np.flatnonzero(ops != UPDATE_BEFORE)
        gids, hashes = None, np.zeros(len(rows), np.uint64)
        if self.screens:
            rows, gids, hashes = self._screen(cols, n, rows)
        if len(rows) < n:
            cols = [c.take(pa.array(rows)) for c in cols]
        out: list[tuple] = []  # (row kind, row, rank)
        parts, part_key, limit, with_rank = self.parts, self._part_key, self.limit, self.with_rank
        touched: list = []
        for row, h in zip(batch_rows(cols, len(rows)), hashes.tolist()):
            part = parts.get(pk := part_key(row))
            if part is None:
                part = parts[pk] = _Partition()
            if with_rank:
                start = len(out)
                self._with_number(part, row, h, out)
                # a row kept below the N-th position (ties the last cut left) changes no output position
                out[start:] = [e for e in out[start:] if e[2] <= limit]
            else:
                self._without_number(part, row, h, out)
            touched.append(part)
            if not part.rows:
                del parts[pk]
        if gids is not None:  # the floors of the partitions the batch changed, for the next batch's screen
            for g, part in dict(zip(gids.tolist(), touched)).items():
                self._refloor(g, part)
        if not out:
            return []
        rows = [r for _, r, _ in out]
        arrays = columns(rows, self.types) + [pa.array([k for _, _, k in out], pa.int64())]
        return [make_batch(np.array([o for o, _, _ in out], np.int8), arrays, self.names)]

    def _keys(self, row: tuple) -> tuple[tuple, tuple, tuple]:
        """The row's sort key as values and as a comparable key, and its unique key."""
        raw = self._raw(row)
        return raw, self._okey(row, raw), self._row_key(row)

    def _okey(self, row: tuple, raw: tuple) -> tuple:
        if self.screens:  # one numeric column: NULLs first for ASC, last for DESC, as in Flink
            v = raw[0]
            return ((2 if self.sign > 0 else 0), 0) if v is None else (1, -v if self.sign > 0 else v)
        return order_key(self.order, row)

    def _take(self, part: _Partition, raw: tuple, okey: tuple, rk: tuple, row: tuple, h: int) -> None:
        part.put(raw, okey, rk)
        if rk not in part.rows:
            self.kept_hashes[h] = self.kept_hashes.get(h, 0) + 1
        part.rows[rk] = [row, self.seq, h]
        self.seq += 1

    def _forget(self, kept: list) -> list:
        h = kept[2]
        if self.kept_hashes[h] == 1:
            del self.kept_hashes[h]
        else:
            self.kept_hashes[h] -= 1
        return kept

    def _without_number(self, part: _Partition, row: tuple, h: int, out: list) -> None:
        raw, rk = self._raw(row), self._row_key(row)
        kept = part.rows.get(rk)
        if kept is not None:
            old = kept[0]
            old_raw = self._raw(old)
            if old_raw != raw:
                part.move(old_raw, raw, self._okey(row, raw), rk)
                kept[0], kept[1] = row, self.seq
                self.seq += 1
            else:
                kept[0] = row
            out.append((UPDATE_BEFORE, old, 0))
            out.append((UPDATE_AFTER, row, 0))
            return
        okey = self._okey(row, raw)
        if part.admits(okey, self.limit):
            self._take(part, raw, okey, rk, row, h)
            if part.count > self.limit:
                out.append((DELETE, self._forget(part.rows.pop(part.remove_last()))[0], 0))
            out.append((INSERT, row, 0))

    def _with_number(self, part: _Partition, row: tuple, h: int, out: list) -> None:
        raw, okey, rk = self._keys(row)
        kept = part.rows.get(rk)
        if kept is not None:
            old = kept[0]
            old_raw = self._raw(old)
            old_okey = self._keys(old)[1]
            if old_raw == raw:
                rank = part.rank_of(raw, rk)
                kept[0] = row
                out += [(UPDATE_BEFORE, old, rank), (UPDATE_AFTER, row, rank)]
                return
            old_rank = part.rank_of(old_raw, rk)
            part.remove(old_raw, rk)
            self._take(part, raw, okey, rk, row, h)
            if okey < old_okey:
                self._emit_ranks(part, raw, row, out, old_okey, old, old_rank)
            else:
                # the sort key moved down, against its monotonicity (Flink warns and goes on)
                self._emit_moved_down(part, row, part.rank_of(raw, rk), old, old_rank, out)
        elif part.admits(okey, self.limit):
            self._take(part, raw, okey, rk, row, h)
            self._emit_ranks(part, raw, row, out)

    def _emit_ranks(self, part: _Partition, raw: tuple, row: tuple, out: list, old_okey: tuple | None = None,
                    old: tuple | None = None, old_rank: int = -1) -> None:
        """The positions from the row's new one down shift by one (down to its old position for an update);
        then rows below the N-th are dropped."""
        limit = self.limit
        rank, current, found, retracted = 0, None, False, old is None
        entries = list(zip(part.raws, part.okeys))
        at = 0
        while at < len(entries) and rank <= limit:
            cur_raw, cur_okey = entries[at]
            at += 1
            keys = part.groups[cur_raw]
            if not found and cur_raw == raw:
                rank += len(keys)
                current, found = row, True
            elif found:
                if old is not None and cur_okey > old_okey:
                    break
                bound = limit + 1 if old is None else old_rank
                for k in keys:
                    if rank >= bound:
                        break
                    prev = part.rows[k][0]
                    out.append((UPDATE_BEFORE, prev, rank))
                    if current is row and not retracted:
                        out.append((UPDATE_BEFORE, old, old_rank))
                        retracted = True
                    out.append((UPDATE_AFTER, current, rank))
                    current = prev
                    rank += 1
            else:
                rank += len(keys)
        if rank <= limit:
            if old is None:
                out.append((INSERT, current, rank))
            else:
                if not retracted:
                    out.append((UPDATE_BEFORE, old, old_rank))
                out.append((UPDATE_AFTER, current, rank))
            return
        for cur_raw, _ in entries[at:]:
            for kept in part.remove_all(cur_raw):
                self._forget(kept)

    def _emit_moved_down(self, part: _Partition, row: tuple, new_rank: int, old: tuple, old_rank: int,
                         out: list) -> None:
        out.append((UPDATE_BEFORE, old, old_rank))
        rank = 0
        for r in list(part.raws):
            for k in part.groups[r]:
                rank += 1
                if rank == new_rank:
                    out.append((UPDATE_AFTER, row, new_rank))
                    return
                if old_rank <= rank:
                    current = part.rows[k][0]
                    out += [(UPDATE_BEFORE, current, rank + 1), (UPDATE_AFTER, current, rank)]
        out.append((UPDATE_AFTER, row, new_rank))

    # ---- state ------------------------------------------------------------------------------
    def snapshot_table(self) -> pa.Table:
        kept = [(v[0], v[1]) for part in self.parts.values() for v in part.rows.values()]
        data = {f"c{i}": a for i, a in enumerate(columns([r for r, _ in kept], self.types))}
        data["$seq"] = pa.array([s for _, s in kept], pa.int64())
        return pa.table(data)

    def restore_tables(self, tables: list[pa.Table]) -> None:
        """The kept rows of one or several subtasks' snapshots; a partition's rows come from one of them."""
        self.parts, self.seq = {}, 0
        self._reset_screen()
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        n = table.num_rows
        if not n:
            return
        cols = [table.column(f"c{i}").combine_chunks() for i in range(len(self.types))]
        rows = batch_rows(cols, n)
        hashes = hash_keys([cols[i] for i in self.row_key], n).tolist()
        seqs = table.column("$seq").to_pylist()
        self.seq = max(seqs) + 1
        for j in sorted(range(n), key=lambda j: seqs[j]):
            row = rows[j]
            part = self.parts.setdefault(self._part_key(row), _Partition())
            raw, okey, rk = self._keys(row)
            part.put(raw, okey, rk)
            part.rows[rk] = [row, seqs[j], hashes[j]]
            self.kept_hashes[hashes[j]] = self.kept_hashes.get(hashes[j], 0) + 1
        if self.screens:
            gids, _ = self.index.lookup([cols[i] for i in self.partition], n)
            self.floor = np.full(len(self.index), -np.inf)
            for g, row in zip(gids.tolist(), rows):
                self._refloor(g, self.parts[self._part_key(row)])

    def state_size_bytes(self) -> int:
        return sum(64 * len(p.rows) for p in self.parts.values())

    def metrics(self) -> dict:
        return {"state_bytes": self.state_size_bytes()}
