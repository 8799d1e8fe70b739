"""INNER equi-join, column-wise, over insert-only or updating inputs. An INNER join needs no per-row match
counts (nothing is NULL-padded): a row pairs with the other side's live rows and the pair carries the row's
own change (+I, -U, +U, -D). Each side keeps its rows as Arrow segments, each with its rows' key ids sorted (a
sorted run) and a live mask. A batch is matched against the other side's runs with binary search, the pairs
are gathered with `take`, and the extra condition is evaluated once per batch. A retraction marks the earliest
live identical row of its key dead. Runs are merged as they grow (as in an LSM tree), dropping dead rows, so a
probe searches O(log n) runs and appending stays cheap.

Pairs come out in the order of the per-row join (probe row, then the other side's rows in arrival order), so
results never depend on the batch size. Each side's rows are declared state (`sorted_runs.JoinSideRows`), which
snapshots itself in the per-row join's layout (c0..cN, $assoc) and splits by key group.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import Expr
from sqlstream.core.changelog import INSERT, UPDATE_AFTER, data_columns, make_batch
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.keys import KeyIndex, codable, equal_pairs, non_null_keys
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.sorted_runs import JoinSideRows, Run, SortedRuns, gather, probe_runs, take_rows
from sqlstream.runtime.state import StateTtl
from sqlstream.runtime.rows import rows_equal


def _row_ids(cols: list) -> np.ndarray:
    """Per row, an id equal for identical rows (NULL equal to NULL) and different otherwise."""
    ids = np.zeros(len(cols[0]) if cols else 0, dtype=np.int64)
    for c in cols:
        c = c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c
        codes = np.asarray(pc.dictionary_encode(codable(c), null_encoding="encode").indices, dtype=np.int64)
        ids = np.unique(ids * (int(codes.max(initial=0)) + 1) + codes, return_inverse=True)[1].reshape(-1)
    return ids


def _retract(runs: list[Run], dels: np.ndarray, ids: np.ndarray, run_of: np.ndarray, pos: np.ndarray) -> None:
    """Each retraction (in batch order) kills its earliest candidate row that no earlier retraction took.
    When the first choices are all different rows, that is every retraction's first choice."""
    if not len(dels):
        return
    order = np.lexsort((ids, dels))
    dels, ids, run_of, pos = dels[order], ids[order], run_of[order], pos[order]
    first = np.flatnonzero(np.r_[True, dels[1:] != dels[:-1]])
    if len(np.unique(ids[first])) == len(first):
        chosen = first
    else:  # identical rows retracted more than once in a batch: take them one by one
        done, taken, picked = set(), set(), []
        for i, (d, rid) in enumerate(zip(dels.tolist(), ids.tolist())):
            if d not in done and rid not in taken:
                done.add(d)
                taken.add(rid)
                picked.append(i)
        chosen = np.array(picked, dtype=np.int64)
    for r in np.unique(run_of[chosen]).tolist():
        at = pos[chosen[run_of[chosen] == r]]
        runs[r].live[at] = False
        runs[r].dead += len(at)


