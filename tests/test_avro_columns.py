"""The column-wise Avro reading gives exactly what one fastavro call per message gives: the same batch for good
datums, the same error naming the same message for a malformed one."""
from __future__ import annotations

import io
import random

import fastavro
import pyarrow as pa
import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats import avro as avro_format
from sqlstream.core.errors import FormatError
from sqlstream.core.types import FlinkType

ROW = FlinkType("ROW", children=(FlinkType.of("BIGINT"), FlinkType.of("STRING"), FlinkType.of("BOOLEAN")),
                field_names=("id", "label", "flag"))
COLUMNS = [("s", FlinkType.of("STRING")), ("b", FlinkType.of("BOOLEAN")), ("t", FlinkType.of("TINYINT")),
           ("sm", FlinkType.of("SMALLINT")), ("i", FlinkType.of("INT")), ("l", FlinkType.of("BIGINT")),
           ("f", FlinkType.of("FLOAT")), ("d", FlinkType.of("DOUBLE")), ("bin", FlinkType.of("VARBINARY", 2147483647)),
           ("ts", FlinkType.of("TIMESTAMP", 3)), ("ts6", FlinkType.of("TIMESTAMP", 6)),
           ("ltz", FlinkType.of("TIMESTAMP_LTZ", 3)), ("day", FlinkType.of("DATE")), ("tm", FlinkType.of("TIME")),
           ("r", ROW), ("nn", FlinkType.of("BIGINT").with_nullable(False))]
NAMES = [n for n, _ in COLUMNS]
TYPES = [t for _, t in COLUMNS]


def random_value(rng: random.Random, name: str, t: FlinkType):
    if t.nullable and rng.random() < 0.2:
        return None
    n = t.name
    if n == "ROW":
        return {f: random_value(rng, f, c) for f, c in zip(t.field_names, t.children)}
    if n in ("VARCHAR", "CHAR"):
        return "".join(rng.choice("ab\u00e9\u4e2d\U0001f600 ") for _ in range(rng.randrange(0, 12)))
    if n in ("VARBINARY", "BINARY"):
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 6)))
    if n == "BOOLEAN":
        return rng.random() < 0.5
    bits = {"TINYINT": 7, "SMALLINT": 15, "INT": 31, "DATE": 16, "TIME": 26}.get(n, 63)
    if n in ("FLOAT", "DOUBLE"):
        return rng.uniform(-1e6, 1e6)
    if n in ("TIMESTAMP", "TIMESTAMP_LTZ"):
        return rng.randrange(-2**40, 2**41)
    return rng.randrange(-2**bits, 2**bits)


def datums(rows: list[dict]) -> pa.Array:
    parsed = fastavro.parse_schema(avro_format.record_schema(TableSchema(NAMES, TYPES)))
    out = []
    for r in rows:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, r)
        out.append(buf.getvalue())
    return pa.array(out, pa.binary())


def both(docs: pa.Array, names=NAMES):
    """(column-wise result or error, per-message result or error)."""
    schema = TableSchema(names, [dict(COLUMNS)[n] for n in names])
    decoder = avro_format.AvroDecoder(schema, TableSchema(NAMES, TYPES))
    assert decoder.columnar is not None

    def run(fn):
        try:
            return fn(docs, lambda i: f"message {i}")
        except FormatError as e:
            return str(e)
    return run(decoder.decode), run(decoder.decode_each)


@pytest.mark.parametrize("seed", range(5))
def test_good_datums_decode_as_fastavro_decodes_them(seed):
    rng = random.Random(seed)
    rows = [{n: random_value(rng, n, t) for n, t in COLUMNS} for _ in range(rng.choice([1, 7, 500]))]
    rows[0]["nn"] = 2**63 - 1
    fast, each = both(datums(rows))
    assert isinstance(fast, pa.RecordBatch) and fast.num_rows == len(rows)
    assert fast.equals(each)


def test_projection_and_a_sliced_batch():
    rng = random.Random(9)
    docs = datums([{n: random_value(rng, n, t) for n, t in COLUMNS} for _ in range(50)]).slice(5, 30)
    fast, each = both(docs, ["r", "ts", "s"])
    assert fast.equals(each) and fast.num_rows == 30


def corrupt(good: bytes, how: str) -> bytes:
    return {"truncated": good[:-1], "trailing": good + b"\x00", "empty": b"",
            "bad branch": b"\x04" + good[1:], "negative branch": b"\x01" + good[1:],
            "bad utf8": b"\x02\x04\xff\xfe" + good[2 + good[1] // 2:] if good[0] == 2 else good,
            "long varint": good[:1] + b"\xff" * 11 + good[1:]}[how]


@pytest.mark.parametrize("how", ["truncated", "trailing", "empty", "bad branch", "negative branch", "bad utf8",
                                 "long varint"])
def test_a_malformed_datum_fails_as_per_message_decoding_fails(how):
    rng = random.Random(3)
    rows = [{n: random_value(rng, n, t) for n, t in COLUMNS} for _ in range(20)]
    rows[7]["s"] = "text"
    docs = datums(rows).to_pylist()
    docs[7] = corrupt(docs[7], how)
    fast, each = both(pa.array(docs, pa.binary()))
    if isinstance(each, pa.RecordBatch):
        assert fast.equals(each)
    else:
        assert fast == each and "message 7" in each


def test_a_boolean_byte_other_than_0_or_1_and_an_int_out_of_range_take_the_per_message_path():
    schema = TableSchema(["b", "t"], [FlinkType.of("BOOLEAN").with_nullable(False),
                                      FlinkType.of("TINYINT").with_nullable(False)])
    decoder = avro_format.AvroDecoder(schema)
    good = pa.array([b"\x01\x02", b"\x00\x03"], pa.binary())
    assert decoder.columnar.decode(good, {"b", "t"}) is not None
    assert decoder.decode(good, str).equals(decoder.decode_each(good, str))
    assert decoder.columnar.decode(pa.array([b"\x02\x02"], pa.binary()), {"b", "t"}) is None
    assert decoder.columnar.decode(pa.array([b"\x01\x80\x04"], pa.binary()), {"b", "t"}) is None


def test_schemas_it_does_not_cover_use_fastavro():
    arr = FlinkType("ARRAY", children=(FlinkType.of("INT"),))
    assert avro_format.AvroDecoder(TableSchema(["a"], [arr])).columnar is None
    assert avro_format.AvroDecoder(TableSchema(["d"], [FlinkType.of("DECIMAL", 10, 2)])).columnar is None
