"""datagen connector: seeded, vectorized random or sequence data (Flink's option names and value ranges).

Every column of the table is validated and counted (a sequence bounds the number of rows) whether the query
reads it or not. The value of column c in row i depends only on the seed, c's position in the table and i:
never on which other columns are read, on the batch size or on a restore. The default seed comes from the table
name, so two tables give different values while each run of a job gives the same ones.
"""
from __future__ import annotations

import time
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch
from sqlstream.connectors.options import Options
from sqlstream.core.errors import OptionError
from sqlstream.core.types import FlinkType

TABLE_OPTIONS = ["connector", "rows-per-second", "number-of-rows", "scan.parallelism", "seed"]
FIELD_OPTIONS = ["kind", "min", "max", "max-past", "length", "start", "end", "null-rate", "var-len"]
BLOCK = 4096  # rows drawn from one random stream: row i of a column is in block i // BLOCK

# Flink's default random ranges: integers span their type, FLOAT/DOUBLE/DECIMAL run from the smallest positive
# value to the largest (a DECIMAL also stays within its precision)
INTEGER_RANGE = {"TINYINT": (-2 ** 7, 2 ** 7 - 1), "SMALLINT": (-2 ** 15, 2 ** 15 - 1),
                 "INT": (-2 ** 31, 2 ** 31 - 1), "BIGINT": (-2 ** 63, 2 ** 63 - 1)}
FLOAT_RANGE = {"FLOAT": (float(np.finfo(np.float32).smallest_subnormal), float(np.finfo(np.float32).max)),
               "DOUBLE": (5e-324, float(np.finfo(np.float64).max)),
               "DECIMAL": (5e-324, float(np.finfo(np.float64).max))}
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
DEFAULT_LENGTH = 100
COLLECTION_LENGTH = 3  # Flink's default size of a generated ARRAY or MAP


