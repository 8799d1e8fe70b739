"""Flink's built-in function list: SHOW FUNCTIONS lists it as Flink 2.3 does, FUNCTIONS.md says which ones run,
and a call of one that does not run yet says so instead of claiming no such function exists."""
import io
from pathlib import Path

import pytest

from sqlstream.planner.flink_functions import SHOW_FUNCTIONS
from sqlstream.function_table import supported, table
from sqlstream.script import ScriptRunner
from sqlstream.core.errors import ValidationError
from sqlstream.session import Session, parse_script

REPO = Path(__file__).resolve().parent.parent


def error(sql: str) -> str:
    with pytest.raises(ValidationError) as e:
        ScriptRunner(out=io.StringIO(), err=io.StringIO()).run(sql)
    return str(e.value)


def test_functions_md_is_the_generated_table():
    assert (REPO / "FUNCTIONS.md").read_text() == table(), "regenerate: python -m sqlstream.function_table"


def test_show_functions_lists_flinks_built_ins_and_user_functions():
    from tests.udfs.sample import double_it
    s = Session()
    s.register_function("twice", double_it)
    listed = [r[0] for r in s.execute(parse_script("SHOW FUNCTIONS")[0]).rows]
    assert listed == sorted(set(SHOW_FUNCTIONS) | {"TWICE"})
    assert len(SHOW_FUNCTIONS) == 251 and {"ARRAY_SLICE", "PRINTF", "regexpExtract", "sum0"} <= set(listed)


@pytest.mark.parametrize("call", ["BITMAP_CARDINALITY(x)", "ML_PREDICT(x)", "BITMAP_BUILD_AGG(x)",
                                  "TRY_PARSE_JSON(s)"])
def test_a_flink_function_not_supported_yet_says_so(call):
    err = error("CREATE TABLE t (x INT, s STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '1');\n"
                 f"SELECT {call} FROM t;\n")
    name = call[:call.index("(")]
    assert f"Built-in function {name} is not supported yet" in err and "No match found" not in err


def test_an_unknown_function_is_still_no_match():
    err = error("SELECT NO_SUCH_FN('a');")
    assert "No match found for function signature NO_SUCH_FN(<CHARACTER>)" in err


def test_aliases_count_as_supported():
    assert supported("CEILING") and supported("CHARACTER_LENGTH") and supported("STARTSWITH")
    assert not supported("BITMAP_BUILD")
