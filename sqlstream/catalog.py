"""Catalogs as Flink has them: a CatalogManager holds catalogs -> databases -> tables, views and functions,
with the current catalog and database, and temporary objects that shadow permanent ones of the same name."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlglot import exp

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import FlinkType, from_sqlglot

DEFAULT_CATALOG = "default_catalog"
DEFAULT_DATABASE = "default_database"


@dataclass(frozen=True)
class ObjectIdentifier:
    """catalog.database.object: the full name of a table, view or function."""

    catalog: str
    database: str
    name: str

    def __str__(self) -> str:
        return f"{self.catalog}.{self.database}.{self.name}"

    def quoted(self) -> str:
        return ".".join(f"`{p}`" for p in (self.catalog, self.database, self.name))


@dataclass
class ColumnDef:
    """A table column: physical, computed (`c AS expr`) or metadata (`c T METADATA [FROM 'k'] [VIRTUAL]`)."""

    name: str
    type: FlinkType | None
    kind: str = "physical"
    expr: exp.Expr | None = None
    metadata_key: str | None = None
    virtual: bool = False
    comment: str | None = None


@dataclass
class TableDef:
    name: str
    columns: list[ColumnDef]
    options: dict[str, str]
    watermark_column: str | None = None
    watermark_expr: exp.Expr | None = None
    primary_key: list[str] = field(default_factory=list)
    temporary: bool = False
    partition_keys: list[str] = field(default_factory=list)
    ddl: str = ""
    comment: str | None = None
    primary_key_name: str | None = None
    identifier: ObjectIdentifier | None = None

    @property
    def connector(self) -> str:
        return self.options.get("connector", "")

    def column(self, name: str) -> ColumnDef | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def physical_columns(self) -> list[ColumnDef]:
        return [c for c in self.columns if c.kind == "physical"]

    @property
    def qualified_name(self) -> str:
        """The name plans carry: the bare name in default_catalog.default_database, else catalog.database.name."""
        return qualified_name(self.identifier, self.name)

    @property
    def pk_constraint_name(self) -> str:
        return self.primary_key_name or "PK_" + "_".join(self.primary_key)


@dataclass
class ViewDef:
    name: str
    query: exp.Expr
    temporary: bool = False
    sql: str = ""
    columns: list[str] | None = None
    comment: str | None = None
    identifier: ObjectIdentifier | None = None

    @property
    def qualified_name(self) -> str:
        return qualified_name(self.identifier, self.name)


def qualified_name(ident: ObjectIdentifier | None, name: str) -> str:
    if ident is None or (ident.catalog, ident.database) == (DEFAULT_CATALOG, DEFAULT_DATABASE):
        return name
    return str(ident)


@dataclass
class Database:
    name: str
    comment: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    objects: dict[str, TableDef | ViewDef] = field(default_factory=dict)
    functions: dict[str, object] = field(default_factory=dict)


class Catalog:
    """A catalog: databases holding tables, views and functions. Subclasses are catalog types (`'type' = ..`)."""

    type_name = ""
    supported_options: tuple[str, ...] = ()
    option_prefixes: tuple[str, ...] = ()  # options passed through to the catalog's implementation
    descriptor = False  # created by CREATE CATALOG, so SHOW CREATE / DESCRIBE CATALOG can describe it

    def __init__(self, name: str, options: dict[str, str], comment: str | None = None,
                 default_database: str = "default") -> None:
        self.name = name
        self.options = dict(options)
        self.comment = comment
        self.default_database = options.get("default-database", default_database)

    def database_names(self) -> list[str]:
        raise NotImplementedError

    def database(self, name: str) -> Database | None:
        raise NotImplementedError

    def create_database(self, db: Database) -> None:
        raise NotImplementedError

    def drop_database(self, name: str) -> None:
        raise NotImplementedError

    def add_table(self, db: Database, name: str, table: TableDef) -> None:
        db.objects[name] = table

    def drop_table(self, db: Database, name: str) -> None:
        del db.objects[name]


class InMemoryCatalog(Catalog):
    """`'type' = 'generic_in_memory'`: everything lives in the session and is gone when it ends."""

    type_name = "generic_in_memory"
    supported_options = ("default-database", "property-version")

    def __init__(self, name: str, options: dict[str, str], comment: str | None = None,
                 default_database: str = "default") -> None:
        super().__init__(name, options, comment, default_database)
        self.databases: dict[str, Database] = {self.default_database: Database(self.default_database)}

    def database_names(self) -> list[str]:
        return list(self.databases)

    def database(self, name: str) -> Database | None:
        return self.databases.get(name)

    def create_database(self, db: Database) -> None:
        self.databases[db.name] = db

    def drop_database(self, name: str) -> None:
        del self.databases[name]


CATALOG_TYPES: dict[str, type[Catalog]] = {InMemoryCatalog.type_name: InMemoryCatalog}


def like_pattern(pattern: str, case_insensitive: bool = False):
    """SQL LIKE (`%`, `_`) as a predicate on names, as SHOW .. [NOT] [I]LIKE uses it."""
    rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    compiled = re.compile(rx, re.DOTALL | (re.IGNORECASE if case_insensitive else 0))
    return lambda name: compiled.fullmatch(name) is not None


class CatalogManager:
    """Catalogs by name, the current catalog and database, and the session's temporary objects.

    Names resolve as in Flink: `t` in the current catalog and database, `db.t` in the current catalog, `c.db.t`
    fully. A temporary object shadows a permanent one of the same full name; `tables` and `views` are what
    statements see in the current database.
    """

    def __init__(self) -> None:
        self.catalogs: dict[str, Catalog] = {
            DEFAULT_CATALOG: InMemoryCatalog(DEFAULT_CATALOG, {}, default_database=DEFAULT_DATABASE)}
        self.current_catalog = DEFAULT_CATALOG
        self.current_database = DEFAULT_DATABASE
        self.temporary_objects: dict[ObjectIdentifier, TableDef | ViewDef] = {}

    # ---- names -----------------------------------------------------------------------------------
    def identifier(self, name) -> ObjectIdentifier:
        """The full identifier of a name given as text (`a.b.c` split on dots), parts or an exp.Table."""
        parts = name_parts(name)
        if len(parts) == 1:
            return ObjectIdentifier(self.current_catalog, self.current_database, parts[0])
        if len(parts) == 2:
            return ObjectIdentifier(self.current_catalog, parts[0], parts[1])
        if len(parts) == 3:
            return ObjectIdentifier(*parts)
        raise ValidationError(f"Object identifier '{'.'.join(parts)}' has more than 3 parts: write "
                              f"[catalog.][database.]name")

    def catalog(self, name: str) -> Catalog:
        cat = self.catalogs.get(name)
        if cat is None:
            raise ValidationError(f"Catalog {name} does not exist")
        return cat

    def database(self, catalog: str, database: str) -> Database:
        db = self.catalog(catalog).database(database)
        if db is None:
            raise ValidationError(f"Database {database} does not exist in Catalog {catalog}.")
        return db

    # ---- objects ---------------------------------------------------------------------------------
    def get(self, ident: ObjectIdentifier) -> TableDef | ViewDef | None:
        if ident in self.temporary_objects:
            return self.temporary_objects[ident]
        cat = self.catalogs.get(ident.catalog)
        db = cat.database(ident.database) if cat is not None else None
        return db.objects.get(ident.name) if db is not None else None

    def get_permanent(self, ident: ObjectIdentifier) -> TableDef | ViewDef | None:
        cat = self.catalogs.get(ident.catalog)
        db = cat.database(ident.database) if cat is not None else None
        return db.objects.get(ident.name) if db is not None else None

    def objects_in(self, catalog: str, database: str) -> dict[str, TableDef | ViewDef]:
        """Every object visible in one database: the permanent ones, shadowed by temporary ones."""
        out = dict(self.database(catalog, database).objects)
        for ident, obj in self.temporary_objects.items():
            if (ident.catalog, ident.database) == (catalog, database):
                out[ident.name] = obj
        return out

    def _visible(self) -> dict[str, TableDef | ViewDef]:
        try:
            return self.objects_in(self.current_catalog, self.current_database)
        except ValidationError:
            return {}

    @property
    def tables(self) -> dict[str, TableDef]:
        return {n: o for n, o in self._visible().items() if isinstance(o, TableDef)}

    @property
    def views(self) -> dict[str, ViewDef]:
        return {n: o for n, o in self._visible().items() if isinstance(o, ViewDef)}

    def add_table(self, t: TableDef, if_not_exists: bool = False, name=None, replace: bool = False) -> None:
        self._add(t, "table", if_not_exists, name, replace)

    def add_view(self, v: ViewDef, if_not_exists: bool = False, name=None) -> None:
        self._add(v, "view", if_not_exists, name)

    def _add(self, obj: TableDef | ViewDef, kind: str, if_not_exists: bool, name=None, replace: bool = False) -> None:
        ident = obj.identifier or self.identifier(name if name is not None else obj.name)
        obj.identifier, obj.name = ident, ident.name
        if obj.temporary:
            self.database(ident.catalog, ident.database)  # the database must exist
            if ident in self.temporary_objects:
                if if_not_exists:
                    return
                raise ValidationError(f"Temporary table '{ident.quoted()}' already exists")
            self.temporary_objects[ident] = obj
            return
        db = self.database(ident.catalog, ident.database)
        if ident.name in db.objects and not replace:
            if if_not_exists:
                return
            raise ValidationError(f"Could not execute CreateTable in path {ident.quoted()}: Table (or view) "
                                  f"{ident.database}.{ident.name} already exists in Catalog {ident.catalog}.")
        if isinstance(obj, TableDef):
            self.catalogs[ident.catalog].add_table(db, ident.name, obj)
        else:
            db.objects[ident.name] = obj

    def drop(self, name, kind: str, if_exists: bool, temporary: bool = False) -> None:
        """DROP [TEMPORARY] TABLE|VIEW: Flink's rules, including that a temporary object must be dropped
        (with DROP TEMPORARY ..) before a permanent one of the same name."""
        cls = TableDef if kind == "TABLE" else ViewDef
        ident = self.identifier(name)
        if temporary:
            if isinstance(self.temporary_objects.get(ident), cls):
                del self.temporary_objects[ident]
            elif not if_exists:
                raise ValidationError(f"Temporary table or view with identifier '{ident}' does not exist.")
            return
        if isinstance(self.temporary_objects.get(ident), cls):
            raise ValidationError(f"Temporary {kind.lower()} with identifier '{ident.quoted()}' "
                                  f"exists. Drop it first before removing the permanent {kind.lower()}.")
        cat = self.catalogs.get(ident.catalog)
        db = cat.database(ident.database) if cat is not None else None
        if db is not None and isinstance(db.objects.get(ident.name), cls):
            if cls is TableDef:
                cat.drop_table(db, ident.name)
            else:
                del db.objects[ident.name]
        elif not if_exists:
            raise ValidationError(f"{kind.title()} with identifier '{ident}' does not exist.")

    def lookup(self, name) -> TableDef | ViewDef:
        """The table or view a query names; Calcite's message when there is none."""
        ident = self.identifier(name)
        obj = self.get(ident)
        if obj is not None:
            return obj
        parts = name_parts(name)
        known = sorted(self.tables) + sorted(self.views)
        hint = f" Known tables and views: {', '.join(known)}." if known else " No tables are defined yet."
        raise ValidationError(f"Object '{'.'.join(parts)}' not found.{hint}")

    def by_qualified_name(self, name: str) -> TableDef | ViewDef:
        """The object a plan names by its `qualified_name` (bare names are in the default database)."""
        parts = name.split(".")
        ident = (ObjectIdentifier(DEFAULT_CATALOG, DEFAULT_DATABASE, name) if len(parts) != 3
                 else ObjectIdentifier(*parts))
        obj = self.get(ident)
        return obj if obj is not None else self.lookup(name)


