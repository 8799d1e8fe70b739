"""Flink logical types: parsed from DDL, inferred by the planner, mapped to Arrow for the data."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pyarrow as pa

from sqlstream.core.errors import ValidationError

if TYPE_CHECKING:  # the parser's types: imported where DDL is read, not by a worker process that only runs operators
    from sqlglot import exp

INTEGERS = ("TINYINT", "SMALLINT", "INT", "BIGINT")
APPROX = ("FLOAT", "DOUBLE")
NUMERIC = INTEGERS + APPROX + ("DECIMAL",)
STRINGS = ("CHAR", "VARCHAR")
TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_LTZ")
MAX_VARCHAR = 2147483647
INTEGER_PRECISION = {"TINYINT": 3, "SMALLINT": 5, "INT": 10, "BIGINT": 19}


@dataclass(frozen=True)
class FlinkType:
    """A Flink data type. `time_attr` marks rowtime/proctime attributes (they print as *ROWTIME*)."""

    name: str
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    time_attr: str | None = None
    children: tuple["FlinkType", ...] = ()
    field_names: tuple[str, ...] = field(default=())

    # ---- constructors ---------------------------------------------------------------
    @staticmethod
    def of(name: str, precision: int | None = None, scale: int | None = None,
           nullable: bool = True) -> "FlinkType":
        if name == "STRING":
            return FlinkType("VARCHAR", MAX_VARCHAR, nullable=nullable)
        if name in TIMESTAMPS and precision is None:
            precision = 6
        if name == "DECIMAL" and precision is None:
            precision, scale = 10, 0
        if name == "DECIMAL" and scale is None:
            scale = 0
        if name == "TIME" and precision is None:
            precision = 0
        return FlinkType(name, precision, scale, nullable)

    def with_nullable(self, nullable: bool) -> "FlinkType":
        return self if self.nullable == nullable else replace(self, nullable=nullable)

    def without_time_attr(self) -> "FlinkType":
        return self if self.time_attr is None else replace(self, time_attr=None)

    def as_rowtime(self) -> "FlinkType":
        return replace(self, time_attr="rowtime")

    # ---- predicates -----------------------------------------------------------------
    @property
    def is_numeric(self) -> bool:
        return self.name in NUMERIC

    @property
    def is_integer(self) -> bool:
        return self.name in INTEGERS

    @property
    def is_approx(self) -> bool:
        return self.name in APPROX

    @property
    def is_decimal(self) -> bool:
        return self.name == "DECIMAL"

    @property
    def is_string(self) -> bool:
        return self.name in STRINGS

    @property
    def is_timestamp(self) -> bool:
        return self.name in TIMESTAMPS

    @property
    def is_temporal(self) -> bool:
        return self.name in TIMESTAMPS + ("DATE", "TIME")

    @property
    def is_interval(self) -> bool:
        return self.name.startswith("INTERVAL")

    def decimal_precision_scale(self) -> tuple[int, int]:
        """(precision, scale) this type has when widened to DECIMAL (Flink's rule for integers)."""
        if self.is_decimal:
            return self.precision, self.scale
        if self.is_integer:
            return INTEGER_PRECISION[self.name], 0
        raise ValidationError(f"{self} has no DECIMAL form")

    # ---- rendering -------------------------------------------------------------------
    def __str__(self) -> str:
        n = self.name
        if n == "VARCHAR" and self.precision == MAX_VARCHAR:
            s = "STRING"
        elif n == "VARBINARY" and self.precision == MAX_VARCHAR:
            s = "BYTES"
        elif n in ("CHAR", "VARCHAR", "BINARY", "VARBINARY"):
            s = f"{n}({self.precision})"
        elif n == "DECIMAL":
            s = f"DECIMAL({self.precision}, {self.scale})"
        elif n in TIMESTAMPS or n == "TIME":
            s = f"{n}({self.precision})"
        elif n == "ARRAY":
            s = f"ARRAY<{self.children[0]}>"
        elif n == "MAP":
            s = f"MAP<{self.children[0]}, {self.children[1]}>"
        elif n == "MULTISET":
            s = f"MULTISET<{self.children[0]}>"
        elif n == "ROW":
            s = "ROW<" + ", ".join(f"`{f}` {t}" for f, t in zip(self.field_names, self.children)) + ">"
        else:
            s = n
        if not self.nullable:
            s += " NOT NULL"
        if self.time_attr == "rowtime":
            s += " *ROWTIME*"
        elif self.time_attr == "proctime":
            s += " *PROCTIME*"
        return s

    # ---- Arrow -----------------------------------------------------------------------
    def to_arrow(self) -> pa.DataType:
        n = self.name
        simple = {"TINYINT": pa.int8(), "SMALLINT": pa.int16(), "INT": pa.int32(), "BIGINT": pa.int64(),
                  "FLOAT": pa.float32(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(),
                  "CHAR": pa.string(), "VARCHAR": pa.string(), "DATE": pa.date32(),
                  "BINARY": pa.binary(), "VARBINARY": pa.binary(), "NULL": pa.null(),
                  "INTERVAL_DAY_TIME": pa.duration("ms"), "INTERVAL_YEAR_MONTH": pa.int32()}
        if n in simple:
            return simple[n]
        if n == "DECIMAL":
            return pa.decimal128(self.precision, self.scale)
        if n in TIMESTAMPS:
            unit = "ms" if self.precision <= 3 else ("us" if self.precision <= 6 else "ns")
            return pa.timestamp(unit, tz="UTC" if n == "TIMESTAMP_LTZ" else None)
        if n == "TIME":
            return pa.time32("ms") if self.precision <= 3 else pa.time64("us")
        if n == "ARRAY":
            return pa.list_(self.children[0].to_arrow())
        if n == "MAP":
            return pa.map_(self.children[0].to_arrow(), self.children[1].to_arrow())
        if n == "MULTISET":  # element -> its number of occurrences, as Flink's MULTISET is a MAP<T, INT NOT NULL>
            return pa.map_(self.children[0].to_arrow(), pa.int32())
        if n == "ROW":
            return pa.struct([pa.field(f, t.to_arrow()) for f, t in zip(self.field_names, self.children)])
        raise ValidationError(f"type {self} has no Arrow mapping")


# ---- common instances ----------------------------------------------------------------
BOOLEAN = FlinkType("BOOLEAN")
INT = FlinkType("INT")
BIGINT = FlinkType("BIGINT")
DOUBLE = FlinkType("DOUBLE")
STRING = FlinkType.of("STRING")
NULL = FlinkType("NULL")
TIMESTAMP3 = FlinkType.of("TIMESTAMP", 3)
INTERVAL_DAY_TIME = FlinkType("INTERVAL_DAY_TIME")
INTERVAL_YEAR_MONTH = FlinkType("INTERVAL_YEAR_MONTH")

_SQLGLOT_NAMES = {
    "TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INT": "INT", "BIGINT": "BIGINT",
    "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "DECIMAL": "DECIMAL", "BOOLEAN": "BOOLEAN",
    "CHAR": "CHAR", "VARCHAR": "VARCHAR", "TEXT": "STRING", "DATE": "DATE", "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP", "TIMESTAMPLTZ": "TIMESTAMP_LTZ", "BINARY": "BINARY",
    "VARBINARY": "VARBINARY", "ARRAY": "ARRAY", "MAP": "MAP", "STRUCT": "ROW", "NULL": "NULL",
    "NCHAR": "CHAR", "NVARCHAR": "VARCHAR", "REAL": "FLOAT", "BIGDECIMAL": "DECIMAL",
    "TIMESTAMP_MS": "TIMESTAMP", "DATETIME": "TIMESTAMP", "BLOB": "VARBINARY",
}


def from_sqlglot(dt: exp.DataType, nullable: bool = True) -> FlinkType:
    """Translate a parsed sqlglot DataType into a FlinkType; unknown types are a ValidationError."""
    from sqlglot import exp
    kind = dt.this.name if hasattr(dt.this, "name") else str(dt.this)
    name = _SQLGLOT_NAMES.get(kind)
    if name is None:
        raise ValidationError(f"Unsupported data type: {dt.sql()}")
    params = [p for p in dt.expressions if not isinstance(p, (exp.DataType, exp.ColumnDef))]
    nums = []
    for p in params:
        v = p.this if isinstance(p, exp.DataTypeParam) else p
        try:
            nums.append(int(v.name if hasattr(v, "name") else v))
        except (TypeError, ValueError):
            raise ValidationError(f"Bad type parameter in {dt.sql()}")
    if name in ("ARRAY", "MAP") and len(dt.expressions) != (1 if name == "ARRAY" else 2):
        raise ValidationError(f"{name} takes {'an element type' if name == 'ARRAY' else 'a key and a value type'}"
                              f", as in {'ARRAY<INT>' if name == 'ARRAY' else 'MAP<STRING, INT>'}: {dt.sql()}")
    if name == "ARRAY":
        return FlinkType("ARRAY", children=(from_sqlglot(dt.expressions[0]),), nullable=nullable)
    if name == "MAP":
        return FlinkType("MAP", children=(from_sqlglot(dt.expressions[0]), from_sqlglot(dt.expressions[1])),
                         nullable=nullable)
    if name == "ROW":
        names, kids = [], []
        for f in dt.expressions:
            names.append(f.name)
            kids.append(from_sqlglot(f.args["kind"]))
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValidationError(f"Field names must be unique. Found duplicates: [{', '.join(duplicates)}] in "
                                  f"{dt.sql(dialect='flink')}")
        return FlinkType("ROW", children=tuple(kids), field_names=tuple(names), nullable=nullable)
    if name in ("CHAR", "VARCHAR", "BINARY", "VARBINARY"):
        default = 1 if name in ("CHAR", "BINARY") else MAX_VARCHAR
        return FlinkType(name, nums[0] if nums else default, nullable=nullable)
    if name == "DECIMAL":
        # as Flink's type factory: a precision above 38 is 38 (DECIMAL(40, 2) is DECIMAL(38, 2)), and the scale
        # is then checked against it
        p = min(nums[0] if nums else 10, 38)
        s = nums[1] if len(nums) > 1 else 0
        if p < 1:
            raise ValidationError(f"Decimal precision must be between 1 and 38 (both inclusive): {dt.sql()}")
        if not 0 <= s <= p:
            raise ValidationError(f"Decimal scale must be between 0 and the precision {p} (both inclusive): "
                                  f"{dt.sql()}")
        return FlinkType("DECIMAL", p, s, nullable)
    if name in TIMESTAMPS or name == "TIME":
        p = nums[0] if nums else (0 if name == "TIME" else 6)
        if not 0 <= p <= 9:
            raise ValidationError(f"{name} precision must be between 0 and 9: {dt.sql()}")
        return FlinkType(name, p, nullable=nullable)
    return FlinkType.of(name, nullable=nullable)


def from_arrow(t: pa.DataType) -> FlinkType:
    """Best-effort Flink type of an Arrow type (used for data read by connectors)."""
    if pa.types.is_int8(t):
        return FlinkType("TINYINT")
    if pa.types.is_int16(t):
        return FlinkType("SMALLINT")
    if pa.types.is_int32(t):
        return INT
    if pa.types.is_int64(t):
        return BIGINT
    if pa.types.is_float32(t):
        return FlinkType("FLOAT")
    if pa.types.is_float64(t):
        return DOUBLE
    if pa.types.is_boolean(t):
        return BOOLEAN
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return STRING
    if pa.types.is_decimal(t):
        return FlinkType("DECIMAL", t.precision, t.scale)
    if pa.types.is_timestamp(t):
        p = {"s": 0, "ms": 3, "us": 6, "ns": 9}[t.unit]
        return FlinkType("TIMESTAMP_LTZ" if t.tz else "TIMESTAMP", p)
    if pa.types.is_date(t):
        return FlinkType("DATE")
    raise ValidationError(f"no Flink type for Arrow type {t}")


def implicitly_castable(a: FlinkType, to: FlinkType) -> bool:
    """Whether Flink casts a value of type `a` to `to` without a CAST (LogicalTypeCasts' implicit casts), as it does
    for a column written to a sink: numbers only to as wide a type, text or bytes to a CHAR or BINARY only from a
    CHAR or BINARY, never a number or a time to text."""
    a = a.without_time_attr()
    if a.name == "NULL":
        return True
    if a.name in ("ARRAY", "MULTISET", "MAP", "ROW") or to.name in ("ARRAY", "MULTISET", "MAP", "ROW"):
        return a.name == to.name and len(a.children) == len(to.children) and all(
            implicitly_castable(x, y) for x, y in zip(a.children, to.children))
    if a.name == to.name:
        return True
    if to.name == "VARCHAR":
        return a.is_string
    if to.name == "VARBINARY":
        return a.name == "BINARY"
    if to.is_integer:
        return a.is_integer and INTEGERS.index(a.name) <= INTEGERS.index(to.name)
    if to.name == "FLOAT":
        return a.is_integer or a.name == "DECIMAL"
    if to.name in ("DOUBLE", "DECIMAL"):
        return a.is_numeric
    if to.name in ("DATE", "TIME"):
        return a.name == "TIMESTAMP"
    return a.is_timestamp and to.is_timestamp


def common_type(a: FlinkType, b: FlinkType) -> FlinkType | None:
    """The least restrictive type of two (for CASE, COALESCE, UNION); None if incompatible."""
    nullable = a.nullable or b.nullable
    if a.name == "NULL":
        return b.with_nullable(True).without_time_attr()
    if b.name == "NULL":
        return a.with_nullable(True).without_time_attr()
    a, b = a.without_time_attr(), b.without_time_attr()
    binary = ("BINARY", "VARBINARY")
    if a.name == b.name and a.name not in ("DECIMAL", "CHAR", "VARCHAR") + binary + TIMESTAMPS:
        return a.with_nullable(nullable)
    if a.name in binary and b.name in binary:  # as text: BINARY(n) only when both are, else VARBINARY
        if a.name == b.name == "BINARY" and a.precision == b.precision:
            return a.with_nullable(nullable)
        return FlinkType("VARBINARY", max(a.precision, b.precision), nullable=nullable)
    if a.is_string and b.is_string:
        if a.name == "CHAR" and b.name == "CHAR" and a.precision == b.precision:
            return a.with_nullable(nullable)
        if a.name == "CHAR" and b.name == "CHAR":
            return FlinkType("VARCHAR", max(a.precision, b.precision), nullable=nullable)
        return FlinkType("VARCHAR", max(a.precision, b.precision), nullable=nullable)
    if a.is_numeric and b.is_numeric:
        if a.is_approx or b.is_approx:
            return FlinkType("DOUBLE" if "DOUBLE" in (a.name, b.name) or a.is_decimal or b.is_decimal
                             or a.name == "BIGINT" or b.name == "BIGINT" else "FLOAT", nullable=nullable)
        if a.is_integer and b.is_integer:
            order = INTEGERS
            return FlinkType(max(a.name, b.name, key=order.index), nullable=nullable)
        (p1, s1), (p2, s2) = a.decimal_precision_scale(), b.decimal_precision_scale()
        s = max(s1, s2)
        p = min(38, max(p1 - s1, p2 - s2) + s)
        return FlinkType("DECIMAL", p, s, nullable)
    if a.is_timestamp and b.is_timestamp and a.name == b.name:
        return FlinkType(a.name, max(a.precision, b.precision), nullable=nullable)
    if a == b.with_nullable(a.nullable):
        return a.with_nullable(nullable)
    return None
