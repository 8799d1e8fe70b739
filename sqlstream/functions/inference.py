"""Type inference shared by the function families: Flink's result-type rules (DECIMAL widening, nullability,
argument checks with Calcite's messages), as building blocks a family's `type=` is made of."""
from __future__ import annotations

from typing import Callable

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import STRING, FlinkType, common_type

MAX_PRECISION = 38
MIN_ADJUSTED_SCALE = 6


def adjust_decimal(precision: int, scale: int, nullable: bool = True) -> FlinkType:
    """Flink's rule for DECIMAL results wider than 38 digits: keep integer digits, shrink the scale."""
    if precision <= MAX_PRECISION:
        return FlinkType("DECIMAL", max(precision, 1), scale, nullable)
    digits = precision - scale
    scale = max(MAX_PRECISION - digits, min(scale, MIN_ADJUSTED_SCALE))
    return FlinkType("DECIMAL", MAX_PRECISION, scale, nullable)


def nullable(args: list[FlinkType]) -> bool:
    """Most functions give NULL when any argument is NULL, so the result may be NULL when any argument may."""
    return any(a.nullable for a in args)


def require(name: str, args: list[FlinkType], ok: bool) -> None:
    """Refuse a call unless `ok`, with Calcite's 'Cannot apply' message naming the argument types."""
    if not ok:
        sig = ", ".join(str(a.without_time_attr()) for a in args)
        raise ValidationError(f"Cannot apply '{name}' to arguments of type '{name}({sig})'")


def same_as_first(name: str, args: list[FlinkType]) -> FlinkType:
    return args[0].without_time_attr().with_nullable(nullable(args))


def _string_of(args: list[FlinkType]) -> FlinkType:
    return STRING.with_nullable(nullable(args))


def string_fn(arity: tuple[int, int], arg_check: Callable[[list[FlinkType]], bool] | None = None):
    """A typer for a STRING result: `arity` (least, most) arguments that pass `arg_check`."""
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        require(name, args, arity[0] <= len(args) <= arity[1])
        if arg_check is not None:
            require(name, args, arg_check(args))
        return _string_of(args)
    return typer


def first_is_string(args: list[FlinkType]) -> bool:
    return args[0].is_string or args[0].name == "NULL"


def typed_string(args: list[FlinkType]) -> bool:
    """The first argument is text; an untyped NULL is refused as Flink does (UPPER(NULL): Illegal use of 'NULL')."""
    if args[0].name == "NULL":
        raise ValidationError("Illegal use of 'NULL': give the NULL a type, as CAST(NULL AS STRING)")
    return args[0].is_string


def string_then_integers(args: list[FlinkType]) -> bool:
    return first_is_string(args) and all(a.is_integer or a.name == "NULL" for a in args[1:])


def returns(t: FlinkType, arity: tuple[int, int] = (0, 99), keep_null: bool = True,
            check: Callable[[list[FlinkType]], bool] | None = None):
    """A typer for a result of type t: nullable as the arguments are (`keep_null`) or as t says."""
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        require(name, args, arity[0] <= len(args) <= arity[1] and (check is None or check(args)))
        return t.with_nullable(nullable(args) if keep_null else t.nullable)
    return typer


def _widest(name: str, args: list[FlinkType]) -> FlinkType:
    t = args[0]
    for a in args[1:]:
        c = common_type(t, a)
        require(name, args, c is not None)
        t = c
    return t.without_time_attr()


def coalesce(name: str, args: list[FlinkType]) -> FlinkType:
    """NULL only when every argument may be NULL."""
    return _widest(name, args).with_nullable(all(a.nullable for a in args))


def common_of(name: str, args: list[FlinkType]) -> FlinkType:
    """The arguments' common type (GREATEST, CASE branches), NULL when any may be."""
    return _widest(name, args).with_nullable(any(a.nullable for a in args))


def strings(args: list[FlinkType]) -> bool:
    """Every argument is text (or an untyped NULL)."""
    return all(a.is_string or a.name == "NULL" for a in args)


def integers(args: list[FlinkType]) -> bool:
    """Every argument is an exact integer (or an untyped NULL)."""
    return all(a.is_integer or a.name == "NULL" for a in args)
