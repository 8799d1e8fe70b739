"""The automaton behind MATCH_RECOGNIZE, built and run as Flink's CEP library does (NFACompiler, NFA), so that
matches, greedy and reluctant quantifiers and AFTER MATCH SKIP give Flink's rows.

Every pattern variable is strictly contiguous (SQL's concatenation). A greedy quantifier adds `AND NOT <var>` to
the transitions of the state after it, so a row its variable accepts cannot end the loop. Each row may start a new
partial match; a finished match waits until no partial match that started earlier is still alive, then the skip
strategy prunes what it overlaps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlstream.plan.match_pattern import UNBOUNDED, PatternTerm

TAKE, PROCEED = "take", "proceed"
TRUE = ("true",)


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


def variables_of(cond: tuple) -> set[str]:
    if cond[0] == "var":
        return {cond[1]}
    return set().union(*(variables_of(c) for c in cond[1:] if isinstance(c, tuple)))


@dataclass(eq=False)
class Transition:
    action: str
    target: "State"
    condition: tuple
    var: str = ""  # a TAKE maps the row to its source state's variable


@dataclass(eq=False)
class State:
    var: str  # the pattern variable a TAKE from this state maps the row to
    index: int = 0
    final: bool = False
    transitions: list[Transition] = field(default_factory=list)
    needs: frozenset = frozenset()  # variables whose conditions this state's decision may evaluate


class Automaton:
    """States of the compiled pattern; `start` is the first variable's first state."""

    def __init__(self, terms: list[PatternTerm]):
        self.states: list[State] = []
        sink = self._state("$end", final=True)
        for term in reversed(terms):
            sink = self._convert(term, sink)
        self.start = sink
        for s in self.states:
            s.needs = frozenset(self._reachable_variables(s))

    def _state(self, var: str, final: bool = False) -> State:
        s = State(var, len(self.states), final)
        self.states.append(s)
        return s

    def _convert(self, term: PatternTerm, sink: State) -> State:
        take = ("var", term.var)
        # SQL's `?` and `{n}` are never greedy in CEP; the rest are unless reluctant
        greedy = term.greedy and term.min != term.max and (term.min, term.max) != (0, 1)
        optional = term.min == 0
        if term.max == UNBOUNDED:
            loop = self._state(term.var)
            loop.transitions.append(Transition(PROCEED, sink, TRUE))
            if greedy:
                _and_not(sink, take)
            loop.transitions.append(Transition(TAKE, loop, take, term.var))
            times = max(term.min, 1)
            return self._times(loop, sink, times, times, take, False, optional)
        if term.max == 1:
            return self._singleton(sink, sink, take, optional)
        return self._times(sink, sink, max(term.min, 1), term.max, take, greedy, optional)

    def _times(self, sink: State, proceed: State, low: int, high: int, take: tuple, greedy: bool,
               optional: bool) -> State:
        if greedy and low != high:
            _and_not(sink, take)
        last = sink
        for _ in range(low, high):
            last = self._singleton(last, proceed, take, True)
        for _ in range(low - 1):
            last = self._singleton(last, proceed, take, False)
        return self._singleton(last, proceed, take, optional)

    def _singleton(self, sink: State, proceed: State, take: tuple, optional: bool) -> State:
        s = self._state(take[1])
        s.transitions.append(Transition(TAKE, sink, take, take[1]))
        if optional:
            s.transitions.append(Transition(PROCEED, proceed, TRUE))
        return s

    @staticmethod
    def _reachable_variables(state: State) -> set[str]:
        out, todo, seen = set(), [state], set()
        while todo:
            s = todo.pop()
            if s.index in seen:
                continue
            seen.add(s.index)
            for t in s.transitions:
                out |= variables_of(t.condition)
                if t.action == PROCEED:
                    todo.append(t.target)
        return out

    def describe(self) -> str:
        lines = []
        for s in self.states:
            edges = ", ".join(f"{t.action}->{t.target.index}{_cond_str(t.condition)}" for t in s.transitions)
            lines.append(f"{s.index}:{s.var}{' (final)' if s.final else ''} [{edges}]")
        return "; ".join(lines)


def _and_not(state: State, take: tuple) -> None:
    for t in state.transitions:
        t.condition = ("and", t.condition, ("not", take))


def _cond_str(c: tuple) -> str:
    if c == TRUE:
        return ""
    if c[0] == "var":
        return f" if {c[1]}"
    if c[0] == "not":
        return f" not{_cond_str(c[1])}"
    return f"{_cond_str(c[1])} and{_cond_str(c[2])}"


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


class SkipError(Exception):
    """AFTER MATCH SKIP TO FIRST/LAST names a variable the match cannot skip to (Flink fails the job)."""


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
