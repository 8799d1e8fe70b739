"""LEFT, RIGHT and FULL equi-joins over insert-only or updating inputs, column-wise on the inner join's sorted
runs. Each kept row counts its matches; a batch's candidate pairs come from binary search, the extra condition
is checked once per batch, and the changelog is the per-row join's: a preserved row with no match goes out
NULL-padded (+I), its first match retracts that row (-D) before the joined row (+I), and when a retraction takes
its last match away the joined row's -D is followed by the NULL-padded row again (+I). The match counts a batch
changes are running sums per kept row, in the batch's order, so each row sees the count the per-row join would
have seen. Rows come out in the per-row join's order (probe row, then the other side's rows in arrival order),
so results never depend on batch size.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, data_columns, make_batch
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operators.inner_join import InnerJoinOperator
from sqlstream.runtime.sorted_runs import take_rows


class OuterJoinOperator(InnerJoinOperator):
    name = "Join"

    def __init__(self, kind: str, left_keys, right_keys, condition, left_types, right_types, names,
                 nulls_equal: bool = False, ttl_ms: int | list[int] = 0, clock=None):
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
        ops = np.asarray(batch.column(0), dtype=np.int8)
        delta = np.where((ops == INSERT) | (ops == UPDATE_AFTER), 1, -1)
        mine = pa.Table.from_arrays(cols, names=self.sides[s].names)
        probe, run_of, pos, other = self._pairs(mine, gids, valid, s, o)
        before, after = self.count_matches(run_of, pos, delta[probe], o, touch=True)
        out = self._emit(mine, ops, delta, probe, before, after, other, s, o, n)
        self.keep(mine, gids, valid, ops, np.bincount(probe, minlength=n), s)
        return out

    def count_matches(self, run_of: np.ndarray, pos: np.ndarray, delta: np.ndarray, o: int,
                      touch: bool) -> tuple[np.ndarray, np.ndarray]:
        """Applies each pair's change (+1/-1) to the match count of its row on side `o`, in pair order, and
        returns every pair's count before and after its change (`touch`: the row's TTL starts over)."""
        k = len(pos)
        if not k:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        runs = self.sides[o].runs
        start = np.empty(k, dtype=np.int64)
        for r in np.unique(run_of).tolist():
            at = run_of == r
            start[at] = runs[r].assoc[pos[at]]
            np.add.at(runs[r].assoc, pos[at], delta[at])
            if touch and self.ttl_ms > 0:
                runs[r].written[pos[at]] = self.now
        after = start + _running_sums(run_of * (1 << 40) + pos, delta)
        return after - delta, after

    def keep(self, mine: pa.Table, gids: np.ndarray, valid: np.ndarray, ops: np.ndarray, matches: np.ndarray,
             s: int) -> None:
        """This batch's rows join their side (an insert with its match count); a NULL key is not kept."""
        if valid.all():
            self._apply(mine, gids, ops, self.sides[s], matches)
            return
        at = np.flatnonzero(valid)
        if len(at):
            self._apply(mine.take(pa.array(at)), gids[at], ops[at], self.sides[s], matches[at])

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
                parts.append(take_rows(run.table, at))
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

    def _emit(self, mine, ops, delta, probe, before, after, other, s, o, n) -> list[pa.RecordBatch]:
        k = len(probe)
        add = delta[probe] > 0
        # a preserved row of the other side loses its NULL-padded row when its count leaves 0, and gets it back
        # (after the joined row's retraction) when its count returns to 0
        pad_off = (before == 0) & add if self.preserved[o] else np.zeros(k, dtype=bool)
        pad_on = (after == 0) & ~add if self.preserved[o] else np.zeros(k, dtype=bool)
        unmatched = np.flatnonzero(np.bincount(probe, minlength=n) == 0) if self.preserved[s] else \
            np.zeros(0, dtype=np.int64)
        # as Flink's join: a joined row keeps its input row's kind (+U, -U) when it is added by an inner join,
        # or retracted by a side that is not preserved (a LEFT join's right side); else +I / -D
        kept_on_add, kept_on_retract = not any(self.preserved), not self.preserved[s]
        joined_kind = np.where(add, ops[probe] if kept_on_add else INSERT,
                               ops[probe] if kept_on_retract else DELETE)
        unmatched_kind = np.where(delta[unmatched] > 0, INSERT, DELETE)
        # output entries: (probe row, order within it, row of this batch or -1, other row or -1, kind)
        j = np.arange(k)
        off, on = np.flatnonzero(pad_off), np.flatnonzero(pad_on)
        sort_probe = np.concatenate([probe[off], probe, probe[on], unmatched])
        sort_sub = np.concatenate([2 * off, 2 * j + add, 2 * on + 1, np.full(len(unmatched), -1)])
        mine_idx = np.concatenate([np.full(len(off), -1), probe, np.full(len(on), -1), unmatched])
        other_idx = np.concatenate([off, j, on, np.full(len(unmatched), -1)])
        kinds = np.concatenate([np.full(len(off), DELETE), joined_kind, np.full(len(on), INSERT), unmatched_kind])
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


def _running_sums(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per element, the sum of `values` over the elements of its group up to and including it."""
    order = np.argsort(group, kind="stable")
    g, v = group[order], values[order]
    total = np.cumsum(v)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    lengths = np.diff(np.r_[starts, len(g)])
    sums = np.empty_like(total)
    sums[order] = total - np.repeat(total[starts] - v[starts], lengths)
    return sums
