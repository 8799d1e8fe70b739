"""Connector registry: name -> factories. A new connector is one module plus one loader here.

Connectors are known by name and imported only when a table uses one, so a job that reads a file does not pay
for Kafka, avro, faker or nexmark at start-up."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

from sqlstream.connectors.base import Sink, Source, TableSchema
from sqlstream.connectors.values import NAME as VALUES
from sqlstream.core.errors import OptionError


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    options: list[str]
    source: Callable[[str, dict, TableSchema], Source] | None = None
    sink: Callable[[str, dict, TableSchema], Sink] | None = None
    # (table, options, schema, key column names) -> an object whose lookup(keys) gives the rows with those keys
    lookup: Callable | None = None


def _filesystem() -> ConnectorSpec:
    from sqlstream.connectors import filesystem
    return ConnectorSpec("filesystem", filesystem.OPTIONS, filesystem.create_source, filesystem.create_sink)


def _datagen() -> ConnectorSpec:
    from sqlstream.connectors import datagen
    return ConnectorSpec("datagen", datagen.TABLE_OPTIONS + ["fields.#.kind", "fields.#.min", "fields.#.max",
                                                             "fields.#.length", "fields.#.start", "fields.#.end",
                                                             "fields.#.null-rate", "fields.#.max-past"],
                         datagen.create_source)


def _faker() -> ConnectorSpec:
    from sqlstream.connectors import faker
    return ConnectorSpec("faker", faker.TABLE_OPTIONS + ["fields.#.expression", "fields.#.null-rate",
                                                         "fields.#.length"], faker.create_source)


def _kafka() -> ConnectorSpec:
    from sqlstream.connectors import kafka
    return ConnectorSpec("kafka", kafka.OPTIONS, kafka.create_source, kafka.create_sink)


def _upsert_kafka() -> ConnectorSpec:
    from sqlstream.connectors import kafka
    return ConnectorSpec("upsert-kafka", kafka.OPTIONS,
                         lambda t, o, s: kafka.create_source(t, o, s, upsert=True),
                         lambda t, o, s: kafka.create_sink(t, o, s, upsert=True))


def _jdbc() -> ConnectorSpec:
    from sqlstream.connectors import jdbc
    return ConnectorSpec("jdbc", jdbc.OPTIONS, jdbc.create_source, jdbc.create_sink, jdbc.create_lookup)


def _iceberg() -> ConnectorSpec:
    from sqlstream.connectors import iceberg
    return ConnectorSpec("iceberg", iceberg.OPTIONS, iceberg.create_source, iceberg.create_sink)


def _nexmark() -> ConnectorSpec:
    from sqlstream.connectors import nexmark
    return ConnectorSpec("nexmark", nexmark.OPTIONS, nexmark.create_source)


def _print() -> ConnectorSpec:
    from sqlstream.connectors import print as print_connector
    return ConnectorSpec("print", print_connector.PRINT_OPTIONS, sink=print_connector.create_print)


def _blackhole() -> ConnectorSpec:
    from sqlstream.connectors import print as print_connector
    return ConnectorSpec("blackhole", print_connector.BLACKHOLE_OPTIONS, sink=print_connector.create_blackhole)


def _values() -> ConnectorSpec:
    from sqlstream.connectors import values
    return ConnectorSpec(VALUES, ["rows"], values.create_source)


LOADERS: dict[str, Callable[[], ConnectorSpec]] = {
    "filesystem": _filesystem,
    "datagen": _datagen,
    "faker": _faker,
    "kafka": _kafka,
    "upsert-kafka": _upsert_kafka,
    "iceberg": _iceberg,
    "nexmark": _nexmark,
    "jdbc": _jdbc,
    "print": _print,
    "blackhole": _blackhole,
    VALUES: _values,
}


def available() -> list[str]:
    """The connectors a WITH clause may name (not the planner's own source of VALUES rows)."""
    return sorted(n for n in LOADERS if n != VALUES)


@cache
def load(name: str) -> ConnectorSpec:
    """The connector's factories and options, importing its module on first use."""
    return LOADERS[name]()


def spec(name: str, table: str) -> ConnectorSpec:
    if not name:
        raise OptionError(f"Table options of '{table}' do not contain an option key 'connector'. "
                          f"Available connectors: {', '.join(available())}")
    if name not in LOADERS:
        raise OptionError(f"Could not find any factory for identifier '{name}' (table '{table}'). "
                          f"Available connectors: {', '.join(available())}")
    return load(name)


def create_source(name: str, table: str, options: dict, schema: TableSchema) -> Source:
    c = spec(name, table)
    if c.source is None:
        raise OptionError(f"Connector '{name}' can only be used as a sink (table '{table}' is read)")
    return c.source(table, options, schema)


def create_sink(name: str, table: str, options: dict, schema: TableSchema) -> Sink:
    c = spec(name, table)
    if c.sink is None:
        raise OptionError(f"Connector '{name}' can only be used as a source (table '{table}' is written)")
    return c.sink(table, options, schema)


# formats that find a ROW's fields by name, so a source asked for some fields of a ROW decodes only those (avro
# reads a datum by position and must decode whole rows)
NESTED_PROJECTION_FORMATS = ("json",)


def nested_projection(connector: str, options: dict) -> bool:
    """Whether a source of this connector, with these options, builds only the ROW fields it is asked for
    (nested projection pushdown): the nexmark generator, and the file and Kafka connectors when every format
    they read is one of NESTED_PROJECTION_FORMATS, unless a missing field must fail the job (Flink checks every
    field of a ROW it reads for that)."""
    if connector == "nexmark":
        return True
    if connector not in ("filesystem", "kafka", "upsert-kafka"):
        return False
    formats = [options[k] for k in ("format", "key.format", "value.format") if options.get(k)]
    strict = any(k.endswith("json.fail-on-missing-field") and str(v).lower() == "true" for k, v in options.items())
    return bool(formats) and all(f in NESTED_PROJECTION_FORMATS for f in formats) and not strict


def changelog_mode_of(table) -> str:
    """Changelog mode a table's connector produces when read."""
    spec(table.connector, table.name)
    if table.connector in ("kafka", "upsert-kafka"):
        from sqlstream.connectors import kafka
        return kafka.changelog_mode(table.options)
    if table.connector == "filesystem" and table.options.get("format") in ("debezium-json", "canal-json",
                                                                           "maxwell-json"):
        return "I,UB,UA,D"
    return "I"
