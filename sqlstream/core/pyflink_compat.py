"""PyFlink's function declarations for Python files written for Flink (`from pyflink.table import DataTypes`,
`from pyflink.table.udf import udf, udtf`) when PyFlink itself is not installed: `@udf(result_type=
DataTypes.FLOAT())` declares the same function for sqlstream, so such a file runs unchanged. Only the
declarations are provided; nothing else of PyFlink is."""
from __future__ import annotations

import sys
import types


class DataType(str):
    """A type as PyFlink's DataTypes builds it, kept as its SQL text."""

    def not_null(self) -> "DataType":
        return DataType(f"{self} NOT NULL")

    def nullable(self) -> "DataType":
        return self


def _simple(name: str):
    return staticmethod(lambda nullable=True: DataType(name if nullable else f"{name} NOT NULL"))


class DataTypes:
    STRING = _simple("STRING")
    BOOLEAN = _simple("BOOLEAN")
    TINYINT = _simple("TINYINT")
    SMALLINT = _simple("SMALLINT")
    INT = _simple("INT")
    BIGINT = _simple("BIGINT")
    FLOAT = _simple("FLOAT")
    DOUBLE = _simple("DOUBLE")
    DATE = _simple("DATE")
    BYTES = _simple("BYTES")

    @staticmethod
    def VARCHAR(length: int, nullable: bool = True) -> DataType:
        return DataType(f"VARCHAR({length})")

    @staticmethod
    def CHAR(length: int, nullable: bool = True) -> DataType:
        return DataType(f"CHAR({length})")

    @staticmethod
    def DECIMAL(precision: int, scale: int, nullable: bool = True) -> DataType:
        return DataType(f"DECIMAL({precision}, {scale})")

    @staticmethod
    def TIMESTAMP(precision: int = 6, nullable: bool = True) -> DataType:
        return DataType(f"TIMESTAMP({precision})")

    @staticmethod
    def TIMESTAMP_LTZ(precision: int = 6, nullable: bool = True) -> DataType:
        return DataType(f"TIMESTAMP_LTZ({precision})")

    @staticmethod
    def ARRAY(element: str, nullable: bool = True) -> DataType:
        return DataType(f"ARRAY<{element}>")

    @staticmethod
    def MAP(key: str, value: str, nullable: bool = True) -> DataType:
        return DataType(f"MAP<{key}, {value}>")


def udf(f=None, input_types=None, result_type=None, deterministic=None, name=None, func_type="general",
        udf_type=None):
    """PyFlink's @udf: a scalar function of SQL values (func_type 'pandas' is not supported)."""
    from sqlstream.core.errors import ValidationError
    from sqlstream.core.udf import udf as declare
    if func_type != "general" or udf_type not in (None, "general"):
        raise ValidationError("PyFlink's vectorized (pandas) @udf is not supported: declare the function with "
                              "sqlstream.core.udf.udf(result_type=.., vectorized=True) over Arrow arrays")
    if result_type is None:
        raise ValidationError("PyFlink's @udf needs result_type")
    wrap = declare(str(result_type))
    return wrap(f) if f is not None else wrap


def udtf(f=None, input_types=None, result_types=None, deterministic=None, name=None):
    """PyFlink's @udtf: a table function yielding rows."""
    from sqlstream.core.udf import udtf as declare
    types_ = [str(t) for t in result_types] if isinstance(result_types, (list, tuple)) else str(result_types)
    wrap = declare(types_)
    return wrap(f) if f is not None else wrap


def install() -> None:
    """Make `pyflink`, `pyflink.table` and `pyflink.table.udf` these declarations (only when PyFlink is not
    installed: a real PyFlink is never shadowed)."""
    if "pyflink" in sys.modules:
        return
    root = types.ModuleType("pyflink")
    table = types.ModuleType("pyflink.table")
    functions = types.ModuleType("pyflink.table.udf")
    table.DataTypes = functions.DataTypes = DataTypes
    functions.udf, functions.udtf = udf, udtf
    table.udf = functions
    root.table = table
    root.__sqlstream_compat__ = True
    sys.modules.update({"pyflink": root, "pyflink.table": table, "pyflink.table.udf": functions})
