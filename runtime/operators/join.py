"""Regular joins the inner and outer operators do not take: outer joins over updating inputs or with NULL-equal
keys, SEMI and ANTI joins (IN, EXISTS and their negations) and the NULL-aware ANTI join of NOT IN, column-wise on
the outer join's sorted runs and running match counts, with the per-row join's changelog:

- SEMI emits a left row while it has a match, ANTI while it has none (left columns only); a right row's arrival
  or retraction moves the match counts of the left rows it matches, and a count crossing 0 emits or retracts.
- NOT IN: a left row passes while the right side is empty, or, for a non-NULL key, while no right row has its
  key or a NULL key. Right rows with a NULL key are counted apart; when that count, or the right side's size,
  crosses 0 every left row it decides flips (those few rows of a batch are handled one at a time).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import DELETE, INSERT, UPDATE_AFTER, data_columns, make_batch
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.operators.outer_join import OuterJoinOperator
from sqlstream.runtime.rows import columns


class JoinOperator(OuterJoinOperator):
    name = "Join"

    def __init__(self, kind: str, left_keys: list[int], right_keys: list[int], condition: Expr | None,
                 left_types: list[pa.DataType], right_types: list[pa.DataType], names: list[str],
                 out_types: list[pa.DataType], null_aware: bool = False, nulls_equal: bool = False,
                 ttl_ms: int | list[int] = 0, clock=None):
        # SEMI and ANTI put out the left columns only; each side's rows keep names of their own
        semi_anti = kind in ("SEMI", "ANTI")
        sides = [f"$l{i}" for i in range(len(left_types))] + [f"$r{i}" for i in range(len(right_types))] \
            if semi_anti else names
        super().__init__(kind, left_keys, right_keys, condition, left_types, right_types, sides, nulls_equal,
                         ttl_ms, clock)
        self.names, self.out_types = names, out_types
        self.null_aware = null_aware
        self.semi_anti = semi_anti
        # NOT IN keeps NULL-key rows apart: they match no key, yet decide whole sides
        self.keeps_null_keys = null_aware
        self.right_count = self.right_null_count = 0

    def restored(self) -> None:
        if self.null_aware:
            self.recount_right()

    def tick(self) -> None:
        if self.null_aware:  # NOT IN's counters need every right row: its state never expires
            self.ttl.tick()
            self.now = self.ttl.now
            return
        super().tick()

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        if not self.semi_anti:
            return super().on_batch(batch, input)
        s, o = input, 1 - input
        self.tick()
        n = batch.num_rows
        if n == 0:
            return []
        cols = data_columns(batch)
        gids, valid = self._key_ids(cols, s, n)
        ops = np.asarray(batch.column(0), dtype=np.int8)
        delta = np.where((ops == INSERT) | (ops == UPDATE_AFTER), 1, -1)
        mine = pa.Table.from_arrays(cols, names=self.sides[s].names)
        probe, run_of, pos, other = self._pairs(mine, gids, valid, s, o)
        matches = np.bincount(probe, minlength=n)
        if s == 0:
            out = self._left_rows(mine, valid, ops, matches)
        else:
            out = self._right_rows(ops, delta, valid, probe, run_of, pos, other)
        self.keep(mine, gids, valid, ops, matches if s == 0 else np.zeros(n, dtype=np.int64), s)
        if self.null_aware and not valid.all():
            at = np.flatnonzero(~valid)
            self._apply(mine.take(pa.array(at)), np.zeros(len(at), dtype=np.int64), ops[at], self.null_sides[s])
        return out

    def _left_rows(self, mine: pa.Table, valid: np.ndarray, ops: np.ndarray, matches: np.ndarray):
        """A left row goes out with its own row kind if it passes now."""
        if self.null_aware:
            passes = np.where(valid, matches + self.right_null_count, self.right_count) == 0
        else:
            passes = (matches > 0) == (self.kind == "SEMI")
        at = np.flatnonzero(passes)
        if not len(at):
            return []
        return [make_batch(ops[at], [c.combine_chunks().take(pa.array(at)) for c in mine.columns], self.names)]

    def _right_rows(self, ops, delta, valid, probe, run_of, pos, other):
        """Right rows move the match counts of the left rows they match; a left row whose count leaves or
        returns to 0 changes its membership: in a SEMI join with the right row's kind (+I/+U in, -U/-D out),
        in an ANTI join as -D / +I."""
        before, after = self.count_matches(run_of, pos, delta[probe], 0, touch=False)
        if self.null_aware:
            return self._not_in_right(delta, valid, probe, run_of, pos, before, after, other)
        semi = self.kind == "SEMI"
        joins = (before == 0) & (after == 1)
        leaves = (before == 1) & (after == 0)
        at = np.flatnonzero(joins | leaves)
        if not len(at):
            return []
        kinds = ops[probe[at]] if semi else np.where(joins[at], DELETE, INSERT).astype(np.int8)
        return [make_batch(kinds, [c.combine_chunks().take(pa.array(at)) for c in other.columns], self.names)]

    def _not_in_right(self, delta, valid, probe, run_of, pos, before, after, other):
        null_delta = np.where(valid, 0, delta)
        nulls_before = self.right_null_count + np.cumsum(null_delta) - null_delta
        count_before = self.right_count + np.cumsum(delta) - delta
        nulls_after, count_after = nulls_before + null_delta, count_before + delta
        self.right_count = int(count_after[-1])
        self.right_null_count = int(nulls_after[-1])
        # a keyed change flips a left row only while no NULL key is on the right
        flips = (nulls_before[probe] == 0) & ((before == 0) != (after == 0))
        at = np.flatnonzero(flips)
        pieces = []  # (right row per output row, left columns, kinds), put in the right rows' order below
        if len(at):
            pieces.append((probe[at], [c.combine_chunks().take(pa.array(at)) for c in other.columns],
                           np.where(after[at] == 0, INSERT, DELETE)))
        crossings = ((nulls_before == 0) != (nulls_after == 0)) | ((count_before == 0) != (count_after == 0))
        for i in np.flatnonzero(crossings).tolist():
            if (nulls_before[i] == 0) != (nulls_after[i] == 0):
                pieces += self._keyed_flips(i, int(nulls_before[i]), int(nulls_after[i]), probe, run_of, pos,
                                            delta[probe])
            if (count_before[i] == 0) != (count_after[i] == 0):
                for run in self.null_sides[0].runs:
                    live = np.flatnonzero(run.live)
                    if len(live):
                        pieces.append((np.full(len(live), i), [c.combine_chunks().take(pa.array(live))
                                                               for c in run.table.columns],
                                       np.full(len(live), INSERT if count_after[i] == 0 else DELETE)))
        if not pieces:
            return []
        order = np.argsort(np.concatenate([p[0] for p in pieces]), kind="stable")
        cols = [pa.concat_arrays([p[1][j] for p in pieces]).take(pa.array(order)) for j in range(len(self.names))]
        kinds = np.concatenate([p[2] for p in pieces])[order].astype(np.int8)
        return [make_batch(kinds, cols, self.names)]

    def _keyed_flips(self, i, nulls_before, nulls_after, probe, run_of, pos, pair_delta) -> list[tuple]:
        """Right row `i` made the count of NULL-key right rows cross 0: every keyed left row without a match
        flips, with its match count as it stood at row `i`, in arrival order."""
        later = probe >= i
        ids, cols = [], []
        for r, run in enumerate(self.sides[0].runs):
            assoc = run.assoc.copy()
            undo = later & (run_of == r)
            np.subtract.at(assoc, pos[undo], pair_delta[undo])
            flip = run.live & ((assoc + nulls_before == 0) != (assoc + nulls_after == 0))
            at = np.flatnonzero(flip)
            if len(at):
                ids.append(run.ids[at])
                cols.append([c.combine_chunks().take(pa.array(at)) for c in run.table.columns])
        if not ids:
            return []
        order = pa.array(np.argsort(np.concatenate(ids), kind="stable"))
        n = int(sum(len(x) for x in ids))
        flipped = [pa.concat_arrays([c[j] for c in cols]).take(order) for j in range(len(self.names))]
        return [(np.full(n, i), flipped, np.full(n, INSERT if nulls_after == 0 else DELETE))]

    def recount_right(self) -> None:
        """NOT IN's counters, rebuilt from the right side's state after a restore."""
        self.right_null_count = sum(len(r) for r in self.null_sides[1].runs)
        self.right_count = sum(len(r) for r in self.sides[1].runs) + self.right_null_count


def check_pairs(condition: Expr | None, types: list[pa.DataType], pairs: list[tuple]) -> list[bool]:
    """The extra join condition over (left row, right row) pairs, in one vectorized evaluation."""
    if condition is None or not pairs:
        return [True] * len(pairs)
    joined = [left + right for left, right in pairs]
    return [bool(v) for v in evaluate(condition, columns(joined, types), len(joined)).to_pylist()]
