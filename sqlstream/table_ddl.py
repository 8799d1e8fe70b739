"""Changes to a table's definition: CREATE TABLE .. LIKE merging and ALTER TABLE, with Flink's rules and messages."""
from __future__ import annotations

import copy

from sqlglot import exp

from sqlstream.catalog import ColumnDef, TableDef, add_schema_item, column_from_def
from sqlstream.dialect import expressions as fx
from sqlstream.core.errors import ValidationError

LIKE_FEATURES = ("CONSTRAINTS", "GENERATED", "METADATA", "OPTIONS", "PARTITIONS", "WATERMARKS")


def like_strategies(like: exp.LikeProperty) -> dict[str, str]:
    """Feature -> INCLUDING | EXCLUDING | OVERWRITING; Flink's default is INCLUDING ALL OVERWRITING OPTIONS."""
    out = {f: "INCLUDING" for f in LIKE_FEATURES}
    out["OPTIONS"] = "OVERWRITING"
    for opt in like.expressions:
        strategy, feature = opt.this.name, opt.args["value"].name
        if feature == "ALL":
            out = {f: strategy for f in LIKE_FEATURES}
        else:
            out[feature] = strategy
    return out


def merge_like(new: TableDef, base: TableDef, like: exp.LikeProperty) -> TableDef:
    """CREATE TABLE new (..) WITH (..) LIKE base (..): base's columns first, then the new ones."""
    how = like_strategies(like)
    columns: list[ColumnDef] = []
    for c in base.columns:
        if c.kind == "computed" and how["GENERATED"] == "EXCLUDING":
            continue
        if c.kind == "metadata" and how["METADATA"] == "EXCLUDING":
            continue
        columns.append(copy.copy(c))
    for c in new.columns:
        existing = next((i for i, b in enumerate(columns) if b.name == c.name), None)
        if existing is None:
            columns.append(c)
            continue
        old = columns[existing]
        feature = {"computed": "GENERATED", "metadata": "METADATA"}.get(c.kind)
        if feature is not None and old.kind == c.kind and how[feature] == "OVERWRITING":
            columns[existing] = c
        elif feature is not None and old.kind == c.kind:
            raise ValidationError(f"A {'generated' if feature == 'GENERATED' else 'metadata'} column named "
                                  f"'{c.name}' already exists in the base table. You might want to specify "
                                  f"EXCLUDING {feature} or OVERWRITING {feature}.")
        else:
            raise ValidationError(f"A column named '{c.name}' already exists in the base table.")
    merged = TableDef(new.name, columns, {}, temporary=new.temporary, ddl=new.ddl, comment=new.comment)
    merged.watermark_column, merged.watermark_expr = new.watermark_column, new.watermark_expr
    if base.watermark_column is not None and how["WATERMARKS"] != "EXCLUDING":
        if new.watermark_column is None:
            merged.watermark_column, merged.watermark_expr = base.watermark_column, base.watermark_expr
        elif how["WATERMARKS"] == "INCLUDING" and new.watermark_column == base.watermark_column:
            raise ValidationError(f"There already exists a watermark spec for column '{base.watermark_column}' in "
                                  f"the base table. You might want to specify EXCLUDING WATERMARKS or OVERWRITING "
                                  f"WATERMARKS.")
    merged.primary_key, merged.primary_key_name = list(new.primary_key), new.primary_key_name
    if base.primary_key and how["CONSTRAINTS"] == "INCLUDING":
        if new.primary_key:
            raise ValidationError("The base table already has a primary key. You might want to specify "
                                  "EXCLUDING CONSTRAINTS.")
        merged.primary_key, merged.primary_key_name = list(base.primary_key), base.primary_key_name
    elif new.primary_key:
        for k in new.primary_key:
            c = next((c for c in columns if c.name == k), None)
            if c is not None and c.type is not None and c.type.nullable and \
                    not any(n.name == k for n in new.columns):
                name = new.primary_key_name or "PK_" + "_".join(new.primary_key)
                raise ValidationError(f"Invalid primary key '{name}'. Column '{k}' is nullable.")
    merged.partition_keys = list(new.partition_keys)
    if base.partition_keys and how["PARTITIONS"] == "INCLUDING":
        if new.partition_keys:
            raise ValidationError("The base table already has a partition spec defined. You might want to specify "
                                  "EXCLUDING PARTITIONS.")
        merged.partition_keys = list(base.partition_keys)
    options = dict(new.options)
    if how["OPTIONS"] != "EXCLUDING":
        for k, v in base.options.items():
            if k in options:
                if how["OPTIONS"] == "INCLUDING":
                    raise ValidationError(f"There already exists an option ['{k}' -> '{v}'] in the base table. You "
                                          f"might want to specify EXCLUDING OPTIONS or OVERWRITING OPTIONS.")
                continue
            options[k] = v
    merged.options = options
    return merged