def name_parts(name) -> list[str]:
    """The parts of a name: an exp.Table's catalog/db/name, a list as given, or text split on dots."""
    if isinstance(name, exp.Table):
        return [p.name for p in name.parts]
    if isinstance(name, (list, tuple)):
        return list(name)
    if isinstance(name, ObjectIdentifier):
        return [name.catalog, name.database, name.name]
    return str(name).split(".") if "." in str(name) else [str(name)]


def table_from_create(create: exp.Create, sql: str = "") -> TableDef:
    """Build a TableDef from a parsed CREATE TABLE statement (without what a LIKE clause brings)."""
    schema = create.this
    target = schema.this if isinstance(schema, exp.Schema) else schema
    name = target.name
    if target.args.get("hints"):
        raise ValidationError(f"CREATE TABLE '{name}' takes no hint: put options in WITH (..)")
    t = TableDef(name, [], {}, ddl=sql, temporary=is_temporary(create))
    for item in (schema.expressions if isinstance(schema, exp.Schema) else []):
        add_schema_item(t, item)
    options, partition_keys = {}, []
    props = create.args.get("properties")
    for p in (props.expressions if props else []):
        if isinstance(p, exp.PartitionedByProperty):
            partition_keys = [c.name for c in p.this.expressions]
            continue
        if isinstance(p, exp.SchemaCommentProperty):
            t.comment = p.this.name
            continue
        if isinstance(p, (exp.TemporaryProperty, exp.LikeProperty)):
            continue
        if not isinstance(p, exp.Property):
            raise ValidationError(f"Unsupported table option: {p.sql()}")
        if "value" not in p.args:  # a keyword as the key: USING='json' parses as a file format
            raise ValidationError("Unsupported table option: a keyword where a quoted key is expected; table "
                                  "options are 'key' = 'value' pairs of string literals")
        key = p.this.name if hasattr(p.this, "name") else str(p.this)
        val = p.args["value"]
        options[key] = val.name if isinstance(val, (exp.Literal, exp.Var, exp.Identifier)) else val.sql()
    t.options, t.partition_keys = options, partition_keys
    return t


