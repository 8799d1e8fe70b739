"""The row-at-a-time MATCH_RECOGNIZE: the oracle the column-wise operator (runtime/operators/match_recognize.py)
is compared with. Each partition's rows are fed one at a time to its automaton (runtime/nfa.py's Matcher, Flink's
NFA with its partial matches), in (rowtime, ORDER BY, arrival) order once the watermark passes them.
"""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.plan.logical import AggCall, MatchSlot
from sqlstream.core.changelog import INSERT, data_columns, make_batch, row_watermarks
from sqlstream.runtime.expressions import evaluate
from sqlstream.runtime.nfa import PROCEED, Automaton, SkipError, State
from sqlstream.runtime.operator import Operator, OperatorContext
from sqlstream.runtime.operators.over_aggregate import aggregate
from sqlstream.runtime.event_time import MIN_WM, rowtime_ms
from sqlstream.runtime.row_eval import compile_row
from sqlstream.runtime.rows import batch_rows, columns, pop_ready, rows_table, table_rows
from sqlstream.core.errors import SqlStreamError


class MatchState:
    """Rows waiting for the watermark, rows held by partial or finished matches, and each partition's matches
    (automaton state, the rows taken with their variables, start)."""

    def __init__(self, op: "ReferenceMatchRecognizeOperator"):
        self.op = op

    def snapshot(self) -> pa.Table:
        op = self.op
        events: dict[int, Event] = {}
        pending: dict[int, int] = {}
        for buf in op.pending.values():
            for t, _, seq, ev in buf:
                events[id(ev)] = ev
                pending[id(ev)] = seq
        matchers = {}
        for key, m in op.matchers.items():
            def enc(p: Partial) -> list:
                rows = p.rows()
                for e, _ in rows:
                    events[id(e)] = e
                return [p.state.index, [[id(e), v] for e, v in rows], p.start_ts]
            matchers[json.dumps(list(key), default=str)] = [[enc(p) for p in m.partials],
                                                            [enc(p) for p in m.completed]]
        order = list(events)
        number = {k: i for i, k in enumerate(order)}
        evs = [events[k] for k in order]
        blob = {k: [[[s, [[number[e], v] for e, v in path], st] for s, path, st in group] for group in groups]
                for k, groups in matchers.items()}
        table = rows_table([e.row for e in evs], op.types, {
            "$ts": pa.array([e.ts for e in evs], pa.int64()),
            "$pos": pa.array([e.id[1] for e in evs], pa.int64()),
            "$pending": pa.array([pending.get(k) for k in order], pa.int64())})
        return table.replace_schema_metadata({"matchers": json.dumps(blob), "seq": str(op.seq),
                                              "position": str(op.position), "late": str(op.late_dropped)})

    def restore(self, table: pa.Table) -> None:
        op = self.op
        rows = table_rows(table, len(op.types))
        local = op.local_conditions([table.column(f"c{i}") for i in range(len(op.types))], table.num_rows)
        events = [Event(t, pos, row, loc) for t, pos, row, loc in
                  zip(table.column("$ts").to_pylist(), table.column("$pos").to_pylist(), rows, local)]
        op.pending, op.matchers = {}, {}
        for ev, seq in zip(events, table.column("$pending").to_pylist()):
            if seq is not None:
                op.pending.setdefault(op.key_of(ev.row), []).append((ev.ts, op.sort_key(ev.row), seq, ev))
        meta = table.schema.metadata or {}
        states = op.automaton.states
        for groups in json.loads(meta.get(b"matchers", b"{}")).values():
            m = Matcher(op.automaton, op.skip, op.within)

            def dec(enc) -> Partial:
                s, path, start_ts = enc
                step = None
                for i, v in path:
                    step = Step(events[i], v, step)
                start = events[path[0][0]].id if path else None
                return Partial(states[s], step, start, start_ts)
            m.partials = [dec(e) for e in groups[0]]
            m.completed = [dec(e) for e in groups[1]]
            held = next(p for p in m.partials + m.completed if p.path)
            op.matchers[op.key_of(held.rows()[0][0].row)] = m
        op.seq = int(meta.get(b"seq", b"0"))
        op.position = int(meta.get(b"position", b"0"))
        op.late_dropped = int(meta.get(b"late", b"0"))

    def size_bytes(self) -> int:
        op = self.op
        return (sum(len(b) for b in op.pending.values()) +
                sum(len(m.partials) + len(m.completed) for m in op.matchers.values())) * 64


