"""Generated SQL nests deeply and chains long: each size below runs with the right rows, and a statement past the
nesting limit is refused with an error naming the limit and where it was passed, never a RecursionError."""
import io
import json
import sys

import pytest

from sqlstream import deep
from sqlstream.cli import run_file
from sqlstream.core.errors import SqlError
from sqlstream.script import ScriptRunner
from sqlstream.session import Session, parse_script

TABLE = """CREATE TABLE t (a INT) WITH ('connector' = 'datagen', 'number-of-rows' = '5',
  'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '5');
"""
A = [1, 2, 3, 4, 5]


def rows(query: str) -> list[list]:
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl").run(TABLE + query)
    got = [json.loads(ln) for ln in out.getvalue().splitlines() if ln.strip()]
    assert all(r.pop("op") == "+I" for r in got)
    return [list(r.values()) for r in got]


def test_50_nested_parentheses():
    assert rows("SELECT " + "(" * 50 + "a + 1" + ")" * 50 + " * 2 FROM t;") == [[(a + 1) * 2] for a in A]


def test_case_nested_60_deep():
    expr, expected = "a", list(A)
    for i in range(60):
        expr = f"CASE WHEN a > {i % 5} THEN {expr} + 1 ELSE a * 10 END"
        expected = [v + 1 if a > i % 5 else a * 10 for a, v in zip(A, expected)]
    assert rows(f"SELECT {expr} FROM t;") == [[v] for v in expected]


def test_300_term_sum_and_concatenation():
    assert rows("SELECT a" + " + 1" * 299 + " FROM t;") == [[a + 299] for a in A]
    got = rows("SELECT CAST(a AS STRING)" + " || '.'" * 299 + " FROM t;")
    assert got == [[str(a) + "." * 299] for a in A]


def test_where_with_300_ors_and_300_ands():
    ors = " OR ".join(f"a = {v}" for v in [*range(100, 398), 2, 4])
    assert rows(f"SELECT a FROM t WHERE {ors};") == [[2], [4]]
    ands = " AND ".join([f"a > {-i}" for i in range(299)] + ["a < 4"])
    assert rows(f"SELECT a FROM t WHERE {ands};") == [[1], [2], [3]]


def test_1000_union_alls():
    query = "\nUNION ALL\n".join(f"SELECT a + {i} AS v FROM t WHERE a = 1" for i in range(1000)) + ";"
    assert sorted(rows(query)) == [[1 + i] for i in range(1000)]


def test_500_nested_subqueries():
    query = "SELECT a FROM t"
    for i in range(500):
        query = f"SELECT a + 1 AS a FROM ({query}) s{i}"
    assert rows(query + ";") == [[a + 500] for a in A]


def test_deep_plans_explain_and_run_as_background_jobs():
    s = Session()
    s.execute(parse_script(TABLE)[0])
    ors = " OR ".join(f"a = {v}" for v in range(300))
    text = s.execute(parse_script(f"EXPLAIN SELECT a FROM t WHERE {ors};")[0]).message
    assert "Calc" in text and text.count("OR(") == 2 * 299  # in the logical and the physical plan


def test_nesting_up_to_the_limit_runs():
    n = deep.NESTING_LIMIT
    assert rows("SELECT " + "(" * n + "a" + ")" * n + " FROM t;") == [[a] for a in A]


def test_nesting_past_the_limit_is_a_clear_error(tmp_path, capsys):
    n = deep.NESTING_LIMIT + 1
    sql = TABLE + "SELECT " + "(" * n + "a" + ")" * n + " FROM t;"
    with pytest.raises(SqlError) as e:
        parse_script(sql)
    assert f"deeper than {deep.NESTING_LIMIT} levels" in str(e.value)
    assert (e.value.line, e.value.col) == (3, 8 + deep.NESTING_LIMIT)
    job = tmp_path / "deep.sql"
    job.write_text(sql)
    assert run_file(str(job), "csv", None) == 1
    err = capsys.readouterr().err
    assert "deeper than 1000 levels" in err and "Recursion" not in err and "Traceback" not in err


def test_a_case_nested_past_the_limit_is_refused():
    expr = "a"
    for i in range(deep.NESTING_LIMIT + 1):
        expr = f"CASE WHEN a > {i} THEN {expr} ELSE 0 END"
    with pytest.raises(SqlError, match="deeper than 1000 levels"):
        parse_script(TABLE + f"SELECT {expr} FROM t;")


def test_recursion_past_the_limit_is_a_nesting_error_not_a_recursion_error():
    def endless(n):
        return endless(n + 1)
    with pytest.raises(deep.NestingError, match="too deeply nested or too long"):
        deep.run_deep(endless, 0)
    assert sys.getrecursionlimit() < deep.RECURSION_LIMIT  # raised only while deep work runs
