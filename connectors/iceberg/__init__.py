"""Iceberg tables with Flink's Iceberg connector options, through pyiceberg (imported only when used)."""
from __future__ import annotations

from sqlstream.connectors.base import Sink, Source, TableSchema
from sqlstream.connectors.options import Options, parse_duration_ms
from sqlstream.core.errors import OptionError

OPTIONS = ["catalog-name", "catalog-type", "catalog-database", "catalog-table", "uri", "warehouse",
           "format-version", "write.upsert.enabled", "streaming", "monitor-interval", "start-snapshot-id",
           "streaming-skip-delete-snapshots", "streaming-skip-overwrite-snapshots", "default-database",
           "property-version", "cache-enabled"]
# catalog properties pyiceberg reads as given (file IO credentials and endpoints, REST auth)
PASS_THROUGH = ("s3.", "gcs.", "adls.", "hive.", "rest.", "header.", "credential", "token", "oauth2-server-uri",
                "scope", "py-io-impl", "client.")


def _open(table: str, options: dict, schema: TableSchema, create: bool):
    from sqlstream.connectors.iceberg import catalogs
    opts = Options(table, "iceberg", options, OPTIONS, PASS_THROUGH)
    name = opts.require("catalog-name")
    for k in ("catalog-type", "uri", "warehouse", "catalog-impl"):
        opts.get(k)
    extra = {k: v for k, v in options.items() if k.startswith(PASS_THROUGH)}
    config = catalogs.catalog_config(f"Table '{table}'", name, options, extra)
    database = opts.get("catalog-database", "default")
    iceberg_name = opts.get("catalog-table", table.split(".")[-1])
    props = {}
    if opts.get("format-version") is not None:
        props["format-version"] = opts.get("format-version")
    upsert = opts.get_bool("write.upsert.enabled", False)
    if upsert:
        props["write.upsert.enabled"] = "true"
    for k in schema.partition_keys:
        props[f"write.metadata.metrics.column.{k}"] = "full"  # exact bounds tell a data file's partition
    streaming = opts.get_bool("streaming", False)
    interval = parse_duration_ms(opts.get("monitor-interval", "60s"))
    start = opts.get_int("start-snapshot-id")
    skips = (opts.get_bool("streaming-skip-delete-snapshots"), opts.get_bool("streaming-skip-overwrite-snapshots"))
    for k in ("default-database", "property-version", "cache-enabled"):
        opts.get(k)
    opts.finish()
    iceberg = catalogs.open_table(config, database, iceberg_name, schema, table, props, create)
    upsert = upsert or iceberg.properties.get("write.upsert.enabled", "false").lower() == "true"
    return iceberg, upsert, streaming, interval, start, skips


def create_sink(table: str, options: dict, schema: TableSchema) -> Sink:
    from sqlstream.connectors.iceberg.sink import IcebergSink
    iceberg, upsert, *_ = _open(table, options, schema, create=True)
    if upsert and not (schema.primary_key or iceberg.schema().identifier_field_ids):
        raise OptionError(f"Table '{table}': 'write.upsert.enabled' = 'true' needs a PRIMARY KEY (the key rows "
                          f"are upserted by)")
    return IcebergSink(table, iceberg, schema, upsert)


def create_source(table: str, options: dict, schema: TableSchema) -> Source:
    from sqlstream.connectors.iceberg.source import IcebergSource
    iceberg, _, streaming, interval, start, skips = _open(table, options, schema, create=False)
    return IcebergSource(table, iceberg, schema, streaming, interval, start, skips)
