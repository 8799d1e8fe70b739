"""Checks of JSON text on its bytes, for the JSON decoder's fast path: a document with a trailing comma, a field's
text that DuckDB or Arrow may read otherwise than Flink. Each is a few numpy passes over a block's buffers (no
regular expression over whole documents), and a check may flag more than it must (a false alarm only sends the
document down Flink's rules) but never less."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# digits from which an integer may not fit its type
INTEGER_DIGITS = {"TINYINT": 3, "SMALLINT": 5, "INT": 10, "INTEGER": 10, "BIGINT": 19}

# a STRING field's text that may not be the JSON value's text as Flink writes it: a number DuckDB wrote back
# (4.50 -> '4.5', 1e5 -> '100000.0'), an object or array DuckDB wrote compact
STRING_NOT_AS_WRITTEN = r"^(?:-?[0-9]+[.eE]|[\[{])"
STRING_FIRST = np.zeros(256, dtype=bool)
STRING_FIRST[np.frombuffer(b"-0123456789[{", dtype=np.uint8)] = True
# JSON's whitespace, and RE2's \s (which the per-row rules' trailing comma check also takes)
SPACE = np.zeros(256, dtype=bool)
SPACE[np.frombuffer(b" \t\n\r\f", dtype=np.uint8)] = True
# 'yyyy-MM-dd': where its dashes are; a timestamp adds the separator and the clock's colons
DATE_MARKS = (4, 7), b"--"
CLOCK_MARKS = (13, 16), b"::"


def bits(buf: pa.Buffer | None, offset: int, length: int, absent: bool) -> np.ndarray:
    """An Arrow bitmap as booleans; `absent` for every bit when there is no buffer."""
    if buf is None:
        return np.full(length, absent, dtype=bool)
    first, last = offset // 8, (offset + length + 7) // 8
    raw = np.frombuffer(buf, dtype=np.uint8, count=last - first, offset=first)
    return np.unpackbits(raw, bitorder="little")[offset % 8:offset % 8 + length].view(bool)


def valid_mask(arr: pa.Array) -> np.ndarray:
    """Which values are not NULL, read off the validity bitmap."""
    if not arr.null_count:
        return np.ones(len(arr), dtype=bool)
    return bits(arr.buffers()[0], arr.offset, len(arr), True)


def null_mask(arr: pa.Array) -> np.ndarray:
    """Which values are NULL, read off the validity bitmap."""
    if not arr.null_count:
        return np.zeros(len(arr), dtype=bool)
    return ~bits(arr.buffers()[0], arr.offset, len(arr), True)


def true_mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean array as numpy booleans, NULL as False, read off its bitmaps."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    out = bits(arr.buffers()[1], arr.offset, len(arr), False)
    if arr.null_count:
        out = out & valid_mask(arr)
    return out


def _layout(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets of the values, their lengths, the data bytes) of a string array, without copying."""
    width = np.int64 if pa.types.is_large_string(text.type) or pa.types.is_large_binary(text.type) else np.int32
    offsets = np.frombuffer(text.buffers()[1], dtype=width, count=len(text) + 1, offset=text.offset * width().itemsize)
    data = text.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(1, dtype=np.uint8)
    return offsets, np.diff(offsets), data


def _uniform_width(offsets: np.ndarray, lengths: np.ndarray, text: pa.Array) -> int | None:
    """The length of every non-NULL value when they all have the same and NULLs take no bytes, else None."""
    if text.null_count:
        taken = lengths[valid_mask(text)]
        if len(taken) == 0 or int(offsets[-1] - offsets[0]) != len(taken) * int(taken[0]):
            return None
    else:
        taken = lengths
    width = int(taken[0])
    return width if width and (taken == width).all() else None


def trailing_comma(docs: pa.Array) -> np.ndarray | None:
    """Mask of the documents holding a comma followed (after whitespace) by a closing brace or bracket, which
    DuckDB forgives and Flink does not (None: no document does); found from the closing bytes backwards, so one
    pass over the bytes. A match that would span two documents flags the first (a false alarm)."""
    offsets, _, data = _layout(docs)
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi <= lo or not _any_trailing_comma(docs, lo, hi):
        return None
    # '}' is 0x7D and ']' 0x5D: one comparison with the 0x20 bit set
    at = np.flatnonzero(np.bitwise_or(data[lo:hi], 0x20) == 0x7D) - 1 + lo
    found = []
    while len(at):
        at = at[at >= lo]
        byte = data[at]
        comma = byte == ord(",")
        if comma.any():
            found.append(at[comma])
        at = at[SPACE[byte]] - 1
    if not found:
        return None
    mask = np.zeros(len(docs), dtype=bool)
    mask[np.searchsorted(offsets, np.concatenate(found), side="right") - 1] = True
    return mask


