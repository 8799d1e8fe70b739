"""Top-N over an insert-only input, with rows kept as Arrow: each partition holds its best N entries as
(sort key, arrival, row number in the row store), partitions are key ids and a single numeric sort key is a
number, so the per-row step touches only small Python values. Output rows are gathered from the store with one
`take`; a position whose row changes to an identical one emits nothing, as in the row-tuple operator.

Same changelog as RankOperator: -U/+U for a position that changes hands, +I for a new one; or, when the row
number is not read downstream, -D for the row pushed out of the top N, then +I for the one that entered. Same
state as RankOperator too (its declared row store)."""
from __future__ import annotations

import bisect

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, data_columns
from sqlstream.runtime.key_groups import hash_keys
from sqlstream.runtime.operators.rank import RankOperator


class AppendRankOperator(RankOperator):
    """RankOperator for insert-only input."""

    def __init__(self, partition, order, limit, names, types, with_rank: bool = True):
        super().__init__(partition, order, limit, names, types, append_only=True, with_rank=with_rank)

    def _note_floors(self, gids) -> None:
        """A full partition's N-th sort key is the value a new row must beat."""
        if self.floor_col is None:
            return
        desc, limit = self.order[0][1], self.limit
        for g in gids:
            part = self.parts.get(g)
            if part is not None and len(part) >= limit:
                k = part[limit - 1][0]
                if k == k and k not in (np.inf, -np.inf):
                    self.floor[g], self.has_floor[g] = (-k if desc else k), True

    def _restored_floors(self) -> None:
        self._note_floors(list(self.parts))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        self._index_restored()
        if batch.num_rows == 0:
            return []
        cols = data_columns(batch)
        n = batch.num_rows
        gids = self._partition_ids(cols, n)
        if self.floor_col is not None:  # rows no better than a full partition's N-th row change nothing
            col = cols[self.floor_col]
            values = np.asarray(pc.fill_null(col, 0), dtype=self.floor_dtype)
            hopeless = self.has_floor[gids] & np.asarray(pc.is_valid(col))
            with np.errstate(invalid="ignore"):
                hopeless &= (values <= self.floor[gids]) if self.order[0][1] else (values >= self.floor[gids])
            if hopeless.any():
                keep = np.flatnonzero(~hopeless)
                if len(keep) == 0:
                    return []
                take = pa.array(keep)
                cols, gids, n = [c.take(take) for c in cols], gids[keep], len(keep)
        skeys = self._sort_keys(cols, n)
        base = self._store(cols, None, self.seq + np.arange(n, dtype=np.int64), hash_keys(cols, n))
        limit, parts, seq = self.limit, self.parts, self.seq
        out: list[int] = []  # (store row, row kind, rank) after one another
        dead: list[int] = []
        for i, (g, k) in enumerate(zip(gids.tolist(), skeys)):
            part = parts.get(g)
            if part is None:
                part = parts[g] = []
            entry = (k, seq, base + i)
            seq += 1
            pos = bisect.bisect_right(part, entry)
            if pos >= limit:
                dead.append(base + i)
                continue
            if not self.with_rank:
                if len(part) >= limit:
                    out += (part[limit - 1][2], DELETE, limit)
                    dead.append(part[limit - 1][2])
                    del part[limit - 1:]
                part.insert(pos, entry)
                out += (entry[2], INSERT, pos + 1)
                continue
            old = [e[2] for e in part[pos:]]
            part.insert(pos, entry)
            if len(part) > limit:
                dead.append(part[limit][2])
                del part[limit:]
            for j in range(len(part) - pos):
                r = pos + j + 1
                if j < len(old):
                    out += (old[j], UPDATE_BEFORE, r, part[pos + j][2], UPDATE_AFTER, r)
                else:
                    out += (part[pos + j][2], INSERT, r)
        self.seq = seq
        self.held += n - len(dead)
        if dead:
            self.rows.set("live", dead, False)
        self._note_floors(np.unique(gids).tolist())
        result = self._output(np.array(out, np.int64).reshape(-1, 3)) if out else []
        self._compact()
        return result
