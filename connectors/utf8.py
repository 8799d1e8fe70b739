"""Invalid UTF-8 in a text record: found with one validation of the whole block (the fast path), located record
by record only when the block holds some."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa

from sqlstream.core.errors import FormatError


def as_text(arr: pa.Array) -> pa.Array:
    """A binary or string array seen as strings, without copying or validating the bytes."""
    if pa.types.is_binary(arr.type):
        return arr.view(pa.string())
    if pa.types.is_large_binary(arr.type):
        return arr.view(pa.large_string())
    return arr


def _valid(arr: pa.Array) -> bool:
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def invalid_utf8(arr: pa.Array) -> np.ndarray | None:
    """Mask of the records (string or binary array) that are not valid UTF-8, or None when all are. Bad records
    are located by halving the block, so a clean block costs one vectorized validation."""
    text = as_text(arr)
    if _valid(text):
        return None
    bad = np.zeros(len(text), dtype=bool)
    todo = [(0, len(text))]
    while todo:
        lo, hi = todo.pop()
        if hi <= lo or _valid(text.slice(lo, hi - lo)):
            continue
        if hi - lo == 1:
            bad[lo] = True
        else:
            mid = (lo + hi) // 2
            todo += [(mid, hi), (lo, mid)]
    return bad if bad.any() else None


def replace_invalid_utf8(arr: pa.Array) -> pa.Array:
    """Strings with each invalid byte sequence replaced by U+FFFD, as Java decodes bytes into a String."""
    text = as_text(arr)
    bad = invalid_utf8(text)
    if bad is None:
        return text
    values = text.cast(pa.binary() if pa.types.is_string(text.type) else pa.large_binary()).to_pylist()
    for i in np.flatnonzero(bad):
        values[i] = values[i].decode("utf-8", "replace").encode()
    return pa.array([None if v is None else v.decode() for v in values], text.type)


def bad_record_text(arr: pa.Array, i: int, limit: int = 120) -> str:
    """Record i shown for an error message, invalid bytes as U+FFFD."""
    raw = as_text(arr).cast(pa.large_binary())[i].as_py() or b""
    s = raw.decode("utf-8", "replace")
    return s if len(s) <= limit else s[:limit] + "..."


def reject_invalid_utf8(records: pa.Array, where: Callable[[int], str], ignore: bool,
                        fmt: str) -> np.ndarray | None:
    """Invalid UTF-8 is a malformed record: without `ignore` the first one fails naming where it came from;
    with it, the mask of the records to keep is returned (None when all are valid) for the caller to count."""
    bad = invalid_utf8(records)
    if bad is None:
        return None
    if not ignore:
        i = int(np.flatnonzero(bad)[0])
        raise FormatError(f"Failed to deserialize {fmt} '{bad_record_text(records, i)}': invalid UTF-8", where(i))
    return ~bad
