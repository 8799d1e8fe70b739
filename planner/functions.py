"""Result types of built-in functions and operators, following Flink's type inference rules."""
from __future__ import annotations

from typing import Callable

from sqlstream.functions.catalog import lookup
from sqlstream.planner.flink_functions import not_supported
from sqlstream.core.errors import ValidationError
from sqlstream.core.types import (BIGINT, BOOLEAN, INT, INTEGERS, STRING, FlinkType, common_type)

MAX_PRECISION = 38
MIN_ADJUSTED_SCALE = 6


def adjust_decimal(precision: int, scale: int, nullable: bool = True) -> FlinkType:
    """Flink's rule for DECIMAL results wider than 38 digits: keep integer digits, shrink the scale."""
    if precision <= MAX_PRECISION:
        return FlinkType("DECIMAL", max(precision, 1), scale, nullable)
    digits = precision - scale
    scale = max(MAX_PRECISION - digits, min(scale, MIN_ADJUSTED_SCALE))
    return FlinkType("DECIMAL", MAX_PRECISION, scale, nullable)


def _nullable(args: list[FlinkType]) -> bool:
    return any(a.nullable for a in args)


def _require(name: str, args: list[FlinkType], ok: bool) -> None:
    if not ok:
        sig = ", ".join(str(a.without_time_attr()) for a in args)
        raise ValidationError(f"Cannot apply '{name}' to arguments of type '{name}({sig})'")


def _numeric_pair(name: str, args: list[FlinkType]) -> None:
    _require(name, args, len(args) == 2 and all(a.is_numeric or a.name == "NULL" for a in args))


def _wider_integer(a: FlinkType, b: FlinkType) -> str:
    return max(a.name, b.name, key=INTEGERS.index)