class ReferenceMatchRecognizeOperator(Operator):
    drops_late_rows = True
    name = "MatchRecognize"

    def __init__(self, node, names: list[str], types: list[pa.DataType], out_types: list[pa.DataType]):
        self.partition, self.time_index, self.order = node.partition, node.time_index, node.order
        self.proctime = node.proctime
        self.automaton = Automaton(node.pattern)
        self.skip, self.within = node.skip, node.within
        self.types = types
        self.n_in = len(types)
        self.local_defs = {v: c for v, (c, slots) in node.defines.items() if not slots}
        self.slot_defs = {v: (c, slots) for v, (c, slots) in node.defines.items() if slots}
        self.row_defs = {v: f for v, (c, _) in self.slot_defs.items() if (f := compile_row(c)) is not None}
        self.measures, self.measure_slots = node.measures, node.measure_slots
        self.names, self.out_types = names, out_types
        self.pending: dict[tuple, list[tuple]] = {}  # key -> [(ts, sort key, seq, Event)]
        self.matchers: dict[tuple, Matcher] = {}
        self.deferred: list[tuple] = []
        self.seq = 0        # arrival order
        self.position = 0   # processing order, the second part of an event's id
        self.late_dropped = 0

    def open(self, ctx: OperatorContext) -> None:
        ctx.register("match", MatchState(self))

    def key_of(self, row: tuple) -> tuple:
        return tuple(row[p] for p in self.partition)

    def sort_key(self, row: tuple) -> tuple:
        return tuple(_Desc(row[i]) if desc else _Asc(row[i]) for i, desc in self.order)

    def local_conditions(self, cols: list[pa.Array], n: int) -> list[dict]:
        """Per row, the results of the DEFINE conditions that read only the row itself."""
        bits = {v: _truth(evaluate(c, cols, n)) for v, c in self.local_defs.items()}
        return [{v: bool(b[i]) for v, b in bits.items()} for i in range(n)]

    def on_batch(self, batch: pa.RecordBatch, input: int = 0) -> list[pa.RecordBatch]:
        cols = data_columns(batch)
        n = batch.num_rows
        ts, valid = rowtime_ms(cols[self.time_index])
        wm = row_watermarks(batch)
        if wm is None:
            wm = np.full(n, MIN_WM, dtype=np.int64)
        local = self.local_conditions(cols, n)
        if self.proctime:
            return self._arrivals(batch_rows(cols, n), ts, local)
        late = np.zeros(n, dtype=bool)
        # a key's waiting rows are all after the watermark it last saw (rows at or behind it are late), so the
        # watermark releases something for a key only once it has moved since then
        seen: dict[tuple, int] = {}
        for i, row in enumerate(batch_rows(cols, n)):
            key = self.key_of(row)
            t, w = int(ts[i]), int(wm[i])
            if seen.get(key) != w:
                seen[key] = w
                self.deferred += self._advance(key, w)  # what the watermark before this row released
            if not valid[i] or t <= w:
                self.late_dropped += 1
                late[i] = True
                continue
            self.pending.setdefault(key, []).append((t, self.sort_key(row), self.seq, Event(t, 0, row, local[i])))
            self.seq += 1
        if self.late_rows is not None:
            self.late_rows.add(cols, late, ts, wm)
        return []

    def _arrivals(self, rows: list[tuple], ts: np.ndarray, local: list[dict]) -> list[pa.RecordBatch]:
        """Processing time: each row is matched when it arrives, in arrival order; WITHIN counts wall-clock time."""
        found = []
        for i, row in enumerate(rows):
            key = self.key_of(row)
            matcher = self.matchers.get(key)
            if matcher is None:
                matcher = self.matchers[key] = Matcher(self.automaton, self.skip, self.within)
            t = int(ts[i])
            ev = Event(t, self.position, row, local[i])
            self.position += 1
            found += self._matches(key, matcher.advance_time(t))
            found += self._matches(key, self._feed(matcher, ev))
            if matcher.empty:
                del self.matchers[key]
        return [self._output([(key, rows) for _, key, rows in found])] if found else []

    def on_watermark(self, wm: int) -> list[pa.RecordBatch]:
        if self.proctime:
            return []
        found, self.deferred = self.deferred, []
        keys = set(self.pending) | (set(self.matchers) if self.within else set())
        for key in keys:
            found += self._advance(key, wm)
        if not found:
            return []
        found.sort(key=lambda f: f[0])
        return [self._output([(key, rows) for _, key, rows in found])]

    def _advance(self, key: tuple, wm: int) -> list[tuple]:
        buf = self.pending.get(key)
        matcher = self.matchers.get(key)
        if not buf and (matcher is None or not self.within):
            return []
        out = []
        if matcher is None:
            matcher = self.matchers[key] = Matcher(self.automaton, self.skip, self.within)
        for t, _, _, ev in pop_ready(self.pending, key, wm, order=lambda e: e[:3]):
            ev.id = (t, self.position)
            self.position += 1
            out += self._matches(key, matcher.advance_time(t))
            out += self._matches(key, self._feed(matcher, ev))
        out += self._matches(key, matcher.advance_time(wm))
        if matcher.empty:
            del self.matchers[key]
        return out

    def _matches(self, key: tuple, matches: list) -> list[tuple]:
        return [(rows[-1][0].id, key, rows) for rows in matches]

    def _feed(self, matcher: Matcher, ev: Event) -> list:
        values = self._slot_conditions(matcher.partials, ev)

        def value(p: Partial, var: str) -> bool:
            if var in ev.local:
                return ev.local[var]
            if var in self.slot_defs:
                return values[(id(p), var)]
            return True  # a variable without DEFINE accepts every row
        try:
            return matcher.process(ev, value)
        except SkipError as e:
            raise SqlStreamError(f"MATCH_RECOGNIZE: {e}") from None

    def _slot_conditions(self, partials: list[Partial], ev: Event) -> dict:
        """DEFINE conditions that navigate into the match, for every partial match that may ask, one batch
        per variable."""
        out = {}
        for var, (cond, slots) in self.slot_defs.items():
            cands = [p for p in partials if var in p.state.needs]
            if not cands:
                continue
            rows = [ev.row + tuple(_slot_value(s, p.rows() + [(ev, var)], self.time_index) for s in slots)
                    for p in cands]
            fn = self.row_defs.get(var)
            if fn is not None:
                for p, r in zip(cands, rows):
                    out[(id(p), var)] = fn(r) is True
                continue
            types = self.types + [s.type.to_arrow() for s in slots]
            result = _truth(evaluate(cond, columns(rows, types), len(rows)))
            for p, r in zip(cands, result):
                out[(id(p), var)] = bool(r)
        return out

    def _output(self, found: list[tuple]) -> pa.RecordBatch:
        slot_rows = [tuple(_slot_value(s, rows, self.time_index) for s in self.measure_slots) for _, rows in found]
        # measures read slots only; the input columns before them are never read, so NULLs stand in for them
        n = len(found)
        cols = [pa.nulls(n, t) for t in self.types] + columns(slot_rows, [s.type.to_arrow() for s in self.measure_slots])
        keys = columns([k for k, _ in found], [self.types[p] for p in self.partition])
        values = [evaluate(m, cols, n) for m in self.measures]
        out = [c.cast(t) if c.type != t else c for c, t in zip(keys + values, self.out_types)]
        return make_batch(INSERT, out, self.names)

    def metrics(self) -> dict:
        return {"late_records_dropped": self.late_dropped}


