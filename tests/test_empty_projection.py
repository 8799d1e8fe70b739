"""Queries that read no column of a table (COUNT(*), constants) still see every row, and the format still checks
each record: a malformed one fails the job or, with ignore-parse-errors, is skipped and counted (Flink's golden
cases empty_projection_* cover the results)."""
import pytest

from sqlstream.core.errors import FormatError
from tests.golden import run_sql


def count(table: str, path, fmt: str, extra: str = "") -> int:
    rows = run_sql(f"""CREATE TABLE {table} (a INT, b STRING) WITH ('connector' = 'filesystem', 'path' = '{path}',
        'format' = '{fmt}'{extra}); SELECT COUNT(*) AS n FROM {table};""")
    return rows[-1]["n"] if rows else 0


def test_json_records_are_checked_and_counted(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"a": 1}\n{"a": \n{"b": "x"}\n[1]\n')
    with pytest.raises(FormatError, match=r"t.json:2"):
        count("t", path, "json")
    assert count("t", path, "json", ", 'json.ignore-parse-errors' = 'true'") == 2


def test_csv_rows_are_checked_and_counted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('1,x\n2,"y,z"\n3,a,b\n')
    with pytest.raises(FormatError, match=r"t.csv:3"):
        count("t", path, "csv")
    assert count("t", path, "csv", ", 'csv.ignore-parse-errors' = 'true'") == 2


def test_nexmark_constant_projection():
    rows = run_sql("""CREATE TABLE nx (event_type INT, person ROW<id BIGINT>, auction ROW<id BIGINT>,
        bid ROW<auction BIGINT>) WITH ('connector' = 'nexmark', 'events.num' = '1000');
        SELECT 1 AS one FROM nx;""")
    assert len(rows) == 1000
