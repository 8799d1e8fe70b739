"""LEFT, RIGHT and FULL equi-joins of insert-only inputs, column-wise on the inner join's sorted runs. Each
kept row counts its matches; a batch's candidate pairs come from binary search, the extra condition is checked
once per batch, and the changelog is the per-row join's: a preserved row with no match goes out NULL-padded
(+I), and its first match retracts that row (-D) before the joined row (+I). Rows come out in the per-row
join's order (probe row, then the other side's rows in arrival order), so results never depend on batch size.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, data_columns, make_batch
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operators.inner_join import InnerJoinOperator


class OuterJoinOperator(InnerJoinOperator):
    name = "Join"

    def __init__(self, kind: str, left_keys, right_keys, condition, left_types, right_types, names,
                 nulls_equal: bool = False, ttl_ms: int = 0, clock=None):
        super().__init__(left_keys, right_keys, condition, left_types, right_types, names, nulls_equal, ttl_ms, clock)
        self.kind = kind
        self.preserved = (kind in ("LEFT", "FULL"), kind in ("RIGHT", "FULL"))

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        s, o = input, 1 - input
        self.tick()
        cols = data_columns(batch)
        n = batch.num_rows
        if n == 0:
            return []
        gids, valid = self._key_ids(cols, s, n)
        mine = pa.Table.from_arrays(cols, names=self.sides[s].names)
        probe, run_of, pos, other = self._pairs(mine, gids, valid, s, o)
        out = self._emit(mine, probe, run_of, pos, other, s, o, n)
        # the other side's rows count their new matches; this batch's rows join its side with theirs
        runs = self.sides[o].runs
        for r in np.unique(run_of).tolist():
            at = pos[run_of == r]
            np.add.at(runs[r].assoc, at, 1)
            if self.ttl_ms > 0:
                runs[r].written[at] = self.now
        keep = np.flatnonzero(valid)
        if len(keep):
            counts = np.bincount(probe, minlength=n)
            run = self.sides[s].append(mine.take(pa.array(keep)), gids[keep], self.now)
            run.assoc = counts[keep].astype(np.int64)
            self.sides[s].settle()
        return out

    def _pairs(self, mine: pa.Table, gids: np.ndarray, valid: np.ndarray, s: int, o: int):
        """Matching pairs (probe row, run, position in run, the other side's rows) that pass the condition, per
        probe row in the other side's arrival order."""
        idx = np.flatnonzero(valid)
        probes, ids, runs, poss, parts = [], [], [], [], []
        for r, run in enumerate(self.sides[o].runs):
            p, at = run.probe(gids[idx])
            if len(p):
                probes.append(idx[p])
                ids.append(run.ids[at])
                runs.append(np.full(len(p), r, dtype=np.int64))
                poss.append(at)
                parts.append(run.table.take(pa.array(at)))
        if not probes:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, None
        probe, rid = np.concatenate(probes), np.concatenate(ids)
        order = np.lexsort((rid, probe))
        probe, run_of, pos = probe[order], np.concatenate(runs)[order], np.concatenate(poss)[order]
        other = (parts[0] if len(parts) == 1 else pa.concat_tables(parts)).take(pa.array(order))
        if self.condition is not None:
            mine_rows = mine.take(pa.array(probe))
            left, right = (mine_rows, other) if s == 0 else (other, mine_rows)
            cols = [c.combine_chunks() for c in left.columns + right.columns]
            ok = np.asarray(pc.fill_null(evaluate(self.condition, cols, len(probe)), False), dtype=bool)
            if not ok.all():
                probe, run_of, pos = probe[ok], run_of[ok], pos[ok]
                other = other.filter(pa.array(ok))
        return probe, run_of, pos, other

    def _emit(self, mine, probe, run_of, pos, other, s, o, n) -> list[pa.RecordBatch]:
        k = len(probe)
        runs = self.sides[o].runs
        # a preserved row of the other side, unmatched so far, loses its NULL-padded row at its first match
        retract = np.zeros(k, dtype=bool)
        if self.preserved[o] and k:
            before = np.empty(k, dtype=np.int64)
            for r in np.unique(run_of).tolist():
                at = run_of == r
                before[at] = runs[r].assoc[pos[at]]
            code = run_of * (1 << 40) + pos
            _, first = np.unique(code, return_index=True)
            is_first = np.zeros(k, dtype=bool)
            is_first[first] = True
            retract = is_first & (before == 0)
        # output entries: (probe row, order within it, row of this batch or -1, other row or -1, kind)
        unmatched = np.flatnonzero(np.bincount(probe, minlength=n) == 0) if self.preserved[s] else \
            np.zeros(0, dtype=np.int64)
        j = np.arange(k)
        d = np.flatnonzero(retract)
        sort_probe = np.concatenate([probe[d], probe, unmatched])
        sort_sub = np.concatenate([2 * d, 2 * j + 1, np.full(len(unmatched), -1)])
        mine_idx = np.concatenate([np.full(len(d), -1), probe, unmatched])
        other_idx = np.concatenate([d, j, np.full(len(unmatched), -1)])
        kinds = np.concatenate([np.full(len(d), DELETE), np.full(k, INSERT), np.full(len(unmatched), INSERT)])
        if not len(kinds):
            return []
        order = np.lexsort((sort_sub, sort_probe))
        mine_idx, other_idx, kinds = mine_idx[order], other_idx[order], kinds[order]
        mine_take = pa.array(mine_idx, mask=mine_idx < 0)
        mine_cols = [c.combine_chunks().take(mine_take) for c in mine.columns]
        if other is None:
            other_types = self.sides[o].types
            other_cols = [pa.nulls(len(kinds), t) for t in other_types]
        else:
            other_take = pa.array(other_idx, mask=other_idx < 0)
            other_cols = [c.combine_chunks().take(other_take) for c in other.columns]
        left, right = (mine_cols, other_cols) if s == 0 else (other_cols, mine_cols)
        return [make_batch(kinds.astype(np.int8), left + right, self.names)]
