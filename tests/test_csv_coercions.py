"""What Flink's CSV format rejects without csv.ignore-parse-errors, rejected here too (each value probed alone on
Flink 2.3: the job fails). What it accepts and converts is in the golden cases csv_coercions_strict and
csv_coercions_ignore."""
import pytest

from sqlstream.core.errors import FormatError
from tests.golden import run_sql


@pytest.mark.parametrize("column, value", [
    ("BIGINT", "true"), ("BIGINT", "1.5"), ("BIGINT", ""), ("BIGINT", "9223372036854775808"),
    ("INT", "3.7"), ("INT", "1e3"), ("INT", '"3.7"'), ("INT", "0x10"), ("INT", "99999999999"),
    ("DOUBLE", "abc"), ("DOUBLE", ""),
    ("TIMESTAMP(3)", "10000-01-01 00:00:00"), ("TIMESTAMP(3)", "2024-01-01T00:00:00"), ("TIMESTAMP(3)", "2024-01-01"),
    ("TIMESTAMP(3)", "1700000000000"), ("TIMESTAMP(3)", "2024-01-01 00:00:00Z"), ("TIMESTAMP(3)", ""),
    ("TIMESTAMP(3)", "2024-1-1 0:0:0"), ("TIMESTAMP(3)", "2024-01-01 10:30"),
    ("DECIMAL(5, 2)", "abc"), ("DECIMAL(5, 2)", ""), ("DATE", "10000-01-01"), ("DATE", ""), ("DATE", " 2024-01-01")])
def test_a_value_flink_rejects_fails_the_job_naming_file_and_line(tmp_path, column, value):
    """Before, '0x10' was 16, '2024-01-01T00:00:00' and '2024-01-01' were timestamps; ' 42', '+5', '1.5d' and
    'yes' (BOOLEAN false in Flink) were errors, and DECIMAL '1.005' was refused instead of rounded."""
    (tmp_path / "t.csv").write_text(f"1,{value}\n")
    sql = (f"CREATE TABLE t (id INT, v {column}) WITH ('connector' = 'filesystem', 'path' = '{tmp_path / 't.csv'}', "
           f"'format' = 'csv');\nSELECT * FROM t;")
    with pytest.raises(FormatError, match=r"Failed to deserialize CSV row .*field 'v' .*t\.csv:1\)"):
        run_sql(sql)


@pytest.mark.parametrize("content, kept", [("1,2,\n", [(1, 2)]), ("1,2,,\n", None), ("1,2,3\n", None)])
def test_one_trailing_delimiter_is_allowed(tmp_path, content, kept):
    """As Flink's CSV parser: one empty value after the last field is no extra field; two, or a value, are."""
    (tmp_path / "t.csv").write_text(content)
    sql = (f"CREATE TABLE t (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '{tmp_path / 't.csv'}', "
           f"'format' = 'csv');\nSELECT a, b FROM t;")
    if kept is None:
        with pytest.raises(FormatError, match="Too many entries: expected at most 2"):
            run_sql(sql)
    else:
        assert [(r["a"], r["b"]) for r in run_sql(sql)] == kept