class FieldGen:
    """One column's generator, built from its `fields.<name>.*` options."""

    def __init__(self, table: str, name: str, t: FlinkType, opts: dict[str, str], stream: int):
        self.name, self.t, self.stream = name, t, stream
        self.children: list[FieldGen] = []
        if t.name in ("ARRAY", "MAP", "ROW"):  # nested generators: fields.a.element.*, fields.m.key|value.*,
            parts = {"ARRAY": ["element"], "MAP": ["key", "value"]}.get(t.name, list(t.field_names))  # fields.r.x.*
            for i, (part, child) in enumerate(zip(parts, t.children)):
                sub = {k[len(part) + 1:]: v for k, v in opts.items() if k.startswith(part + ".")}
                self.children.append(FieldGen(table, f"{name}.{part}", child, sub, (stream + 1) * 1_000_003 + i))
            opts = {k: v for k, v in opts.items() if not any(k.startswith(p + ".") for p in parts)}
        unknown = sorted(k for k in opts if k not in FIELD_OPTIONS)
        if unknown:
            raise OptionError(f"Unsupported options found for connector 'datagen' of table '{table}': "
                              f"{', '.join(f'fields.{name}.{k}' for k in unknown)}",
                              [f"fields.{name}.{o}" for o in FIELD_OPTIONS] + TABLE_OPTIONS)
        self.kind = opts.get("kind", "random")
        if self.kind not in ("random", "sequence"):
            raise OptionError(f"fields.{name}.kind must be 'random' or 'sequence', got '{self.kind}'")
        number = _int if t.is_integer else _float
        self.min, self.max = (None if opts.get(k) is None else number(opts.get(k), f"fields.{name}.{k}")
                              for k in ("min", "max"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise OptionError(f"Table '{table}': fields.{name}.min must not be greater than fields.{name}.max: "
                              f"lower bound ({opts.get('min')}) must be strictly less than upper bound "
                              f"({opts.get('max')})")
        self.start, self.end = (None if opts.get(k) is None else _int(opts.get(k), f"fields.{name}.{k}")
                                for k in ("start", "end"))
        default_length = t.precision if t.is_string and t.precision not in (None, 2147483647) else DEFAULT_LENGTH
        self.length = _int(opts.get("length", default_length), f"fields.{name}.length")
        if self.length <= 0 and t.is_string:
            raise OptionError(f"Table '{table}': fields.{name}.length must be positive: length ({self.length})")
        self.var_len = opts.get("var-len", "false").lower() == "true"
        self.null_rate = _float(opts.get("null-rate", 0), f"fields.{name}.null-rate")
        self.max_past = _int(opts.get("max-past", 0), f"fields.{name}.max-past")
        if self.kind == "sequence":
            for key in ("start", "end"):
                if opts.get(key) is None:
                    raise OptionError(f"Could not find required property 'fields.{name}.{key}' for sequence "
                                      f"generator.")
            if not (t.is_integer or t.is_string or t.is_decimal or t.is_approx):
                raise OptionError(f"datagen cannot generate a sequence of type {t} (field '{name}')")
        elif t.name in ("ARRAY", "MAP", "ROW"):
            if opts.get("kind", "random") != "random":
                raise OptionError(f"datagen generates {t.name} field '{name}' randomly only")
            self.length = _int(opts.get("length", COLLECTION_LENGTH), f"fields.{name}.length")
        elif not (t.is_integer or t.is_decimal or t.is_approx or t.is_string or t.is_timestamp
                  or t.name in ("BOOLEAN", "DATE")):
            raise OptionError(f"datagen cannot generate values of type {t} (field '{name}')")

    def count(self) -> int | None:
        if self.kind != "sequence":
            return None
        return self.end - self.start + 1

    def values(self, seed: int, first: int, n: int, cache: dict) -> pa.Array:
        """Rows first .. first+n-1 of this column; `cache` keeps the reader's last block of it."""
        if self.children:
            return self._nested(seed, first, n, cache)
        if self.kind == "sequence":
            vals = np.arange(self.start + first, self.start + first + n, dtype=np.int64)
            if self.t.is_string:
                return pc.cast(pa.array(vals), pa.string())
            return pa.array(vals).cast(self.t.to_arrow())
        parts, row = [], first
        while row < first + n:
            b = row // BLOCK
            if cache.get(self.stream, (None,))[0] != b:
                cache[self.stream] = (b, self._random_block(np.random.default_rng([seed, self.stream, b])))
            lo = row - b * BLOCK
            take = min(BLOCK - lo, first + n - row)
            parts.append(cache[self.stream][1].slice(lo, take))
            row += take
        return parts[0] if len(parts) == 1 else pa.concat_arrays(parts)

    def _nested(self, seed: int, first: int, n: int, cache: dict) -> pa.Array:
        """An ARRAY or MAP of `length` entries per row (entry j of row i is entry i * length + j of its
        generator), or a ROW of its fields' values."""
        t = self.t
        if t.name == "ROW":
            arrays = [c.values(seed, first, n, cache) for c in self.children]
            arr = pa.StructArray.from_arrays(arrays, fields=[pa.field(f, a.type) for f, a in
                                                             zip(t.field_names, arrays)])
        else:
            k = self.length
            offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
            parts = [c.values(seed, first * k, n * k, cache) for c in self.children]
            arr = pa.ListArray.from_arrays(offsets, parts[0]) if t.name == "ARRAY" else \
                pa.MapArray.from_arrays(offsets, parts[0], parts[1])
        arr = arr.cast(t.to_arrow())
        if self.null_rate > 0:
            mask = np.random.default_rng([seed, self.stream, first, n]).random(n) < self.null_rate
            arr = pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)
        return arr

    def _random_block(self, rng: np.random.Generator) -> pa.Array:
        t, n = self.t, BLOCK
        if t.is_integer:
            lo, hi = INTEGER_RANGE[t.name]
            lo = self.min if self.min is not None else lo
            hi = self.max if self.max is not None else hi
            arr = pa.array(rng.integers(lo, hi, n, dtype=np.int64, endpoint=True)).cast(t.to_arrow())
        elif t.is_approx or t.is_decimal:
            lo, hi = FLOAT_RANGE[t.name if t.is_approx else "DECIMAL"]
            lo = self.min if self.min is not None else lo
            hi = self.max if self.max is not None else hi
            if t.is_decimal:
                largest = 10.0 ** (t.precision - t.scale) - 10.0 ** -t.scale
                lo, hi = max(-largest, lo), min(largest, hi)
            vals = lo + (hi - lo) * rng.random(n) if hi - lo != np.inf else rng.uniform(lo / 2, hi / 2, n) * 2
            if t.is_decimal:
                step = 10.0 ** t.scale
                arr = pc.cast(pa.array(np.trunc(vals * step) / step), t.to_arrow(), safe=False)
            else:
                arr = pa.array(vals).cast(t.to_arrow(), safe=False)
        elif t.is_string:
            arr = self._hex_strings(rng, n)
        elif t.name == "BOOLEAN":
            arr = pa.array(rng.integers(0, 2, n).astype(bool))
        elif t.is_timestamp:  # now minus up to max-past milliseconds, as Flink: not reproducible by nature
            now = int(time.time() * 1000)
            past = rng.integers(0, self.max_past + 1, n) if self.max_past else np.zeros(n, dtype=np.int64)
            arr = pa.array(now - past).cast(pa.timestamp("ms")).cast(t.to_arrow())
        else:  # DATE
            arr = pa.array(np.full(n, int(time.time() // 86400), dtype=np.int32)).cast(pa.date32())
        if self.null_rate > 0:
            mask = rng.random(n) < self.null_rate
            arr = pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)
        return arr

    def _hex_strings(self, rng: np.random.Generator, n: int) -> pa.Array:
        """Random hex strings of `length` characters (Flink's nextHexString); with var-len, of 1..length."""
        length = max(1, min(self.length, 1 << 16))
        lengths = rng.integers(1, length, n, endpoint=True) if self.var_len else np.full(n, length)
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
        raw = HEX[rng.integers(0, 16, int(offsets[-1]))]
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw.tobytes()))


def _int(text, key: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise OptionError(f"Could not parse value '{text}' for key '{key}'.") from None


def _float(text, key: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise OptionError(f"Could not parse value '{text}' for key '{key}'.") from None


class DatagenReader(SplitReader):
    def __init__(self, schema: TableSchema, fields: list[FieldGen], rows_per_second: float, total: int | None,
                 seed: int, position=None):
        self.schema, self.fields, self.rps, self.total, self.seed = schema, fields, rows_per_second, total, seed
        self.paced = rows_per_second > 0
        self.emitted = int(position or 0)
        self.started = time.monotonic()
        self.start_count = self.emitted
        self.finished = total is not None and self.emitted >= total
        self.blocks: dict = {}

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        if self.finished:
            return None
        n = max_rows
        if self.total is not None:
            n = min(n, self.total - self.emitted)
        if self.rps > 0:
            allowed = int((time.monotonic() - self.started) * self.rps) - (self.emitted - self.start_count)
            if allowed <= 0:
                time.sleep(min(0.05, 1.0 / self.rps))
                return None
            n = min(n, allowed)
        cols = [f.values(self.seed, self.emitted, n, self.blocks) for f in self.fields]
        self.emitted += n
        if self.total is not None and self.emitted >= self.total:
            self.finished = True
        return rows_batch(cols, self.schema.names, n)

    def position(self):
        return self.emitted


class DatagenSource(Source):
    def __init__(self, schema, fields, rps, total, seed):
        self.schema, self.fields, self.rps, self.total, self.seed = schema, fields, rps, total, seed
        self.bounded = total is not None
        self.indexed = not rps > 0  # a paced generator's rows follow the wall clock

    def reader(self, split: str, position=None) -> SplitReader:
        return DatagenReader(self.schema, self.fields, self.rps, self.total, self.seed, position)


def default_seed(table: str) -> int:
    """A seed of the table's own: two tables differ, every run of one table is the same."""
    return zlib.crc32(table.encode("utf-8"))


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    physical = list(zip(schema.all_names, schema.all_types))
    valid = TABLE_OPTIONS + [f"fields.{n}.{o}" for n, _ in physical for o in FIELD_OPTIONS]
    opts = Options(table, "datagen", options, valid)
    rps = _float(opts.get("rows-per-second", "10000"), "rows-per-second")
    total = opts.get("number-of-rows")
    total = None if total is None else _int(total, "number-of-rows")
    seed = _int(opts.get("seed", default_seed(table)), "seed")
    opts.get("scan.parallelism")
    every = [FieldGen(table, n, t, opts.with_prefix(f"fields.{n}."), stream)
             for stream, (n, t) in enumerate(physical)]
    opts.finish()
    seq = [f.count() for f in every if f.count() is not None]
    if seq:
        total = min(seq + ([total] if total is not None else []))
    by_name = {f.name: f for f in every}
    return DatagenSource(schema, [by_name[n] for n in schema.names], rps, total, seed)