def _slot_value(slot: MatchSlot, rows: list[tuple], time_index: int):
    if slot.kind == "rowtime":
        return rows[-1][0].row[time_index]
    mapped = [e.row for e, v in rows if slot.var is None or v == slot.var]
    if slot.kind == "agg":
        if slot.column is None:
            return len(mapped)
        call = AggCall(slot.fn, (0,), slot.type)
        return aggregate(call, [r[slot.column] for r in mapped])
    i = len(mapped) - 1 - slot.offset if slot.kind == "last" else slot.offset
    return mapped[i][slot.column] if 0 <= i < len(mapped) else None


def _truth(a: pa.Array) -> np.ndarray:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if a.type == pa.null():
        return np.zeros(len(a), dtype=bool)
    return np.asarray(pc.fill_null(a, False).to_numpy(zero_copy_only=False), dtype=bool)


class _Asc:
    """Sort wrapper: NULLs first, as Flink's comparator orders them ascending."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __lt__(self, other) -> bool:
        if self.v is None or other.v is None:
            return self.v is None and other.v is not None
        return self.v < other.v

    def __eq__(self, other) -> bool:
        return self.v == other.v


class _Desc(_Asc):
    def __lt__(self, other) -> bool:
        return _Asc.__lt__(other, self)


# Flink's NFA run a row at a time over one partition's partial matches

def holds(cond: tuple, value) -> bool:
    """Evaluates a transition condition; `value(var)` says whether `var`'s DEFINE accepts the row."""
    kind = cond[0]
    if kind == "true":
        return True
    if kind == "var":
        return value(cond[1])
    if kind == "not":
        return not holds(cond[1], value)
    return holds(cond[1], value) and holds(cond[2], value)


