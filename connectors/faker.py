"""faker connector: flink-faker's options (`fields.<f>.expression` with Java Faker expressions, `null-rate`,
`length` of collections, `rows-per-second`, `number-of-rows`) over vectorized generators.

Rows come in blocks of BLOCK; every placeholder of every column draws from its own random stream seeded by
(seed, column, block, placeholder), so a value depends on the seed and its row number only: never on the
batch size, on which columns a query reads, or on a restore. The default seed comes from the table name (two
tables differ, each run repeats); 'seed' sets it. Date expressions are relative to the wall clock, as in
flink-faker, so they differ between runs.
"""
from __future__ import annotations

import time
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors import faker_expressions as fe
from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch
from sqlstream.connectors.options import Options
from sqlstream.core.errors import OptionError
from sqlstream.core.types import FlinkType

TABLE_OPTIONS = ["connector", "rows-per-second", "number-of-rows", "seed", "scan.parallelism"]
FIELD_OPTIONS = ["expression", "null-rate", "length"]
BLOCK = 4096


class Expression:
    """One `fields.<f>.expression` template, compiled once."""

    def __init__(self, table: str, path: str, text: str):
        self.path, self.text = path, text
        self.parts = fe.parse_template(text)
        self.gens = [fe.generator(p, text) if isinstance(p, fe.Placeholder) else None for p in self.parts]

    def values(self, rng_for, n: int) -> pa.Array:
        return fe.evaluate(self.parts, self.gens, rng_for, n)


class FieldGen:
    """Values of one column (or a nested field of a ROW, a MAP's keys or values, an ARRAY's elements)."""

    def __init__(self, table: str, path: str, t: FlinkType, opts: Options, top: bool = True):
        self.table, self.path, self.t = table, path, t
        key = f"fields.{path}"
        self.null_rate = float(opts.get(f"{key}.null-rate", "0"))
        if not 0 <= self.null_rate <= 1:
            raise OptionError(f"Table '{table}': '{key}.null-rate' must be between 0 and 1, got {self.null_rate}")
        self.length = opts.get_int(f"{key}.length", 1)
        self.children: list[FieldGen] = []
        self.expression = None
        if t.name == "ROW":
            self.children = [FieldGen(table, f"{path}.{f}", c, opts, False) for f, c in zip(t.field_names, t.children)]
        elif t.name == "MAP":
            self.children = [FieldGen(table, f"{path}.key", t.children[0], opts, False),
                             FieldGen(table, f"{path}.value", t.children[1], opts, False)]
        else:
            text = opts.get(f"{key}.expression")
            if text is None:
                raise OptionError(f"Table '{table}': connector 'faker' needs 'fields.{path}.expression' for "
                                  f"column '{path}' ({t})", [f"fields.{path}.{o}" for o in FIELD_OPTIONS])
            self.expression = Expression(table, path, text)
            self.element = t.children[0] if t.name in ("ARRAY", "MULTISET") else t

    def values(self, rng_for, n: int) -> pa.Array:
        t = self.t
        if t.name == "ROW":
            arrs = [c.values(lambda k, i=i: rng_for((i, k)), n) for i, c in enumerate(self.children)]
            arr = pa.StructArray.from_arrays(arrs, fields=[pa.field(f, a.type) for f, a in zip(t.field_names, arrs)])
        elif t.name == "MAP":
            m = n * self.length
            keys = self.children[0].values(lambda k: rng_for((0, k)), m)
            vals = self.children[1].values(lambda k: rng_for((1, k)), m)
            offsets = pa.array(np.arange(0, m + 1, self.length, dtype=np.int32))
            arr = pa.MapArray.from_arrays(offsets, keys, vals)
        elif t.name in ("ARRAY", "MULTISET"):
            m = n * self.length
            elems = self._convert(self.expression.values(rng_for, m), self.element)
            arr = pa.ListArray.from_arrays(pa.array(np.arange(0, m + 1, self.length, dtype=np.int32)), elems)
        else:
            arr = self._convert(self.expression.values(rng_for, n), t)
        arr = arr.cast(t.to_arrow()) if arr.type != t.to_arrow() else arr
        if self.null_rate > 0:
            mask = rng_for("null").random(n) < self.null_rate
            arr = pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)
        return arr

    def _convert(self, arr: pa.Array, t: FlinkType) -> pa.Array:
        """An expression's values as the column's type, or an error naming the column and expression."""
        target = t.to_arrow()
        if arr.type == target:
            return arr
        try:
            if pa.types.is_timestamp(arr.type) and t.name == "DATE":
                return arr.cast(pa.timestamp("ms")).cast(pa.date32())
            if pa.types.is_floating(arr.type) and t.is_decimal:
                return pc.round(arr, t.scale).cast(target, safe=False)
            if pa.types.is_string(arr.type) and t.name == "BOOLEAN":
                return pc.equal(pc.utf8_lower(arr), "true")
            return arr.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            sample = arr.slice(0, 1).to_pylist()
            raise OptionError(f"Table '{self.table}': faker expression '{self.expression.text}' of column "
                              f"'{self.path}' gives values such as {sample!r} that are not {t}: {e}") from None


