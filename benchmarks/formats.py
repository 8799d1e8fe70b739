"""Decoding alone: messages/s of the json, csv and avro formats' decode step on the payloads a Kafka source hands
them (the messages of benchmarks/kafka.py: a key, a value and a timestamp), in batches of the engine's size.

    python -m benchmarks.formats [--messages 1000000] [--batch 65536]

CPU time of this process (user + sys), best of three; the same figure the Kafka source's decode step costs per
message, without the broker.
"""
from __future__ import annotations

import argparse
import io
import json
import resource
import time

import numpy as np
import pyarrow as pa

from sqlstream.connectors.base import TableSchema
from sqlstream.core.types import FlinkType

NAMES = ["key", "val", "ts"]
TYPES = [FlinkType.of("STRING"), FlinkType.of("BIGINT"), FlinkType.of("TIMESTAMP", 3)]
START_MS = 1_700_000_000_000


def messages(n: int, with_csv: bool = False) -> tuple[list[bytes], ...]:
    """(json payloads, avro payloads[, csv payloads]) of the same n rows."""
    import fastavro
    from sqlstream.connectors.formats import avro as avro_format
    rng = np.random.default_rng(1)
    keys, vals = rng.integers(0, 10_000, n), rng.integers(0, 1000, n)
    parsed = fastavro.parse_schema(avro_format.record_schema(TableSchema(NAMES, TYPES)))
    as_json, as_avro, as_csv = [], [], []
    buf = io.BytesIO()
    for i in range(n):
        ms = START_MS + i
        ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + ".%03d" % (ms % 1000)
        as_json.append(json.dumps({"key": f"k{keys[i]}", "val": int(vals[i]), "ts": ts}).encode())
        buf.seek(0)
        buf.truncate()
        fastavro.schemaless_writer(buf, parsed, {"key": f"k{keys[i]}", "val": int(vals[i]), "ts": ms})
        as_avro.append(buf.getvalue())
        if with_csv:
            as_csv.append(f"k{keys[i]},{vals[i]},{ts}".encode())
    return (as_json, as_avro, as_csv) if with_csv else (as_json, as_avro)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rate(decoder, payloads: list[bytes], batch: int, text: bool) -> float:
    """Messages per CPU-second: the payloads as the Kafka source hands them to the decoder (binary, or text)."""
    from sqlstream.connectors.kafka.source import as_text
    arrays = []
    for start in range(0, len(payloads), batch):
        arr = pa.array(payloads[start:start + batch], pa.binary())
        arrays.append(as_text(arr) if text else arr)
    best = float("inf")
    for _ in range(3):
        t0 = cpu()
        rows = sum(decoder.decode(a, str).num_rows for a in arrays)
        best = min(best, cpu() - t0)
    assert rows == len(payloads)
    return len(payloads) / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=65_536)
    a = ap.parse_args()
    from sqlstream.connectors.formats.avro import AvroDecoder
    from sqlstream.connectors.formats.csv import CsvDecoder
    from sqlstream.connectors.formats.json import JsonDecoder
    as_json, as_avro, as_csv = messages(a.messages, with_csv=True)
    schema = TableSchema(NAMES, TYPES)
    avro = AvroDecoder(schema)
    print(f"{'format':<28} {'messages':>10} {'msgs per CPU-s':>15}")
    print(f"{'json':<28} {a.messages:>10,} {rate(JsonDecoder(schema), as_json, a.batch, True):>15,.0f}", flush=True)
    print(f"{'csv':<28} {a.messages:>10,} {rate(CsvDecoder(schema), as_csv, a.batch, True):>15,.0f}", flush=True)
    print(f"{'avro (column-wise)':<28} {a.messages:>10,} {rate(avro, as_avro, a.batch, False):>15,.0f}", flush=True)
    avro.columnar = None
    print(f"{'avro (fastavro per message)':<28} {a.messages:>10,} {rate(avro, as_avro, a.batch, False):>15,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
