"""Which of Flink 2.3's built-in SQL functions sqlstream runs: the table FUNCTIONS.md shows.

    python -m sqlstream.function_table > FUNCTIONS.md
"""
from __future__ import annotations

import sqlglot
from sqlglot import exp

from sqlstream.functions.catalog import lookup
from sqlstream.planner.bind.legacy_windows import LEGACY_PROPS
from sqlstream.planner.flink_functions import SQL_FUNCTIONS
from sqlstream.planner.functions import AGGREGATES
from sqlstream.planner.scalar_binder import _function_parts
from sqlstream.dialect import Flink
from sqlstream.dialect import expressions as fx
from sqlstream.dialect.parser import WINDOW_TVFS

# calls the binder takes apart itself rather than through a function's typing rule
SPECIAL_FORMS = {"CAST", "TRY_CAST", "EXTRACT", "GROUPING", "GROUPING_ID", "ROW_NUMBER", "TIMESTAMPADD",
                 "TIMESTAMPDIFF", "PROCTIME", "TYPEOF", "CURRENT_WATERMARK", "LAG", "RANK", "DENSE_RANK"}


def canonical(name: str) -> str:
    """The name a call of `name` is bound under (sqlglot parses some into nodes of its own)."""
    for args in ("x", "x, y", "x, y, z"):
        try:
            node = sqlglot.parse_one(f"SELECT {name}({args})", read=Flink).expressions[0]
            break
        except Exception:  # not with this many arguments, or written another way (CAST(x AS t), ..)
            continue
    else:
        return name
    if isinstance(node, (exp.JSONObject, exp.JSONArray, fx.JSONCall)):  # bound by their own binder rules
        return name
    if isinstance(node, exp.Func) and not isinstance(node, exp.AggFunc):
        return _function_parts(node)[0]
    if isinstance(node, exp.AggFunc):
        return {"Stddev": "STDDEV_SAMP", "Variance": "VAR_SAMP"}.get(type(node).__name__, name)
    return name


def supported(name: str) -> bool:
    from sqlstream.runtime.expressions import implemented
    bound = canonical(name)
    legacy = {f"{w}_{p}" for w in ("TUMBLE", "HOP", "SESSION") for p in LEGACY_PROPS}
    fn = lookup(bound)
    callable_builtin = fn is not None and not fn.internal
    return (callable_builtin and (implemented(bound) or bound == "IF")) or bound in AGGREGATES or \
        bound in WINDOW_TVFS or bound in legacy or bound in SPECIAL_FORMS or name in SPECIAL_FORMS


def table() -> str:
    names = sorted(SQL_FUNCTIONS)
    done = [n for n in names if supported(n)]
    lines = ["# Flink's built-in functions in sqlstream", "",
             f"Flink 2.3's built-in SQL functions and whether sqlstream runs them: {len(done)} of {len(names)}. "
             "A call of one marked 'not yet' fails with \"Built-in function X is not supported yet\". "
             "Regenerate with `python -m sqlstream.function_table > FUNCTIONS.md` (a test keeps it true).", "",
             "| function | sqlstream |", "| --- | --- |"]
    lines += [f"| `{n}` | {'yes' if n in done else 'not yet'} |" for n in names]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(table(), end="")
