"""CREATE / DROP / ALTER / USE of catalogs and databases, and LOAD / UNLOAD / USE MODULES, with Flink's rules."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.catalog import CATALOG_TYPES, CatalogManager, Database, name_parts
from sqlstream.catalog_iceberg import IcebergCatalog
from sqlstream.dialect import expressions as fx
from sqlstream.core.errors import ValidationError


KINDS = {**CATALOG_TYPES, IcebergCatalog.type_name: IcebergCatalog}


def options_of(props: list[exp.Expr] | None) -> dict[str, str]:
    return {p.this.name: p.args["value"].name for p in props or []}


def create_catalog(cm: CatalogManager, stmt: fx.CatalogStatement) -> None:
    name = stmt.this.name
    options = options_of(stmt.args.get("options"))
    comment = stmt.args["comment"].name if stmt.args.get("comment") is not None else None
    if name in cm.catalogs:
        if stmt.args.get("exists"):
            return
        raise ValidationError(f"Catalog {name} already exists.")
    listed = "\n".join(f"'{k}'='{v}'" for k, v in sorted(options.items()))
    kind = options.get("type")
    if kind is None:
        raise ValidationError(f"Unable to create catalog '{name}'.\nCatalog options are:\n{listed}\n"
                              f"Catalog options do not contain an option key 'type' for discovering a catalog.")
    cls = KINDS.get(kind)
    if cls is None:
        raise ValidationError(f"Unable to create catalog '{name}'.\nCatalog options are:\n{listed}\nCould not "
                              f"find any factory for identifier '{kind}' that implements 'CatalogFactory'.\n"
                              f"Available factory identifiers are:\n" + "\n".join(sorted(KINDS)))
    unknown = sorted(k for k in options if k != "type" and k not in cls.supported_options
                     and not k.startswith(cls.option_prefixes))
    if unknown:
        raise ValidationError(f"Unable to create catalog '{name}'.\nCatalog options are:\n{listed}\nUnsupported "
                              f"options found for '{kind}'.\n\nUnsupported options:\n\n" + "\n".join(unknown) +
                              "\n\nSupported options:\n\n" + "\n".join(cls.supported_options))
    catalog = cls(name, options, comment)
    catalog.descriptor = True
    cm.catalogs[name] = catalog


def alter_catalog(cm: CatalogManager, stmt: fx.CatalogStatement) -> None:
    catalog = cm.catalog(stmt.this.name)
    if stmt.args.get("options") is not None and not stmt.args.get("reset"):
        new = options_of(stmt.args["options"])
        if "type" in new and new["type"] != catalog.options.get("type"):
            raise ValidationError("ALTER CATALOG SET does not support changing 'type'")
        catalog.options.update(new)
    elif stmt.args.get("reset") is not None:
        keys = [k.name for k in stmt.args["reset"]]
        if not keys:
            raise ValidationError("ALTER CATALOG RESET does not support empty key")
        if "type" in keys:
            raise ValidationError("ALTER CATALOG RESET does not support changing 'type'")
        for k in keys:
            catalog.options.pop(k, None)
    else:
        catalog.comment = stmt.args["comment"].name if stmt.args.get("comment") is not None else None


def drop_catalog(cm: CatalogManager, name: str, if_exists: bool) -> None:
    if name not in cm.catalogs:
        if if_exists:
            return
        raise ValidationError(f"Catalog {name} does not exist.")
    if name == cm.current_catalog:
        raise ValidationError("Cannot drop a catalog which is currently in use.")
    del cm.catalogs[name]
    cm.temporary_objects = {i: o for i, o in cm.temporary_objects.items() if i.catalog != name}


def use_catalog(cm: CatalogManager, name: str) -> None:
    if name not in cm.catalogs:
        raise ValidationError(f"A catalog with name [{name}] does not exist.")
    cm.current_catalog = name
    cm.current_database = cm.catalogs[name].default_database


def database_path(cm: CatalogManager, table: exp.Expr) -> tuple[str, str]:
    """`[catalog.]database` as (catalog, database)."""
    parts = name_parts(table)
    if len(parts) == 1:
        return cm.current_catalog, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValidationError(f"Database identifier '{'.'.join(parts)}' has more than 2 parts: write "
                          f"[catalog.]database")


def use_database(cm: CatalogManager, table: exp.Expr) -> None:
    catalog, database = database_path(cm, table)
    if catalog not in cm.catalogs:
        raise ValidationError(f"A catalog with name [{catalog}] does not exist.")
    if cm.catalogs[catalog].database(database) is None:
        raise ValidationError(f"A database with name [{database}] does not exist in the catalog: [{catalog}].")
    cm.current_catalog, cm.current_database = catalog, database


def create_database(cm: CatalogManager, stmt: exp.Create) -> None:
    catalog_name, name = database_path(cm, stmt.this)
    catalog = cm.catalog(catalog_name)
    props = stmt.args.get("properties")
    comment = None
    options = {}
    for p in (props.expressions if props else []):
        if isinstance(p, exp.SchemaCommentProperty):
            comment = p.this.name
        elif isinstance(p, exp.Property):
            options[p.this.name] = p.args["value"].name
        else:
            raise ValidationError(f"Unsupported database option: {p.sql(dialect='flink')}")
    if catalog.database(name) is not None:
        if stmt.args.get("exists"):
            return
        raise ValidationError(f"Database {name} already exists in Catalog {catalog_name}.")
    catalog.create_database(Database(name, comment, options))


def alter_database(cm: CatalogManager, stmt: fx.CatalogStatement) -> None:
    catalog_name, name = database_path(cm, stmt.this)
    db = cm.catalog(catalog_name).database(name)
    if db is None:
        raise ValidationError(f"Database {name} not exists: Database {name} does not exist in Catalog "
                              f"{catalog_name}.")
    db.properties.update(options_of(stmt.args.get("options")))


def drop_database(cm: CatalogManager, stmt: exp.Drop) -> None:
    tables = stmt.args.get("tables") or [stmt.this]
    catalog_name, name = database_path(cm, tables[0])
    catalog = cm.catalog(catalog_name)
    db = catalog.database(name)
    if db is None:
        if stmt.args.get("exists"):
            return
        raise ValidationError(f"Database {name} does not exist in Catalog {catalog_name}.")
    if (catalog_name, name) == (cm.current_catalog, cm.current_database):
        raise ValidationError("Cannot drop a database which is currently in use.")
    if (db.objects or db.functions) and not stmt.args.get("cascade"):
        raise ValidationError(f"Could not execute DROP DATABASE {catalog_name}.{name} RESTRICT: Database {name} "
                              f"in catalog {catalog_name} is not empty.")
    catalog.drop_database(name)


class ModuleManager:
    """Modules provide functions; sqlstream has one, `core` (its built-in functions), as Flink has by default.

    `loaded` keeps load order; `used` the resolution order USE MODULES sets."""

    FACTORIES = ("core",)

    def __init__(self) -> None:
        self.loaded: list[str] = ["core"]
        self.used: list[str] = ["core"]

    def load(self, name: str, options: dict[str, str]) -> None:
        if "type" in options:
            raise ValidationError(f"Option 'type' = '{options['type']}' is not supported since module name is "
                                  f"used to find module")
        if name in self.loaded:
            raise ValidationError(f"A module with name '{name}' already exists")
        if name not in self.FACTORIES:
            raise ValidationError(f"Unable to create module '{name}': could not find any factory for identifier "
                                  f"'{name}' that implements 'ModuleFactory'.\nAvailable factory identifiers "
                                  f"are:\n" + "\n".join(self.FACTORIES))
        self.loaded.append(name)
        self.used.append(name)

    def unload(self, name: str) -> None:
        if name not in self.loaded:
            raise ValidationError(f"No module with name '{name}' exists")
        self.loaded.remove(name)
        if name in self.used:
            self.used.remove(name)

    def use(self, names: list[str]) -> None:
        for n in names:
            if names.count(n) > 1:
                raise ValidationError(f"Module '{n}' appears more than once")
            if n not in self.loaded:
                raise ValidationError(f"No module with name '{n}' exists")
        self.used = list(names)

    def full(self) -> list[tuple[str, bool]]:
        return [(n, True) for n in self.used] + [(n, False) for n in self.loaded if n not in self.used]
