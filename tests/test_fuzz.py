"""Fuzzing: mutants of the shipped examples and golden cases never end in a traceback, an internal error or a
hang (tests/fuzz.py), and what fuzzing found stays fixed (Flink's messages where Flink was asked)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sqlstream.core.errors import SqlError, SqlStreamError, ValidationError
from sqlstream.session import Session, parse_script

ROOT = Path(__file__).resolve().parent.parent
INPUTS = 1500
SEED = 14


def test_mutated_examples_and_golden_cases_fail_cleanly_or_run():
    # the subprocess and its timeout are a safety net only: the fuzzer's own watchdog names a hanging input
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz", "--count", str(INPUTS), "--seed", str(SEED)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(lines[-1])
    assert result["inputs"] >= 500 and result["ran"] >= 100 and result["planned"] >= 1000, result
    shown = [f"{f['seed']} {f['ops']} ({f['mode']}):\n{f['sql'][:1500]}\n--> {f['problem'][-1500:]}"
             for f in result["findings"]]
    assert not shown, f"{len(shown)} of {result['inputs']} mutants failed badly:\n\n" + "\n\n".join(shown[:5])


def plan(sql: str) -> None:
    session = Session()
    for stmt in parse_script(sql):
        session.execute(stmt, sql)


EVENTS = "CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'datagen');\n"
TIMED = ("CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) "
         "WITH ('connector' = 'datagen');\n")


@pytest.mark.parametrize("sql,error,message", [
    # Flink: SQL parse failed. Encountered ")" at line 1, column 72. Was expecting one of: "AS" ...
    ("CREATE TABLE e (ts TIMESTAMP(3), WATERMARK FOR ts) WITH ('connector' = 'datagen');", SqlError,
     "line 1, column 50: Expected 'AS' but found ')'"),
    # Flink: Encountered "<EOF>" at line 1, column 31
    ("CREATE TEMPORARY VIEW firsts AS", SqlError, "line 1, column 32: Expected a query after CREATE VIEW .. AS"),
    # Flink: Interval field value 100 exceeds precision of SECOND(2) field
    (EVENTS + "SELECT ts - INTERVAL '100' SECOND FROM events;", ValidationError,
     "Interval field value 100 exceeds precision of SECOND(2) field"),
    (EVENTS + "SELECT ts - INTERVAL '-9223372036854775809' SECOND FROM events;", ValidationError,
     "Interval field value -9,223,372,036,854,775,809 exceeds precision of SECOND(2) field"),
    (EVENTS + "SELECT ts - INTERVAL '100 10' DAY TO HOUR FROM events;", ValidationError,
     "Interval field value 100 exceeds precision of DAY(2) field"),
    (EVENTS + "SELECT ts - INTERVAL '100:1' HOUR TO MINUTE FROM events;", ValidationError,
     "Interval field value 100 exceeds precision of HOUR(2) field"),
    (EVENTS + "SELECT ts - INTERVAL '100-1' YEAR TO MONTH FROM events;", ValidationError,
     "Interval field value 100 exceeds precision of YEAR(2) field"),
    (EVENTS + "SELECT ts - INTERVAL 99999999999999999 DAY FROM events;", ValidationError,
     "is out of range: its value does not fit in a BIGINT"),
    # Flink: Cannot apply 'DATE_FORMAT' to arguments of type 'DATE_FORMAT(<TIMESTAMP(3)>, <DECIMAL(3, 2)>)'
    (EVENTS + "SELECT DATE_FORMAT(ts, 3.14) FROM events;", ValidationError,
     "Cannot apply 'DATE_FORMAT' to arguments of type 'DATE_FORMAT(TIMESTAMP(3), DECIMAL(3, 2)"),
    # Flink: SQL parse failed. Encountered ","
    ("CREATE TABLE t (order_id AS, b INT) WITH ('connector' = 'datagen');", SqlError,
     "line 1, column 28: Expected an expression for the computed column after AS"),
    # Flink 2.3's messages, word for word
    (EVENTS + "SELECT LOCATE('l', k, 'x') FROM events;", ValidationError,
     "Cannot apply 'LOCATE' to arguments of type 'LOCATE(<CHAR(1)>, <VARCHAR(2147483647)>, <CHAR(1)>)'. "
     "Supported form(s): 'LOCATE(<CHARACTER>, <CHARACTER>)' | 'LOCATE(<CHARACTER>, <CHARACTER>, <INTEGER>)'"),
    (EVENTS + "SELECT RPAD(k, 3, 4) FROM events;", ValidationError,
     "Cannot apply 'RPAD' to arguments of type 'RPAD(<VARCHAR(2147483647)>, <INTEGER>, <INTEGER>)'. "
     "Supported form(s): 'RPAD(<CHARACTER>, <INTEGER>, <CHARACTER>)'"),
    (EVENTS + "SELECT ROUND(CAST(v AS DECIMAL(5, 2)), TIMESTAMP '2024-01-01 00:00:00') FROM events;",
     ValidationError, "Supported form(s): 'ROUND(<NUMERIC>, <INTEGER>)' | 'ROUND(<NUMERIC>)'"),
    (EVENTS + "SELECT MD5(v) FROM events;", ValidationError,
     "Cannot apply 'MD5' to arguments of type 'MD5(<INTEGER>)'. Supported form(s): 'MD5(<STRING>)'"),
    (EVENTS + "SELECT RTRIM(k, NULL) FROM events;", ValidationError, "Illegal use of 'NULL'"),
    (EVENTS + "SELECT IF(k, 1, 2) FROM events;", ValidationError,
     "Cannot apply 'IF' to arguments of type 'IF(<VARCHAR(2147483647)>, <INTEGER>, <INTEGER>)'"),
    (EVENTS + "SELECT CASE WHEN v THEN 1 END FROM events;", ValidationError,
     "A CASE WHEN condition must be a BOOLEAN, got INT"),
    # a keyword as an option key: sqlglot reads USING='json' as a file format property
    ("CREATE TABLE t (a INT) WITH ('connector' = 'datagen', USING = 'json');", ValidationError,
     "table options are 'key' = 'value' pairs of string literals"),
    (EVENTS + "SELECT window_start, COUNT(*) FROM TABLE(SESSION(TABLE events PARTITION BY , DESCRIPTOR(ts), "
              "INTERVAL '5' SECOND)) GROUP BY window_start, window_end;", SqlStreamError, ""),
    (TIMED + "SELECT window_start, COUNT(*) FROM TABLE(CUMULATE(TABLE events, DESCRIPTOR(ts), INTERVAL '0' SECOND, "
              "INTERVAL '60' SECOND)) GROUP BY window_start, window_end;", ValidationError,
     "CUMULATE table function based aggregate requires maxSize and step to be positive, but got maxSize 60000 ms "
     "and step 0 ms."),
    (EVENTS + "SELECT k, COUNT(*) FROM events GROUP WINDOW k;", ValidationError,
     "A WINDOW clause defines windows for OVER aggregates"),
    (EVENTS + "SELECT TIMESTAMPADD(QUARTER, TIMESTAMP '2024-01-01 00:00:00', ts) FROM events;", ValidationError,
     "Cannot apply 'TIMESTAMPADD'"),
    (TIMED + "SELECT * FROM events MATCH_RECOGNIZE (ORDER BY ts MEASURES LAST(A.v, 3.14) AS x PATTERN (A) "
              "DEFINE A AS v > 0);", ValidationError, "The offset of LAST must be a whole number literal"),
    (EVENTS + "INSERT INTO SELECT events k, v, ts;", SqlStreamError, ""),
    # a script cut after `GROUP BY HOP(` (sqlglot takes the call without arguments)
    (EVENTS + "SELECT COUNT(*) FROM events GROUP BY HOP(", ValidationError,
     "Invalid number of arguments to function 'HOP'. Was expecting 3 arguments"),
    # Flink reads a per-row format; sqlstream says it needs a literal (it was an AttributeError at run time)
    (EVENTS + "SELECT DATE_FORMAT(ts, k) FROM events;", ValidationError,
     "sqlstream needs argument 2 of DATE_FORMAT (a format or a precision) as a literal"),
])
def test_found_by_fuzzing(sql, error, message):
    with pytest.raises(error) as e:
        plan(sql)
    assert message in str(e.value)


@pytest.mark.parametrize("interval,ms", [("'100' SECOND(3)", 100_000), ("'999' HOUR(3)", 3_596_400_000),
                                         ("'100' DAY(3)", 8_640_000_000), ("100 SECOND", 100_000),
                                         ("'1.5' SECOND", 1500), ("'99:59' MINUTE TO SECOND", 5_999_000),
                                         ("'1 2:3:4.5' DAY TO SECOND", 93_784_500)])
def test_intervals_flink_accepts(interval, ms):
    """Flink 2.3's values for these literals (its plan shows each as milliseconds)."""
    from sqlglot import exp

    from sqlstream.planner.scalar_binder import interval_value
    (stmt,) = parse_script(f"SELECT INTERVAL {interval};")
    assert interval_value(stmt.find(exp.Interval))[0] == ms

