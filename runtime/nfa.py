"""The automaton behind MATCH_RECOGNIZE, built as Flink's CEP library compiles a pattern (NFACompiler), so that
matches, greedy and reluctant quantifiers give Flink's rows; `runtime/match_wavefront.py` runs it.

Every pattern variable is strictly contiguous (SQL's concatenation). A greedy quantifier adds `AND NOT <var>` to
the transitions of the state after it, so a row its variable accepts cannot end the loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlstream.plan.match_pattern import UNBOUNDED, PatternTerm

TAKE, PROCEED = "take", "proceed"
TRUE = ("true",)


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


class SkipError(Exception):
    """AFTER MATCH SKIP TO FIRST/LAST names a variable the match cannot skip to (Flink fails the job)."""
