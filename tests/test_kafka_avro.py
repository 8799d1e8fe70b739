"""The avro format over a real broker: datums written with the schema Flink derives from the table (written out
by hand below, not by the engine) are read, the sink's messages decode with that schema, and a malformed
datum fails naming topic, partition and offset."""
import datetime
import decimal
import io

import fastavro
import pytest

from sqlstream.core.errors import FormatError
from tests.test_kafka import kafka_table, rows, run

pytestmark = pytest.mark.kafka

COLUMNS = """  id BIGINT NOT NULL,
  name STRING,
  price DECIMAL(10, 2),
  ts TIMESTAMP(3),
  `day` DATE,
  tags ARRAY<STRING>,
  attrs MAP<STRING, INT>,
  addr ROW<city STRING, zip INT>"""

# AvroSchemaConverter.convertToSchema of the row type above: nullable types are ["null", T]
FLINK_SCHEMA = fastavro.parse_schema({
    "type": "record", "name": "record", "namespace": "org.apache.flink.avro.generated", "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "price", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}]},
        {"name": "ts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
        {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}]},
        {"name": "tags", "type": ["null", {"type": "array", "items": ["null", "string"]}]},
        {"name": "attrs", "type": ["null", {"type": "map", "values": ["null", "int"]}]},
        {"name": "addr", "type": ["null", {"type": "record", "name": "record_addr", "fields": [
            {"name": "city", "type": ["null", "string"]}, {"name": "zip", "type": ["null", "int"]}]}]},
    ]})

UTC = datetime.timezone.utc
RECORDS = [
    {"id": 1, "name": "alpha", "price": decimal.Decimal("12.50"),
     "ts": datetime.datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC), "day": datetime.date(2024, 3, 1),
     "tags": ["a", None, "c"], "attrs": {"x": 1, "y": None}, "addr": {"city": "Oslo", "zip": 150}},
    {"id": 2, "name": None, "price": None, "ts": None, "day": None, "tags": None, "attrs": None, "addr": None},
    {"id": 3, "name": "gamma", "price": decimal.Decimal("-0.05"),
     "ts": datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), "day": datetime.date(1970, 1, 1),
     "tags": [], "attrs": {}, "addr": {"city": None, "zip": 7}},
]


def datum(record: dict) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, FLINK_SCHEMA, record)
    return buf.getvalue()


SELECT = ("SELECT id, name, price, CAST(ts AS STRING) AS ts, CAST(`day` AS STRING) AS d, tags, attrs['x'] AS x, "
          "addr.city AS city, addr.zip AS zip FROM {t};")
EXPECTED = [
    (1, "alpha", "12.50", "2024-03-01 10:00:00.123", "2024-03-01", ["a", None, "c"], 1, "Oslo", 150),
    (2, None, None, None, None, None, None, None, None),
    (3, "gamma", "-0.05", "1969-12-31 23:59:59.999", "1970-01-01", [], None, None, 7),
]


def as_tuples(out: str) -> list[tuple]:
    return [(r["id"], r["name"], r["price"], r["ts"], r["d"], r["tags"], r["x"], r["city"], r["zip"])
            for r in rows(out)]


def test_reads_datums_written_with_flinks_schema(broker):
    broker.create_topic("avro_in", 1)
    broker.produce("avro_in", [(0, None, datum(r)) for r in RECORDS])
    out, _ = run(kafka_table("a", broker, "avro_in", ", 'format' = 'avro'", COLUMNS) + SELECT.format(t="a"))
    assert as_tuples(out) == EXPECTED


def test_sink_writes_datums_flinks_schema_reads_and_round_trips(broker):
    broker.create_topic("avro_src", 1)
    broker.create_topic("avro_out", 1)
    broker.produce("avro_src", [(0, None, datum(r)) for r in RECORDS])
    sink = kafka_table("o", broker, "avro_out", ", 'format' = 'avro'", COLUMNS, bounded=False)
    run(kafka_table("a", broker, "avro_src", ", 'format' = 'avro'", COLUMNS) + sink +
        "INSERT INTO o SELECT * FROM a WHERE id <> 3;")
    messages = broker.consume_all("avro_out")
    decoded = [fastavro.schemaless_reader(io.BytesIO(m.value()), FLINK_SCHEMA, None) for m in messages]
    assert decoded == RECORDS[:2]
    out, _ = run(kafka_table("back", broker, "avro_out", ", 'format' = 'avro'", COLUMNS, bounded=False)
                 .replace("'scan.startup.mode' = 'earliest-offset'",
                          "'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'specific-offsets', "
                          "'scan.bounded.specific-offsets' = 'partition:0,offset:2'") + SELECT.format(t="back"))
    assert as_tuples(out) == EXPECTED[:2]


def test_projection_reads_a_subset_of_the_datum_and_avro_keys(broker):
    broker.create_topic("avro_kv", 1)
    key_schema = fastavro.parse_schema({"type": "record", "name": "record",
                                        "namespace": "org.apache.flink.avro.generated",
                                        "fields": [{"name": "id", "type": "long"}]})
    msgs = []
    for r in RECORDS:
        k = io.BytesIO()
        fastavro.schemaless_writer(k, key_schema, {"id": r["id"]})
        msgs.append((0, k.getvalue(), datum(r)))
    broker.produce("avro_kv", msgs)
    extra = ", 'key.format' = 'avro', 'key.fields' = 'id', 'value.format' = 'avro'"
    out, _ = run(kafka_table("kv", broker, "avro_kv", extra, COLUMNS) + "SELECT id, addr.zip AS zip FROM kv;")
    assert [(r["id"], r["zip"]) for r in rows(out)] == [(1, 150), (2, None), (3, 7)]


def test_malformed_datum_fails_naming_topic_partition_offset(broker):
    broker.create_topic("avro_bad", 1)
    broker.produce("avro_bad", [(0, None, datum(RECORDS[0])), (0, None, b"\x02\x02\xff")])
    with pytest.raises(FormatError, match="topic 'avro_bad' partition 0 offset 1"):
        run(kafka_table("b", broker, "avro_bad", ", 'format' = 'avro'", COLUMNS) + SELECT.format(t="b"))


def test_count_reads_no_column_of_the_datum(broker):
    broker.create_topic("avro_count", 1)
    broker.produce("avro_count", [(0, None, datum(r)) for r in RECORDS])
    out, _ = run(kafka_table("a", broker, "avro_count", ", 'format' = 'avro'", COLUMNS) +
                 "SELECT COUNT(*) AS n FROM a;")
    assert rows(out)[-1]["n"] == 3
