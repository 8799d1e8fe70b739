"""MATCH_RECOGNIZE's automaton (`runtime/nfa.py`) run over many rows at once, with Flink's matches.

Every row of a partition may start a match. Instead of feeding rows one by one to each partition's partial
matches, all partial matches of all partitions (branches: a start row, how many rows taken, an automaton state,
and where each pattern variable's rows begin and end, as offsets from the start) take their next row together,
one step per row of match length. A step evaluates each DEFINE condition as a column over the branches that may
ask for it (navigation into the match, FIRST/LAST/PREV and aggregates over a variable's rows, gathered from the
partition's rows; aggregates through the accumulator interface, a branch being a group), then moves every branch
along the transitions whose conditions hold, in the order Flink's NFA lists them. Pattern variables are strictly
contiguous, so a variable's rows in a match are one run and navigation is index arithmetic.

What is emitted is then decided per partition over the starts that matched or still run (`emit`): a start's
match is its first finished branch; starts are emitted in order, AFTER MATCH SKIP pruning the starts a match
overlaps, and a start still running holds back every start after it (Flink emits a finished match only when no
earlier partial match is alive).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.expr import refs
from sqlstream.plan.logical import AggCall, MatchSlot
from sqlstream.runtime.accumulators import evaluate_groups
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.nfa import PROCEED, Automaton, SkipError


class Branches:
    """Partial matches as columns; `first`/`end` are (branch, variable) offsets from the start, -1 when the
    variable has no rows yet. Kept in (start, Flink's order of partial matches) order."""

    __slots__ = ("start", "length", "state", "first", "end")

    def __init__(self, start, length, state, first, end):
        self.start, self.length, self.state, self.first, self.end = start, length, state, first, end

    @classmethod
    def empty(cls, k: int) -> "Branches":
        z = np.zeros(0, np.int64)
        return cls(z, z, z, np.zeros((0, k), np.int64), np.zeros((0, k), np.int64))

    @classmethod
    def starting(cls, rows: np.ndarray, state: int, k: int) -> "Branches":
        n = len(rows)
        return cls(rows.astype(np.int64), np.zeros(n, np.int64), np.full(n, state, np.int64),
                   np.full((n, k), -1, np.int64), np.full((n, k), -1, np.int64))

    def __len__(self) -> int:
        return len(self.start)

    def take(self, idx: np.ndarray) -> "Branches":
        """The branches at positions `idx` (or where the mask `idx` is set)."""
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return Branches(self.start.take(idx), self.length.take(idx), self.state.take(idx),
                        self.first.take(idx, axis=0), self.end.take(idx, axis=0))

    @staticmethod
    def concat(parts: list["Branches"], k: int) -> "Branches":
        parts = [p for p in parts if len(p)]
        if not parts:
            return Branches.empty(k)
        if len(parts) == 1:
            return parts[0]
        return Branches(*(np.concatenate([getattr(p, a) for p in parts]) for a in Branches.__slots__))


class CompiledPattern:
    """The automaton's states as tables: per state, its TAKE edges reached through PROCEED edges (in the order
    Flink's NFA tries them) with the conditions on the way, and the PROCEED paths to the final state."""

    def __init__(self, automaton: Automaton, variables: list[str]):
        self.variables = variables
        self.var_index = {v: i for i, v in enumerate(variables)}
        self.start = automaton.start.index
        states = automaton.states
        self.final = np.array([s.final for s in states])
        self.takes = [_take_paths(s) for s in states]
        self.to_final = [_final_paths(s) for s in states]
        needed = []
        for s in states:
            vs = set()
            for t, conds in self.takes[s.index]:
                vs |= _vars(conds)
                for path in self.to_final[t.target.index]:
                    vs |= _vars(path)
            needed.append(vs)
        self.needs = {v: np.array([v in needed[s.index] for s in states]) for v in variables}


def _take_paths(state) -> list[tuple]:
    out, stack = [], [(state, ())]
    while stack:  # PROCEED edges are epsilon moves that see the current row
        s, conds = stack.pop()
        for t in s.transitions:
            if t.action == PROCEED:
                stack.append((t.target, conds + (t.condition,)))
            else:
                out.append((t, conds + (t.condition,)))
    return out


def _final_paths(state) -> list[tuple]:
    out, stack = [], [(state, ())]
    while stack:
        s, conds = stack.pop()
        for t in s.transitions:
            if t.action == PROCEED:
                if t.target.final:
                    out.append(conds + (t.condition,))
                else:
                    stack.append((t.target, conds + (t.condition,)))
    return out


def _vars(conds) -> set[str]:
    out = set()
    for c in conds:
        if c[0] == "var":
            out.add(c[1])
        elif c[0] != "true":
            out |= _vars(c[1:])
    return out


def _holds(cond: tuple, values: dict, n: int) -> np.ndarray:
    kind = cond[0]
    if kind == "true":
        return np.ones(n, bool)
    if kind == "var":
        return values[cond[1]]
    if kind == "not":
        return ~_holds(cond[1], values, n)
    return _holds(cond[1], values, n) & _holds(cond[2], values, n)


def _all(conds, values: dict, n: int) -> np.ndarray:
    ok = np.ones(n, bool)
    for c in conds:
        ok &= _holds(c, values, n)
    return ok


class Rows:
    """The rows being matched, sorted by partition then processing order: columns (None for those no condition
    or measure reads), rowtimes (ms) and where each row's partition ends."""

    def __init__(self, cols: list[pa.Array], ts: np.ndarray, segment_end: np.ndarray):
        self.cols, self.ts, self.segment_end = cols, ts, segment_end
        self.n = len(ts)

    def gather(self, column: int, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
        if valid is None:
            return self.cols[column].take(pa.array(idx, pa.int64()))
        return self.cols[column].take(pa.array(np.where(valid, idx, 0), pa.int64(), mask=~valid))


def slot_values(rows: Rows, slot: MatchSlot, lo: np.ndarray, count: np.ndarray, last_row: np.ndarray,
                time_index: int) -> pa.Array:
    """A slot's value per match: `lo` and `count` give the rows of the slot's variable (a run), `last_row`
    the match's last row."""
    t = slot.type.to_arrow()
    if slot.kind == "rowtime":
        out = rows.gather(time_index, last_row)
    elif slot.kind in ("last", "first"):
        idx = lo + count - 1 - slot.offset if slot.kind == "last" else lo + slot.offset
        out = rows.gather(slot.column, idx, slot.offset < count)
    elif slot.column is None:
        out = pa.array(count, pa.int64())
    else:
        total = int(count.sum())
        group = np.repeat(np.arange(len(count)), count)
        members = np.arange(total) - np.repeat(np.cumsum(count) - count, count) + np.repeat(lo, count)
        out = evaluate_groups(AggCall(slot.fn, (0,), slot.type), [rows.gather(slot.column, members)], group,
                              len(count))
    return out.cast(t) if out.type != t else out


class Matching:
    """Runs a pattern's branches over sorted rows: DEFINE conditions per step, transitions, finished matches."""

    def __init__(self, pattern: CompiledPattern, defines: dict, types: list[pa.DataType], time_index: int,
                 within: int):
        self.pattern, self.types, self.time_index, self.within = pattern, types, time_index, within
        self.local = {v: c for v, (c, slots) in defines.items() if not slots}
        self.navigating = {v: (c, slots, sorted(i for i in refs(c) if i < len(types)))
                           for v, (c, slots) in defines.items() if slots}

    def local_conditions(self, rows: Rows) -> dict[str, np.ndarray]:
        """The DEFINE conditions that read only the row itself, over all rows at once."""
        if not self.local:
            return {}
        cols = [c if c is not None else pa.nulls(rows.n, t) for c, t in zip(rows.cols, self.types)]
        return {v: _truth(evaluate(c, cols, rows.n)) for v, c in self.local.items()}

    def run(self, rows: Rows, branches: Branches) -> tuple[dict, Branches]:
        """Advances `branches` until each finishes, dies or runs out of its partition's rows. Returns the first
        finished branch of each start (its match) and the branches waiting for more rows."""
        k = len(self.pattern.variables)
        local = self.local_conditions(rows)
        matched: list[Branches] = []
        waiting: list[Branches] = []
        br = branches
        while len(br):
            pos = br.start + br.length
            out = pos >= rows.segment_end[br.start]
            go = ~out
            if out.any():
                waiting.append(br.take(out))
            if self.within:  # a partial match older than WITHIN ends before it takes the row
                go[go] = (br.length[go] == 0) | (rows.ts[pos[go]] - rows.ts[br.start[go]] < self.within)
            if not go.all():
                if not go.any():
                    break
                br, pos = br.take(go), pos[go]
            br, done = self._step(rows, br, pos, local, k)
            if len(done):
                matched.append(done)
        return Branches.concat(matched, k), Branches.concat(waiting, k)

    def _step(self, rows: Rows, br: Branches, pos: np.ndarray, local: dict, k: int) -> tuple[Branches, Branches]:
        n = len(br)
        pattern = self.pattern
        values = {}
        for var in pattern.variables:
            ask = pattern.needs[var][br.state]
            if not ask.any():
                continue
            v = np.zeros(n, bool)
            if var in local:
                v[ask] = local[var][pos[ask]]
            elif var in self.navigating:
                idx = np.flatnonzero(ask)
                v[idx] = self._navigating(rows, var, br, idx, pos[idx])
            else:
                v[ask] = True  # a variable without DEFINE accepts every row
            values[var] = v
        parents, order, targets, take_vars, finals = [], [], [], [], []
        for st in np.flatnonzero(np.bincount(br.state)).tolist():
            in_state = br.state == st
            for j, (t, conds) in enumerate(pattern.takes[st]):
                ok = in_state & _all(conds, values, n)
                if not ok.any():
                    continue
                idx = np.flatnonzero(ok)
                target = t.target.index
                var = pattern.var_index[t.var]
                ends = np.zeros(len(idx), bool)
                for path in pattern.to_final[target]:
                    ends |= _all(path, values, n)[idx]
                parents.append(idx)
                order.append(np.full(len(idx), 2 * j))
                targets.append(np.full(len(idx), target))
                take_vars.append(np.full(len(idx), var))
                finals.append(np.full(len(idx), bool(pattern.final[target])))
                if ends.any():  # the state just entered can PROCEED to the end on this row too
                    e = idx[ends]
                    parents.append(e)
                    order.append(np.full(len(e), 2 * j + 1))
                    targets.append(np.full(len(e), -1))
                    take_vars.append(np.full(len(e), var))
                    finals.append(np.ones(len(e), bool))
        if not parents:
            return Branches.empty(k), Branches.empty(k)
        parent = np.concatenate(parents)
        sort = np.lexsort((np.concatenate(order), parent))
        parent = parent[sort]
        final = np.concatenate(finals)[sort]
        start = br.start[parent]
        # a start's first finished branch is its match; its other branches would be pruned when it is emitted
        done = np.flatnonzero(final)
        done = done[np.r_[True, start[done][1:] != start[done][:-1]]] if len(done) else done
        keep = ~final
        if len(done):
            keep &= ~_sorted_isin(start, start[done])
        out = []
        for rows_ in (np.flatnonzero(keep), done):
            p = parent[rows_]
            var = np.concatenate(take_vars)[sort][rows_]
            length = br.length.take(p)
            first, end = br.first.take(p, axis=0), br.end.take(p, axis=0)
            at = np.arange(len(p))
            fresh = first[at, var] < 0
            first[at[fresh], var[fresh]] = length[fresh]
            end[at, var] = length + 1
            out.append(Branches(br.start.take(p), length + 1, np.concatenate(targets)[sort][rows_], first, end))
        return out[0], out[1]

    def _navigating(self, rows: Rows, var: str, br: Branches, idx: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """`var`'s DEFINE for the branches `idx`, each taking row `pos` as `var`."""
        cond, slots, read = self.navigating[var]
        n = len(idx)
        cols = [rows.gather(i, pos) if i in read else pa.nulls(n, t) for i, t in enumerate(self.types)]
        vi = self.pattern.var_index
        start = br.start[idx]
        for slot in slots:
            if slot.var is None:
                lo, count = start, br.length[idx] + 1
            elif slot.var == var:
                first = br.first[idx, vi[var]]
                lo = np.where(first >= 0, start + first, pos)
                count = pos - lo + 1
            else:
                k = vi[slot.var]
                first = br.first[idx, k]
                has = first >= 0
                lo = start + np.where(has, first, 0)
                count = np.where(has, br.end[idx, k] - first, 0)
            cols.append(slot_values(rows, slot, lo, count, pos, self.time_index))
        return _truth(evaluate(cond, cols, n))

    def measure_slots(self, rows: Rows, slots: list[MatchSlot], m: Branches) -> list[pa.Array]:
        """The slots MEASURES read, per finished match."""
        last = m.start + m.length - 1
        out = []
        for slot in slots:
            if slot.var is None:
                lo, count = m.start, m.length
            else:
                k = self.pattern.var_index[slot.var]
                has = m.first[:, k] >= 0
                lo = m.start + np.where(has, m.first[:, k], 0)
                count = np.where(has, m.end[:, k] - m.first[:, k], 0)
            out.append(slot_values(rows, slot, lo, count, last, self.time_index))
        return out


def emit(matched: Branches, waiting: Branches, segment_start: np.ndarray, segment_end: np.ndarray,
         skip: tuple[str, str | None], var_index: dict[str, int], describe) -> tuple[np.ndarray, np.ndarray]:
    """Which matches are emitted, and each partition's first start still running that was not pruned (it holds
    back every start after it). Returns positions in `matched` (by start) and those starts. All partitions
    advance together, one emitted match each per round."""
    kind, var = skip
    starts = np.concatenate([matched.start, waiting.start])
    starts.sort(kind="stable")
    starts = starts[np.r_[True, starts[1:] != starts[:-1]]] if len(starts) else starts
    m_pos = np.full(len(starts), -1, np.int64)
    m_pos[np.searchsorted(starts, matched.start)] = np.arange(len(matched))
    last = matched.start + matched.length - 1
    bad = np.zeros(len(matched), bool)
    if kind == "PAST LAST ROW":
        limit = last + 1
    elif kind == "TO NEXT ROW":
        limit = matched.start + 1
    else:
        k = var_index[var]
        first = matched.first[:, k]
        bad = first < 0
        limit = matched.start + (first if kind == "TO FIRST" else matched.end[:, k] - 1)
        bad |= (limit == matched.start) & ~bad
    segment = segment_start[starts]
    cur = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]]) if len(starts) else starts
    emitted, holding = [], []
    while len(cur):
        running = m_pos[cur] < 0
        holding.append(starts[cur[running]])
        mi = m_pos[cur[~running]]
        if not len(mi):
            break
        if bad[mi].any():
            i = int(mi[bad[mi]][0])
            if matched.first[i, var_index[var]] < 0:
                raise SkipError(f"Could not skip to {var}. No such element in the found match {describe(i)}")
            raise SkipError("Could not skip to first element of a match.")
        emitted.append(mi)
        nxt = np.searchsorted(starts, limit[mi])
        inside = nxt < len(starts)
        inside[inside] = starts[nxt[inside]] < segment_end[matched.start[mi[inside]]]
        cur = nxt[inside]
    out = np.sort(np.concatenate(emitted)) if emitted else np.zeros(0, np.int64)
    return out, np.concatenate(holding) if holding else np.zeros(0, np.int64)


def _sorted_isin(a: np.ndarray, sorted_b: np.ndarray) -> np.ndarray:
    at = np.minimum(np.searchsorted(sorted_b, a), len(sorted_b) - 1)
    return sorted_b[at] == a


def _truth(a) -> np.ndarray:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if a.type == pa.null():
        return np.zeros(len(a), dtype=bool)
    return np.asarray(pc.fill_null(a, False).to_numpy(zero_copy_only=False), dtype=bool)
