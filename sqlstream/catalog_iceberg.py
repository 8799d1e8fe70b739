"""`CREATE CATALOG c WITH ('type' = 'iceberg', ..)`: an Iceberg catalog (through pyiceberg) whose namespaces
are databases and whose tables are Iceberg tables, as Flink's FlinkCatalog has them. CREATE TABLE creates the
Iceberg table (WITH options become its properties), DROP TABLE drops it; every table reads and writes through
the `iceberg` connector."""
from __future__ import annotations

from sqlstream.catalog import Catalog, ColumnDef, Database, ObjectIdentifier, TableDef
from sqlstream.core.errors import ValidationError

PASS_THROUGH = ("s3.", "gcs.", "adls.", "hive.", "rest.", "header.", "credential", "token", "oauth2-server-uri",
                "scope", "py-io-impl", "client.")


class IcebergCatalog(Catalog):
    type_name = "iceberg"
    supported_options = ("catalog-type", "uri", "warehouse", "default-database", "property-version",
                         "cache-enabled", "clients")
    option_prefixes = PASS_THROUGH

    def __init__(self, name: str, options: dict[str, str], comment: str | None = None,
                 default_database: str = "default") -> None:
        from sqlstream.connectors.iceberg import catalogs
        super().__init__(name, options, comment, default_database)
        extra = {k: v for k, v in options.items() if k.startswith(PASS_THROUGH)}
        self.config = catalogs.catalog_config(f"Catalog '{name}'", name, options, extra)
        self.iceberg = catalogs.load(self.config)
        self.databases: dict[str, Database] = {}

    def connector_options(self, database: str, table: str) -> dict[str, str]:
        """The `iceberg` connector options that reach one table of this catalog."""
        keep = ("catalog-type", "uri", "warehouse") + PASS_THROUGH
        return {"connector": "iceberg", "catalog-name": self.name,
                **{k: v for k, v in self.options.items() if k.startswith(keep)},
                "catalog-database": database, "catalog-table": table}

    def database_names(self) -> list[str]:
        return [".".join(ns) for ns in self.iceberg.list_namespaces()]

    def database(self, name: str) -> Database | None:
        if name not in self.databases:
            from pyiceberg.exceptions import NoSuchNamespaceError
            try:
                tables = self.iceberg.list_tables(name)
            except NoSuchNamespaceError:
                return None
            db = Database(name)
            for ident in tables:
                db.objects[ident[-1]] = self._table_def(name, ident[-1])
            self.databases[name] = db
        return self.databases[name]

    def _table_def(self, database: str, name: str) -> TableDef:
        from pyiceberg.transforms import IdentityTransform

        from sqlstream.connectors.iceberg.types import flink_type
        table = self.iceberg.load_table((database, name))
        schema = table.schema()
        columns = [ColumnDef(f.name, flink_type(f.field_type, f.required)) for f in schema.fields]
        keys = [schema.find_field(i).name for i in schema.identifier_field_ids]
        parts = [schema.find_field(f.source_id).name for f in table.spec().fields
                 if isinstance(f.transform, IdentityTransform)]
        return TableDef(name, columns, self.connector_options(database, name), primary_key=keys,
                        partition_keys=parts, identifier=ObjectIdentifier(self.name, database, name))

    def _call(self, what: str, action, *args):
        """A pyiceberg call; its failure (another process got there first, the catalog went away) is an error
        naming the catalog and what was being done."""
        try:
            return action(*args)
        except Exception as e:
            raise ValidationError(f"Iceberg catalog '{self.name}': could not {what}: {type(e).__name__}: {e}") \
                from None

    def create_database(self, db: Database) -> None:
        self._call(f"create namespace {db.name}", self.iceberg.create_namespace, db.name, db.properties)
        self.databases[db.name] = Database(db.name, db.comment, db.properties)

    def drop_database(self, name: str) -> None:
        for table in list(self.databases.get(name, Database(name)).objects):
            self._call(f"drop table {name}.{table}", self.iceberg.drop_table, (name, table))
        self._call(f"drop namespace {name}", self.iceberg.drop_namespace, name)
        self.databases.pop(name, None)

    def add_table(self, db: Database, name: str, table: TableDef) -> None:
        """CREATE TABLE: the Iceberg table, with the declared columns, key and partitions."""
        if name in db.objects:  # ALTER of a table already in Iceberg: only the session's definition changes
            db.objects[name] = table
            return
        if table.temporary:
            raise ValidationError(f"Catalog '{self.name}' (type 'iceberg') holds no temporary tables: create "
                                  f"TEMPORARY tables in another catalog")
        if "connector" in table.options:
            raise ValidationError(f"Cannot create the table '{name}' with a 'connector' option in Iceberg catalog "
                                  f"'{self.name}': its tables are Iceberg tables (WITH options become table "
                                  f"properties); create a 'connector' = 'iceberg' table in another catalog instead")
        odd = [c.name for c in table.columns if c.kind != "physical"]
        if odd or table.watermark_column:
            raise ValidationError(f"Tables of Iceberg catalog '{self.name}' have physical columns only "
                                  f"({', '.join(odd) or 'WATERMARK'} is not); declare computed columns and "
                                  f"watermarks on a 'connector' = 'iceberg' table in another catalog")
        from sqlstream.connectors.base import TableSchema
        from sqlstream.connectors.iceberg.catalogs import create_table
        schema = TableSchema([c.name for c in table.columns], [c.type for c in table.columns],
                             primary_key=list(table.primary_key), partition_keys=list(table.partition_keys))
        properties = dict(table.options)
        for k in table.partition_keys:
            properties.setdefault(f"write.metadata.metrics.column.{k}", "full")
        self._call(f"create table {db.name}.{name}", create_table, self.iceberg, db.name, name, schema, properties)
        table.options = self.connector_options(db.name, name)
        db.objects[name] = table

    def drop_table(self, db: Database, name: str) -> None:
        self._call(f"drop table {db.name}.{name}", self.iceberg.drop_table, (db.name, name))
        del db.objects[name]
