"""Type inference shared by the function families: Flink's result-type rules (DECIMAL widening, nullability,
argument checks with Calcite's messages), as building blocks a family's `type=` is made of."""
from __future__ import annotations

from typing import Callable

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BOOLEAN, INTEGERS, STRING, FlinkType, common_type

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
    return any(a.nullable for a in args)


def require(name: str, args: list[FlinkType], ok: bool) -> None:
    if not ok:
        sig = ", ".join(str(a.without_time_attr()) for a in args)
        raise ValidationError(f"Cannot apply '{name}' to arguments of type '{name}({sig})'")


def _numeric_pair(name: str, args: list[FlinkType]) -> None:
    require(name, args, len(args) == 2 and all(a.is_numeric or a.name == "NULL" for a in args))


def _wider_integer(a: FlinkType, b: FlinkType) -> str:
    return max(a.name, b.name, key=INTEGERS.index)


def plus_minus(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    n = nullable(args)
    if a.is_temporal and b.is_interval:
        return a.without_time_attr().with_nullable(n)
    if a.is_interval and b.is_temporal and name == "+":
        return b.without_time_attr().with_nullable(n)
    if a.is_interval and b.is_interval:
        return a.with_nullable(n)
    if name == "-" and a.is_timestamp and b.is_timestamp:
        return FlinkType("INTERVAL_DAY_TIME", nullable=n)
    _numeric_pair(name, args)
    return _arith(a, b, n, "add")


def _arith(a: FlinkType, b: FlinkType, n: bool, kind: str) -> FlinkType:
    if a.name == "NULL":
        a = b
    if b.name == "NULL":
        b = a
    if a.is_approx or b.is_approx:
        return FlinkType("DOUBLE" if "DOUBLE" in (a.name, b.name) or a.is_decimal or b.is_decimal
                         else "FLOAT", nullable=n)
    if a.is_integer and b.is_integer:
        return FlinkType(_wider_integer(a, b), nullable=n)
    (p1, s1), (p2, s2) = a.decimal_precision_scale(), b.decimal_precision_scale()
    if kind == "add":
        s = max(s1, s2)
        return adjust_decimal(max(p1 - s1, p2 - s2) + s + 1, s, n)
    if kind == "mul":
        return adjust_decimal(p1 + p2 + 1, s1 + s2, n)
    # divide
    s = max(MIN_ADJUSTED_SCALE, s1 + p2 + 1)
    return adjust_decimal(p1 - s1 + s2 + s, s, n)


def times(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    if a.is_interval and b.is_numeric:
        return a.with_nullable(nullable(args))
    if b.is_interval and a.is_numeric:
        return b.with_nullable(nullable(args))
    _numeric_pair(name, args)
    return _arith(a, b, nullable(args), "mul")


def divide(name: str, args: list[FlinkType]) -> FlinkType:
    _numeric_pair(name, args)
    return _arith(args[0], args[1], nullable(args), "div")


def mod(name: str, args: list[FlinkType]) -> FlinkType:
    require(name, args, len(args) == 2 and all(a.is_integer or a.is_decimal or a.name == "NULL"
                                                for a in args))
    return args[1].with_nullable(nullable(args))


def comparison(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    comparable = (common_type(a, b) is not None or (a.is_string and b.is_temporal)
                  or (a.is_temporal and b.is_string) or (a.is_numeric and b.is_string)
                  or (a.is_string and b.is_numeric))
    require(name, args, comparable)
    return BOOLEAN.with_nullable(nullable(args))


def boolean_op(name: str, args: list[FlinkType]) -> FlinkType:
    require(name, args, all(a.name in ("BOOLEAN", "NULL") for a in args))
    return BOOLEAN.with_nullable(nullable(args))


def not_null_boolean(name: str, args: list[FlinkType]) -> FlinkType:
    return BOOLEAN.with_nullable(False)


def same_as_first(name: str, args: list[FlinkType]) -> FlinkType:
    return args[0].without_time_attr().with_nullable(nullable(args))


def _string_of(args: list[FlinkType]) -> FlinkType:
    return STRING.with_nullable(nullable(args))


def string_fn(arity: tuple[int, int], arg_check: Callable[[list[FlinkType]], bool] | None = None):
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        require(name, args, arity[0] <= len(args) <= arity[1])
        if arg_check is not None:
            require(name, args, arg_check(args))
        return _string_of(args)
    return typer


def first_is_string(args: list[FlinkType]) -> bool:
    return args[0].is_string or args[0].name == "NULL"


def string_then_integers(args: list[FlinkType]) -> bool:
    return first_is_string(args) and all(a.is_integer or a.name == "NULL" for a in args[1:])


def returns(t: FlinkType, arity: tuple[int, int] = (0, 99), keep_null: bool = True,
            check: Callable[[list[FlinkType]], bool] | None = None):
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        require(name, args, arity[0] <= len(args) <= arity[1] and (check is None or check(args)))
        return t.with_nullable(nullable(args) if keep_null else t.nullable)
    return typer


def round_fn(name: str, args: list[FlinkType]) -> FlinkType:
    a = args[0]
    require(name, args, a.is_numeric and 1 <= len(args) <= 2)
    if not a.is_decimal:
        return a.with_nullable(nullable(args)).without_time_attr()
    return a.with_nullable(nullable(args))


def round_decimal_type(a: FlinkType, r: int) -> FlinkType:
    p, s = a.precision, a.scale
    if r >= s:
        return a
    if r < 0:
        return FlinkType("DECIMAL", min(MAX_PRECISION, 1 + p - s), 0, a.nullable)
    return FlinkType("DECIMAL", 1 + p - s + r, r, a.nullable)


def floor_ceil(name: str, args: list[FlinkType]) -> FlinkType:
    a = args[0]
    if a.is_temporal:
        return a.without_time_attr()
    require(name, args, a.is_numeric)
    if a.is_decimal:
        return FlinkType("DECIMAL", min(MAX_PRECISION, a.precision - a.scale + (1 if a.scale else 0)), 0,
                         a.nullable)
    return a


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
    return _widest(name, args).with_nullable(any(a.nullable for a in args))


def concat(name: str, args: list[FlinkType]) -> FlinkType:
    require(name, args, all(a.is_string or a.name == "NULL" for a in args))
    return STRING.with_nullable(nullable(args))


def ts_like_first(name: str, args: list[FlinkType]) -> FlinkType:
    """FLOOR/CEIL(x TO unit) and TIMESTAMPADD(unit, n, x): the type of x (the unit is not an argument)."""
    t = args[-1] if name == "TIMESTAMPADD" else args[0]
    require(name, args, t.is_temporal)
    if name == "TIMESTAMPADD":  # the count of units is a whole number
        require(name, args, len(args) >= 2 and (args[-2].is_integer or args[-2].name == "NULL"))
    return t.without_time_attr().with_nullable(nullable(args))


def overlay(name: str, args: list[FlinkType]) -> FlinkType:
    require(name, args, len(args) in (3, 4) and args[0].is_string and args[1].is_string
             and all(a.is_integer or a.name == "NULL" for a in args[2:]))
    return STRING.with_nullable(nullable(args))


TS3 = FlinkType("TIMESTAMP", 3)
LTZ3 = FlinkType("TIMESTAMP_LTZ", 3)


def _strings(args: list[FlinkType]) -> bool:
    return all(a.is_string or a.name == "NULL" for a in args)


def strings(args: list[FlinkType]) -> bool:
    return all(a.is_string or a.name == "NULL" for a in args)


def integers(args: list[FlinkType]) -> bool:
    return all(a.is_integer or a.name == "NULL" for a in args)