def like_clause(create: exp.Create) -> exp.LikeProperty | None:
    props = create.args.get("properties")
    return next((p for p in (props.expressions if props else []) if isinstance(p, exp.LikeProperty)), None)


def add_schema_item(t: TableDef, item: exp.Expr) -> None:
    """One element of a CREATE TABLE column list: a column, a watermark or a primary key."""
    if isinstance(item, exp.WatermarkColumnConstraint):
        t.watermark_column, t.watermark_expr = item.this.name, item.expression
        return
    constraint_name = None
    if isinstance(item, exp.Constraint):
        constraint_name = item.this.name
        if len(item.expressions) != 1 or not isinstance(item.expressions[0], exp.PrimaryKey):
            raise ValidationError(f"Unsupported constraint: {item.sql(dialect='flink')}: only PRIMARY KEY (..) NOT "
                                  f"ENFORCED constraints are supported")
        item = item.expressions[0]
    if isinstance(item, exp.PrimaryKey):
        _check_not_enforced(item)
        if t.primary_key:
            raise ValidationError("Duplicate primary key definition")
        t.primary_key = [e.name for e in item.expressions]
        t.primary_key_name = constraint_name
        return
    if isinstance(item, exp.UniqueColumnConstraint) or (isinstance(item, exp.Constraint) and any(
            isinstance(e, exp.UniqueColumnConstraint) for e in item.expressions)):
        raise ValidationError("UNIQUE constraint is not supported yet")
    if not isinstance(item, exp.ColumnDef):
        raise ValidationError(f"Unsupported table element: {item.sql(dialect='flink')}")
    col, pk, pk_name = column_from_def(item)
    if pk:
        if t.primary_key:
            raise ValidationError("Duplicate primary key definition")
        t.primary_key, t.primary_key_name = [col.name], pk_name
    t.columns.append(col)


