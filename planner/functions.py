"""Result types of aggregate functions, and the typing of a scalar call through the function catalog with
Flink's messages for calls that fit no form of a function."""
from __future__ import annotations

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import BIGINT, BOOLEAN, DOUBLE, STRING, FlinkType
from sqlstream.functions.catalog import lookup
from sqlstream.functions.inference import require
from sqlstream.planner.flink_functions import not_supported

_C, _I, _N = "CHARACTER", "INTEGER", "NUMERIC"

AGGREGATES = ("COUNT", "SUM", "AVG", "MIN", "MAX", "SUM0", "FIRST_VALUE", "LAST_VALUE",
              "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP", "LISTAGG", "BOOL_AND", "BOOL_OR",
              "ARRAY_AGG", "JSON_ARRAYAGG", "JSON_ARRAYAGG_NULL_ON_NULL", "JSON_OBJECTAGG", "PERCENTILE",
              "COLLECT")
# Aggregate functions Flink 2.3 has that sqlstream does not run yet: named as aggregates, so that a call is
# "not supported yet" rather than a column that is not grouped
UNSUPPORTED_AGGREGATES = ("SINGLE_VALUE", "APPROX_COUNT_DISTINCT", "BITMAP_AND_AGG",
                          "BITMAP_AND_CARDINALITY_AGG", "BITMAP_BUILD_AGG", "BITMAP_BUILD_CARDINALITY_AGG",
                          "BITMAP_OR_AGG", "BITMAP_OR_CARDINALITY_AGG", "BITMAP_XOR_AGG",
                          "BITMAP_XOR_CARDINALITY_AGG")


# Calcite's aggregates of exactly one operand
ONE_ARGUMENT_AGGREGATES = ("SUM", "SUM0", "AVG", "MIN", "MAX", "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP",
                           "COLLECT")


def is_aggregate(name: str) -> bool:
    """A built-in aggregate or a registered Python aggregate function."""
    from sqlstream.core.udf import python_aggregate
    return name.upper() in AGGREGATES or name.upper() in UNSUPPORTED_AGGREGATES or \
        python_aggregate(name) is not None


def aggregate_type(name: str, args: list[FlinkType], distinct: bool = False) -> FlinkType:
    """Flink's result type of an aggregate function (AVG of INT is INT, SUM of DECIMAL is DECIMAL(38, s))."""
    from sqlstream.core.udf import python_aggregate
    py = python_aggregate(name) if name.startswith("UDAF:") else None
    if py is not None:
        if distinct:
            raise ValidationError(f"DISTINCT is not supported for Python aggregate function {py.name}")
        return py.result_type.with_nullable(True)
    if distinct and any(t.name in ("MAP", "MULTISET", "ROW") for t in args):
        kind = next(t.name for t in args if t.name in ("MAP", "MULTISET", "ROW"))
        raise ValidationError(f"Distinct aggregate function does not support type: {kind}")
    if name == "COUNT":
        return BIGINT.with_nullable(False)
    if not args:
        raise ValidationError(f"{name} requires an argument")
    if name in ONE_ARGUMENT_AGGREGATES and len(args) != 1:
        raise ValidationError(f"Invalid number of arguments to function '{name}'. Was expecting 1 arguments")
    if any(t.name == "NULL" for t in args):
        raise ValidationError(f"Illegal use of 'NULL' in {name}(..): give the NULL a type, as CAST(NULL AS "
                              f"STRING)")
    a = args[0].without_time_attr()
    if name in ("MIN", "MAX") and a.name in ("ARRAY", "MAP", "MULTISET", "ROW"):
        raise ValidationError(f"{name.capitalize()} aggregate function does not support type: '{a.name}': "
                              f"{name} takes a comparable type (a number, string, time or BOOLEAN)")
    if name == "LISTAGG":
        require(name, args, len(args) <= 2 and all(t.is_string for t in args))
    if name in ("SUM", "SUM0"):
        require(name, args, a.is_numeric)
        t = FlinkType("DECIMAL", 38, a.scale) if a.is_decimal else a
        return t.with_nullable(name == "SUM")
    if name == "AVG":
        require(name, args, a.is_numeric)
        if a.is_decimal:
            return FlinkType("DECIMAL", 38, max(6, a.scale))
        return a.with_nullable(True)
    if name in ("MIN", "MAX", "FIRST_VALUE", "LAST_VALUE"):
        return args[0].with_nullable(True)
    if name == "LAG":
        require(name, args, len(args) == 1 or args[1].is_integer and len(args) <= 3)
        return a.with_nullable(True)
    if name in ("STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP"):
        require(name, args, a.is_numeric)
        if a.is_decimal:  # as AVG's: Flink computes them from AVGs of the values and of their squares
            return FlinkType("DECIMAL", 38, max(6, a.scale))
        return a.with_nullable(True)
    if name == "LISTAGG":
        return STRING
    if name in ("BOOL_AND", "BOOL_OR"):
        return BOOLEAN
    if name == "ARRAY_AGG":
        return FlinkType("ARRAY", children=(a,), nullable=True)
    if name == "COLLECT":
        return FlinkType("MULTISET", children=(a,), nullable=False)
    if name in ("JSON_OBJECTAGG", "JSON_OBJECTAGG_ABSENT_ON_NULL"):
        require(name, args, len(args) == 2 and a.is_string)
        return FlinkType("VARCHAR", 2000, nullable=False)
    if name in ("JSON_ARRAYAGG", "JSON_ARRAYAGG_NULL_ON_NULL"):
        return FlinkType("VARCHAR", 2000, nullable=False)
    if name == "PERCENTILE":
        require(name, args, a.is_numeric and len(args) == 2 and args[1].is_numeric)
        return DOUBLE.with_nullable(True)
    if name in UNSUPPORTED_AGGREGATES:
        raise ValidationError(f"Built-in function {name} is not supported yet")
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




def _fits(t: FlinkType, family: str) -> bool:
    if family == _C:
        return t.is_string
    if family == "STRING":  # Calcite's STRING family holds CHARACTER and BINARY types
        return t.is_string or t.name in ("BINARY", "VARBINARY")
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
    forms = fn.signatures if fn is not None else None
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
    typer = fn.type if fn is not None and not fn.internal else None
    if typer is None:
        missing = not_supported(name)
        if missing:
            raise ValidationError(missing)
        families = ", ".join(f"<{_family(a)}>" for a in args)
        raise ValidationError(f"No match found for function signature {name}({families})")
    return typer(name, args)
