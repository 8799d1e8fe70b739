"""Typed scalar expressions: a small, serializable IR the runtime evaluates over Arrow batches."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlstream.core.types import BOOLEAN, FlinkType


@dataclass(frozen=True, eq=False)
class Expr:
    type: FlinkType

    def children(self) -> tuple["Expr", ...]:
        return ()


@dataclass(frozen=True, eq=False)
class Ref(Expr):
    """A column of the input, by position."""

    index: int
    name: str

    def __str__(self) -> str:
        return f"${self.index}:{self.name}"


@dataclass(frozen=True, eq=False)
class Lit(Expr):
    """A constant. Intervals are milliseconds (day-time) or months (year-month)."""

    value: Any

    def __str__(self) -> str:
        if isinstance(self.value, str):
            return "'" + self.value.replace("'", "''") + "'"
        return "NULL" if self.value is None else str(self.value)


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A function or operator call; `fn` names an entry of the runtime's function table."""

    fn: str
    args: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def __str__(self) -> str:
        if self.fn == "CAST":
            return f"CAST({self.args[0]} AS {self.type.without_time_attr()})"
        return f"{self.fn}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True, eq=False)
class SubqueryPredicate(Expr):
    """`x [NOT] IN (SELECT y ..)` or `[NOT] EXISTS (SELECT .. WHERE inner.a = outer.b ..)` as the binder leaves it
    in a filter: a row passes when the subquery's rows hold one (or, negated, none) whose first columns equal its
    `keys`. Nothing evaluates it: a rule decorrelates the filter into a semi or anti join
    (planner/rules/semi_anti_join.py)."""

    keys: tuple[Expr, ...]  # the outer row's columns, matched with the subquery's first columns
    query: Any  # the bound subquery (a logical node)
    negated: bool = False
    null_aware: bool = False  # NOT IN: a NULL on either side makes the comparison unknown, blocking the row
    # EXISTS correlated by more than equalities: the other correlated conjuncts, over the outer row's columns
    # followed by the subquery's
    condition: Any = None

    def children(self) -> tuple[Expr, ...]:
        return self.keys

    def __str__(self) -> str:
        return f"{'NOT ' if self.negated else ''}IN(({', '.join(str(k) for k in self.keys)}), <subquery>)"


@dataclass(frozen=True, eq=False)
class WindowBound(Expr):
    """window_start, window_end or window_time of the group window a row falls in (`GROUP BY TUMBLE(ts, ..)` and
    its auxiliary functions TUMBLE_START ..), as a GROUP BY keys on it. Nothing evaluates it: a rule makes a
    window aggregation of the grouping (planner/rules/window_aggregate.py)."""

    prop: str  # window_start | window_end | window_time
    window: Any  # the logical WindowSpec, over the input's columns

    def __str__(self) -> str:
        return f"{self.prop}({self.window})"


def refs(e: Expr) -> set[int]:
    """Input column positions an expression reads."""
    if isinstance(e, Ref):
        return {e.index}
    out: set[int] = set()
    for c in e.children():
        out |= refs(c)
    return out


def remap(e: Expr, mapping: dict[int, int]) -> Expr:
    """The same expression over a re-ordered input (old position -> new position)."""
    if isinstance(e, Ref):
        return Ref(e.type, mapping[e.index], e.name)
    if isinstance(e, Call):
        return Call(e.type, e.fn, tuple(remap(a, mapping) for a in e.args))
    return e


def substitute(e: Expr, exprs: list[Expr]) -> Expr:
    """Inline: replace Ref(i) by exprs[i] (used to merge two Calcs)."""
    if isinstance(e, Ref):
        return exprs[e.index]
    if isinstance(e, Call):
        return Call(e.type, e.fn, tuple(substitute(a, exprs) for a in e.args))
    return e


NONDETERMINISTIC = frozenset({"RAND", "UUID", "NOW", "CURRENT_TIMESTAMP", "PROCTIME", "LOCALTIMESTAMP", "LOCALTIME",
                              "CURRENT_DATE", "CURRENT_TIME", "CURRENT_ROW_TIMESTAMP", "UNIX_TIMESTAMP"})


def is_deterministic(e: Expr) -> bool:
    if isinstance(e, Call) and e.fn in NONDETERMINISTIC:
        return False
    return all(is_deterministic(c) for c in e.children())


def and_expr(a: Expr, b: Expr) -> Expr:
    """a AND b, NULL-able when either side is."""
    return Call(BOOLEAN.with_nullable(a.type.nullable or b.type.nullable), "AND", (a, b))