class InnerJoinOperator(Operator):
    name = "Join"
    keeps_null_keys = False  # the NULL-aware anti join (NOT IN) keeps rows with a NULL key apart
    reads_row_watermarks = False  # no row is late to a regular join, and its output carries no `_wm`

    def __init__(self, left_keys: list[int], right_keys: list[int], condition: Expr | None,
                 left_types: list[pa.DataType], right_types: list[pa.DataType], names: list[str],
                 nulls_equal: bool = False, ttl_ms: int | list[int] = 0, clock=None):
        self.keys = (left_keys, right_keys)
        # one time-to-live for both sides, or each side its own (a STATE_TTL hint)
        self.side_ttl = tuple(ttl_ms) if isinstance(ttl_ms, (list, tuple)) else (ttl_ms, ttl_ms)
        self.ttl = StateTtl(max(self.side_ttl), clock)
        self.now = 0
        self.condition = condition
        self.names = names
        self.nulls_equal = nulls_equal
        self.index = KeyIndex()  # shared: equal keys on both sides get the same id
        # one integer or temporal key of the same type on both sides is its own id
        lt, rt = [left_types[i] for i in left_keys], [right_types[i] for i in right_keys]
        self.direct = len(lt) == 1 and lt == rt and not nulls_equal and (
            pa.types.is_integer(lt[0]) or pa.types.is_timestamp(lt[0]) or pa.types.is_date(lt[0]))
        n_left = len(left_types)
        self.side_layouts = ((names[:n_left], left_types), (names[n_left:], right_types))
        self.rows: tuple[JoinSideRows, JoinSideRows] | None = None
        self.sides: tuple[SortedRuns, SortedRuns] = ()

    def open(self, ctx: OperatorContext) -> None:
        self.rows = tuple(ctx.state.join_side_rows(
            name, names, types, list(self.keys[s]), lambda cols, n, s=s: self._key_ids(cols, s, n),
            self.keeps_null_keys, ctx.clock, self.restored) for s, (name, (names, types))
            in enumerate(zip(("left_rows", "right_rows"), self.side_layouts)))
        self.sides = (self.rows[0].keyed, self.rows[1].keyed)
        self.null_sides = (self.rows[0].nulls, self.rows[1].nulls)

    def restored(self) -> None:
        """A side was restored (what an operator derives from its rows is rebuilt here)."""

    def _key_ids(self, cols: list, side: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Key id per row, and which rows can match (a NULL key matches nothing unless NULLs are equal)."""
        keys = [cols[i] for i in self.keys[side]]
        keys = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in keys]
        if self.direct:
            k = keys[0].cast(pa.int64()) if pa.types.is_integer(keys[0].type) else keys[0].view(
                pa.int64() if pa.types.is_timestamp(keys[0].type) or keys[0].type == pa.date64() else pa.int32())
            gids = np.asarray(pc.fill_null(k, 0), dtype=np.int64)
        else:
            gids, _ = self.index.lookup(keys, n)
        return gids, (np.ones(n, dtype=bool) if self.nulls_equal else non_null_keys(keys, n))

    def tick(self) -> None:
        """Reads the clock for this batch; with a state TTL, rows not written for that long are gone."""
        cutoff = self.ttl.tick()
        self.now = self.ttl.now
        if cutoff is not None:
            for rows, ttl in zip(self.rows, self.side_ttl):
                if ttl > 0:
                    rows.expire(self.now - ttl)

    @property
    def ttl_ms(self) -> int:
        return self.ttl.ttl_ms

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        s, o = input, 1 - input
        self.tick()
        cols = data_columns(batch)
        n = batch.num_rows
        gids, valid = self._key_ids(cols, s, n)
        mine = pa.Table.from_arrays(cols, names=self.sides[s].names)
        ops = np.asarray(batch.column(0), dtype=np.int8)
        if not valid.all():  # a NULL key joins nothing and is not kept
            keep = np.flatnonzero(valid)
            mine, gids, ops = mine.take(pa.array(keep)), gids[keep], ops[keep]
        out = self._matches(mine, gids, ops, s, o)
        self._apply(mine, gids, ops, self.sides[s])
        return out

    def _apply(self, rows: pa.Table, gids: np.ndarray, ops: np.ndarray, side: SortedRuns,
               assoc: np.ndarray | None = None) -> None:
        """Adds the batch's inserted rows to its side (with their match counts, if given), then retracts: each
        -U/-D kills the earliest live identical row of its key that arrived before it."""
        adds = (ops == INSERT) | (ops == UPDATE_AFTER)
        if adds.all():
            run = side.append(rows, gids, self.now)
            if assoc is not None:
                run.assoc = assoc.astype(np.int64)
            side.settle()
            return
        add_at = np.flatnonzero(adds)
        new_run = None
        if len(add_at):
            new_run = side.append(rows.take(pa.array(add_at)), gids[add_at], self.now)
            if assoc is not None:
                new_run.assoc = assoc[add_at].astype(np.int64)
        dels = np.flatnonzero(~adds)
        del_rows = rows.take(pa.array(dels))
        # candidates per retraction: live rows of the same key and identical values, earliest first
        c_del, c_id, c_run, c_pos = [], [], [], []
        for r, run in enumerate(side.runs):
            if run is new_run:  # within the batch, identical rows have one id: no pairs for every equal key
                row_ids = _row_ids(rows.columns)
                by_id = np.argsort(row_ids[add_at], kind="stable")
                probe, at = equal_pairs(row_ids[add_at][by_id], row_ids[dels])
                pos = by_id[at]
                alive = run.live[pos]
                probe, pos = probe[alive], pos[alive]
            else:
                probe, pos = run.probe(gids[dels])
                if not len(probe):
                    continue
                same = rows_equal([c.take(pa.array(probe)) for c in del_rows.columns],
                                   take_rows(run.table, pos).columns)
                probe, pos = probe[same], pos[same]
            # a row added by this batch can only be retracted by a later row of the batch
            before = dels[probe] > (add_at[pos] if run is new_run else -1)
            c_del.append(probe[before])
            c_id.append(run.ids[pos[before]])
            c_run.append(np.full(int(before.sum()), r, dtype=np.int64))
            c_pos.append(pos[before])
        if c_del:
            _retract(side.runs, *(np.concatenate(c) for c in (c_del, c_id, c_run, c_pos)))
        side.settle()

    def _matches(self, mine: pa.Table, gids: np.ndarray, ops: np.ndarray, s: int, o: int) -> list[pa.RecordBatch]:
        runs = self.sides[o].runs
        probe, run_of, pos = probe_runs(runs, gids)
        if not len(probe):
            return []
        other = gather(runs, run_of, pos)
        mine_rows = mine.take(pa.array(probe))
        out_ops = ops[probe]
        left, right = (mine_rows, other) if s == 0 else (other, mine_rows)
        out_cols = [c.combine_chunks() for c in left.columns + right.columns]
        if self.condition is not None:
            keep = pc.fill_null(evaluate(self.condition, out_cols, len(probe)), False)
            if not pc.all(keep).as_py():
                out_cols = [pc.filter(c, keep) for c in out_cols]
                out_ops = out_ops[np.asarray(keep)]
        if not len(out_cols[0]):
            return []
        return [make_batch(out_ops, out_cols, self.names)]

    def metrics(self) -> dict:
        return {"state_bytes": sum(rows.size_bytes() for rows in self.rows)}
