"""Python user-defined scalar and table functions.

    from sqlstream.core.udf import udf

    @udf(result_type="DECIMAL(10, 2)")                  # row form: called once per row with Python values
    def add_tax(price): return None if price is None else price * Decimal("1.19")

    @udf(result_type="BIGINT", vectorized=True)          # vectorized form: Arrow arrays in, an Arrow array out
    def double_it(x): return pyarrow.compute.multiply(x, 2)

    @udtf(result_types=["STRING", "INT"])                 # table function, row form: yields rows per row
    def split_words(s): yield from ((w, len(w)) for w in (s or "").split())

    @udtf(result_types=["STRING"], vectorized=True)      # vectorized: (parent row indices, output arrays)
    def words(s): ...

Registered with `CREATE [TEMPORARY] FUNCTION add_tax AS 'module.add_tax' [LANGUAGE PYTHON]` or
`Session.register_function("add_tax", add_tax)`; table functions are called as
`FROM t, LATERAL TABLE(split_words(s)) AS w(word, len)` or `LEFT JOIN LATERAL TABLE(..) AS w ON TRUE`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

import pyarrow as pa

from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.core.types import FlinkType, from_sqlglot

REGISTRY: dict[str, object] = {}  # name -> function, read by the runtime when it evaluates a call
# name -> (name, path, python files) of each function `load` imported: what another process (a parallel subtask's
# worker, a Ray actor) imports to register the same functions
LOADED: dict[str, tuple[str, str, str | None]] = {}
CARRIED: dict[str, tuple[str, str, str | None]] = {}  # what `carry` was given, until first called


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


@dataclass
class PythonTableFunction:
    """A table function: each input row gives zero or more rows of `result_types` (columns f0, f1, ..)."""

    name: str
    fn: Callable
    result_types: list[FlinkType]
    vectorized: bool = False

    def __call__(self, args: list[pa.Array], n: int) -> tuple[pa.Array, list[pa.Array]]:
        """(index of the input row each output row came from, the output columns)."""
        targets = [t.to_arrow() for t in self.result_types]
        if self.vectorized:
            try:
                parents, out = self.fn(*args)
            except Exception as e:
                raise ExecutionError(f"Python table function {self.name} failed on a batch of {n} rows: "
                                     f"{type(e).__name__}: {e}") from None
            out = [c if isinstance(c, (pa.Array, pa.ChunkedArray)) else pa.array(c) for c in out]
            parents = pa.array(parents, pa.int64())
            if len(out) != len(targets) or any(len(c) != len(parents) for c in out):
                raise ExecutionError(f"Python table function {self.name} must return (row indices, "
                                     f"{len(targets)} column(s) of the same length)")
            return parents, [c.cast(t) if c.type != t else c for c, t in zip(out, targets)]
        columns = [a.to_pylist() for a in args]
        parents, rows = [], []
        one = len(targets) == 1
        for i, row in enumerate(zip(*columns) if columns else [()] * n):
            try:
                for r in self.fn(*row) or ():
                    rows.append((r,) if one and not isinstance(r, (tuple, list)) else tuple(r))
                    parents.append(i)
            except Exception as e:
                raise ExecutionError(f"Python table function {self.name} failed on row {list(row)}: "
                                     f"{type(e).__name__}: {e}") from None
        try:
            out = [pa.array([r[j] for r in rows], t) for j, t in enumerate(targets)]
        except (pa.ArrowInvalid, pa.ArrowTypeError, IndexError) as e:
            raise ExecutionError(f"Python table function {self.name} returned a row that is not "
                                 f"({', '.join(map(str, self.result_types))}): {e}") from None
        return pa.array(parents, pa.int64()), out


def python_aggregate(name: str) -> PythonAggregateFunction | None:
    """The registered Python aggregate function of a SQL name (or of an AggCall's `UDAF:NAME`), if any."""
    f = registered(name[5:] if name.startswith("UDAF:") else name.upper())
    return f if isinstance(f, PythonAggregateFunction) else None


@dataclass
class PythonAggregateFunction:
    """An aggregate function: an accumulator class (create_accumulator, accumulate, optional retract,
    get_value), or with `vectorized` a function of one group's argument arrays returning its value."""

    name: str
    impl: object
    result_type: FlinkType
    vectorized: bool = False

    @property
    def can_retract(self) -> bool:
        return not self.vectorized and hasattr(self.impl, "retract")

    def create(self):
        return self._call("create_accumulator", ())

    def accumulate(self, acc, args: tuple) -> None:
        self._call("accumulate", (acc, *args))

    def retract(self, acc, args: tuple) -> None:
        self._call("retract", (acc, *args))

    def value(self, acc):
        return self._call("get_value", (acc,))

    def _call(self, method: str, args: tuple):
        try:
            return getattr(self.impl, method)(*args)
        except Exception as e:
            shown = list(args[1:]) if method in ("accumulate", "retract") else ""
            raise ExecutionError(f"Python aggregate function {self.name}.{method} failed"
                                 f"{f' on row {shown}' if shown != '' else ''}: {type(e).__name__}: {e}") from None

    def over_rows(self, rows: list[tuple]):
        """The value over one group's argument tuples."""
        if self.vectorized:
            n_args = len(rows[0]) if rows else 0
            return self.over_arrays([pa.array([r[i] for r in rows]) for i in range(n_args)])
        acc = self.create()
        for r in rows:
            self.accumulate(acc, r)
        return self.value(acc)

    def over_arrays(self, arrays: list[pa.Array]):
        if not self.vectorized:
            columns = [a.to_pylist() for a in arrays]
            return self.over_rows(list(zip(*columns)))
        try:
            v = self.impl(*arrays)
        except Exception as e:
            raise ExecutionError(f"Python aggregate function {self.name} failed on a group of "
                                 f"{len(arrays[0]) if arrays else 0} rows: {type(e).__name__}: {e}") from None
        return v.as_py() if isinstance(v, pa.Scalar) else v


def _parse_type(text: str) -> FlinkType:
    import sqlglot
    from sqlstream.dialect import Flink
    return from_sqlglot(sqlglot.parse_one(f"CAST(x AS {text})", read=Flink).args["to"])


def udf(result_type: str, vectorized: bool = False):
    """Declare a Python function's SQL result type (and whether it takes Arrow arrays)."""
    t = _parse_type(result_type)

    def wrap(fn):
        fn.__sqlstream_udf__ = (t, vectorized)
        return fn
    return wrap


def udtf(result_types: list[str] | str, vectorized: bool = False):
    """Declare a Python table function's SQL column types (and whether it takes Arrow arrays)."""
    types = [_parse_type(t) for t in ([result_types] if isinstance(result_types, str) else result_types)]

    def wrap(fn):
        fn.__sqlstream_udtf__ = (types, vectorized)
        return fn
    return wrap


@dataclass
class DeclaredFunction:
    """A function CREATE FUNCTION declared: its module is imported when a statement first uses it, not before
    (a rejected or unused declaration runs no code)."""

    name: str
    path: str


def declare(name: str, path: str) -> DeclaredFunction:
    module, _, attr = path.rpartition(".")
    if not module or not attr or not all(p.isidentifier() for p in path.split(".")):
        raise ValidationError(f"CREATE FUNCTION {name} needs AS 'module.function' naming a Python module and a "
                              f"function in it, got '{path}'")
    return DeclaredFunction(name, path)


def python_path(setting: str | None) -> list[str]:
    """The folders 'python.files' adds to the module path (Flink's option: comma-separated .py files, folders
    or .zip archives; a file's folder is added)."""
    out = []
    for entry in (setting or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        path = os.path.abspath(os.path.expanduser(entry))
        if not os.path.exists(path):
            raise ValidationError(f"'python.files' names '{entry}', which does not exist")
        folder = os.path.dirname(path) if os.path.isfile(path) and path.endswith(".py") else path
        if folder not in out:
            out.append(folder)
    return out


def load(name: str, path: str, python_files: str | None = None):
    """Import `module.attr` (from 'python.files' or the installed packages, never implicitly from the current
    folder) and check it was declared with @udf, @udtf or @udaf. Importing runs the module's code."""
    module, _, attr = path.rpartition(".")
    try:
        mod = _import(module, python_path(python_files))
        fn = getattr(mod, attr)
    except (ImportError, AttributeError) as e:
        raise ValidationError(f"Cannot load Python function '{path}' for {name}: {e}") from None
    except ValidationError:
        raise
    except (Exception, SystemExit) as e:  # the module's own code failed while it was imported
        raise ValidationError(f"Cannot load Python function '{path}' for {name}: importing '{module}' failed: "
                              f"{type(e).__name__}: {e}") from None
    f = register(name, fn)
    LOADED[f.name] = (name, path, python_files)
    return f


def loaded_functions() -> tuple:
    """The Python functions this process imported by name and still has registered, as `load`'s arguments."""
    return tuple(args for name, args in LOADED.items() if name in REGISTRY)


def carry(functions: tuple) -> None:
    """Makes the functions `loaded_functions` gave in the job's process importable here at their first call (a
    subtask's worker is forked from a process started before the statement declaring them ran); a function the
    subtask never calls is never imported."""
    CARRIED.update({name.upper(): (name, path, python_files) for name, path, python_files in functions})


def registered(name: str):
    """The function registered under `name`, imported first if the job's process had imported it (`carry`)."""
    f = REGISTRY.get(name)
    if f is None and name in CARRIED:
        f = load(*CARRIED.pop(name))
    return f


def _import(module: str, folders: list[str]):
    """The module, its top-level package found in `folders` or on sys.path without the current folder (a module
    already imported by the program that embeds sqlstream is used as it is)."""
    import importlib.util
    from importlib.machinery import PathFinder
    top = module.split(".")[0]
    for folder in reversed(folders):  # the module's own imports of its neighbours resolve there first
        if folder not in sys.path:
            sys.path.insert(0, folder)
    if top not in sys.modules:
        allowed = folders + [p for p in sys.path if not _is_current_folder(p) and p not in folders]
        spec = PathFinder.find_spec(top, allowed)
        if spec is None:
            if PathFinder.find_spec(top, [os.getcwd()]) is not None:
                raise ImportError(f"module '{top}' is in the current folder, which Python functions are not "
                                  f"imported from: SET 'python.files' = '<its .py file or folder>'")
            raise ImportError(f"No module named '{top}' in 'python.files' or the installed packages (SET "
                              f"'python.files' = '<a .py file or folder>,..' names where to import from)")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[top] = loaded
        try:
            spec.loader.exec_module(loaded)
        except ModuleNotFoundError as e:
            if not (e.name or "").split(".")[0] == "pyflink" or "pyflink" in sys.modules:
                sys.modules.pop(top, None)
                raise
            from sqlstream.core import pyflink_compat  # a file written for PyFlink: its declarations, without PyFlink
            pyflink_compat.install()
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[top] = loaded
            try:
                spec.loader.exec_module(loaded)
            except BaseException:
                sys.modules.pop(top, None)
                raise
        except BaseException:
            sys.modules.pop(top, None)
            raise
    return importlib.import_module(module)


def _is_current_folder(entry: str) -> bool:
    return entry in ("", ".") or os.path.abspath(entry) == os.getcwd()


def udaf(result_type: str, vectorized: bool = False):
    """Declare a Python aggregate function's SQL result type: an accumulator class, or with `vectorized` a
    function of one group's argument arrays."""
    t = _parse_type(result_type)

    def wrap(impl):
        impl.__sqlstream_udaf__ = (t, vectorized)
        return impl
    return wrap


def register(name: str, fn: Callable) -> PythonFunction | PythonTableFunction | PythonAggregateFunction:
    table = getattr(fn, "__sqlstream_udtf__", None)
    spec = getattr(fn, "__sqlstream_udf__", None)
    agg = getattr(fn, "__sqlstream_udaf__", None)
    if spec is None and table is None and agg is None:
        raise ValidationError(f"Python function for {name} must be declared with @sqlstream.core.udf.udf(result_type=...), "
                              f"@sqlstream.core.udf.udtf(result_types=[...]) or @sqlstream.core.udf.udaf(result_type=...)")
    if agg is not None:
        impl = fn if agg[1] else fn()  # an accumulator class is instantiated once
        for method in ([] if agg[1] else ["create_accumulator", "accumulate", "get_value"]):
            if not hasattr(impl, method):
                raise ValidationError(f"Python aggregate function {name} needs a {method} method")
        f = PythonAggregateFunction(name.upper(), impl, agg[0], agg[1])
    elif table:
        f = PythonTableFunction(name.upper(), fn, *table)
    else:
        f = PythonFunction(name.upper(), fn, *spec)
    REGISTRY[f.name] = f
    return f
