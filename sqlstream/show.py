"""SHOW .., DESCRIBE and SHOW CREATE ..: what the catalog holds, in Flink's columns and DDL text."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.catalog import (CatalogManager, ColumnDef, ObjectIdentifier, TableDef, ViewDef, like_pattern,
                               name_parts)
from sqlstream.catalog_ddl import database_path
from sqlstream.core.errors import ValidationError
from sqlstream.core.secrets import mask_value
from sqlstream.core.types import MAX_VARCHAR, FlinkType

DESCRIBE_COLUMNS = ["name", "type", "null", "key", "extras", "watermark"]


def name_filter(stmt: exp.Expr):
    """The [NOT] [I]LIKE filter of a SHOW statement as a predicate on names."""
    pattern = stmt.args.get("like")
    if pattern is None:
        return lambda name: True
    match = like_pattern(pattern.name, bool(stmt.args.get("ilike")))
    if stmt.args.get("not_like"):
        return lambda name: not match(name)
    return match


def show_databases(cm: CatalogManager, stmt: exp.Expr) -> list[str]:
    catalog = cm.current_catalog
    target = stmt.args.get("target")
    if target is not None:
        parts = name_parts(target)
        if len(parts) != 1:
            raise ValidationError(f"Show databases from/in identifier [ {'.'.join(parts)} ] format error, catalog "
                                  f"must be a single part identifier.")
        catalog = parts[0]
    keep = name_filter(stmt)
    return sorted(d for d in cm.catalog(catalog).database_names() if keep(d))


def show_objects(cm: CatalogManager, stmt: exp.Expr, kind: type | None) -> list[str]:
    """SHOW TABLES (tables and views, as Flink lists them) or SHOW VIEWS, optionally FROM [catalog.]database."""
    catalog, database = cm.current_catalog, cm.current_database
    target = stmt.args.get("target")
    if target is not None:
        parts = name_parts(target)
        if len(parts) > 2:
            raise ValidationError(f"SHOW {stmt.this.name} from/in identifier [ {'.'.join(parts)} ] format error, "
                                  f"it should be [catalog_name.]database_name.")
        catalog, database = database_path(cm, target)
        if cm.catalog(catalog).database(database) is None:
            raise ValidationError(f"Database '{catalog}'.'{database}' doesn't exist.")
    keep = name_filter(stmt)
    objects = cm.objects_in(catalog, database)
    return sorted(n for n, o in objects.items() if (kind is None or isinstance(o, kind)) and keep(n))


def describe_rows(obj: TableDef | ViewDef, fields, quote) -> tuple[list[str], list[list]]:
    """DESCRIBE / SHOW COLUMNS: Flink's columns (a comment column only when some column has a comment)."""
    rows = []
    if isinstance(obj, ViewDef):
        for f in fields:
            rows.append([f.name, str(f.type.with_nullable(True)), "TRUE" if f.type.nullable else "FALSE",
                         "", "", ""])
        return DESCRIBE_COLUMNS, rows
    for c, f in zip(obj.columns, fields):
        t = f.type
        extras = ""
        if c.kind == "computed":
            extras = f"AS {quote(c.expr)}"
        elif c.kind == "metadata":
            extras = "METADATA" + (f" FROM '{c.metadata_key}'" if c.metadata_key != c.name else "") + \
                     (" VIRTUAL" if c.virtual else "")
        key = f"PRI({', '.join(obj.primary_key)})" if c.name in obj.primary_key else ""
        wm = quote(obj.watermark_expr) if obj.watermark_column == c.name else ""
        rows.append([c.name, str(t.with_nullable(True)), "TRUE" if t.nullable else "FALSE", key, extras, wm])
    if any(c.comment for c in obj.columns):
        for r, c in zip(rows, obj.columns):
            r.append(c.comment or "")
        return DESCRIBE_COLUMNS + ["comment"], rows
    return DESCRIBE_COLUMNS, rows


def serializable_type(t: FlinkType) -> str:
    """A type as SHOW CREATE TABLE writes it (Flink's serializable form: STRING is VARCHAR(2147483647))."""
    n = t.name
    if n in ("VARCHAR", "VARBINARY") and t.precision == MAX_VARCHAR:
        s = f"{n}({MAX_VARCHAR})"
    elif n == "TIMESTAMP_LTZ":
        s = f"TIMESTAMP({t.precision}) WITH LOCAL TIME ZONE"
    elif n == "ARRAY":
        s = f"ARRAY<{serializable_type(t.children[0])}>"
    elif n == "MAP":
        s = f"MAP<{serializable_type(t.children[0])}, {serializable_type(t.children[1])}>"
    elif n == "ROW":
        s = "ROW<" + ", ".join(f"`{f}` {serializable_type(c)}" for f, c in zip(t.field_names, t.children)) + ">"
    else:
        s = str(t.without_time_attr().with_nullable(True))
    return s if t.nullable else s + " NOT NULL"


def _quote_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _column_ddl(c: ColumnDef, quote) -> str:
    if c.kind == "computed":
        out = f"`{c.name}` AS {quote(c.expr)}"
    else:
        out = f"`{c.name}` {serializable_type(c.type)}"
        if c.kind == "metadata":
            out += " METADATA" + (f" FROM '{c.metadata_key}'" if c.metadata_key != c.name else "") + \
                   (" VIRTUAL" if c.virtual else "")
    if c.comment is not None:
        out += f" COMMENT {_quote_text(c.comment)}"
    return out