def _fail(detail: str) -> ValidationError:
    return ValidationError(f"Failed to execute ALTER TABLE statement.\n{detail}")


def _place(columns: list[ColumnDef], col: ColumnDef, position: fx.ColumnPosition | None) -> None:
    if position is None:
        columns.append(col)
    elif position.args.get("after") is None:
        columns.insert(0, col)
    else:
        after = position.args["after"].name
        i = next((i for i, c in enumerate(columns) if c.name == after), None)
        if i is None:
            raise _fail(f"Referenced column `{after}` by 'AFTER' does not exist in the table.")
        columns.insert(i + 1, col)


def _schema_change(t: TableDef, items: list[exp.Expr], modify: bool) -> TableDef:
    """ALTER TABLE .. ADD | MODIFY (columns, watermark, primary key)."""
    out = copy.deepcopy(t)
    later: list[tuple[ColumnDef, fx.ColumnPosition | None]] = []
    for raw in items:
        position = raw if isinstance(raw, fx.ColumnPosition) else None
        item = raw.this if position is not None else raw
        if isinstance(item, exp.ColumnDef):
            col, pk, pk_name = column_from_def(item)
            exists = out.column(col.name) is not None
            if modify and not exists:
                raise _fail(f"Column `{col.name}` does not exist in the table.")
            if not modify and exists:
                if position is not None:
                    raise _fail(f"Try to add a column `{col.name}` which already exists in the table.")
                raise _fail(f"Column `{col.name}` already exists in the table.")
            if pk:
                _set_primary_key(out, [col.name], pk_name, modify)
            if modify and position is None:  # MODIFY without a position keeps the column where it was
                out.columns = [col if c.name == col.name else c for c in out.columns]
                continue
            if modify:
                out.columns = [c for c in out.columns if c.name != col.name]
            later.append((col, position))
            continue
        if isinstance(item, exp.WatermarkColumnConstraint):
            if not modify and out.watermark_column is not None:
                raise _fail(f"The current table has already defined the watermark strategy "
                            f"`{out.watermark_column}` AS {item.expression.sql(dialect='flink', identify=True)}. "
                            f"You might want to drop it before adding a new one.")
            if modify and out.watermark_column is None:
                raise _fail("The current table does not define any watermark. You might want to add a new one.")
            out.watermark_column, out.watermark_expr = item.this.name, item.expression
            continue
        probe = TableDef(t.name, [], {})
        add_schema_item(probe, item)
        _set_primary_key(out, probe.primary_key, probe.primary_key_name, modify)
    for col, position in later:
        _place(out.columns, col, position)
    for k in out.primary_key:
        c = out.column(k)
        if c is None:
            raise _fail(f"Invalid primary key '{out.pk_constraint_name}'. Column '{k}' does not exist.")
    return out


def _set_primary_key(t: TableDef, keys: list[str], name: str | None, modify: bool) -> None:
    if not modify and t.primary_key:
        raise _fail(f"The current table has already defined the primary key constraint "
                    f"[{', '.join(f'`{k}`' for k in t.primary_key)}]. You might want to drop it before adding a "
                    f"new one.")
    if modify and not t.primary_key:
        raise _fail("The current table does not define any primary key constraint. You might want to add a new "
                    "one.")
    t.primary_key, t.primary_key_name = list(keys), name


