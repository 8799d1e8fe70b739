"""Regular-expression functions (Java's java.util.regex semantics): REGEXP, REGEXP_EXTRACT, REGEXP_EXTRACT_ALL,
REGEXP_REPLACE, REGEXP_COUNT, REGEXP_INSTR, REGEXP_SUBSTR. A constant pattern RE2 reads exactly runs over the
whole batch in Arrow; others run Python's `re` once per distinct value."""
from __future__ import annotations

import functools
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError
from sqlstream.core.types import BOOLEAN, INT, STRING, FlinkType
from sqlstream.functions.arrow import char_offsets, full, per_row, per_unique, rows
from sqlstream.functions.catalog import scalar
from sqlstream.functions.inference import nullable, require, returns, string_fn, strings

@functools.lru_cache(maxsize=256)
def _re2_pattern(pattern: str, idx: int) -> str | None:
    """`pattern` with its capture groups named g1..gN for Arrow's RE2 `extract_regex`, when that is exact:
    group `idx` takes part in every match (RE2 gives "" for a group that did not take part, Java NULL) and the
    pattern uses nothing RE2 lacks (lookaround, back-references, possessive or atomic groups)."""
    try:
        from re import _constants as C, _parser as P
    except ImportError:
        return None
    if "(?P" in pattern or "(?<" in pattern.replace("(?<=", "").replace("(?<!", ""):
        return None
    try:
        tree = P.parse(pattern)
    except Exception:
        return None
    if idx < 0 or idx > tree.state.groups - 1:
        return None
    unsupported = {C.ASSERT, C.ASSERT_NOT, C.GROUPREF, C.GROUPREF_EXISTS}
    for name in ("POSSESSIVE_REPEAT", "ATOMIC_GROUP", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE", "GROUPREF_UNI_IGNORE"):
        if hasattr(C, name):
            unsupported.add(getattr(C, name))
    found = {"ok": idx == 0}

    def walk(items, optional: bool) -> bool:
        for op, av in items:
            if op in unsupported:
                return False
            if op == C.SUBPATTERN:
                group, _, _, sub = av
                if group == idx and not optional:
                    found["ok"] = True
                if not walk(sub, optional):
                    return False
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                lo, _, sub = av
                if not walk(sub, optional or lo == 0):
                    return False
            elif op == C.BRANCH:
                for alt in av[1]:
                    if not walk(alt, True):
                        return False
        return True
    if not walk(tree, False) or not found["ok"]:
        return None
    out, k, i, in_class = [], 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "^":
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if pattern[i:i + 1] == "]":  # a leading ] is a literal
                out.append("]")
                i += 1
            continue
        elif ch == "(" and pattern[i + 1:i + 2] != "?":
            k += 1
            out.append(f"(?P<g{k}>")
            i += 1
            continue
        out.append(ch)
        i += 1
    named = "".join(out) if idx else f"(?P<g0>{''.join(out)})"
    try:
        pc.extract_regex(pa.array([], pa.string()), named)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return named


def _regexp_extract(e, args, n):
    pattern, idx = args[1], args[2] if len(args) > 2 else pa.scalar(0)  # no index: the whole match
    if isinstance(pattern, pa.Scalar) and isinstance(idx, pa.Scalar) and pattern.is_valid and idx.is_valid:
        named = _re2_pattern(pattern.as_py(), idx.as_py())
        if named is not None:  # the whole batch in one RE2 pass
            found = pc.extract_regex(full(args[0], n), named)
            return pc.struct_field(found, [f"g{idx.as_py()}"])

    def f(x, pattern, idx=0):
        if None in (x, pattern, idx):
            return None
        try:
            m = re.search(pattern, x)
        except re.error as ex:
            raise ExecutionError(f"REGEXP_EXTRACT: invalid regular expression {pattern!r}: {ex}")
        if m is None or idx > (m.re.groups or 0):
            return None
        return m.group(idx)
    return per_unique(e, args, n, f)


def _regexp_replace(e, args, n):
    s, p, r = args
    if isinstance(p, pa.Scalar) and isinstance(r, pa.Scalar):  # the replacement is literal text, as in Flink
        if not p.is_valid or not r.is_valid:
            return pa.nulls(n, pa.string())
        return pc.replace_substring_regex(full(s, n), p.as_py(), r.as_py().replace("\\", "\\\\"))
    return per_row(e, args, n, lambda x, y, z: None if None in (x, y, z) else re.sub(y, lambda m: z, x))


def _regexp(e, args, n):
    s, p = args
    if isinstance(p, pa.Scalar):
        return pc.match_substring_regex(full(s, n), p.as_py())
    # patterns that differ by row: each distinct one matched once, over the rows that carry it (grouped by a sort)
    texts, enc = full(s, n), pc.dictionary_encode(full(p, n))
    codes = enc.indices.fill_null(-1).to_numpy()
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(enc.dictionary) + 1))  # starts[0]: the NULL patterns
    pieces = [pa.nulls(int(starts[0]), pa.bool_())]
    for j, pattern in enumerate(enc.dictionary.to_pylist()):
        pieces.append(pc.match_substring_regex(texts.take(order[starts[j]:starts[j + 1]]), pattern))
    back = np.empty(n, np.int64)
    back[order] = np.arange(n)
    return pa.concat_arrays(pieces).take(back)


