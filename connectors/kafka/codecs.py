"""The decoder of a Kafka key or value format."""
from __future__ import annotations


from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats import avro as avro_format
from sqlstream.connectors.formats import csv as csv_format
from sqlstream.connectors.formats import json as json_format
from sqlstream.connectors.formats.debezium import DebeziumJsonDecoder
from sqlstream.connectors.formats.raw import RawCodec
from sqlstream.connectors.kafka.config import KafkaConfig
from sqlstream.core.errors import OptionError
from sqlstream.core.types import FlinkType


def decoder(fmt: str, cfg: KafkaConfig, names: list[str], types: list[FlinkType], prefix: str,
            record: TableSchema | None = None):
    """The decoder of the columns `names` from messages that hold the columns of `record` (by default just
    those): JSON judges a field name by every field of that name a message may hold, read or not."""
    schema = TableSchema(names, types)
    if fmt == "json":
        if record is not None:
            schema = TableSchema(names, types, physical_names=record.names, physical_types=record.types)
        return json_format.JsonDecoder.from_options(cfg.opts, schema, prefix + "json.")
    if fmt == "csv":
        return csv_format.CsvDecoder.from_options(cfg.opts, schema, prefix + "csv.")
    if fmt == "avro":
        return avro_format.AvroDecoder.from_options(cfg.opts, schema, prefix + "avro.")
    if fmt == "raw":
        return RawCodec.for_columns(cfg.table, types)
    if fmt == "debezium-json":
        return DebeziumJsonDecoder.from_options(cfg.opts, schema, prefix + "debezium-json.")
    raise OptionError(f"unsupported format {fmt}")
