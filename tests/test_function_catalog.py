"""The scalar function catalog: each function defined once with everything the binder and runtime need, a row
implementation that agrees with the vectorized one, and families loaded only when a query needs them."""
import json
import os
import random
import subprocess
import sys

import pyarrow as pa
import pytest

from sqlstream.core.types import BIGINT, BOOLEAN, DOUBLE, INT, FlinkType
from sqlstream.functions import catalog
from sqlstream.plan.expr import Call, Ref
from sqlstream.runtime.expressions import SPECIAL_FORMS, evaluate
from sqlstream.runtime.row_eval import compile_row

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# forms the binder turns into something else, or an operator evaluates itself
NOT_EVALUATED_BY_CATALOG = {"IF", "TYPEOF", "CURRENT_WATERMARK"}


def test_every_function_runs_where_it_is_defined():
    names = catalog.names()
    assert len(names) == len(set(names)) and {"UPPER", "RAND_INTEGER", "JSON_VALUE", "ARRAY_SLICE", "+"} <= set(names)
    for name in names:
        fn = catalog.lookup(name)
        assert fn.impl is not None or name in SPECIAL_FORMS or name in NOT_EVALUATED_BY_CATALOG, name
        assert fn.type is not None or fn.internal or name in ("CAST", "TRY_CAST", "ELEMENT", "FIELD"), name


def _columns(rng: random.Random, n: int):
    ints = [None if rng.random() < 0.15 else rng.choice([rng.randint(-50, 50), 2**31 - 1, -2**31])
            for _ in range(n)]
    floats = [None if rng.random() < 0.15 else rng.uniform(-100, 100) for _ in range(n)]
    bools = [None if rng.random() < 0.2 else rng.random() < 0.5 for _ in range(n)]
    return [pa.array(ints, pa.int32()), pa.array(ints[::-1], pa.int32()), pa.array(floats, pa.float64()),
            pa.array(bools, pa.bool_()), pa.array(bools[::-1], pa.bool_())]


X, Y, F, B, C = (Ref(INT, 0, "i"), Ref(INT, 1, "j"), Ref(DOUBLE, 2, "f"), Ref(BOOLEAN, 3, "b"),
                 Ref(BOOLEAN, 4, "c"))
CALLS = [Call(INT, op, (X, Y)) for op in ("+", "-", "*")] + \
        [Call(DOUBLE, op, (Call(DOUBLE, "CAST", (X,)), F)) for op in ("+", "-", "*")] + \
        [Call(BOOLEAN, op, (X, Y)) for op in ("=", "<>", "<", "<=", ">", ">=")] + \
        [Call(BOOLEAN, op, (B, C)) for op in ("AND", "OR")] + \
        [Call(BOOLEAN, "NOT", (B,)), Call(BOOLEAN.with_nullable(False), "IS_NULL", (X,)),
         Call(BOOLEAN.with_nullable(False), "IS_NOT_NULL", (F,)), Call(INT, "COALESCE", (X, Y)),
         Call(BIGINT, "CAST", (X,)), Call(FlinkType("SMALLINT"), "CAST", (X,)), Call(INT, "CAST", (F,)),
         Call(FlinkType("SMALLINT"), "+", (Call(FlinkType("SMALLINT"), "CAST", (X,)),) * 2)]


@pytest.mark.parametrize("call", CALLS, ids=str)
def test_a_row_implementation_agrees_with_the_vectorized_one(call):
    row_fn = compile_row(call)
    assert row_fn is not None, f"{call} has no row implementation"
    cols = _columns(random.Random(str(call)), 200)
    vectorized = evaluate(call, cols, 200).to_pylist()
    rows = list(zip(*(c.to_pylist() for c in cols)))
    by_row = [row_fn(r) for r in rows]
    for v, r in zip(vectorized, by_row):
        assert v == r or (isinstance(v, float) and isinstance(r, float) and abs(v - r) <= 1e-9 * max(1, abs(v)))


def test_a_query_of_operators_and_casts_loads_no_other_family():
    probe = ("import json, sys\n"
             "from sqlstream.functions.catalog import lookup\n"
             "lookup('>'); lookup('CAST'); lookup('AND')\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('sqlstream.functions.'))))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), check=True).stdout
    families = {m.rsplit(".", 1)[1] for m in json.loads(out)} & set(catalog.FAMILIES)
    assert families == {"operators", "cast"}