class Step:
    """One link of a match: the row (an event) and the variable it is mapped to; `prev` is the link before."""

    __slots__ = ("event", "var", "prev", "length")

    def __init__(self, event, var: str, prev: "Step | None"):
        self.event, self.var, self.prev = event, var, prev
        self.length = 1 if prev is None else prev.length + 1

    def rows(self) -> list[tuple]:
        """(event, var) from the first row of the match to this one."""
        out, s = [], self
        while s is not None:
            out.append((s.event, s.var))
            s = s.prev
        out.reverse()
        return out


class Partial:
    """A computation state: where in the automaton a match is, the rows it took, and when it started."""

    __slots__ = ("state", "path", "start", "start_ts", "_rows")

    def __init__(self, state: State, path: Step | None, start: tuple | None, start_ts: int):
        self.state, self.path, self.start, self.start_ts = state, path, start, start_ts
        self._rows = None

    @property
    def is_start(self) -> bool:
        return self.path is None

    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = self.path.rows() if self.path is not None else []
        return self._rows

    def order(self) -> tuple:
        """Flink's COMPUTATION_STATE_COMPARATOR: by start event; the waiting start state sorts last."""
        return self.start if self.start is not None else (float("inf"), float("inf"))


class Event:
    """A row in processing order: `id` is (timestamp, position) as Flink's EventId compares them; `local` holds
    the results of DEFINE conditions that read only the row itself."""

    __slots__ = ("ts", "id", "row", "local")

    def __init__(self, ts: int, position: int, row: tuple, local: dict):
        self.ts, self.id, self.row, self.local = ts, (ts, position), row, local


