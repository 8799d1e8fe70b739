"""The scalar function catalog: one `ScalarFunction` per built-in function, read by the binder (names, typing,
binding rules), the runtime (vectorized and row implementations), completion and FUNCTIONS.md.

Each family module of this package lists its functions in a `FUNCTIONS` tuple of `ScalarFunction`s; the catalog
imports a family when a lookup first needs it, so a process that never binds or runs an expression loads none.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

# the modules of this package that define functions, one per family, the most used first
FAMILIES = ("operators", "cast", "string", "temporal", "math", "collection", "regex", "json", "encoding", "text")

Typer = Callable[[str, list], Any]
Vectorized = Callable[[Any, list, int], Any]
RowCompiler = Callable[[Any, list], Any]


@dataclass(frozen=True)
class ScalarFunction:
    """A built-in scalar function or operator.

    names: the name it is bound under first, then aliases the binder accepts as the same function (a call keeps
    the name it was written with, so EXPLAIN shows what the query says).
    type: (name, argument types) -> result type, raising ValidationError for arguments Flink refuses; None when
    the binder types the call itself (CAST's target, a ROW field).
    impl: (call, arguments as Arrow arrays or scalars, row count) -> Arrow array or scalar, one call per batch.
    row: (call, compiled arguments) -> a function of one row tuple, or None where only `impl` applies; used by
    operators that decide row by row (MATCH_RECOGNIZE's DEFINE).
    signatures: Flink's argument forms by type family ('CHARACTER', 'INTEGER', 'NUMERIC', 'STRING'), checked
    before `type` so that a mismatch gets Flink's 'Supported form(s)' message.
    constant_args: positions the runtime reads once per call, so the query must give literals there.
    local_time: a TIMESTAMP_LTZ argument is seen as the wall clock in the session time zone.
    zoned: the result depends on the session time zone, which the binder appends as the last argument.
    internal: the binder produces the call from syntax of its own (a time zone shift, a bare keyword); SQL cannot
    call it by this name, so completion does not offer it.
    """

    names: tuple[str, ...]
    type: Typer | None
    impl: Vectorized | None
    row: RowCompiler | None = None
    signatures: tuple[tuple[str, ...], ...] | None = None
    constant_args: tuple[int, ...] = ()
    local_time: bool = False
    zoned: bool = False
    internal: bool = False

    @property
    def name(self) -> str:
        return self.names[0]


def scalar(names: str | tuple[str, ...], type: Typer | None, impl: Vectorized | None, **more) -> ScalarFunction:
    """A catalog entry; `names` is one name or a tuple of a name and its aliases."""
    return ScalarFunction(names if isinstance(names, tuple) else (names,), type, impl, **more)


_BY_NAME: dict[str, ScalarFunction] = {}
_LOADED: list[str] = []


def _load_next() -> bool:
    """Import the next family not yet loaded and index its functions; False when all are loaded."""
    if len(_LOADED) == len(FAMILIES):
        return False
    family = FAMILIES[len(_LOADED)]
    module = importlib.import_module(f"{__package__}.{family}")
    for fn in module.FUNCTIONS:
        for name in fn.names:
            if name in _BY_NAME:
                raise RuntimeError(f"function {name} is defined twice ({family})")
            _BY_NAME[name] = fn
    _LOADED.append(family)
    return True


def lookup(name: str) -> ScalarFunction | None:
    """The function a call of `name` (as bound: upper case, or an operator symbol) refers to, if built in.

    Families load in FAMILIES' order until one defines the name, so a job whose expressions are only operators
    and casts imports no other family."""
    fn = _BY_NAME.get(name)
    while fn is None and _load_next():
        fn = _BY_NAME.get(name)
    return fn


def _load_all() -> dict[str, ScalarFunction]:
    while _load_next():
        pass
    return _BY_NAME


def names() -> list[str]:
    """Every name a query may call a built-in scalar function by, aliases included."""
    return sorted(name for name, fn in _load_all().items() if not fn.internal)
