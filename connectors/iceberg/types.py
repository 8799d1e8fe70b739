"""Flink types <-> Iceberg types, as Flink's Iceberg connector maps them (FlinkSchemaUtil)."""
from __future__ import annotations

from itertools import count

from pyiceberg import types as it
from pyiceberg.schema import Schema

from sqlstream.core.errors import ValidationError
from sqlstream.core.types import MAX_VARCHAR, FlinkType


def iceberg_type(t: FlinkType, ids) -> it.IcebergType:
    """The Iceberg type a Flink column is stored as (TINYINT and SMALLINT widen to int, CHAR/VARCHAR are
    string, BINARY(n) is fixed(n)); `ids` numbers the fields of nested types."""
    n = t.name
    simple = {"BOOLEAN": it.BooleanType(), "TINYINT": it.IntegerType(), "SMALLINT": it.IntegerType(),
              "INT": it.IntegerType(), "BIGINT": it.LongType(), "FLOAT": it.FloatType(),
              "DOUBLE": it.DoubleType(), "CHAR": it.StringType(), "VARCHAR": it.StringType(),
              "VARBINARY": it.BinaryType(), "DATE": it.DateType(), "TIME": it.TimeType(),
              "TIMESTAMP": it.TimestampType(), "TIMESTAMP_LTZ": it.TimestamptzType()}
    if n in simple:
        return simple[n]
    if n == "BINARY":
        return it.BinaryType() if t.precision in (None, MAX_VARCHAR) else it.FixedType(t.precision)
    if n == "DECIMAL":
        return it.DecimalType(t.precision, t.scale)
    if n == "ARRAY":
        return it.ListType(next(ids), iceberg_type(t.children[0], ids), element_required=not t.children[0].nullable)
    if n == "MAP":
        k, v = t.children
        return it.MapType(next(ids), iceberg_type(k, ids), next(ids), iceberg_type(v, ids),
                          value_required=not v.nullable)
    if n == "ROW":
        return it.StructType(*[it.NestedField(next(ids), f, iceberg_type(c, ids), required=not c.nullable)
                               for f, c in zip(t.field_names, t.children)])
    raise ValidationError(f"Type {t} cannot be stored in an Iceberg table")


def iceberg_schema(names: list[str], types: list[FlinkType], primary_key: list[str]) -> Schema:
    """A new table's schema: the columns in order, the primary key as its identifier fields."""
    ids = count(len(names) + 1)
    fields = [it.NestedField(i + 1, n, iceberg_type(t, ids), required=not t.nullable or n in primary_key)
              for i, (n, t) in enumerate(zip(names, types))]
    return Schema(*fields, identifier_field_ids=[names.index(k) + 1 for k in primary_key])


def flink_type(t: it.IcebergType, required: bool = False) -> FlinkType:
    """The Flink type of an Iceberg column, for tables an Iceberg catalog lists."""
    nullable = not required
    simple = {it.BooleanType: "BOOLEAN", it.IntegerType: "INT", it.LongType: "BIGINT", it.FloatType: "FLOAT",
              it.DoubleType: "DOUBLE", it.DateType: "DATE"}
    for cls, name in simple.items():
        if isinstance(t, cls):
            return FlinkType(name, nullable=nullable)
    if isinstance(t, it.StringType):
        return FlinkType.of("STRING", nullable=nullable)
    if isinstance(t, it.BinaryType):
        return FlinkType("VARBINARY", MAX_VARCHAR, nullable=nullable)
    if isinstance(t, it.FixedType):
        return FlinkType("BINARY", len(t), nullable=nullable)
    if isinstance(t, it.UUIDType):
        return FlinkType("BINARY", 16, nullable=nullable)
    if isinstance(t, it.DecimalType):
        return FlinkType("DECIMAL", t.precision, t.scale, nullable=nullable)
    if isinstance(t, it.TimeType):
        return FlinkType("TIME", 0, nullable=nullable)
    if isinstance(t, it.TimestamptzType):
        return FlinkType("TIMESTAMP_LTZ", 6, nullable=nullable)
    if isinstance(t, it.TimestampType):
        return FlinkType("TIMESTAMP", 6, nullable=nullable)
    if isinstance(t, it.ListType):
        return FlinkType("ARRAY", nullable=nullable,
                         children=(flink_type(t.element_type, t.element_required),))
    if isinstance(t, it.MapType):
        return FlinkType("MAP", nullable=nullable, children=(flink_type(t.key_type, True),
                                                             flink_type(t.value_type, t.value_required)))
    if isinstance(t, it.StructType):
        return FlinkType("ROW", nullable=nullable, children=tuple(flink_type(f.field_type, f.required)
                                                                  for f in t.fields),
                         field_names=tuple(f.name for f in t.fields))
    raise ValidationError(f"Iceberg type {t} has no Flink type here")


def shape(t: it.IcebergType) -> str:
    """A type as text without field ids, to compare a declared column with a table's."""
    if isinstance(t, it.ListType):
        return f"list<{shape(t.element_type)}>"
    if isinstance(t, it.MapType):
        return f"map<{shape(t.key_type)}, {shape(t.value_type)}>"
    if isinstance(t, it.StructType):
        return "struct<" + ", ".join(f"{f.name}: {shape(f.field_type)}" for f in t.fields) + ">"
    return str(t)