def column_from_def(item: exp.ColumnDef) -> tuple[ColumnDef, bool, str | None]:
    """A column definition, whether it declares itself the primary key (`c INT [CONSTRAINT n] PRIMARY KEY NOT
    ENFORCED`) and that constraint's name."""
    cname = item.name
    kind = item.args.get("kind")
    col = ColumnDef(cname, from_sqlglot(kind) if kind is not None else None)
    pk, pk_name = False, None
    for cons in item.args.get("constraints") or []:
        k = cons.args.get("kind")
        if isinstance(k, exp.ColumnConstraint):  # METADATA [FROM ..] [VIRTUAL] arrives wrapped once more
            cons, k = k, k.args.get("kind")
        if isinstance(k, exp.ComputedColumnConstraint):
            col.kind, col.expr = "computed", k.this
        elif isinstance(k, exp.Var) and k.name == "METADATA":
            col.kind = "metadata"
            col.metadata_key = cons.this.name if cons.this is not None else cname
            col.virtual = cons.expression == exp.true()
        elif isinstance(k, exp.NotNullColumnConstraint):
            if col.type is not None:  # `NULL` arrives as NotNullColumnConstraint(allow_null=True)
                col.type = col.type.with_nullable(bool(k.args.get("allow_null")))
        elif isinstance(k, exp.PrimaryKeyColumnConstraint):
            _check_not_enforced(k)
            pk, pk_name = True, cons.this.name if cons.this is not None else None
        elif isinstance(k, exp.UniqueColumnConstraint):
            raise ValidationError("UNIQUE constraint is not supported yet")
        elif isinstance(k, exp.CommentColumnConstraint):
            col.comment = k.this.name
    if col.kind != "computed" and col.type is None:
        raise ValidationError(f"Column '{cname}' needs a data type")
    return col, pk, pk_name