def alter_table(t: TableDef, stmt: fx.AlterTableStatement) -> TableDef:
    """The table after one ALTER TABLE action (RENAME TO is the catalog's, not the table's)."""
    action = stmt.args["action"].name
    if action == "SET":
        out = copy.deepcopy(t)
        out.options.update({p.this.name: p.args["value"].name for p in stmt.args.get("options") or []})
        return out
    if action == "RESET":
        keys = [k.name for k in stmt.args.get("names") or []]
        if not keys:
            raise ValidationError("ALTER TABLE RESET does not support empty key")
        if "connector" in keys:
            raise ValidationError("ALTER TABLE RESET does not support changing 'connector'")
        out = copy.deepcopy(t)
        for k in keys:
            out.options.pop(k, None)
        return out
    if action == "RENAME_COLUMN":
        old, new = (n.name for n in stmt.args["names"])
        if t.column(old) is None:
            raise _fail(f"The column `{old}` does not exist in the base table.")
        if t.column(new) is not None:
            raise _fail(f"The column `{new}` already existed in table schema.")
        if old in t.partition_keys:
            raise _fail(f"The column `{old}` is used as the partition keys.")
        out = copy.deepcopy(t)
        out.column(old).name = new
        _rename_references(out, old, new)
        return out
    if action in ("ADD", "MODIFY"):
        return _schema_change(t, stmt.args.get("items") or [], action == "MODIFY")
    if action == "DROP_COLUMNS":
        names = [n.name for n in stmt.args.get("names") or []]
        for n in names:
            if names.count(n) > 1:
                raise _fail(f"Duplicate column `{n}`.")
            if t.column(n) is None:
                raise _fail(f"The column `{n}` does not exist in the base table.")
            if n in t.primary_key:
                raise _fail(f"The column `{n}` is used as the primary key.")
            if n == t.watermark_column:
                raise _fail(f"The column `{n}` is referenced by watermark expression.")
            if n in t.partition_keys:
                raise _fail(f"The column `{n}` is used as the partition keys.")
            users = [c.name for c in t.columns if c.kind == "computed" and c.name not in names and
                     any(col.name == n for col in c.expr.find_all(exp.Column))]
            if users:
                raise _fail(f"The column `{n}` is referenced by computed column `{users[0]}`.")
        out = copy.deepcopy(t)
        out.columns = [c for c in out.columns if c.name not in names]
        return out
    if action == "DROP_PRIMARY_KEY":
        if not t.primary_key:
            raise _fail("The current table does not define any primary key.")
        out = copy.deepcopy(t)
        out.primary_key, out.primary_key_name = [], None
        return out
    if action == "DROP_CONSTRAINT":
        name = stmt.args["names"][0].name
        if not t.primary_key or t.pk_constraint_name != name:
            available = f" Available constraint name: ['{t.pk_constraint_name}']." if t.primary_key else ""
            raise _fail(f"The current table does not define a primary key constraint named '{name}'.{available}")
        out = copy.deepcopy(t)
        out.primary_key, out.primary_key_name = [], None
        return out
    if action == "DROP_WATERMARK":
        if t.watermark_column is None:
            raise _fail("The current table does not define any watermark strategy.")
        out = copy.deepcopy(t)
        out.watermark_column = out.watermark_expr = None
        return out
    raise ValidationError(f"ALTER TABLE {action} is not supported")


def _rename_references(t: TableDef, old: str, new: str) -> None:
    t.primary_key = [new if k == old else k for k in t.primary_key]
    t.partition_keys = [new if k == old else k for k in t.partition_keys]
    if t.watermark_column == old:
        t.watermark_column = new
    exprs = [c.expr for c in t.columns if c.kind == "computed"] + ([t.watermark_expr] if t.watermark_expr else [])
    for e in exprs:
        for col in e.find_all(exp.Column):
            if col.name == old:
                col.set("this", exp.to_identifier(new, quoted=col.this.quoted))
