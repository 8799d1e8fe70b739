"""kafka and upsert-kafka connectors: Flink's options (config), the source, the sink with its delivery
guarantees, and the codecs the connector adds to the shared formats."""
from __future__ import annotations

from sqlstream.connectors.base import Sink, Source, TableSchema
from sqlstream.connectors.kafka.config import OPTIONS, parse
from sqlstream.connectors.kafka.sink import KafkaSink
from sqlstream.connectors.kafka.source import KafkaSource
from sqlstream.connectors.kafka.transactions import transactional_id
from sqlstream.core.errors import OptionError

__all__ = ["OPTIONS", "create_source", "create_sink", "changelog_mode"]


def create_source(table: str, options: dict, schema: TableSchema, upsert: bool = False) -> Source:
    cfg = parse(table, options, schema, upsert)
    cfg.opts.finish()
    return KafkaSource(cfg, schema)


def create_sink(table: str, options: dict, schema: TableSchema, upsert: bool = False) -> Sink:
    cfg = parse(table, options, schema, upsert)
    cfg.opts.finish()
    if cfg.value_format == "debezium-json":
        raise OptionError(f"Table '{table}': writing debezium-json to Kafka is not supported yet")
    if cfg.delivery == "exactly-once":
        transactional_id(cfg)  # the prefix is required: fail at planning time, not at the first checkpoint
    return KafkaSink(cfg, schema)


def changelog_mode(options: dict) -> str:
    if options.get("connector") == "upsert-kafka":
        return "I,UA,D"
    if (options.get("value.format") or options.get("format")) == "debezium-json":
        return "I,UB,UA,D"
    return "I"