class Matcher:
    """One partition's partial and finished matches (Flink's NFAState) and the NFA step over them."""

    def __init__(self, automaton: Automaton, skip: tuple[str, str | None], within: int):
        self.automaton, self.skip, self.within = automaton, skip, within
        self.partials: list[Partial] = [Partial(automaton.start, None, None, -1)]
        self.completed: list[Partial] = []  # finished, waiting for earlier partial matches (by start)

    def process(self, event: Event, value) -> list[list[tuple]]:
        """Feeds one row; `value(partial, var)` tells whether var's DEFINE holds for the row in that partial
        match. Returns the matches emitted, each as [(event, var)]."""
        new_partials, finished = [], []
        for p in self.partials:
            for q in self._next(p, event, value):
                (finished if q.state.final else new_partials).append(q)
        self.partials = new_partials
        return self._emit(finished)

    def advance_time(self, ts: int) -> list[list[tuple]]:
        """Drops partial matches older than WITHIN; finished matches they held back may now be emitted."""
        if not self.within:
            return []
        alive = [p for p in self.partials if p.is_start or ts - p.start_ts < self.within]
        if len(alive) == len(self.partials):
            return []
        self.partials = alive
        return self._emit([])

    @property
    def empty(self) -> bool:
        return not self.completed and len(self.partials) == 1 and self.partials[0].is_start

    def _next(self, p: Partial, event: Event, value) -> list[Partial]:
        memo: dict[str, bool] = {}

        def test(var: str) -> bool:
            if var not in memo:
                memo[var] = value(p, var)
            return memo[var]
        edges, stack = [], [p.state]
        while stack:  # PROCEED edges are epsilon moves that see the current row
            s = stack.pop()
            for t in s.transitions:
                if holds(t.condition, test):
                    if t.action == PROCEED:
                        stack.append(t.target)
                    else:
                        edges.append(t)
        out = []
        for t in edges:
            path = Step(event, t.var, p.path)
            start, start_ts = (event.id, event.ts) if p.is_start else (p.start, p.start_ts)
            out.append(Partial(t.target, path, start, start_ts))
            final = _final_after_proceed(t.target, test)
            if final is not None:
                out.append(Partial(final, path, start, start_ts))
        if p.is_start:
            out.append(Partial(p.state, None, None, -1))
        return out

    def _emit(self, finished: list[Partial]) -> list[list[tuple]]:
        if finished:
            self.completed = sorted(self.completed + finished, key=Partial.order)
        out = []
        while self.completed:
            head = self.completed[0]
            first_partial = min((q.order() for q in self.partials), default=None)
            if first_partial is not None and head.order() > first_partial:
                break
            self.completed.pop(0)
            rows = head.rows()
            self._prune(rows)
            out.append(rows)
        return out

    def _prune(self, rows: list[tuple]) -> None:
        kind, var = self.skip
        if kind == "PAST LAST ROW":
            limit, strict = rows[-1][0].id, False
        elif kind == "TO NEXT ROW":
            limit, strict = rows[0][0].id, False
        else:
            mapped = [e.id for e, v in rows if v == var]
            if not mapped:
                raise SkipError(f"Could not skip to {var}. No such element in the found match "
                                f"{_describe(rows)}")
            limit, strict = (mapped[0] if kind == "TO FIRST" else mapped[-1]), True
            if limit == rows[0][0].id:
                raise SkipError("Could not skip to first element of a match.")

        def keep(q: Partial) -> bool:
            return q.start is None or (q.start >= limit if strict else q.start > limit)
        self.partials = [q for q in self.partials if keep(q)]
        self.completed = [q for q in self.completed if keep(q)]


def _final_after_proceed(state: State, test) -> State | None:
    """A state just entered that can PROCEED to the end on the same row completes a match there."""
    stack = [state]
    while stack:
        s = stack.pop()
        for t in s.transitions:
            if t.action == PROCEED and holds(t.condition, test):
                if t.target.final:
                    return t.target
                stack.append(t.target)
    return None


def _describe(rows: list[tuple]) -> str:
    out: dict[str, list] = {}
    for e, v in rows:
        out.setdefault(v, []).append(e.row)
    return str(out)
