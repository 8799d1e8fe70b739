"""Python user-defined scalar functions.

    from sqlstream.udf import udf

    @udf(result_type="DECIMAL(10, 2)")                  # row form: called once per row with Python values
    def add_tax(price): return None if price is None else price * Decimal("1.19")

    @udf(result_type="BIGINT", vectorized=True)          # vectorized form: Arrow arrays in, an Arrow array out
    def double_it(x): return pyarrow.compute.multiply(x, 2)

Registered with `CREATE [TEMPORARY] FUNCTION add_tax AS 'module.add_tax' [LANGUAGE PYTHON]` or
`Session.register_function("add_tax", add_tax)`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa

from sqlstream.errors import ExecutionError, ValidationError
from sqlstream.types import FlinkType, from_sqlglot

REGISTRY: dict[str, "PythonFunction"] = {}  # name -> function, read by the runtime when it evaluates a call


@dataclass
class PythonFunction:
    name: str
    fn: Callable
    result_type: FlinkType
    vectorized: bool = False

    def __call__(self, args: list[pa.Array], n: int) -> pa.Array:
        target = self.result_type.to_arrow()
        if self.vectorized:
            try:
                out = self.fn(*args)
            except Exception as e:
                raise ExecutionError(f"Python function {self.name} failed on a batch of {n} rows: "
                                     f"{type(e).__name__}: {e}") from None
            out = out if isinstance(out, (pa.Array, pa.ChunkedArray)) else pa.array(out)
            if len(out) != n:
                raise ExecutionError(f"Python function {self.name} returned {len(out)} values for {n} rows")
            return out.cast(target) if out.type != target else out
        columns = [a.to_pylist() for a in args]
        values = []
        for i, row in enumerate(zip(*columns) if columns else [()] * n):
            try:
                values.append(self.fn(*row))
            except Exception as e:
                raise ExecutionError(f"Python function {self.name} failed on row {list(row)}: "
                                     f"{type(e).__name__}: {e}") from None
        try:
            return pa.array(values, target)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise ExecutionError(f"Python function {self.name} returned a value that is not {self.result_type}: "
                                 f"{e}") from None


def udf(result_type: str, vectorized: bool = False):
    """Declare a Python function's SQL result type (and whether it takes Arrow arrays)."""
    import sqlglot
    from sqlstream.dialect import Flink
    t = from_sqlglot(sqlglot.parse_one(f"CAST(x AS {result_type})", read=Flink).args["to"])

    def wrap(fn):
        fn.__sqlstream_udf__ = (t, vectorized)
        return fn
    return wrap


def load(name: str, path: str) -> PythonFunction:
    """Import `module.attr` and check it was declared with @udf."""
    module, _, attr = path.rpartition(".")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ValidationError(f"Cannot load Python function '{path}' for {name}: {e}") from None
    return register(name, fn)


def register(name: str, fn: Callable) -> PythonFunction:
    spec = getattr(fn, "__sqlstream_udf__", None)
    if spec is None:
        raise ValidationError(f"Python function for {name} must be declared with @sqlstream.udf.udf(result_type=...)")
    f = PythonFunction(name.upper(), fn, spec[0], spec[1])
    REGISTRY[f.name] = f
    return f
