"""Connector registry: name -> factories. A new connector is one module plus one entry here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from connectors import datagen, faker, filesystem, kafka, nexmark, print as print_connector, values
from connectors.base import Sink, Source, TableSchema
from sqlstream.errors import OptionError


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    options: list[str]
    source: Callable[[str, dict, TableSchema], Source] | None = None
    sink: Callable[[str, dict, TableSchema], Sink] | None = None


CONNECTORS: dict[str, ConnectorSpec] = {
    "filesystem": ConnectorSpec("filesystem", filesystem.OPTIONS, filesystem.create_source, filesystem.create_sink),
    "datagen": ConnectorSpec("datagen", datagen.TABLE_OPTIONS + ["fields.#.kind", "fields.#.min", "fields.#.max",
                                                                 "fields.#.length", "fields.#.start", "fields.#.end",
                                                                 "fields.#.null-rate", "fields.#.max-past"],
                             datagen.create_source),
    "faker": ConnectorSpec("faker", faker.TABLE_OPTIONS + ["fields.#.expression", "fields.#.null-rate",
                                                           "fields.#.length"], faker.create_source),
    "kafka": ConnectorSpec("kafka", kafka.OPTIONS, kafka.create_source, kafka.create_sink),
    "upsert-kafka": ConnectorSpec("upsert-kafka", kafka.OPTIONS,
                                  lambda t, o, s: kafka.create_source(t, o, s, upsert=True),
                                  lambda t, o, s: kafka.create_sink(t, o, s, upsert=True)),
    "nexmark": ConnectorSpec("nexmark", nexmark.OPTIONS, nexmark.create_source),
    "print": ConnectorSpec("print", print_connector.PRINT_OPTIONS, sink=print_connector.create_print),
    "blackhole": ConnectorSpec("blackhole", print_connector.BLACKHOLE_OPTIONS, sink=print_connector.create_blackhole),
    values.NAME: ConnectorSpec(values.NAME, ["rows"], values.create_source),
}


def available() -> list[str]:
    """The connectors a WITH clause may name (not the planner's own source of VALUES rows)."""
    return sorted(n for n in CONNECTORS if n != values.NAME)


def spec(name: str, table: str) -> ConnectorSpec:
    if not name:
        raise OptionError(f"Table options of '{table}' do not contain an option key 'connector'. "
                          f"Available connectors: {', '.join(available())}")
    c = CONNECTORS.get(name)
    if c is None:
        raise OptionError(f"Could not find any factory for identifier '{name}' (table '{table}'). "
                          f"Available connectors: {', '.join(available())}")
    return c


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


def changelog_mode_of(table) -> str:
    """Changelog mode a table's connector produces when read."""
    spec(table.connector, table.name)
    if table.connector in ("kafka", "upsert-kafka"):
        return kafka.changelog_mode(table.options)
    return "I"
