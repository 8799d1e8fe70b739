"""Loops compiled with numba once they have carried enough rows: work that is a sequential loop per key (each
row's result depends on the rows before it in its partition) cannot be spread over columns, and as Python it
costs about a microsecond a step. A loop marked `@kernel` runs as plain Python until the process has stepped
COMPILE_AFTER rows through such loops; then every one is swapped, in its module, for `numba.njit(cache=True)` of
itself. A short job neither imports numba (about half a second) nor compiles (about fifteen CPU seconds once per
install, a cached load after); a long one compiles once. The code is the same, so results do not depend on which
ran; where numba cannot be used (not importable, no folder for its cache) the loops stay Python."""
from __future__ import annotations

import sys

COMPILE_AFTER = 50_000  # rows stepped in this process before the loops are compiled
_KERNELS: list = []  # the loops, as plain functions
_stepped = 0
_compiled = False
_unusable = False  # numba could not be used: the loops stay Python


def kernel(fn):
    """A loop compiled by `compile_kernels`; until then the plain function. Its module calls it by its global
    name, so that the swap reaches every caller, compiled ones included."""
    _KERNELS.append(fn)
    return _compile(fn) if _compiled else fn  # a module of loops imported after the others were compiled


def stepping(rows: int) -> None:
    """Counts rows about to go through the loops, and compiles them once COMPILE_AFTER have."""
    global _stepped
    _stepped += rows
    if _stepped >= COMPILE_AFTER and not _compiled:
        compile_kernels()


def compile_kernels() -> None:
    """Swaps every loop for its numba dispatcher (compiled at its first call, which resolves the loops it calls:
    all are swapped before any runs)."""
    global _compiled
    _compiled = True
    for fn in _KERNELS:
        fn.__globals__[fn.__name__] = _compile(fn)


def _compile(fn):
    global _unusable
    if _unusable:
        return fn
    try:
        import numba
        return numba.njit(cache=True)(fn)
    except Exception as e:  # noqa: BLE001 - whatever stops numba, the same loops go on as Python
        _unusable = True
        sys.stderr.write(f"[WARN] loops not compiled, running as Python: {type(e).__name__}: {e}\n")
        return fn