def _regex_scalar(args, n, what: str):
    pattern = args[1]
    if not isinstance(pattern, pa.Scalar):
        raise ExecutionError(f"{what} needs a constant regular expression")
    return full(args[0], n), (pattern.as_py() if pattern.is_valid else None)


def _regexp_count(e, args, n):
    s, pattern = _regex_scalar(args, n, "REGEXP_COUNT")
    if pattern is None:
        return pa.nulls(n, pa.int32())
    return pc.cast(pc.count_substring_regex(s, pattern), pa.int32())


def _regexp_instr(e, args, n):
    """1-based position of the first match, 0 when there is none."""
    s, pattern = _regex_scalar(args, n, "REGEXP_INSTR")
    if pattern is None:
        return pa.nulls(n, pa.int32())
    return pc.cast(pc.add(char_offsets(s, pc.find_substring_regex(s, pattern)), 1), pa.int32())


def _regexp_substr(e, args, n):
    """The first match, NULL when there is none."""
    s, pattern = _regex_scalar(args, n, "REGEXP_SUBSTR")
    if pattern is None:
        return pa.nulls(n, pa.string())
    return _regexp_extract(e, [s, pa.scalar(pattern), pa.scalar(0)], n)




def regexp_extract_all(text, pattern, group=1):
    if None in (text, pattern, group):
        return None
    try:
        rx = re.compile(pattern)
    except re.error as ex:
        raise ExecutionError(f"REGEXP_EXTRACT_ALL: invalid regular expression {pattern!r}: {ex}") from None
    if not 0 <= group <= rx.groups:
        raise ExecutionError(f"REGEXP_EXTRACT_ALL: group {group} is beyond the {rx.groups} group(s) of "
                             f"{pattern!r}")
    return [m.group(group) for m in rx.finditer(text)]




def _extract_all_type(name, args):
    require(name, args, 2 <= len(args) <= 3 and strings(args[:2])
            and all(x.is_integer or x.name == "NULL" for x in args[2:]))
    return FlinkType("ARRAY", children=(STRING,), nullable=nullable(args))


_C, _I = "CHARACTER", "INTEGER"

FUNCTIONS = (
    scalar("REGEXP", returns(BOOLEAN, (2, 2)), _regexp, signatures=((_C, _C),)),
    scalar("REGEXP_EXTRACT", string_fn((2, 3)), _regexp_extract, signatures=((_C, _C, _I), (_C, _C))),
    scalar("REGEXP_EXTRACT_ALL", _extract_all_type, lambda e, a, n: rows(e, a, n, regexp_extract_all)),
    scalar("REGEXP_REPLACE", string_fn((3, 3)), _regexp_replace, signatures=((_C, _C, _C),)),
    scalar("REGEXP_COUNT", returns(INT, (2, 2)), _regexp_count, signatures=((_C, _C),)),
    scalar("REGEXP_INSTR", returns(INT, (2, 2)), _regexp_instr, signatures=((_C, _C),)),
    scalar("REGEXP_SUBSTR", returns(STRING, (2, 2), keep_null=False), _regexp_substr, signatures=((_C, _C),)),
)
