"""Avro binary datums decoded column-wise with numpy: every datum is read at once, field after field (a vector of
read positions, one per datum), instead of one fastavro call per message.

Covers records of booleans, ints, longs, floats, doubles, strings, bytes, nested records and their nullable
unions, which is what most topics hold. A schema with anything else (decimals, arrays, maps, temporal values
inside a record) is not taken (`columnar_reader` returns None). Any datum this reading finds unusual (a union
branch other than null/value, a boolean byte other than 0/1, a varint over ten bytes, a length below zero,
invalid UTF-8, a value out of its column's range, bytes left over or missing at the end) makes `decode` return
None: the caller decodes the batch message by message, which names the bad message exactly as before.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlstream.core.types import FlinkType

PRIMITIVES = {"BOOLEAN", "TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "CHAR", "VARCHAR",
              "BINARY", "VARBINARY"}
TEMPORAL = {"TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "TIME"}
PAD = 16  # zero bytes after the data, so a read past the last datum's end needs no bounds check


class Anomaly(Exception):
    """A datum this reading does not vouch for: the per-message path decides."""


def _supported(t: FlinkType, top: bool) -> bool:
    if t.name in PRIMITIVES:
        return True
    if t.name in TEMPORAL:
        return top  # nested temporal values are fastavro's logical types (datetimes): left to it
    if t.name == "ROW":
        return all(_supported(c, False) for c in t.children)
    return False


def columnar_reader(names: list[str], types: list[FlinkType], temporal_primitive) -> "ColumnarReader | None":
    """A reader for datums of these columns, or None when the schema holds a type it does not cover.
    `temporal_primitive(t)` gives a top-level temporal column's (avro primitive, arrow type it holds)."""
    if not all(_supported(t, True) for t in types):
        return None
    return ColumnarReader(names, types, temporal_primitive)


class _Cursor:
    """The data of all datums and one read position per datum (rows: which datums a field is read for)."""

    def __init__(self, data: np.ndarray, pos: np.ndarray):
        self.data, self.pos = data, pos

    def varint(self, rows: np.ndarray | None) -> np.ndarray:
        """Zigzag varints (Avro int and long) at the positions of `rows` (all when None); moves past them."""
        pos = self.pos if rows is None else self.pos[rows]
        value = np.zeros(len(pos), dtype=np.uint64)
        length = np.zeros(len(pos), dtype=np.int64)
        active = np.ones(len(pos), dtype=bool)
        for k in range(10):
            b = self.data[pos + k].astype(np.uint64)
            if k == 9 and (active & (b > 1)).any():
                raise Anomaly("varint over 64 bits")
            value |= np.where(active, (b & np.uint64(0x7F)) << np.uint64(7 * k), np.uint64(0))
            ends = active & (b < 0x80)
            length[ends] = k + 1
            active &= ~ends
            if not active.any():
                break
        else:
            raise Anomaly("varint over ten bytes")
        self._advance(rows, length)
        return ((value >> np.uint64(1)).astype(np.int64)) ^ -((value & np.uint64(1)).astype(np.int64))

    def fixed(self, rows: np.ndarray | None, size: int, dtype) -> np.ndarray:
        pos = self.pos if rows is None else self.pos[rows]
        raw = self.data[pos[:, None] + np.arange(size)]
        self._advance(rows, size)
        return np.ascontiguousarray(raw).view(dtype).reshape(len(pos))

    def blob(self, rows: np.ndarray | None) -> pa.Array:
        """Length-prefixed bytes as one Arrow binary array."""
        lengths = self.varint(rows)
        if len(lengths) and lengths.min() < 0:
            raise Anomaly("negative length")
        starts = self.pos if rows is None else self.pos[rows]
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        if total > len(self.data):
            raise Anomaly("length past the data")
        gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(total, dtype=np.int64)
        if total and gather.max() >= len(self.data):
            raise Anomaly("length past the data")
        self._advance(rows, lengths)
        return pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(lengths),
                                                [None, pa.py_buffer(offsets), pa.py_buffer(self.data[gather])])

    def _advance(self, rows, by) -> None:
        if rows is None:
            self.pos += by
        else:
            self.pos[rows] += by