def _any_trailing_comma(docs: pa.Array, lo: int, hi: int) -> bool:
    """Whether the block's bytes hold a comma, whitespace, then a closing brace or bracket anywhere (also across
    two documents): one pass of RE2 over the bytes as a single value, a third of the numpy passes' cost, so a
    block without one (the usual case) is done."""
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, pa.py_buffer(np.array([0, hi - lo], np.int64)),
                                                         docs.buffers()[2].slice(lo, hi - lo)])
    return pc.match_substring_regex(whole, r",[ \t\n\r\f]*[\]}]")[0].as_py()


def not_plain_text(text: pa.Array, kind: str, sep: str, strict: bool = True) -> np.ndarray | None:
    """Mask of the values whose text may convert otherwise than by Flink's rules (None: none does), checked on
    their bytes; what passes converts exactly with Arrow's casts (`json.py`'s `_from_text`), which reject the
    remaining malformed values (a month 13, a 30th of February) for the decoder to find one by one. Plain: an
    integer in decimal digits after an optional minus, with fewer characters than may overflow (a numeric string
    reads as Flink parses it), true or false, 'yyyy-MM-dd', 'yyyy-MM-dd HH:mm:ss[.f{1,6}]' (the separator of
    'json.timestamp-format.standard'); a STRING that does not begin as a number DuckDB may have rewritten, or an
    object or array. Not `strict`, an integer is only checked for hexadecimal digits, the one text Arrow's cast
    reads and Flink refuses: Arrow's cast refuses everything else that is not plain, and the caller then asks
    again, strictly."""
    if text.null_count == len(text):
        return None
    offsets, lengths, data = _layout(text)
    starts = offsets[:-1]
    last = len(data) - 1
    width = _uniform_width(offsets, lengths, text) if kind in ("DATE", "TIMESTAMP") else None

    def marks(positions: tuple[int, ...], chars: bytes) -> np.ndarray:
        """Whether each value has these characters at these positions (one too short: any answer)."""
        if width is not None:  # the values' bytes as the rows of a matrix: columns compared, nothing gathered
            rows = data[int(offsets[0]):int(offsets[-1])].reshape(-1, width)
            ok = np.ones(len(rows), dtype=bool)
            for at, char in zip(positions, chars):
                if at < width:
                    ok &= rows[:, at] == char
            if not text.null_count:
                return ok
            out = np.ones(len(text), dtype=bool)
            out[valid_mask(text)] = ok
            return out
        at = np.minimum(starts[:, None] + np.asarray(positions), last)
        return (data[at] == np.frombuffer(chars, dtype=np.uint8)).all(axis=1)
    if kind == "STRING":
        first = (lengths > 0) & STRING_FIRST[data[np.minimum(starts, last)]]
        if text.null_count:
            first &= valid_mask(text)
        if not first.any():
            return None
        suspects = np.flatnonzero(first)
        bad = np.zeros(len(text), dtype=bool)
        bad[suspects] = true_mask(pc.match_substring_regex(text.take(pa.array(suspects)), STRING_NOT_AS_WRITTEN))
        return bad if bad.any() else None
    if kind in INTEGER_DIGITS:
        lo, hi = int(offsets[0]), int(offsets[-1])
        if not strict and not (np.bitwise_or(data[lo:hi], 0x20) == ord("x")).any():
            return None
        other = np.zeros(hi - lo + 1, dtype=np.int32)  # characters that are no digit, counted up to each byte
        np.cumsum((data[lo:hi] - ord("0")) > 9, out=other[1:])
        minus = (lengths > 0) & (data[np.minimum(starts, last)] == ord("-"))
        plain = (other[offsets[1:] - lo] - other[starts - lo] == minus) & (lengths > minus) & \
            (lengths < INTEGER_DIGITS[kind])
    elif kind == "BOOLEAN":
        plain = true_mask(pc.is_in(text, pa.array(["true", "false"])))
    elif kind == "DATE":
        plain = (lengths == 10) & marks(*DATE_MARKS)
    else:
        fraction = (lengths >= 21) & (lengths <= 26) & marks((19,), b".")
        plain = ((lengths == 19) | fraction) & marks(DATE_MARKS[0] + (10,) + CLOCK_MARKS[0],
                                                     DATE_MARKS[1] + sep.encode() + CLOCK_MARKS[1])
    bad = ~plain
    if text.null_count:
        bad &= valid_mask(text)
    return bad if bad.any() else None
