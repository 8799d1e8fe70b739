"""SQL hints as Flink reads them: an OPTIONS table hint (`t /*+ OPTIONS('k' = 'v') */`) gives dynamic table
options merged over the table's WITH options (validated by the connector like any option); a hint sqlstream
does not implement is an error, never silently ignored."""
from __future__ import annotations

from sqlglot import exp

from sqlstream.catalog import TableDef, ViewDef
from sqlstream.core.errors import ValidationError

# hints Flink knows that change how a plan runs, not what it returns; sqlstream has no use for them
UNSUPPORTED = {
    "LOOKUP": "sqlstream's lookup joins are synchronous and take no LOOKUP hint",
    "STATE_TTL": "use SET 'table.exec.state.ttl' for the state time-to-live",
    "BROADCAST": "join strategy hints apply to batch jobs; sqlstream runs streaming joins",
    "SHUFFLE_HASH": "join strategy hints apply to batch jobs; sqlstream runs streaming joins",
    "SHUFFLE_MERGE": "join strategy hints apply to batch jobs; sqlstream runs streaming joins",
    "NEST_LOOP": "join strategy hints apply to batch jobs; sqlstream runs streaming joins",
}


def _where(node: exp.Expr) -> str:
    meta = node.meta if hasattr(node, "meta") else {}
    return f"At line {meta['line']}, column {meta['col']}: " if meta.get("line") else ""


def _items(hints: list[exp.Expr]) -> list[tuple[exp.Expr, exp.Expr]]:
    """(hint, item) for each hint item; an item that is not `NAME(..)` is an error naming the hint text."""
    out = []
    for hint in hints:
        for item in hint.expressions:
            if not isinstance(item, exp.Func):
                text = item if isinstance(item, str) else item.sql(dialect="flink")
                raise ValidationError(f"{_where(hint)}Cannot read the hint '{text}': a hint is NAME(..), such as "
                                      f"OPTIONS('key' = 'value')")
            out.append((hint, item))
    return out


def _name(item: exp.Func) -> str:
    return (item.name if isinstance(item, exp.Anonymous) else item.sql_name()).upper()


def _reject(hint: exp.Expr, name: str) -> None:
    if name in UNSUPPORTED:
        raise ValidationError(f"{_where(hint)}The {name} hint is not supported: {UNSUPPORTED[name]}")
    raise ValidationError(f"{_where(hint)}Hint: {name} should be registered in the HintStrategyTable "
                          f"(unknown hint '{name}'; table hints: OPTIONS('key' = 'value', ..))")


def _options(hint: exp.Expr, item: exp.Func) -> dict[str, str]:
    args = item.expressions if isinstance(item, exp.Anonymous) else list(item.args.values())
    out: dict[str, str] = {}
    for arg in args:
        ok = isinstance(arg, exp.EQ) and all(isinstance(side, exp.Literal) and side.is_string
                                             for side in (arg.this, arg.expression))
        if not ok:
            raise ValidationError(f"{_where(hint)}Hint [OPTIONS] only support non empty key value options: "
                                  f"write OPTIONS('key' = 'value', ..)")
        out[arg.this.name] = arg.expression.name  # a key given twice: the last value counts, as in Flink
    if not out:
        raise ValidationError(f"{_where(hint)}Hint [OPTIONS] only support non empty key value options")
    return out


def table_options(table: exp.Expr, obj: TableDef | ViewDef) -> dict[str, str] | None:
    """The options a table is read or written with when its reference carries hints; None without hints.

    As in Flink, only the first OPTIONS hint of a table counts, and a view takes no options."""
    items = _items(table.args.get("hints") or [])
    if not items:
        return None
    if isinstance(obj, ViewDef):
        ident = obj.identifier.quoted() if obj.identifier else f"`default_catalog`.`default_database`.`{obj.name}`"
        raise ValidationError(f"{_where(items[0][0])}View '{ident}' "
                              f"cannot be enriched with new options. Hints can only be applied to tables.")
    hinted = None
    for hint, item in items:
        name = _name(item)
        if name != "OPTIONS":
            _reject(hint, name)
        options = _options(hint, item)
        hinted = options if hinted is None else hinted
    return {**obj.options, **hinted}


def check_query_hints(select: exp.Expr) -> None:
    """`SELECT /*+ .. */`: the query hints Flink has change how joins run or how long state lives; sqlstream
    implements none of them, so each is an error rather than a hint quietly dropped."""
    hint = select.args.get("hint")
    for hint_node, item in _items([hint] if hint is not None else []):
        _reject(hint_node, _name(item))
