"""Strings matching a regular expression (Java Faker's `regexify`), generated for many rows at once.

Supports what generated data needs: literals and escapes, groups with alternatives `(a|b)`, character classes
`[a-z0-9]`, `.`, `\\d`, `\\w`, and the quantifiers `?`, `*`, `+`, `{n}`, `{n,m}` (`*` and `+` repeat at most
REPEAT_CAP times). Anything else (anchors, lookarounds, back references) is an error naming the pattern.
"""
from __future__ import annotations

import string

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import OptionError

REPEAT_CAP = 8
DIGITS = list(string.digits)
WORD = list(string.ascii_letters + string.digits + "_")
ANY = list(string.ascii_letters + string.digits)


class _Parser:
    def __init__(self, pattern: str):
        self.p, self.i = pattern, 0

    def fail(self, what: str):
        raise OptionError(f"Unsupported regexify pattern '{self.p}': {what} at position {self.i}")

    def alternatives(self) -> list:
        alts = [self.sequence()]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            alts.append(self.sequence())
        return alts

    def sequence(self) -> list:
        items = []
        while self.i < len(self.p) and self.p[self.i] not in "|)":
            atom = self.atom()
            lo, hi = self.quantifier()
            items.append((atom, lo, hi))
        return items

    def atom(self):
        c = self.p[self.i]
        self.i += 1
        if c == "(":
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.p.startswith("?", self.i):
                self.fail("lookaround or flags")
            alts = self.alternatives()
            if self.i >= len(self.p) or self.p[self.i] != ")":
                self.fail("unclosed group")
            self.i += 1
            return ("alt", alts)
        if c == "[":
            return ("class", self.char_class())
        if c == ".":
            return ("class", ANY)
        if c == "\\":
            return self.escape()
        if c in "^$":
            self.fail(f"anchor '{c}'")
        if c in "*+?{":
            self.fail(f"quantifier '{c}' without anything to repeat")
        return ("lit", c)

    def escape(self):
        if self.i >= len(self.p):
            self.fail("trailing backslash")
        c = self.p[self.i]
        self.i += 1
        if c == "d":
            return ("class", DIGITS)
        if c == "w":
            return ("class", WORD)
        if c == "s":
            return ("lit", " ")
        if c.isdigit() or c in "bBAZz":
            self.fail(f"'\\{c}'")
        return ("lit", {"n": "\n", "t": "\t"}.get(c, c))

    def char_class(self) -> list:
        chars, negate = [], False
        if self.p.startswith("^", self.i):
            negate = True
            self.i += 1
        while self.i < len(self.p) and self.p[self.i] != "]":
            c = self.p[self.i]
            self.i += 1
            if c == "\\" and self.i < len(self.p):
                kind, val = self.escape()
                chars += val if kind == "class" else [val]
            elif self.i + 1 < len(self.p) and self.p[self.i] == "-" and self.p[self.i + 1] != "]":
                end = self.p[self.i + 1]
                self.i += 2
                chars += [chr(x) for x in range(ord(c), ord(end) + 1)]
            else:
                chars.append(c)
        if self.i >= len(self.p):
            self.fail("unclosed character class")
        self.i += 1
        if negate:
            chars = [x for x in ANY if x not in chars]
        if not chars:
            self.fail("empty character class")
        return chars

    def quantifier(self) -> tuple[int, int]:
        if self.i >= len(self.p):
            return 1, 1
        c = self.p[self.i]
        if c == "?":
            self.i += 1
            return 0, 1
        if c == "*":
            self.i += 1
            return 0, REPEAT_CAP
        if c == "+":
            self.i += 1
            return 1, REPEAT_CAP
        if c == "{":
            end = self.p.find("}", self.i)
            body = self.p[self.i + 1:end] if end > 0 else ""
            lo, _, hi = body.partition(",")
            if not lo.strip().isdigit() or (hi.strip() and not hi.strip().isdigit()):
                self.fail("bad {n,m} quantifier")
            self.i = end + 1
            low = int(lo)
            high = low if not _ else (int(hi) if hi.strip() else low + REPEAT_CAP)
            return low, high
        return 1, 1


def parse(pattern: str) -> list:
    parser = _Parser(pattern)
    alts = parser.alternatives()
    if parser.i != len(pattern):
        parser.fail("unbalanced ')'")
    return alts


def generate(pattern: str, rng: np.random.Generator, n: int) -> pa.Array:
    return _alternatives(parse(pattern), rng, n)


def _alternatives(alts: list, rng, n: int) -> pa.Array:
    if len(alts) == 1:
        return _sequence(alts[0], rng, n)
    literal = [_literal(seq) for seq in alts]
    pick = pa.array(rng.integers(0, len(alts), n))
    if all(x is not None for x in literal):
        return pa.array(literal, pa.string()).take(pick)
    return pc.choose(pick, *[_sequence(seq, rng, n) for seq in alts])


def _literal(seq: list) -> str | None:
    """The text of a sequence of single literals, or None."""
    if all(kind == "lit" and lo == hi == 1 for (kind, _), lo, hi in seq):
        return "".join(val for (_, val), _, _ in seq)
    return None


def _atom(atom, rng, n: int) -> pa.Array:
    kind, val = atom
    if kind == "lit":
        return pa.array([val] * n, pa.string())
    if kind == "class":
        return pa.array(val, pa.string()).take(pa.array(rng.integers(0, len(val), n)))
    return _alternatives(val, rng, n)


def _sequence(seq: list, rng, n: int) -> pa.Array:
    parts = []
    for atom, lo, hi in seq:
        if lo == hi == 1:
            parts.append(_atom(atom, rng, n))
            continue
        counts = rng.integers(lo, hi + 1, n)
        for k in range(hi):
            rep = _atom(atom, rng, n)
            parts.append(rep if k < lo else pc.if_else(pa.array(counts > k), rep, ""))
    if not parts:
        return pa.array([""] * n, pa.string())
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")