class FakerReader(SplitReader):
    def __init__(self, schema: TableSchema, fields: list[FieldGen], rows_per_second: float, total: int | None,
                 seed: int, streams: list[int], position=None):
        self.schema, self.fields, self.rps, self.total, self.seed = schema, fields, rows_per_second, total, seed
        self.streams = streams
        self.paced = rows_per_second > 0
        self.emitted = int(position or 0)
        self.started = time.monotonic()
        self.start_count = self.emitted
        self.finished = total is not None and self.emitted >= total
        self.block: tuple[int, list[pa.Array]] | None = None

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        n = max_rows if self.total is None else min(max_rows, self.total - self.emitted)
        if self.rps > 0:
            allowed = int((time.monotonic() - self.started) * self.rps) - (self.emitted - self.start_count)
            if allowed <= 0:
                time.sleep(min(0.05, 1.0 / self.rps))
                return None
            n = min(n, allowed)
        n = min(n, BLOCK - self.emitted % BLOCK)  # one block per poll keeps each block generated once
        b, lo = divmod(self.emitted, BLOCK)
        if self.block is None or self.block[0] != b:
            self.block = (b, [self._block(f, s, b) for f, s in zip(self.fields, self.streams)])
        cols = [c.slice(lo, n) for c in self.block[1]]
        self.emitted += n
        if self.total is not None and self.emitted >= self.total:
            self.finished = True
        return rows_batch(cols, self.schema.names, n)

    def _block(self, f: FieldGen, stream: int, block: int) -> pa.Array:
        def rng_for(k) -> np.random.Generator:
            return np.random.default_rng([self.seed, stream, block, zlib.crc32(repr(k).encode())])
        return f.values(rng_for, BLOCK)

    def position(self):
        return self.emitted


class FakerSource(Source):
    def __init__(self, schema, fields, streams, rps, total, seed):
        self.schema, self.fields, self.streams = schema, fields, streams
        self.rps, self.total, self.seed = rps, total, seed
        self.bounded = total is not None

    def reader(self, split: str, position=None) -> SplitReader:
        return FakerReader(self.schema, self.fields, self.rps, self.total, self.seed, self.streams, position)


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    physical = list(zip(schema.all_names, schema.all_types))
    valid = TABLE_OPTIONS + [f"fields.{n}.{o}" for n, _ in physical for o in FIELD_OPTIONS]
    # options for columns that are not physical (a computed `PROCTIME()` column) are accepted and unused, as
    # flink-faker does; a typo in an option name of a physical column is still an error
    names = {n for n, _ in physical}
    extra = tuple(f"fields.{k.split('.')[1]}." for k in options
                  if k.startswith("fields.") and k.count(".") >= 2 and k.split(".")[1] not in names)
    opts = Options(table, "faker", options, valid, prefixes=extra)
    rps = float(opts.get("rows-per-second", "10000"))
    total = opts.get_int("number-of-rows")
    seed = opts.get_int("seed", zlib.crc32(table.encode("utf-8")))
    opts.get("scan.parallelism")
    every = [FieldGen(table, n, t, opts) for n, t in physical]
    opts.finish()
    streams = {n: i for i, (n, _) in enumerate(physical)}
    by_name = {f.path: f for f in every}
    chosen = [by_name[n] for n in schema.names]
    return FakerSource(schema, chosen, [streams[n] for n in schema.names], rps, total, seed)


class FakerLookup:
    """flink-faker as a lookup table: every key finds one row, its key columns the looked-up values and the
    other columns generated (the generator runs on, unpaced, across lookups)."""

    def __init__(self, table: str, options: dict, schema: TableSchema):
        unpaced = {k: v for k, v in options.items() if k not in ("number-of-rows",)} | {"rows-per-second": "0"}
        self.reader = create_source(table, unpaced, schema).reader("0")
        self.types = [t.to_arrow() for t in schema.types]

    def rows(self, n: int) -> list[pa.Array]:
        batches = []
        while n > 0:
            batch = self.reader.poll(n)
            batches.append(batch)
            n -= batch.num_rows
        if not batches:
            return [pa.array([], t) for t in self.types]
        return [pa.concat_arrays([b.column(i) for b in batches]) for i in range(len(self.types))]
