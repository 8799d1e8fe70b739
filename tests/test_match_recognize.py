"""MATCH_RECOGNIZE: the forms Flink rejects get Flink's message (with the position), and the automaton's
greedy rule is what makes a greedy quantifier swallow rows the next variable would take."""
import io

import pytest

from sqlstream.plan.match_pattern import parse_pattern
from sqlstream.runtime.nfa import Automaton
from sqlstream.core.errors import SqlStreamError
from sqlstream.script import ScriptRunner

DDL = """CREATE TABLE t (sym STRING, price INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
"""
ROWS = [("x", p, f"2024-01-01 00:00:{i:02d}.000") for i, p in enumerate([10, 12, 11, 13, 14, 9, 15, 16], 1)]


def run(sql: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl").run(sql)
    return out.getvalue(), err.getvalue()


def error(sql: str) -> str:
    with pytest.raises(SqlStreamError) as e:
        run(sql)
    return str(e.value)


@pytest.fixture
def ddl(tmp_path):
    p = tmp_path / "t.json"
    p.write_text("".join(f'{{"sym": "{s}", "price": {v}, "ts": "{t}"}}\n' for s, v, t in ROWS))
    return DDL.format(path=p)


def query(pattern: str, define: str = "A AS A.price > 0", measures: str = "A.price AS a") -> str:
    return (f"SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY sym ORDER BY ts MEASURES {measures}\n"
            f"PATTERN ({pattern}) DEFINE {define}) AS T;")


@pytest.mark.parametrize("pattern,define,measures,message", [
    ("A B+", "A AS A.price > 0", "A.price AS a", "Greedy quantifiers are not allowed as the last element"),
    ("A | B", "A AS A.price > 0", "A.price AS a", "CEP doesn't support branching patterns"),
    ("(A B)+ C", "A AS A.price > 0", "A.price AS a", "Group patterns are not supported yet"),
    ("A?? B", "A AS A.price > 0", "A.price AS a", "Reluctant optional variables are not supported yet."),
    ("A? B*?", "A AS A.price > 0", "A.price AS a", "Patterns that can produce empty matches are not supported"),
    ("A B A", "A AS A.price > 0", "A.price AS a", "Pattern variables must be unique"),
    ("A B", "B AS B.price > PREV(B.price)", "A.price AS a", "Flink does not support physical offsets"),
    ("A B", "B AS B.price > 0", "PREV(B.price) AS p", "Cannot use PREV/NEXT in MEASURE"),
    ("A B", "C AS C.price > 0", "A.price AS a", "Unknown pattern variable 'C' in DEFINE"),
    ("A B", "B AS B.price > Z.price", "A.price AS a", "Unknown pattern variable 'Z'"),
])
def test_rejected_like_flink(ddl, pattern, define, measures, message):
    err = error(ddl + query(pattern, define, measures))
    assert message in err, err
    assert "line 3" in err or "line 4" in err, err


def test_order_by_must_start_with_rowtime(ddl):
    err = error(ddl + "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY price MEASURES A.price AS a PATTERN (A) "
                         "DEFINE A AS A.price > 0) AS T;")
    assert "You must specify either rowtime or proctime for order by as the first one" in err


def test_parse_error_names_line_and_column(ddl):
    err = error(ddl + "SELECT * FROM t MATCH_RECOGNIZE (ORDER BY ts MEASURES A.price AS a\n"
                         "PATTERN A B DEFINE A AS A.price > 0) AS T;")
    assert "line 4, column 9" in err and "Expected '('" in err, err


def test_greedy_loop_keeps_rows_the_next_variable_accepts():
    # A{2,3} B: the state after the loop takes a row only if A rejects it, as Flink's NFACompiler builds it
    nfa = Automaton(parse_pattern("A{2,3} B"))
    b = next(s for s in nfa.states if s.var == "B")
    assert b.transitions[0].condition == ("and", ("var", "B"), ("not", ("var", "A")))
    # and a reluctant one does not
    nfa = Automaton(parse_pattern("A{2,3}? B"))
    b = next(s for s in nfa.states if s.var == "B")
    assert b.transitions[0].condition == ("var", "B")


def test_default_skip_is_to_next_row(ddl):
    """Every row can start a match of A+? B after the previous match's first row (probed on Flink 2.3: the
    same six rows with and without AFTER MATCH SKIP TO NEXT ROW)."""
    import json
    sql = ddl + query("A+? B", "A AS A.price < 100, B AS B.price > LAST(A.price, 1)",
                      "FIRST(A.price) AS a_first, COUNT(A.price) AS n, B.price AS b")
    out, err = run(sql)
    rows = [json.loads(ln) for ln in out.splitlines()]
    assert [(r["a_first"], r["n"], r["b"]) for r in rows] == [
        (10, 2, 11), (12, 2, 13), (11, 2, 14), (13, 3, 15), (14, 2, 15), (9, 2, 16)]


def test_row_at_a_time_reference_gives_flinks_rows(monkeypatch):
    """The oracle of tests/test_match_differential.py is itself right on a Flink golden case."""
    from pathlib import Path

    from sqlstream.runtime.operators import match_recognize
    from tests.golden import GOLDEN, check_case
    from tests.reference_match_recognize import ReferenceMatchRecognizeOperator
    monkeypatch.setattr(match_recognize, "MatchRecognizeOperator", ReferenceMatchRecognizeOperator)
    check_case(Path(GOLDEN / "match_v_shape_orders"), 7)


def test_ordered_by_processing_time_matches_rows_as_they_arrive(tmp_path):
    """ORDER BY a PROCTIME() attribute: rows are matched in arrival order with no wait for a watermark; on
    rows that arrive in time order the matches are those ordered by their rowtime."""
    import json
    p = tmp_path / "t.json"
    p.write_text("".join(f'{{"sym": "{s}", "price": {v}, "ts": "{t}"}}\n' for s, v, t in ROWS))
    ddl = (f"CREATE TABLE t (sym STRING, price INT, ts TIMESTAMP(3), pt AS PROCTIME(), "
           f"WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'filesystem', 'path' = '{p}', "
           f"'format' = 'json');\n")
    body = ("MATCH_RECOGNIZE (PARTITION BY sym ORDER BY {order} MEASURES FIRST(A.price) AS a_first, "
            "COUNT(A.price) AS n, B.price AS b PATTERN (A+? B) DEFINE A AS A.price < 100, "
            "B AS B.price > LAST(A.price, 1)) AS T;")
    by_time = [json.loads(x) for x in run(ddl + "SELECT * FROM t " + body.format(order="ts"))[0].splitlines()]
    by_arrival = [json.loads(x) for x in run(ddl + "SELECT * FROM t " + body.format(order="pt"))[0].splitlines()]
    assert by_arrival == by_time and len(by_time) == 6
