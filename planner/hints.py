"""SQL hints as Flink reads them: an OPTIONS table hint (`t /*+ OPTIONS('k' = 'v') */`) gives dynamic table
options merged over the table's WITH options (validated by the connector like any option); the query hint
STATE_TTL gives a join's inputs or an aggregation its own state time-to-live; join strategy hints change nothing
in a streaming job, as in Flink; a hint sqlstream does not implement is an error, never silently ignored."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from sqlstream.catalog import TableDef, ViewDef
from sqlstream.core.errors import ValidationError

# table hints Flink knows that sqlstream does not implement
UNSUPPORTED = {
    "LOOKUP": "sqlstream's lookup joins are synchronous and take no LOOKUP hint",
}
# join hints: how a batch job joins; a streaming job has one way to join, so Flink takes them and changes nothing.
# The query hint LOOKUP('table' = .., 'async' = ..) is taken too: lookups here are synchronous and in order, which
# gives the rows an ordered asynchronous lookup gives; its retries would give others, and are refused.
JOIN_STRATEGIES = ("BROADCAST", "SHUFFLE_HASH", "SHUFFLE_MERGE", "NEST_LOOP")


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


def _options(hint: exp.Expr, item: exp.Func, name: str = "OPTIONS") -> dict[str, str]:
    args = item.expressions if isinstance(item, exp.Anonymous) else list(item.args.values())
    out: dict[str, str] = {}
    for arg in args:
        ok = isinstance(arg, exp.EQ) and all(isinstance(side, exp.Literal) and side.is_string
                                             for side in (arg.this, arg.expression))
        if not ok:
            raise ValidationError(f"{_where(hint)}Hint [{name}] only support non empty key value options: "
                                  f"write {name}('key' = 'value', ..)")
        out[arg.this.name] = arg.expression.name  # a key given twice: the last value counts, as in Flink
    if not out:
        raise ValidationError(f"{_where(hint)}Hint [{name}] only support non empty key value options")
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


@dataclass(frozen=True)
class QueryHints:
    """The query hints of a SELECT (`SELECT /*+ .. */`): the state time-to-live (ms) by input name (STATE_TTL),
    and every name a hint refers to, which must name an input of the block's join or aggregation."""

    state_ttl: dict[str, int] = field(default_factory=dict)
    names: tuple[tuple[str, str], ...] = ()  # (hint, input name)


NO_HINTS = QueryHints()


def query_hints(select: exp.Expr) -> QueryHints:
    """The hints of `SELECT /*+ .. */`; an unknown hint or a malformed one is an error, never dropped."""
    hint = select.args.get("hint")
    if hint is None:
        return NO_HINTS
    ttl: dict[str, int] = {}
    names: list[tuple[str, str]] = []
    for hint_node, item in _items([hint]):
        name = _name(item)
        if name == "STATE_TTL":
            if not (item.expressions if isinstance(item, exp.Anonymous) else list(item.args.values())):
                raise ValidationError(f"{_where(hint_node)}Invalid STATE_TTL hint, expecting at least one "
                                      f"key-value options specified.")
            for key, value in _options(hint_node, item, "STATE_TTL").items():
                ttl[key] = _duration(hint_node, key, value)
                names.append((name, key))
        elif name in JOIN_STRATEGIES:
            args = item.expressions if isinstance(item, exp.Anonymous) else list(item.args.values())
            for arg in args:
                for one in arg if isinstance(arg, list) else [arg]:
                    if isinstance(one, (exp.Column, exp.Identifier, exp.Table)):
                        names.append((name, one.name))
        elif name == "LOOKUP":
            options = _options(hint_node, item, "LOOKUP")
            if "retry-predicate" in options:
                raise ValidationError(f"{_where(hint_node)}The LOOKUP hint's retry options are not supported: "
                                      f"sqlstream looks each key up once")
        else:
            _reject(hint_node, name)
    return QueryHints(ttl, tuple(names))


def check_hint_names(select: exp.Expr, hints: QueryHints, inputs: list[str] | None) -> None:
    """Every name a query hint gives must be an input of the block's join (or, without a join, of its
    aggregation): a table's alias when it has one, else its name; case matters. A block with neither takes
    any names, as in Flink."""
    if inputs is None:
        return
    unmatched = [(hint, name) for hint, name in hints.names if name not in inputs]
    if unmatched:
        listed = "\n".join(f"`{name}` in `{hint}`" for hint, name in unmatched)
        raise ValidationError(f"{_where(select.args.get('hint') or select)}The options of following hints cannot "
                              f"match the name of input tables or views: \n{listed}")


def _duration(hint: exp.Expr, key: str, value: str) -> int:
    from sqlstream.connectors.options import parse_duration_ms
    from sqlstream.core.errors import OptionError
    try:
        return parse_duration_ms(value)
    except OptionError:
        why = "text does not start with a number, and is not a valid ISO-8601 duration format" \
            if not value.strip()[:1].isdigit() else f"'{key}' = '{value}' is not a duration such as '1d' or '90 min'"
        raise ValidationError(f"{_where(hint)}Invalid STATE_TTL hint value: {why}: {value}") from None
