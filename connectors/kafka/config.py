"""Options of the kafka and upsert-kafka connectors, with Flink's names, parsed into one KafkaConfig."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.kafka.java_properties import translate
from sqlstream.connectors.options import Options
from sqlstream.core.errors import ConnectorError, OptionError

FORMATS = ("json", "csv", "raw", "avro", "debezium-json")
OPTIONS = ["connector", "topic", "topic-pattern", "properties.bootstrap.servers", "properties.group.id",
           "scan.startup.mode", "scan.startup.timestamp-millis", "scan.startup.specific-offsets",
           "scan.bounded.mode", "scan.bounded.timestamp-millis", "scan.bounded.specific-offsets",
           "scan.topic-partition-discovery.interval", "scan.watermark.idle-timeout", "scan.parallelism",
           "format", "key.format", "value.format", "key.fields", "key.fields-prefix", "value.fields-include",
           "sink.partitioner", "sink.delivery-guarantee", "sink.transactional-id-prefix", "sink.parallelism",
           "sink.buffer-flush.max-rows", "sink.buffer-flush.interval"]
METADATA = {"topic": "STRING", "partition": "INT", "offset": "BIGINT", "timestamp": "TIMESTAMP_LTZ(3)",
            "timestamp-type": "STRING", "headers": "MAP<STRING, BYTES>", "leader-epoch": "INT"}
STARTUP = ("earliest-offset", "latest-offset", "group-offsets", "timestamp", "specific-offsets")
BOUNDED = ("unbounded", "latest-offset", "group-offsets", "timestamp", "specific-offsets")


def confluent():
    try:
        import confluent_kafka
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ConnectorError("the kafka connector needs the confluent-kafka package") from e
    return confluent_kafka


@dataclass
class KafkaConfig:
    table: str
    upsert: bool
    topics: list[str]
    pattern: str | None
    client: dict
    startup: str
    startup_ts: int | None
    startup_offsets: dict[int, int]
    bounded: str
    bounded_ts: int | None
    bounded_offsets: dict[int, int]
    key_format: str | None
    value_format: str
    key_fields: list[str]
    key_prefix: str
    value_include_key: bool
    partitioner: str
    delivery: str
    txn_prefix: str | None
    opts: Options = field(repr=False, default=None)


def _offsets(text: str | None, key: str) -> dict[int, int]:
    if not text:
        return {}
    out = {}
    for part in text.split(";"):
        m = re.fullmatch(r"\s*partition:(\d+),offset:(\d+)\s*", part)
        if not m:
            raise OptionError(f"Invalid '{key}' value '{text}': expected 'partition:0,offset:42;partition:1,offset:300'")
        out[int(m.group(1))] = int(m.group(2))
    return out


def parse(table: str, options: dict, schema: TableSchema, upsert: bool) -> KafkaConfig:
    name = "upsert-kafka" if upsert else "kafka"
    opts = Options(table, name, options, OPTIONS, prefixes=("properties.", "json.", "csv.", "raw.", "key.json.",
                                                            "value.json.", "key.csv.", "value.csv.", "key.raw.",
                                                            "value.raw.", "debezium-json.", "value.debezium-json.", "avro.",
                                                            "key.avro.", "value.avro."))
    topic = opts.get("topic")
    pattern = opts.get("topic-pattern")
    if not topic and not pattern:
        raise OptionError(f"Table '{table}': either 'topic' or 'topic-pattern' must be set", OPTIONS)
    if topic and pattern:
        raise OptionError(f"Table '{table}': 'topic' and 'topic-pattern' cannot both be set")
    client = translate(opts.with_prefix("properties."), table)
    if "bootstrap.servers" not in client:
        raise OptionError(f"Table '{table}': connector '{name}' requires option 'properties.bootstrap.servers'",
                          OPTIONS)
    fmt = opts.get("format")
    kfmt, vfmt = opts.get("key.format"), opts.get("value.format")
    if upsert:
        if not kfmt or not vfmt:
            raise OptionError(f"Table '{table}': upsert-kafka requires 'key.format' and 'value.format'", OPTIONS)
        if not schema.primary_key:
            raise OptionError(f"Table '{table}': 'upsert-kafka' tables require to define a PRIMARY KEY constraint. "
                              f"The PRIMARY KEY specifies which columns should be read from or write to the Kafka "
                              f"message key.")
    value = vfmt or fmt
    if not value:
        raise OptionError(f"Table '{table}': set 'format' (or 'value.format')", OPTIONS)
    for f in (value, kfmt):
        if f and f not in FORMATS:
            raise OptionError(f"Table '{table}': format '{f}' is not supported by the kafka connector; use one of: "
                              f"{', '.join(FORMATS)}")
    key_fields_opt = opts.get("key.fields")
    key_fields = [k.strip() for k in key_fields_opt.split(";")] if key_fields_opt else []
    if upsert:
        key_fields = list(schema.primary_key)
    if kfmt and not key_fields:
        raise OptionError(f"Table '{table}': 'key.format' needs 'key.fields'")
    for k in key_fields:
        if k not in schema.all_names:
            raise OptionError(f"Table '{table}': key field '{k}' is not a column of the table")
    include = opts.get_choice("value.fields-include", ("ALL", "EXCEPT_KEY"), "ALL")
    startup = opts.get_choice("scan.startup.mode", STARTUP, "earliest-offset" if not upsert else "earliest-offset")
    bounded = opts.get_choice("scan.bounded.mode", BOUNDED, "unbounded")
    delivery = opts.get_choice("sink.delivery-guarantee", ("none", "at-least-once", "exactly-once"), "at-least-once")
    cfg = KafkaConfig(
        table, upsert, [t.strip() for t in topic.split(";")] if topic else [], pattern, client, startup,
        opts.get_int("scan.startup.timestamp-millis"),
        _offsets(opts.get("scan.startup.specific-offsets"), "scan.startup.specific-offsets"),
        bounded, opts.get_int("scan.bounded.timestamp-millis"),
        _offsets(opts.get("scan.bounded.specific-offsets"), "scan.bounded.specific-offsets"),
        kfmt, value, key_fields, opts.get("key.fields-prefix", "") or "", include == "ALL",
        opts.get_choice("sink.partitioner", ("default", "fixed", "round-robin"), "default"), delivery,
        opts.get("sink.transactional-id-prefix"), opts)
    if startup == "timestamp" and cfg.startup_ts is None:
        raise OptionError(f"Table '{table}': scan.startup.mode 'timestamp' needs 'scan.startup.timestamp-millis'")
    for k in ("scan.topic-partition-discovery.interval", "scan.watermark.idle-timeout", "scan.parallelism",
              "sink.parallelism", "sink.buffer-flush.max-rows", "sink.buffer-flush.interval"):
        opts.get(k)
    return cfg


def value_columns(cfg: KafkaConfig, physical: list[str]) -> list[str]:
    if cfg.value_include_key:
        return list(physical)
    return [c for c in physical if c not in cfg.key_fields]
