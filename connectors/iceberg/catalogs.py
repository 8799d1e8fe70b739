"""Reaching an Iceberg catalog through pyiceberg, and opening (or creating) a table in it with the declared
columns; a catalog that cannot be reached or a table whose columns disagree fails here, at the job's start."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlstream.connectors.base import TableSchema
from sqlstream.core.errors import ConnectorError, OptionError

# Flink's 'catalog-type' -> pyiceberg's catalog type; 'sql' is pyiceberg's JDBC-like SQL catalog (SQLite, ...)
CATALOG_TYPES = {"sql": "sql", "rest": "rest", "hive": "hive", "glue": "glue", "dynamodb": "dynamodb"}
# properties the catalog itself uses; the rest (s3.*, credential, ...) goes to pyiceberg as given
CATALOG_KEYS = ("catalog-type", "uri", "warehouse")


@dataclass(frozen=True)
class CatalogConfig:
    """How to reach one Iceberg catalog: its name and the properties pyiceberg gets."""

    name: str
    properties: tuple[tuple[str, str], ...]

    @property
    def describe(self) -> str:
        shown = {k: v for k, v in self.properties if k in ("type", "uri", "warehouse")}
        return ", ".join(f"'{'catalog-type' if k == 'type' else k}' = '{v}'" for k, v in shown.items())


def catalog_config(where: str, name: str, options: dict[str, str], extra: dict[str, str]) -> CatalogConfig:
    """The catalog options of a table or of CREATE CATALOG; `extra` are pass-through properties."""
    kind = options.get("catalog-type", "hive")
    if "catalog-impl" in options:
        raise OptionError(f"{where}: 'catalog-impl' (a Java class) is not supported; set 'catalog-type' to one of "
                          f"{', '.join(CATALOG_TYPES)}")
    if kind not in CATALOG_TYPES:
        hint = " (pyiceberg has no Hadoop catalog: use 'sql' with a SQLite or Postgres 'uri')" \
            if kind == "hadoop" else ""
        raise OptionError(f"{where}: option 'catalog-type' must be one of {', '.join(CATALOG_TYPES)}; got "
                          f"'{kind}'{hint}")
    props = {"type": CATALOG_TYPES[kind], **extra}
    for key in ("uri", "warehouse"):
        if options.get(key) is not None:
            props[key] = options[key]
    if kind == "sql" and "uri" not in props:
        raise OptionError(f"{where}: 'catalog-type' = 'sql' needs option 'uri' (e.g. 'sqlite:///path/catalog.db')")
    return CatalogConfig(name, tuple(sorted(props.items())))


@cache
def load(config: CatalogConfig):
    """The pyiceberg catalog (one per process and configuration); an unreachable one is a ConnectorError
    naming the options that point at it."""
    from pyiceberg.catalog import load_catalog
    try:
        catalog = load_catalog(config.name, **dict(config.properties))
        catalog.list_namespaces()
    except Exception as e:
        raise ConnectorError(f"Cannot reach Iceberg catalog '{config.name}' ({config.describe}): "
                             f"{type(e).__name__}: {_first_line(e)}. Check option 'uri' (and 'warehouse')") \
            from None
    return catalog


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""


def open_table(config: CatalogConfig, database: str, name: str, schema: TableSchema, table: str,
               properties: dict[str, str] | None = None, create: bool = True):
    """The Iceberg table `database.name`, created with the declared columns if missing (as Flink's connector
    does); every declared column must exist in it with the type it is stored as."""
    from pyiceberg.exceptions import NoSuchTableError
    catalog = load(config)
    ident = (database, name)
    try:
        iceberg = catalog.load_table(ident)
    except NoSuchTableError:
        if not create:
            raise ConnectorError(f"Table '{table}': Iceberg table {database}.{name} does not exist in catalog "
                                 f"'{config.name}' (options 'catalog-database', 'catalog-table')") from None
        iceberg = create_table(catalog, database, name, schema, properties or {})
    check_columns(iceberg, schema, table, f"{database}.{name}")
    return iceberg


def create_table(catalog, database: str, name: str, schema: TableSchema, properties: dict[str, str]):
    """A new Iceberg table: the columns, the primary key as identifier fields, PARTITIONED BY as identity
    partitions."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import IdentityTransform

    from sqlstream.connectors.iceberg.types import iceberg_schema
    names, types = schema.all_names, schema.all_types
    ischema = iceberg_schema(names, types, schema.primary_key)
    spec = PartitionSpec(*[PartitionField(source_id=names.index(k) + 1, field_id=1000 + i,
                                          transform=IdentityTransform(), name=k)
                           for i, k in enumerate(schema.partition_keys)])
    catalog.create_namespace_if_not_exists(database)
    return catalog.create_table((database, name), schema=ischema, partition_spec=spec, properties=properties)


def check_columns(iceberg, schema: TableSchema, table: str, where: str) -> None:
    """Each declared column exists in the Iceberg table with the type it would be stored as."""
    from itertools import count

    from sqlstream.connectors.iceberg.types import iceberg_type, shape
    existing = {f.name: f for f in iceberg.schema().fields}
    for n, t in zip(schema.all_names, schema.all_types):
        f = existing.get(n)
        if f is None:
            raise ConnectorError(f"Table '{table}': column '{n}' does not exist in Iceberg table {where} (option "
                                 f"'catalog-table'), which has columns {', '.join(existing)}")
        want = shape(iceberg_type(t, count(1)))
        if shape(f.field_type) != want:
            raise ConnectorError(f"Table '{table}': column '{n}' is declared {t} (stored as {want}) but Iceberg "
                                 f"table {where} (option 'catalog-table') has it as {shape(f.field_type)}")
