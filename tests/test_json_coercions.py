"""What Flink's JSON format rejects without json.ignore-parse-errors, rejected here too (each line probed alone on
Flink 2.3: the job fails with 'Failed to deserialize JSON'). What it accepts and converts is in the golden cases
json_coercions_strict and json_coercions_ignore."""
import pytest

from sqlstream.core.errors import FormatError
from tests.golden import run_sql

COLUMNS = "id INT, b BIGINT, i INT, d DOUBLE, s STRING, ts TIMESTAMP(3), r ROW<x INT>, arr ARRAY<INT>"


@pytest.mark.parametrize("line, reason", [
    ('{"id": 1, "b": 5,}', "Expecting property name"),  # a trailing comma
    ("[1, 2]", "not a JSON object"),
    ("5", "not a JSON object"),
    ('"str"', "not a JSON object"),
    ("null", "not a JSON object"),
    ('{"id": 6, "b": true}', "field: b"),
    ('{"id": 24, "b": false}', "field: b"),
    ('{"id": 28, "i": true}', "field: i"),
    ('{"id": 30, "d": true}', "field: d"),
    ('{"id": 9, "ts": "10000-01-01 00:00:00"}', "field: ts"),
    ('{"id": 33, "ts": "2024-01-01T00:00:00"}', "field: ts"),
    ('{"id": 34, "ts": 1700000000000}', "field: ts"),
    ('{"id": 43, "ts": "2024-13-01 00:00:00"}', "field: ts"),
    ('{"id": 44, "ts": "2024-01-01"}', "field: ts"),
    ('{"id": 12, "i": "abc"}', "field: i"),
    ('{"id": 41, "i": "3.7"}', "field: i"),
    ('{"id": 27, "b": "1.5"}', "field: b"),
    ('{"id": 42, "d": "abc"}', "field: d"),
    ('{"id": 26, "i": 99999999999}', "field: i"),
    ('{"id": 18, "r": 5}', "field: r"),
    ('{"id": 19, "r": [1]}', "field: r"),
    ('{"id": 40, "r": "x"}', "field: r"),
    ('{"id": 23, "r": {"x": "abc"}}', "field: r"),
    ('{"id": 20, "arr": {"x": 1}}', "field: arr"),
    ('{"id": 21, "arr": 5}', "field: arr"),
    ('{"id": 39, "arr": "1,2"}', "field: arr"),
    ('{"id": 22, "arr": ["1", "x"]}', "field: arr")])
def test_a_value_flink_rejects_fails_the_job_naming_file_and_line(tmp_path, line, reason):
    """Before, most were accepted: a trailing comma, a top-level array/number/string/null as an all-NULL
    row, true as 1, '3.7' as 4, year 10000, 'T' and date-only timestamps, a number or array as a ROW of NULLs."""
    (tmp_path / "e.json").write_text('{"id": 0}\n' + line + "\n")
    sql = (f"CREATE TABLE e ({COLUMNS}) WITH ('connector' = 'filesystem', 'path' = '{tmp_path / 'e.json'}', "
           f"'format' = 'json');\nSELECT * FROM e;")
    with pytest.raises(FormatError, match=f"Failed to deserialize JSON .*{reason}.*e\\.json:2\\)"):
        run_sql(sql)
