"""REGEXP_EXTRACT runs in one RE2 pass over the batch where that is exact; it must agree with the per-string
Java-style path (NULL for no match, for a group that did not take part, or for a missing group)."""
import random
import zlib

import pyarrow as pa
import pytest

from sqlstream.plan.expr import Call, Lit, Ref
from sqlstream.functions import regex
from sqlstream.runtime import expressions
from sqlstream.core.types import INT, STRING

PATTERNS = [("(&|^)channel_id=([^&]*)", 2), ("(&|^)channel_id=([^&]*)", 1), ("a(b)?c", 1), ("(a|b)+", 1),
            (r"(\d+)-(\d+)", 2), (r"[(]x(y)", 1), (r"(?:a)(b)", 1), ("b(a*)", 1), ("(c)", 0), ("(x)", 3)]


def strings(seed: int, n: int = 400) -> list:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        if rnd.random() < 0.05:
            out.append(None)
            continue
        parts = [rnd.choice(["a", "b", "c", "&", "channel_id=", "7", "-", "12", "(x", "y", "=", "ab"])
                 for _ in range(rnd.randint(0, 8))]
        out.append("".join(parts))
    return out


@pytest.mark.parametrize("pattern,idx", PATTERNS)
def test_batch_path_agrees_with_the_per_string_path(pattern, idx, monkeypatch):
    values = pa.array(strings(zlib.crc32(f"{pattern}/{idx}".encode()) % 1000), pa.string())
    call = Call(STRING, "REGEXP_EXTRACT", (Ref(STRING, 0, "s"), Lit(STRING, pattern), Lit(INT, idx)))
    fast = expressions.evaluate(call, [values], len(values)).to_pylist()
    monkeypatch.setattr(regex, "_re2_pattern", lambda p, i: None)
    slow = expressions.evaluate(call, [values], len(values)).to_pylist()
    assert fast == slow
    assert any(v is not None for v in slow) or idx == 3


def test_batch_path_is_used_only_where_exact():
    assert regex._re2_pattern("(&|^)channel_id=([^&]*)", 2) is not None
    assert regex._re2_pattern("a(b)?c", 1) is None      # an optional group: Java gives NULL, RE2 ""
    assert regex._re2_pattern("(a)|(b)", 2) is None     # an alternative
    assert regex._re2_pattern("x(?=y)(z)", 1) is None   # lookahead: not in RE2


def test_regexp_with_a_pattern_per_row_agrees_with_each_pattern_as_a_constant():
    """REGEXP(s, p) with patterns from a column (repeated, NULL, one row each) gives, row by row, what the pattern
    gives as a constant."""
    from sqlstream.core.types import BOOLEAN
    rnd = random.Random(7)
    texts = strings(11, 300)
    patterns = [rnd.choice([None, "a(b)?c", "^(a|b)+$", r"\d+-\d+", "x"] + [f"{i}" for i in range(20)])
                for _ in texts]
    call = Call(BOOLEAN, "REGEXP", (Ref(STRING, 0, "s"), Ref(STRING, 1, "p")))
    got = expressions.evaluate(call, [pa.array(texts, pa.string()), pa.array(patterns, pa.string())],
                               len(texts)).to_pylist()
    expected = []
    for text, pattern in zip(texts, patterns):
        one = Call(BOOLEAN, "REGEXP", (Ref(STRING, 0, "s"), Lit(STRING, pattern)))
        expected += [None] if pattern is None else expressions.evaluate(one, [pa.array([text], pa.string())], 1).to_pylist()
    assert got == expected
    assert True in got and False in got and None in got