def check_table(t: TableDef, create: exp.Expr | None = None) -> None:
    """Schema rules Flink checks when a table is created or altered; primary key columns become NOT NULL."""
    names = [c.name for c in t.columns]
    listed = ", ".join(f"'{n}'" for n in names)
    for i, n in enumerate(names):
        if n in names[:i]:
            kind = {"computed": "computed", "metadata": "metadata"}.get(t.columns[i].kind, "regular")
            raise ValidationError(f"A {kind} Column named '{n}' already exists in the table.")
    if t.watermark_column is not None and t.watermark_column not in names:
        raise ValidationError(f"The rowtime attribute field '{t.watermark_column}' is not defined in the table "
                              f"schema. Available fields: [{listed}]")
    for k in t.primary_key:
        if k not in names:
            raise ValidationError(f"Primary key column '{k}' is not defined in the schema (columns: [{listed}])")
        c = next(c for c in t.columns if c.name == k)
        if c.kind != "physical":
            raise ValidationError(f"Could not create a PRIMARY KEY with column '{k}'.\nA PRIMARY KEY constraint "
                                  f"must be declared on physical columns.")
        if c.type is not None:
            c.type = c.type.with_nullable(False)
    for k in t.partition_keys:
        if k not in names:
            raise ValidationError(f"Partition column '{k}' not defined in the table schema. Available columns: "
                                  f"[{listed}]")


def is_temporary(create: exp.Create) -> bool:
    props = create.args.get("properties")
    return any(isinstance(p, exp.TemporaryProperty) for p in (props.expressions if props else []))


def _check_not_enforced(constraint: exp.Expr) -> None:
    """Flink accepts a primary key only as NOT ENFORCED: it does not own the data, so cannot check it."""
    if not any(str(o).upper() == "NOT ENFORCED" for o in constraint.args.get("options") or []):
        raise ValidationError(
            "Flink doesn't support ENFORCED mode for PRIMARY KEY constraint. ENFORCED/NOT ENFORCED controls if "
            "the constraint checks are performed on the incoming/outgoing data. Flink does not own the data "
            "therefore the only supported mode is the NOT ENFORCED mode. Write PRIMARY KEY (..) NOT ENFORCED.")