def _options_ddl(options: dict[str, str]) -> str:
    """WITH (..) as Flink prints it, secret values masked."""
    return "WITH (\n" + ",\n".join(f"  '{k}' = {_quote_text(mask_value(k, v))}"
                                    for k, v in sorted(options.items())) + "\n)\n"


def show_create_table(t: TableDef, quote) -> str:
    items = [_column_ddl(c, quote) for c in t.columns]
    if t.watermark_column is not None:
        items.append(f"WATERMARK FOR `{t.watermark_column}` AS {quote(t.watermark_expr)}")
    if t.primary_key:
        items.append(f"CONSTRAINT `{t.pk_constraint_name}` PRIMARY KEY ("
                     f"{', '.join(f'`{k}`' for k in t.primary_key)}) NOT ENFORCED")
    out = f"CREATE {'TEMPORARY ' if t.temporary else ''}TABLE {t.identifier.quoted()} (\n"
    out += ",\n".join(f"  {i}" for i in items) + "\n)\n"
    if t.comment is not None:
        out += f"COMMENT {_quote_text(t.comment)}\n"
    if t.partition_keys:
        out += f"PARTITIONED BY ({', '.join(f'`{k}`' for k in t.partition_keys)})\n"
    return out + _options_ddl(t.options)


def show_create_view(v: ViewDef, names: list[str], expanded: str) -> str:
    out = f"CREATE {'TEMPORARY ' if v.temporary else ''}VIEW {v.identifier.quoted()} (\n"
    out += ",\n".join(f"  `{n}`" for n in names) + "\n)\n"
    if v.comment is not None:
        out += f"COMMENT {_quote_text(v.comment)}\n"
    return out + f"AS {expanded}\n"


def expanded_query(query: exp.Expr, cm: CatalogManager, fields_of) -> str:
    """The view's query as Flink stores it: tables fully qualified and aliased, `*` expanded, columns qualified
    (for a SELECT over one table; other queries keep their text with qualified table names)."""
    q = query.copy()
    tables = list(q.find_all(exp.Table))
    ctes = {c.alias for c in q.find_all(exp.CTE)}
    for t in tables:
        if t.name in ctes or not isinstance(t.parent, (exp.From, exp.Join)):
            continue
        try:
            obj = cm.lookup(t)
        except ValidationError:
            continue
        ident = obj.identifier
        alias = t.alias or t.name
        t.set("catalog", exp.to_identifier(ident.catalog, quoted=True))
        t.set("db", exp.to_identifier(ident.database, quoted=True))
        t.set("this", exp.to_identifier(ident.name, quoted=True))
        t.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    if isinstance(q, exp.Select) and not q.args.get("joins") and isinstance(q.args.get("from_") or
                                                                           q.args.get("from"), exp.From):
        src = (q.args.get("from_") or q.args.get("from")).this
        if isinstance(src, exp.Table) and src.alias:
            alias = src.alias
            projections = []
            for e in q.expressions:
                if isinstance(e, exp.Star):
                    projections += [exp.column(n, table=alias, quoted=True) for n in fields_of(src)]
                else:
                    projections.append(e)
            q.set("expressions", projections)
            for col in q.find_all(exp.Column):
                if not col.table:
                    col.set("table", exp.to_identifier(alias, quoted=True))
    from sqlstream.dialect import Flink
    sql = q.sql(dialect=Flink(), identify=True)
    for word in (" FROM ", " WHERE ", " GROUP BY ", " HAVING ", " ORDER BY "):
        sql = sql.replace(word, "\n" + word.strip() + " ", 1)
    return sql


def show_create_catalog(name: str, catalog) -> str:
    if not catalog.descriptor:
        raise ValidationError(f"Cannot obtain metadata information from Catalog {name}.")
    out = f"CREATE CATALOG `{name}`\n"
    if catalog.comment:
        out += f"COMMENT {_quote_text(catalog.comment)}\n"
    return out + _options_ddl(catalog.options)


def describe_catalog(name: str, catalog, extended: bool) -> list[list[str]]:
    if not catalog.descriptor:
        raise ValidationError(f"Cannot obtain metadata information from Catalog {name}.")
    rows = [["name", name], ["type", catalog.options.get("type", catalog.type_name)],
            ["comment", catalog.comment or ""]]
    if extended:
        rows += [[f"option:{k}", mask_value(k, v)] for k, v in sorted(catalog.options.items()) if k != "type"]
    return rows


def object_for_show(cm: CatalogManager, target: exp.Expr, what: str) -> TableDef | ViewDef:
    """The table or view SHOW CREATE / SHOW COLUMNS / DESCRIBE names, with Flink's message when there is none."""
    ident: ObjectIdentifier = cm.identifier(target)
    obj = cm.get(ident)
    if obj is None:
        if what in ("TABLE", "VIEW"):
            raise ValidationError(f"Could not execute SHOW CREATE {what}. {what.title()} with identifier "
                                  f"{ident.quoted()} does not exist.")
        raise ValidationError(f"Tables or views with the identifier '{ident}' doesn't exist.")
    if what == "TABLE" and isinstance(obj, ViewDef):
        raise ValidationError(f"SHOW CREATE TABLE is only supported for tables, but {ident.quoted()} is a view. "
                              f"Please use SHOW CREATE VIEW instead.")
    if what == "VIEW" and isinstance(obj, TableDef):
        raise ValidationError(f"SHOW CREATE VIEW is only supported for views, but {ident.quoted()} is a table. "
                              f"Please use SHOW CREATE TABLE instead.")
    return obj