class ColumnarReader:
    """Reads a batch of datums of one record schema into Arrow columns."""

    def __init__(self, names: list[str], types: list[FlinkType], temporal_primitive):
        self.names, self.types, self.temporal_primitive = names, types, temporal_primitive

    def decode(self, docs: pa.Array, wanted: set[str]) -> dict[str, pa.Array] | None:
        """The columns in `wanted` of every datum, or None when a datum is anything unusual."""
        if docs.null_count:
            return None
        offsets = np.frombuffer(docs.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(docs.type)
                                else np.int32)[docs.offset:docs.offset + len(docs) + 1].astype(np.int64)
        raw = np.frombuffer(docs.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]] if len(docs) else \
            np.zeros(0, dtype=np.uint8)
        data = np.concatenate([raw, np.zeros(PAD, dtype=np.uint8)])
        cur = _Cursor(data, offsets[:-1] - offsets[0])
        ends = offsets[1:] - offsets[0]
        try:
            out = {}
            for name, t in zip(self.names, self.types):
                col = self._field(cur, None, len(docs), t, top=True)
                if name in wanted:
                    out[name] = col
        except Anomaly:
            return None
        if not np.array_equal(cur.pos, ends):
            return None
        return out

    def _field(self, cur: _Cursor, rows: np.ndarray | None, n: int, t: FlinkType, top: bool) -> pa.Array:
        """Column of type `t` for `rows` (n of them); a nullable type is the union ["null", T]."""
        if not t.nullable:
            return self._value(cur, rows, n, t, top)
        branch = cur.varint(rows)
        if ((branch != 0) & (branch != 1)).any():
            raise Anomaly("union branch")
        present = branch == 1
        if present.all():
            return self._value(cur, rows, n, t, top)
        idx = np.flatnonzero(present)
        sub = idx if rows is None else rows[idx]
        values = self._value(cur, sub, len(idx), t, top)
        take = np.cumsum(present) - 1
        return values.take(pa.array(take, mask=~present))

    def _value(self, cur: _Cursor, rows: np.ndarray | None, n: int, t: FlinkType, top: bool) -> pa.Array:
        name = t.name
        target = t.to_arrow()
        if name == "ROW":
            children = [self._field(cur, rows, n, c, False) for c in t.children]
            return pa.StructArray.from_arrays(children, fields=list(target))
        if name == "BOOLEAN":
            b = cur.fixed(rows, 1, np.uint8)
            if (b > 1).any():
                raise Anomaly("boolean byte")
            return pa.array(b == 1)
        if name == "FLOAT":
            return pa.array(cur.fixed(rows, 4, "<f4"), target)
        if name == "DOUBLE":
            return pa.array(cur.fixed(rows, 8, "<f8"), target)
        if name in ("CHAR", "VARCHAR", "BINARY", "VARBINARY"):
            arr = cur.blob(rows)
            try:
                return arr.cast(pa.large_string() if name in ("CHAR", "VARCHAR") else arr.type).cast(target)
            except pa.ArrowException:  # invalid UTF-8, or a length the column's type does not take
                raise Anomaly("text or binary value") from None
        values = cur.varint(rows)
        if name in TEMPORAL:
            prim, held = self.temporal_primitive(t)
            if prim == "int":
                values = _narrow(values, np.int32)
            return pa.array(values).cast(held).cast(target)
        if name in ("TINYINT", "SMALLINT", "INT", "INTEGER"):
            values = _narrow(values, {"TINYINT": np.int8, "SMALLINT": np.int16}.get(name, np.int32))
        return pa.array(values, target)


def _narrow(values: np.ndarray, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    if len(values) and (values.min() < info.min or values.max() > info.max):
        raise Anomaly("out of range")
    return values.astype(dtype)
