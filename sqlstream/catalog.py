"""Tables, views and functions known to a session, built from CREATE statements."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from sqlstream.errors import ValidationError
from sqlstream.types import FlinkType, from_sqlglot


@dataclass
class ColumnDef:
    """A table column: physical, computed (`c AS expr`) or metadata (`c T METADATA [FROM 'k'] [VIRTUAL]`)."""

    name: str
    type: FlinkType | None
    kind: str = "physical"
    expr: exp.Expr | None = None
    metadata_key: str | None = None
    virtual: bool = False


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

    @property
    def connector(self) -> str:
        return self.options.get("connector", "")

    def column(self, name: str) -> ColumnDef | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def physical_columns(self) -> list[ColumnDef]:
        return [c for c in self.columns if c.kind == "physical"]


@dataclass
class ViewDef:
    name: str
    query: exp.Expr
    temporary: bool = False
    sql: str = ""


class Catalog:
    """Name -> table or view. Identifiers are case-sensitive, as in Flink.

    As in Flink, a temporary object lives beside the permanent ones and shadows a permanent object of the same
    name; `tables` and `views` are what statements see.
    """

    def __init__(self) -> None:
        self.permanent: dict[str, TableDef | ViewDef] = {}
        self.temporary: dict[str, TableDef | ViewDef] = {}

    def _visible(self) -> dict[str, TableDef | ViewDef]:
        return {**self.permanent, **self.temporary}

    @property
    def tables(self) -> dict[str, TableDef]:
        return {n: o for n, o in self._visible().items() if isinstance(o, TableDef)}

    @property
    def views(self) -> dict[str, ViewDef]:
        return {n: o for n, o in self._visible().items() if isinstance(o, ViewDef)}

    def add_table(self, t: TableDef, if_not_exists: bool = False) -> None:
        self._add(t, "table", if_not_exists)

    def add_view(self, v: ViewDef, if_not_exists: bool = False) -> None:
        self._add(v, "view", if_not_exists)

    def _add(self, obj: TableDef | ViewDef, kind: str, if_not_exists: bool) -> None:
        store = self.temporary if obj.temporary else self.permanent
        if obj.name in store:
            if if_not_exists:
                return
            if obj.temporary:
                raise ValidationError(f"Temporary {kind} '{_identifier(obj.name, quoted=True)}' already exists")
            raise ValidationError(f"Table or view '{obj.name}' already exists")
        store[obj.name] = obj

    def drop(self, name: str, kind: str, if_exists: bool, temporary: bool = False) -> None:
        """DROP [TEMPORARY] TABLE|VIEW: Flink's rules, including that a temporary object must be dropped
        (with DROP TEMPORARY ..) before a permanent one of the same name."""
        cls = TableDef if kind == "TABLE" else ViewDef
        if temporary:
            if isinstance(self.temporary.get(name), cls):
                del self.temporary[name]
            elif not if_exists:
                raise ValidationError(f"Temporary table or view with identifier '{_identifier(name)}' does not "
                                      f"exist.")
            return
        if isinstance(self.temporary.get(name), cls):
            raise ValidationError(f"Temporary {kind.lower()} with identifier '{_identifier(name, quoted=True)}' "
                                  f"exists. Drop it first before removing the permanent {kind.lower()}.")
        if isinstance(self.permanent.get(name), cls):
            del self.permanent[name]
        elif not if_exists:
            raise ValidationError(f"{kind.title()} with identifier '{_identifier(name)}' does not exist.")

    def lookup(self, name: str) -> TableDef | ViewDef:
        visible = self._visible()
        if name in visible:
            return visible[name]
        known = sorted(self.tables) + sorted(self.views)
        hint = f" Known tables and views: {', '.join(known)}." if known else " No tables are defined yet."
        raise ValidationError(f"Object '{name}' not found.{hint}")


def _identifier(name: str, quoted: bool = False) -> str:
    """A name as Flink spells it in messages: catalog.database.name."""
    parts = ("default_catalog", "default_database", name)
    return ".".join(f"`{p}`" for p in parts) if quoted else ".".join(parts)


def table_from_create(create: exp.Create, sql: str = "") -> TableDef:
    """Build a TableDef from a parsed CREATE TABLE statement."""
    schema = create.this
    if not isinstance(schema, exp.Schema):
        raise ValidationError("CREATE TABLE needs a column list")
    name = schema.this.name
    if schema.this.args.get("hints"):
        raise ValidationError(f"CREATE TABLE '{name}' takes no hint: put options in WITH (..)")
    columns: list[ColumnDef] = []
    wm_col = wm_expr = None
    pk: list[str] = []
    for item in schema.expressions:
        if isinstance(item, exp.WatermarkColumnConstraint):
            wm_col, wm_expr = item.this.name, item.expression
            continue
        if isinstance(item, exp.PrimaryKey):
            _check_not_enforced(item)
            pk = [e.name for e in item.expressions]
            continue
        if not isinstance(item, exp.ColumnDef):
            raise ValidationError(f"Unsupported table element: {item.sql()}")
        cname = item.name
        kind = item.args.get("kind")
        ctype = from_sqlglot(kind) if kind is not None else None
        col = ColumnDef(cname, ctype)
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
                pk = [cname]
        if col.kind != "computed" and col.type is None:
            raise ValidationError(f"Column '{cname}' needs a data type")
        columns.append(col)
    names = [c.name for c in columns]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValidationError(f"Duplicate column name(s) in table '{name}': {', '.join(sorted(dup))}")
    if wm_col is not None and wm_col not in names:
        raise ValidationError(f"The rowtime attribute field '{wm_col}' is not defined in the table schema, "
                              f"at line {getattr(create, 'meta', {}).get('line', '?')}. "
                              f"Available fields: [{', '.join(names)}]")
    for k in pk:
        if k not in names:
            raise ValidationError(f"Primary key column '{k}' is not defined in table '{name}'")
        c = next(c for c in columns if c.name == k)
        if c.type is not None:
            c.type = c.type.with_nullable(False)
    options, partition_keys = {}, []
    props = create.args.get("properties")
    for p in (props.expressions if props else []):
        if isinstance(p, exp.PartitionedByProperty):
            partition_keys = [c.name for c in p.this.expressions]
            for k in partition_keys:
                if k not in names:
                    raise ValidationError(f"Partition column '{k}' is not defined in table '{name}'")
            continue
        if isinstance(p, exp.TemporaryProperty):
            continue
        if not isinstance(p, exp.Property):
            raise ValidationError(f"Unsupported table option: {p.sql()}")
        key = p.this.name if hasattr(p.this, "name") else str(p.this)
        val = p.args["value"]
        options[key] = val.name if isinstance(val, (exp.Literal, exp.Var, exp.Identifier)) else val.sql()
    temporary = is_temporary(create)
    return TableDef(name, columns, options, wm_col, wm_expr, pk, temporary, ddl=sql, partition_keys=partition_keys)


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
