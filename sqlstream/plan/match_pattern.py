"""MATCH_RECOGNIZE row patterns: the PATTERN text as a sequence of quantified variables, with Flink's limits
(no alternation, groups or PERMUTE; unique variables; no reluctant optional; no greedy last element; at least
one variable that must match)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlstream.core.errors import ValidationError

UNBOUNDED = -1


@dataclass(frozen=True)
class PatternTerm:
    """One pattern variable with its quantifier: between `min` and `max` rows (`max` = UNBOUNDED)."""

    var: str
    min: int = 1
    max: int = 1
    greedy: bool = True

    @property
    def optional(self) -> bool:
        return self.min == 0

    def __str__(self) -> str:
        q = {(1, 1): "", (0, 1): "?", (1, UNBOUNDED): "+", (0, UNBOUNDED): "*"}.get((self.min, self.max))
        if q is None:
            q = f"{{{self.min},{'' if self.max == UNBOUNDED else self.max}}}" if self.min != self.max \
                else f"{{{self.min}}}"
        return f"{self.var}{q}{'' if self.greedy or (self.min, self.max) == (1, 1) else '?'}"


_TERM = re.compile(r"\s*(?P<var>[A-Za-z_][A-Za-z_0-9]*|`[^`]+`)\s*"
                   r"(?P<q>[*+?]|\{\s*(?P<lo>\d*)\s*(?P<comma>,)?\s*(?P<hi>\d*)\s*\})?\s*(?P<reluctant>\?)?")


def parse_pattern(text: str, where: str = "") -> list[PatternTerm]:
    """`A B+? C{2,3}` -> [A, B+?, C{2,3}]."""
    terms: list[PatternTerm] = []
    pos = 0
    while text[pos:].strip():
        m = _TERM.match(text, pos)
        if m is None:
            bad = text[pos:].strip()[0]
            if bad == "|":
                raise ValidationError(f"{where}Currently, CEP doesn't support branching patterns ('|' in "
                                      f"PATTERN ({text}))")
            if bad in "()":
                raise ValidationError(f"{where}Group patterns are not supported yet (PATTERN ({text}))")
            raise ValidationError(f"{where}Unexpected '{bad}' in PATTERN ({text})")
        pos = m.end()
        q = m.group("q")
        lo, hi = {None: (1, 1), "*": (0, UNBOUNDED), "+": (1, UNBOUNDED), "?": (0, 1)}.get(q, (None, None))
        if lo is None:
            lo = int(m.group("lo")) if m.group("lo") else 0
            hi = (int(m.group("hi")) if m.group("hi") else UNBOUNDED) if m.group("comma") else lo
            if hi != UNBOUNDED and (hi < lo or hi == 0):
                raise ValidationError(f"{where}Invalid quantifier {q} in PATTERN ({text})")
        reluctant = m.group("reluctant") is not None
        if reluctant and q is None:
            raise ValidationError(f"{where}Unexpected '?' in PATTERN ({text})")
        if reluctant and (lo, hi) == (0, 1):
            raise ValidationError(f"{where}Reluctant optional variables are not supported yet.")
        terms.append(PatternTerm(m.group("var").strip("`"), lo, hi, greedy=not reluctant))
    _check(terms, text, where)
    return terms


def _check(terms: list[PatternTerm], text: str, where: str) -> None:
    if not terms:
        raise ValidationError(f"{where}PATTERN () must name at least one pattern variable")
    names = [t.var for t in terms]
    if len(set(n.upper() for n in names)) != len(names):
        raise ValidationError(f"{where}Pattern variables must be unique. That might change in the future.")
    if all(t.optional for t in terms):
        raise ValidationError(f"{where}Patterns that can produce empty matches are not supported. There must be "
                              f"at least one non-optional state.")
    last = terms[-1]
    if last.greedy and last.min != last.max and not (last.min, last.max) == (0, 1):
        raise ValidationError(f"{where}Greedy quantifiers are not allowed as the last element of a Pattern yet. "
                              f"Finish your pattern with either a simple variable or reluctant quantifier.")