def plus_minus(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    n = _nullable(args)
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
        return a.with_nullable(_nullable(args))
    if b.is_interval and a.is_numeric:
        return b.with_nullable(_nullable(args))
    _numeric_pair(name, args)
    return _arith(a, b, _nullable(args), "mul")


def divide(name: str, args: list[FlinkType]) -> FlinkType:
    _numeric_pair(name, args)
    return _arith(args[0], args[1], _nullable(args), "div")


def mod(name: str, args: list[FlinkType]) -> FlinkType:
    _require(name, args, len(args) == 2 and all(a.is_integer or a.is_decimal or a.name == "NULL"
                                                for a in args))
    return args[1].with_nullable(_nullable(args))


def comparison(name: str, args: list[FlinkType]) -> FlinkType:
    a, b = args
    comparable = (common_type(a, b) is not None or (a.is_string and b.is_temporal)
                  or (a.is_temporal and b.is_string) or (a.is_numeric and b.is_string)
                  or (a.is_string and b.is_numeric))
    _require(name, args, comparable)
    return BOOLEAN.with_nullable(_nullable(args))


def boolean_op(name: str, args: list[FlinkType]) -> FlinkType:
    _require(name, args, all(a.name in ("BOOLEAN", "NULL") for a in args))
    return BOOLEAN.with_nullable(_nullable(args))


def not_null_boolean(name: str, args: list[FlinkType]) -> FlinkType:
    return BOOLEAN.with_nullable(False)


def same_as_first(name: str, args: list[FlinkType]) -> FlinkType:
    return args[0].without_time_attr().with_nullable(_nullable(args))


def _string_of(args: list[FlinkType]) -> FlinkType:
    return STRING.with_nullable(_nullable(args))


def string_fn(arity: tuple[int, int], arg_check: Callable[[list[FlinkType]], bool] | None = None):
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        _require(name, args, arity[0] <= len(args) <= arity[1])
        if arg_check is not None:
            _require(name, args, arg_check(args))
        return _string_of(args)
    return typer


def _first_is_string(args: list[FlinkType]) -> bool:
    return args[0].is_string or args[0].name == "NULL"


def _string_then_integers(args: list[FlinkType]) -> bool:
    return _first_is_string(args) and all(a.is_integer or a.name == "NULL" for a in args[1:])


def returns(t: FlinkType, arity: tuple[int, int] = (0, 99), keep_null: bool = True,
            check: Callable[[list[FlinkType]], bool] | None = None):
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        _require(name, args, arity[0] <= len(args) <= arity[1] and (check is None or check(args)))
        return t.with_nullable(_nullable(args) if keep_null else t.nullable)
    return typer


def _widest(name: str, args: list[FlinkType]) -> FlinkType:
    t = args[0]
    for a in args[1:]:
        c = common_type(t, a)
        _require(name, args, c is not None)
        t = c
    return t.without_time_attr()


def coalesce(name: str, args: list[FlinkType]) -> FlinkType:
    """NULL only when every argument may be NULL."""
    return _widest(name, args).with_nullable(all(a.nullable for a in args))


def common_of(name: str, args: list[FlinkType]) -> FlinkType:
    return _widest(name, args).with_nullable(any(a.nullable for a in args))


def array_value(name: str, args: list[FlinkType]) -> FlinkType:
    """ARRAY[a, b, ..]: the elements' common type."""
    _require(name, args, len(args) > 0)
    return FlinkType("ARRAY", children=(common_of(name, args),), nullable=False)


def map_value(name: str, args: list[FlinkType]) -> FlinkType:
    """MAP[k1, v1, k2, v2, ..]: the common type of the keys and of the values."""
    _require(name, args, len(args) >= 2 and len(args) % 2 == 0)
    return FlinkType("MAP", children=(common_of(name, args[0::2]), common_of(name, args[1::2])), nullable=False)


def concat(name: str, args: list[FlinkType]) -> FlinkType:
    _require(name, args, all(a.is_string or a.name == "NULL" for a in args))
    return STRING.with_nullable(_nullable(args))


def ts_like_first(name: str, args: list[FlinkType]) -> FlinkType:
    """FLOOR/CEIL(x TO unit) and TIMESTAMPADD(unit, n, x): the type of x (the unit is not an argument)."""
    t = args[-1] if name == "TIMESTAMPADD" else args[0]
    _require(name, args, t.is_temporal)
    if name == "TIMESTAMPADD":  # the count of units is a whole number
        _require(name, args, len(args) >= 2 and (args[-2].is_integer or args[-2].name == "NULL"))
    return t.without_time_attr().with_nullable(_nullable(args))


def overlay(name: str, args: list[FlinkType]) -> FlinkType:
    _require(name, args, len(args) in (3, 4) and args[0].is_string and args[1].is_string
             and all(a.is_integer or a.name == "NULL" for a in args[2:]))
    return STRING.with_nullable(_nullable(args))


_TS3 = FlinkType("TIMESTAMP", 3)
_LTZ3 = FlinkType("TIMESTAMP_LTZ", 3)


def _array_arg(name: str, args: list[FlinkType], arity: tuple[int, int]) -> FlinkType:
    _require(name, args, arity[0] <= len(args) <= arity[1] and args[0].name in ("ARRAY", "NULL"))
    return args[0]


def same_array(arity: tuple[int, int], more_arrays: bool = False):
    """An ARRAY like the first argument (NULL when it is)."""
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        a = _array_arg(name, args, arity)
        if more_arrays:
            _require(name, args, all(x.name in ("ARRAY", "NULL") for x in args[1:]))
        return a.without_time_attr().with_nullable(a.nullable or more_arrays and _nullable(args))
    return typer


def array_element(name: str, args: list[FlinkType]) -> FlinkType:
    a = _array_arg(name, args, (1, 1))
    return a.children[0].with_nullable(True) if a.name == "ARRAY" else a


def _map_arg(name: str, args: list[FlinkType], arity: tuple[int, int]) -> FlinkType:
    _require(name, args, arity[0] <= len(args) <= arity[1] and args[0].name == "MAP")
    return args[0]


def map_part(part: str):
    def typer(name: str, args: list[FlinkType]) -> FlinkType:
        m = _map_arg(name, args, (1, 1))
        k, v = m.children
        if part == "keys":
            child = k
        elif part == "values":
            child = v
        else:
            child = FlinkType("ROW", children=(k, v), field_names=("key", "value"))
        return FlinkType("ARRAY", children=(child,), nullable=m.nullable)
    return typer


def map_from_arrays(name: str, args: list[FlinkType]) -> FlinkType:
    _require(name, args, len(args) == 2 and all(a.name == "ARRAY" for a in args))
    return FlinkType("MAP", children=(args[0].children[0], args[1].children[0]), nullable=_nullable(args))


def map_union(name: str, args: list[FlinkType]) -> FlinkType:
    m = _map_arg(name, args, (1, 99))
    _require(name, args, all(a.name == "MAP" for a in args))
    return m.with_nullable(_nullable(args))


def _strings(args: list[FlinkType]) -> bool:
    return all(a.is_string or a.name == "NULL" for a in args)


TEXT_TYPERS = {
    "TYPEOF": returns(STRING.with_nullable(False), (1, 1), keep_null=False),
}

SCALAR_TYPERS: dict[str, Callable[[str, list[FlinkType]], FlinkType]] = {
    "+": plus_minus, "-": plus_minus, "*": times, "/": divide, "MOD": mod, "%": mod,
    "NEGATE": same_as_first,
    "=": comparison, "<>": comparison, "<": comparison, "<=": comparison, ">": comparison,
    ">=": comparison, "IS_DISTINCT_FROM": lambda n, a: BOOLEAN.with_nullable(False),
    "IS_NOT_DISTINCT_FROM": lambda n, a: BOOLEAN.with_nullable(False),
    "AND": boolean_op, "OR": boolean_op, "NOT": boolean_op,
    "IS_NULL": not_null_boolean, "IS_NOT_NULL": not_null_boolean,
    "IS_TRUE": not_null_boolean, "IS_FALSE": not_null_boolean,
    "IS_NOT_TRUE": not_null_boolean, "IS_NOT_FALSE": not_null_boolean,
    "IN": lambda n, a: BOOLEAN.with_nullable(_nullable(a)),
    "LIKE": returns(BOOLEAN, (2, 3), check=_first_is_string),
    "SIMILAR": returns(BOOLEAN, (2, 2), check=_first_is_string),
    "COALESCE": coalesce, "IFNULL": coalesce, "NULLIF": lambda n, a: a[0].with_nullable(True),
    "CASE": common_of, "IF": common_of, "GREATEST": common_of, "LEAST": common_of,
    # math
    # strings
    **TEXT_TYPERS,
    # temporal
    "DATE_FORMAT": returns(STRING, (2, 2), keep_null=False,
                           check=lambda a: a[1].is_string or a[1].name == "NULL"),  # the format is text
    "TO_TIMESTAMP": returns(_TS3, (1, 2), keep_null=False),
    "TO_TIMESTAMP_LTZ": returns(_LTZ3, (1, 2), keep_null=False),
    "TO_DATE": returns(FlinkType("DATE"), (1, 2), keep_null=False),
    "FLOOR_TO": ts_like_first, "CEIL_TO": ts_like_first,
    "EXTRACT": returns(BIGINT, (2, 2)),
    "TIMESTAMPADD": ts_like_first, "TIMESTAMPDIFF": returns(INT, (2, 2)),
    "UNIX_TIMESTAMP": returns(BIGINT, (0, 2)), "FROM_UNIXTIME": returns(STRING, (1, 2), keep_null=False),
    "CURRENT_TIMESTAMP": returns(_LTZ3.with_nullable(False), (0, 0), keep_null=False),
    "NOW": returns(_LTZ3.with_nullable(False), (0, 0), keep_null=False),
    "LOCALTIMESTAMP": returns(_TS3.with_nullable(False), (0, 0), keep_null=False),
    "CURRENT_DATE": returns(FlinkType("DATE", nullable=False), (0, 0), keep_null=False),
    "CURRENT_TIME": returns(FlinkType("TIME", 0, nullable=False), (0, 0), keep_null=False),
    "LOCALTIME": returns(FlinkType("TIME", 0, nullable=False), (0, 0), keep_null=False),
    "CONVERT_TZ": returns(STRING, (3, 3), keep_null=False),
    "PROCTIME": returns(FlinkType("TIMESTAMP_LTZ", 3, nullable=False, time_attr="proctime"), (0, 0),
                        keep_null=False),
    "CURRENT_WATERMARK": lambda name, args: (
        _require(name, args, len(args) == 1 and args[0].is_timestamp and args[0].time_attr == "rowtime")
        or FlinkType(args[0].name, 3, nullable=True)),
    "CAST": None,  # typed by the binder (target type)
    "FIELD": None,  # ROW field access, typed by the binder
     # arr[i] / map[key], typed by the binder
}
for _unit in ("YEAR", "QUARTER", "MONTH", "WEEK", "DAYOFYEAR", "DAYOFMONTH", "DAYOFWEEK", "HOUR",
              "MINUTE", "SECOND"):
    SCALAR_TYPERS[_unit] = returns(BIGINT, (1, 1))

AGGREGATES = ("COUNT", "SUM", "AVG", "MIN", "MAX", "SUM0", "FIRST_VALUE", "LAST_VALUE",
              "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP", "LISTAGG", "BOOL_AND", "BOOL_OR")


def is_aggregate(name: str) -> bool:
    """A built-in aggregate or a registered Python aggregate function."""
    from sqlstream.core.udf import python_aggregate
    return name.upper() in AGGREGATES or python_aggregate(name) is not None


def aggregate_type(name: str, args: list[FlinkType], distinct: bool = False) -> FlinkType:
    """Flink's result type of an aggregate function (AVG of INT is INT, SUM of DECIMAL is DECIMAL(38, s))."""
    from sqlstream.core.udf import python_aggregate
    py = python_aggregate(name) if name.startswith("UDAF:") else None
    if py is not None:
        if distinct:
            raise ValidationError(f"DISTINCT is not supported for Python aggregate function {py.name}")
        return py.result_type.with_nullable(True)
    if name == "COUNT":
        return BIGINT.with_nullable(False)
    if not args:
        raise ValidationError(f"{name} requires an argument")
    a = args[0].without_time_attr()
    if name in ("SUM", "SUM0"):
        _require(name, args, a.is_numeric)
        t = FlinkType("DECIMAL", 38, a.scale) if a.is_decimal else a
        return t.with_nullable(name == "SUM")
    if name == "AVG":
        _require(name, args, a.is_numeric)
        if a.is_decimal:
            return FlinkType("DECIMAL", 38, max(6, a.scale))
        return a.with_nullable(True)
    if name in ("MIN", "MAX", "FIRST_VALUE", "LAST_VALUE"):
        return args[0].with_nullable(True)
    if name == "LAG":
        _require(name, args, len(args) == 1 or args[1].is_integer and len(args) <= 3)
        return a.with_nullable(True)
    if name in ("STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP"):
        _require(name, args, a.is_numeric)
        return a.with_nullable(True) if not a.is_integer else a.with_nullable(True)
    if name == "LISTAGG":
        return STRING
    if name in ("BOOL_AND", "BOOL_OR"):
        return BOOLEAN
    raise ValidationError(not_supported(name) or f"Unknown aggregate function {name}")


def _family(t: FlinkType) -> str:
    """Calcite's type family name, as Flink's 'No match found for function signature' message shows it."""
    if t.is_string:
        return "CHARACTER"
    if t.is_numeric:
        return "NUMERIC"
    if t.is_timestamp:
        return "TIMESTAMP"
    if t.is_interval:
        return "INTERVAL_DAY_TIME" if t.name == "INTERVAL_DAY_TIME" else "INTERVAL_YEAR_MONTH"
    return t.name


# Flink's argument forms of the functions whose implementation needs these types (the families as its messages
# name them: CHARACTER/STRING text, INTEGER exact integers, NUMERIC numbers); an untyped NULL fits none
_C, _I, _N = "CHARACTER", "INTEGER", "NUMERIC"
SIGNATURES: dict[str, list[tuple[str, ...]]] = {
    "TO_DATE": [(_C,), (_C, _C)], "TO_TIMESTAMP": [(_C,), (_C, _C)],
    "TO_TIMESTAMP_LTZ": [(_N,), (_N, _I), (_C,), (_C, _C), (_C, _C, _C)],
    "UNIX_TIMESTAMP": [(), (_C,), (_C, _C)], "FROM_UNIXTIME": [(_I,), (_I, _C)],
    "LIKE": [("STRING", "STRING"), ("STRING", "STRING", "STRING")], "SIMILAR": [("STRING", "STRING")],
}


def _fits(t: FlinkType, family: str) -> bool:
    if family in (_C, "STRING"):
        return t.is_string
    if family == _I:
        return t.is_integer
    if family == _N:
        return t.is_numeric
    return t.name == family


def calcite_type(t: FlinkType) -> str:
    """A type as Flink's validator prints it in an argument list."""
    t = t.without_time_attr().with_nullable(True)
    return {"STRING": "VARCHAR(2147483647)", "INT": "INTEGER"}.get(str(t), str(t))


def check_signature(name: str, args: list[FlinkType]) -> None:
    """Refuse a call whose arguments fit none of Flink's forms of the function, with Flink's message."""
    fn = lookup(name)
    forms = fn.signatures if fn is not None else SIGNATURES.get(name)
    if forms is not None and any(a.name == "NULL" for a in args):
        raise ValidationError(f"Illegal use of 'NULL' in {name}(..): give the NULL a type, as CAST(NULL AS "
                              f"STRING)")
    if forms is None or any(len(f) == len(args) and all(_fits(a, x) for a, x in zip(args, f)) for f in forms):
        return
    if not any(len(f) == len(args) for f in forms):
        return  # the arity is the typer's to judge, with its own message
    given = ", ".join(f"<{calcite_type(a)}>" for a in args)
    supported = " | ".join(f"'{name}({', '.join(f'<{x}>' for x in f)})'" for f in forms)
    raise ValidationError(f"Cannot apply '{name}' to arguments of type '{name}({given})'. Supported form(s): "
                          f"{supported}")


def scalar_type(name: str, args: list[FlinkType]) -> FlinkType:
    check_signature(name, args)
    fn = lookup(name)
    typer = fn.type if fn is not None else SCALAR_TYPERS.get(name)
    if typer is None:
        missing = not_supported(name)
        if missing:
            raise ValidationError(missing)
        families = ", ".join(f"<{_family(a)}>" for a in args)
        raise ValidationError(f"No match found for function signature {name}({families})")
    return typer(name, args)
