"""datagen connector: seeded, vectorized random or sequence data (Flink's option names)."""
from __future__ import annotations

import string
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Source, SplitReader, TableSchema
from connectors.options import Options
from sqlstream.errors import OptionError
from sqlstream.types import FlinkType

TABLE_OPTIONS = ["connector", "rows-per-second", "number-of-rows", "scan.parallelism", "seed"]
FIELD_OPTIONS = ["kind", "min", "max", "max-past", "length", "start", "end", "null-rate", "var-len"]


class FieldGen:
    def __init__(self, name: str, t: FlinkType, opts: dict[str, str]):
        self.name, self.t = name, t
        unknown = sorted(k for k in opts if k not in FIELD_OPTIONS)
        if unknown:
            raise OptionError(f"Unsupported options found for connector 'datagen': "
                              f"{', '.join(f'fields.{name}.{k}' for k in unknown)}",
                              [f"fields.{name}.{o}" for o in FIELD_OPTIONS] + TABLE_OPTIONS)
        self.kind = opts.get("kind", "random")
        if self.kind not in ("random", "sequence"):
            raise OptionError(f"fields.{name}.kind must be 'random' or 'sequence', got '{self.kind}'")
        self.min, self.max = opts.get("min"), opts.get("max")
        self.start, self.end = opts.get("start"), opts.get("end")
        self.length = int(opts.get("length", 100))
        self.null_rate = float(opts.get("null-rate", 0))
        self.max_past = int(opts.get("max-past", 0))
        if self.kind == "sequence" and (self.start is None or self.end is None):
            raise OptionError(f"fields.{name}: a sequence field needs 'start' and 'end'")

    def count(self) -> int | None:
        if self.kind != "sequence":
            return None
        return int(self.end) - int(self.start) + 1

    def generate(self, rng: np.random.Generator, seq0: int, n: int) -> pa.Array:
        t = self.t
        target = t.to_arrow()
        if self.kind == "sequence":
            vals = np.arange(int(self.start) + seq0, int(self.start) + seq0 + n, dtype=np.int64)
            if t.is_string:
                return pc.cast(pa.array(vals), pa.string())
            return pa.array(vals).cast(target)
        if t.is_integer or t.is_decimal or t.is_approx:
            lo = float(self.min) if self.min is not None else (0 if not t.is_integer else -(2 ** 31))
            hi = float(self.max) if self.max is not None else (2 ** 31 - 1 if t.is_integer else 1.0)
            if t.is_integer:
                vals = rng.integers(int(lo), int(hi) + 1, n, dtype=np.int64)
                arr = pa.array(vals).cast(target, safe=False)
            else:
                vals = rng.uniform(lo, hi, n)
                arr = pa.array(vals)
                if t.is_decimal:
                    arr = pc.cast(pc.round(arr, t.scale), target, safe=False)
                else:
                    arr = arr.cast(target)
        elif t.is_string:
            letters = np.frombuffer(string.ascii_lowercase.encode(), dtype=np.uint8)
            length = max(1, min(self.length, 1 << 16))
            raw = letters[rng.integers(0, 26, n * length)]
            offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
            arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw.tobytes()))
        elif t.name == "BOOLEAN":
            arr = pa.array(rng.integers(0, 2, n).astype(bool))
        elif t.is_timestamp:
            now = int(time.time() * 1000)
            past = rng.integers(0, self.max_past + 1, n) if self.max_past else np.zeros(n, dtype=np.int64)
            arr = pa.array(now - past).cast(pa.timestamp("ms")).cast(target)
        elif t.name == "DATE":
            arr = pa.array(np.full(n, int(time.time() // 86400), dtype=np.int32)).cast(pa.date32())
        else:
            raise OptionError(f"datagen cannot generate values of type {t} (field '{self.name}')")
        if self.null_rate > 0:
            mask = rng.random(n) < self.null_rate
            arr = pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)
        return arr


class DatagenReader(SplitReader):
    def __init__(self, schema: TableSchema, fields: list[FieldGen], rows_per_second: float, total: int | None,
                 seed: int, position=None):
        self.schema, self.fields, self.rps, self.total = schema, fields, rows_per_second, total
        self.paced = rows_per_second > 0
        self.emitted = int(position or 0)
        self.rng = np.random.default_rng([seed, self.emitted])
        self.started = time.monotonic()
        self.start_count = self.emitted
        self.finished = total is not None and self.emitted >= total

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
        cols = [f.generate(self.rng, self.emitted, n) for f in self.fields]
        self.emitted += n
        if self.total is not None and self.emitted >= self.total:
            self.finished = True
        return pa.RecordBatch.from_arrays(cols, names=self.schema.names)

    def position(self):
        return self.emitted


class DatagenSource(Source):
    def __init__(self, schema, fields, rps, total, seed):
        self.schema, self.fields, self.rps, self.total, self.seed = schema, fields, rps, total, seed
        self.bounded = total is not None

    def reader(self, split: str, position=None) -> SplitReader:
        return DatagenReader(self.schema, self.fields, self.rps, self.total, self.seed, position)


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    valid = TABLE_OPTIONS + [f"fields.{n}.{o}" for n in schema.names for o in FIELD_OPTIONS]
    opts = Options(table, "datagen", options, valid)
    rps = float(opts.get("rows-per-second", "10000"))
    total = opts.get_int("number-of-rows")
    seed = opts.get_int("seed", 42)
    opts.get("scan.parallelism")
    fields = []
    for n, t in zip(schema.names, schema.types):
        fields.append(FieldGen(n, t, opts.with_prefix(f"fields.{n}.")))
    opts.finish()
    seq = [f.count() for f in fields if f.count() is not None]
    if seq:
        total = min(seq + ([total] if total is not None else []))
    return DatagenSource(schema, fields, rps, total, seed)
