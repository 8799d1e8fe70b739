"""Bad input gets a clear error that says what is wrong and where; nothing is silently lost."""
import io
import json
import os
import subprocess

import pytest

from sqlstream.core.errors import FormatError, OptionError, ValidationError
from sqlstream.script import ScriptRunner
from tests import forked_cli

ORDERS_DDL = """CREATE TABLE orders (
  order_id BIGINT,
  user_id STRING,
  amount DOUBLE,
  quantity INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = '{fmt}'{extra});
"""

GOOD_JSON = [
    '{"order_id": 1, "user_id": "u1", "amount": 10.5, "quantity": 2, "ts": "2024-03-01 09:00:00.000"}',
    '{"order_id": 2, "user_id": "u2", "amount": 20.0, "quantity": 3, "ts": "2024-03-01 09:00:01.000"}',
]


def run(sql: str, batch_size: int | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl", batch_size=batch_size).run(sql)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def json_file(tmp_path):
    def make(lines: list[str]) -> str:
        p = tmp_path / "orders.json"
        p.write_text("\n".join(lines) + "\n")
        return str(p)
    return make


@pytest.fixture
def csv_file(tmp_path):
    def make(lines: list[str]) -> str:
        p = tmp_path / "orders.csv"
        p.write_text("\n".join(lines) + "\n")
        return str(p)
    return make


def ddl(path: str, fmt: str = "json", extra: str = "") -> str:
    return ORDERS_DDL.format(path=path, fmt=fmt, extra=extra)


def test_unknown_table(json_file):
    with pytest.raises(ValidationError, match=r"Object 'nope' not found\. Known tables and views: orders"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT * FROM nope;")


def test_unknown_column_names_position_and_alternatives(json_file):
    with pytest.raises(ValidationError) as e:
        run(ddl(json_file(GOOD_JSON)) + "SELECT order_id,\n  amout FROM orders;")
    msg = str(e.value)
    assert "Column 'amout' not found in any table" in msg
    assert "At line 10, column 3" in msg
    assert "Available columns: [order_id, user_id, amount, quantity, ts]" in msg


def test_column_case_hint(json_file):
    with pytest.raises(ValidationError, match="Did you mean 'user_id'"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT USER_ID FROM orders;")


def test_function_argument_type_mismatch(json_file):
    with pytest.raises(ValidationError, match=r"Cannot apply 'UPPER' to arguments of type 'UPPER\(BIGINT\)'"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT UPPER(order_id) FROM orders;")


def test_unknown_function_in_computed_column_fails_at_create():
    """Flink resolves computed columns at CREATE TABLE: 'No match found for function signature NO_SUCH_FN(<CHARACTER>)'
    at the call's position, before any query reads the table (nothing is registered)."""
    sql = ("CREATE TABLE t (k STRING, ts TIMESTAMP(3), c AS NO_SUCH_FN(k))\n"
           "WITH ('connector' = 'filesystem', 'path' = '/nonexistent.json', 'format' = 'json');\n")
    from sqlstream.session import Session
    session = Session()
    with pytest.raises(ValidationError,
                       match=r"At line 1, column 49: No match found for function signature NO_SUCH_FN\(<CHARACTER>\)"):
        ScriptRunner(session=session, out=io.StringIO(), err=io.StringIO(), fmt="jsonl").run(sql)
    assert "t" not in session.catalog.tables


def test_wrong_watermark_in_computed_column_fails_at_create():
    with pytest.raises(ValidationError, match=r"Invalid data type of time field for watermark definition"):
        run("CREATE TABLE t (k STRING, c AS CAST(k AS TIMESTAMP(6)), WATERMARK FOR c AS c)\n"
            "WITH ('connector' = 'filesystem', 'path' = '/nonexistent.json', 'format' = 'json');\n")


def test_comparison_type_mismatch(json_file):
    with pytest.raises(ValidationError, match=r"Cannot apply '=' to arguments of type 'BOOLEAN = TIMESTAMP\(3\)'"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT order_id FROM orders WHERE (amount > 1) = ts;")


def test_unknown_function(json_file):
    with pytest.raises(ValidationError, match="No match found for function signature FROBNICATE"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT FROBNICATE(amount) FROM orders;")


def test_unknown_connector_lists_available(json_file):
    with pytest.raises(OptionError) as e:
        run("CREATE TABLE t (a INT) WITH ('connector' = 'kafkaa');\nSELECT * FROM t;")
    assert "Could not find any factory for identifier 'kafkaa'" in str(e.value)
    assert all(f" {c}," in str(e.value) for c in ("datagen", "filesystem", "kafka"))


def test_unknown_option_lists_valid_ones(json_file):
    with pytest.raises(OptionError) as e:
        run(ddl(json_file(GOOD_JSON), extra=", 'json.ignore-parse-error' = 'true'") + "SELECT * FROM orders;")
    msg = str(e.value)
    assert "Unsupported options found for connector 'filesystem' of table 'orders': json.ignore-parse-error" in msg
    assert "json.ignore-parse-errors" in msg.split("Valid options are:")[1]


def test_missing_required_option():
    with pytest.raises(OptionError, match="connector 'filesystem' requires option 'path'"):
        run("CREATE TABLE t (a INT) WITH ('connector' = 'filesystem', 'format' = 'json');\nSELECT * FROM t;")


def test_missing_file(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        run(ddl(str(tmp_path / "nowhere.json")) + "SELECT * FROM orders;")


def test_malformed_json_fails_naming_file_and_line(json_file):
    path = json_file(GOOD_JSON + ['{"order_id": 3, "user_id": "u3", "amount": ', GOOD_JSON[0]])
    with pytest.raises(FormatError) as e:
        run(ddl(path) + "SELECT order_id FROM orders;")
    assert f"{path}:3" in str(e.value)
    assert "Failed to deserialize JSON" in str(e.value)


def test_malformed_json_skipped_and_counted_with_ignore_parse_errors(json_file):
    path = json_file(GOOD_JSON + ["not json at all", '[1, 2]', GOOD_JSON[0]])
    out, err = run(ddl(path, extra=", 'json.ignore-parse-errors' = 'true'") + "SELECT order_id FROM orders;")
    assert [line.count('"order_id"') for line in out.splitlines()] == [1, 1, 1]
    assert "records with parse errors: 2" in err


BAD_UTF8_JSON = b'{"order_id": 3, "user_id": "u\xff\xfe3", "amount": 1.0, "quantity": 1, "ts": "2024-03-01 09:00:02.000"}'


def bytes_file(tmp_path, name: str, lines: list[bytes]) -> str:
    p = tmp_path / name
    p.write_bytes(b"\n".join(lines) + b"\n")
    return str(p)


def test_invalid_utf8_json_fails_naming_file_and_line(tmp_path):
    path = bytes_file(tmp_path, "orders.json", [GOOD_JSON[0].encode(), BAD_UTF8_JSON, GOOD_JSON[1].encode()])
    with pytest.raises(FormatError) as e:
        run(ddl(path) + "SELECT order_id FROM orders;")
    assert f"{path}:2" in str(e.value)
    assert "Failed to deserialize JSON" in str(e.value) and "invalid UTF-8" in str(e.value)


@pytest.mark.parametrize("batch_size", [1, 2, None])
def test_invalid_utf8_json_skipped_and_counted_with_ignore_parse_errors(tmp_path, batch_size):
    lines = [GOOD_JSON[0].encode(), BAD_UTF8_JSON, b'\xc3', GOOD_JSON[1].encode(), BAD_UTF8_JSON]
    path = bytes_file(tmp_path, "orders.json", lines)
    out, err = run(ddl(path, extra=", 'json.ignore-parse-errors' = 'true'") + "SELECT order_id FROM orders;",
                   batch_size=batch_size)
    assert out.splitlines() == ['{"order_id": 1, "op": "+I"}', '{"order_id": 2, "op": "+I"}']
    assert "records with parse errors: 3" in err


def test_invalid_utf8_json_counted_when_no_column_is_read(tmp_path):
    path = bytes_file(tmp_path, "orders.json", [GOOD_JSON[0].encode(), BAD_UTF8_JSON])
    out, err = run(ddl(path, extra=", 'json.ignore-parse-errors' = 'true'") + "SELECT COUNT(*) AS n FROM orders;")
    assert '"n": 1,' in out.splitlines()[-1]
    assert "records with parse errors: 1" in err


def test_invalid_utf8_csv_fails_naming_line(tmp_path):
    path = bytes_file(tmp_path, "orders.csv", [b"1,u1,10.5,2,2024-03-01 09:00:00.000",
                                               b"2,u\xff2,20.0,1,2024-03-01 09:00:01.000"])
    with pytest.raises(FormatError) as e:
        run(ddl(path, "csv") + "SELECT order_id FROM orders;")
    assert f"{path}:2" in str(e.value)
    assert "Failed to deserialize CSV" in str(e.value) and "invalid UTF-8" in str(e.value)


def test_invalid_utf8_csv_skipped_and_counted_with_ignore_parse_errors(tmp_path):
    path = bytes_file(tmp_path, "orders.csv", [b"1,u1,10.5,2,2024-03-01 09:00:00.000",
                                               b"2,u\xff2,20.0,1,2024-03-01 09:00:01.000",
                                               b"3,u3,1.0,1,2024-03-01 09:00:02.000"])
    out, err = run(ddl(path, "csv", ", 'csv.ignore-parse-errors' = 'true'") + "SELECT order_id FROM orders;")
    assert out.splitlines() == ['{"order_id": 1, "op": "+I"}', '{"order_id": 3, "op": "+I"}']
    assert "records with parse errors: 1" in err


def test_json_value_of_wrong_type_is_an_error(json_file):
    bad = '{"order_id": 3, "user_id": "u3", "amount": 1.5, "quantity": "three", "ts": "2024-03-01 09:00:02.000"}'
    path = json_file(GOOD_JSON + [bad])
    with pytest.raises(FormatError) as e:
        run(ddl(path) + "SELECT order_id, quantity FROM orders;")
    assert f"{path}:3" in str(e.value)
    assert '"quantity": "three"' in str(e.value)


def test_json_wrong_type_is_null_with_ignore_parse_errors(json_file):
    """As Flink (tests/golden_static/json_ignore_errors): the field is NULL, the row is kept and counted."""
    bad = '{"order_id": 3, "user_id": "u3", "amount": 1.5, "quantity": "three", "ts": "2024-03-01 09:00:02.000"}'
    out, err = run(ddl(json_file(GOOD_JSON + [bad]), extra=", 'json.ignore-parse-errors' = 'true'")
                   + "SELECT order_id, quantity FROM orders;")
    assert out.splitlines()[-1] == '{"order_id": 3, "quantity": null, "op": "+I"}'
    assert "records with parse errors: 1" in err


def test_missing_json_field_is_null_unless_fail_on_missing_field(json_file):
    path = json_file(['{"order_id": 1, "ts": "2024-03-01 09:00:00.000"}'])
    out, _ = run(ddl(path) + "SELECT order_id, user_id FROM orders;")
    assert '"user_id": null' in out
    with pytest.raises(FormatError, match="Could not find field with name 'user_id'"):
        run(ddl(path, extra=", 'json.fail-on-missing-field' = 'true'") + "SELECT order_id, user_id FROM orders;")


def test_malformed_csv_row_fails_naming_line(csv_file):
    path = csv_file(["1,u1,10.5,2,2024-03-01 09:00:00.000", "2,u2,20.0", "3,u3,1.0,1,2024-03-01 09:00:01.000"])
    with pytest.raises(FormatError) as e:
        run(ddl(path, "csv") + "SELECT order_id FROM orders;")
    assert f"{path}:2" in str(e.value)
    assert "Row length mismatch. 5 fields expected but was 3." in str(e.value)


def test_malformed_csv_with_ignore_parse_errors(csv_file):
    """As Flink (tests/golden_static/csv_ignore_rows): missing fields and bad values are NULL, extra fields drop
    the row; every such record is counted."""
    path = csv_file(["1,u1,10.5,2,2024-03-01 09:00:00.000", "2,u2,20.0", "x,u3,1.0,1,2024-03-01 09:00:01.000",
                     "4,u4,2.0,1,2024-03-01 09:00:02.000,extra", "5,u5,1.0,1,2024-03-01 09:00:03.000"])
    out, err = run(ddl(path, "csv", ", 'csv.ignore-parse-errors' = 'true'") + "SELECT order_id, amount FROM orders;")
    assert out.splitlines() == ['{"order_id": 1, "amount": 10.5, "op": "+I"}',
                                '{"order_id": 2, "amount": 20.0, "op": "+I"}',
                                '{"order_id": null, "amount": 1.0, "op": "+I"}',
                                '{"order_id": 5, "amount": 1.0, "op": "+I"}']
    assert "records with parse errors: 3" in err


def test_csv_field_of_wrong_type_fails(csv_file):
    path = csv_file(["1,u1,10.5,2,2024-03-01 09:00:00.000", "2,u2,abc,2,2024-03-01 09:00:00.000"])
    with pytest.raises(FormatError, match="does not match its column type") as e:
        run(ddl(path, "csv") + "SELECT order_id, amount FROM orders;")
    assert f"{path}:2" in str(e.value)


def test_window_tvf_needs_a_time_attribute(tmp_path):
    sql = ("CREATE TABLE t (a INT, ts TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '1');\n"
           "SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE));")
    with pytest.raises(ValidationError, match="requires the timecol to be a time attribute type"):
        run(sql)


def test_window_tvf_refuses_a_rowtime_shifted_by_an_interval():
    """`ts + INTERVAL ..` stays a rowtime for GROUP BY TUMBLE (golden case rowtime_shift_legacy_window), but
    Flink's window table functions refuse it: 'The window function requires the timecol is a time attribute type,
    but is TIMESTAMP(3).'"""
    sql = ("CREATE TABLE t (a INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', "
           "'number-of-rows' = '1');\n"
           "CREATE VIEW v AS SELECT a, ts + INTERVAL '1' SECOND AS t2 FROM t WHERE a > 0;\n"
           "SELECT * FROM TABLE(TUMBLE(TABLE v, DESCRIPTOR(t2), INTERVAL '1' MINUTE));")
    with pytest.raises(ValidationError, match=r"requires the timecol to be a time attribute type, but is "
                                              r"TIMESTAMP\(3\)\."):
        run(sql)


def test_updating_result_into_insert_only_sink_is_rejected(json_file, tmp_path):
    sql = ddl(json_file(GOOD_JSON)) + (
        f"CREATE TABLE out (user_id STRING, cnt BIGINT) WITH ('connector' = 'filesystem', "
        f"'path' = '{tmp_path}/out', 'format' = 'json');\n"
        "INSERT INTO out SELECT user_id, COUNT(*) FROM orders GROUP BY user_id;")
    with pytest.raises(ValidationError, match="doesn't support consuming update changes"):
        run(sql)


def test_window_aggregation_over_updating_input_is_rejected(json_file):
    sql = ddl(json_file(GOOD_JSON)) + (
        "CREATE VIEW v AS SELECT user_id, MAX(ts) AS ts FROM orders GROUP BY user_id;\n"
        "SELECT user_id, TUMBLE_START(ts, INTERVAL '1' MINUTE) FROM orders "
        "GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), user_id;")
    run(sql)  # the insert-only form is fine
    with pytest.raises(ValidationError, match="time attribute|doesn't support consuming update"):
        run(ddl(json_file(GOOD_JSON)) +
            "SELECT COUNT(*) FROM (SELECT user_id, MAX(ts) AS ts FROM orders GROUP BY user_id) "
            "GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);")


def test_ungrouped_column_is_rejected(json_file):
    with pytest.raises(ValidationError, match="Expression 'amount' is not being grouped"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT user_id, amount FROM orders GROUP BY user_id;")


def test_aggregate_in_where_is_rejected(json_file):
    with pytest.raises(ValidationError, match="Aggregate function COUNT.* is not allowed here"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT user_id FROM orders WHERE COUNT(*) > 1;")


def test_exists_under_or_correlated_by_a_non_equality_is_rejected_clearly(json_file):
    """EXISTS under OR is a value of the row, joined on its equality correlations; another correlation is
    refused naming it (golden cases subquery_exists_as_value, subquery_in_under_or run the supported ones)."""
    with pytest.raises(ValidationError, match="EXISTS as a value .* correlated only by equalities .* got "
                                              "p.amount > o.amount"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT order_id FROM orders o "
            "WHERE EXISTS (SELECT 1 FROM orders p WHERE p.amount > o.amount) OR o.amount > 1;")


def test_temporal_join_needs_a_versioned_table_joined_on_its_key(json_file):
    path = json_file(GOOD_JSON)
    rates = ("CREATE TABLE rates (user_id STRING, rate DOUBLE, ts TIMESTAMP(3){pk}{wm}) WITH ("
             f"'connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');")
    wm = ", WATERMARK FOR ts AS ts"
    query = ("SELECT o.order_id, r.rate FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r "
             "ON o.{lk} = r.{rk};")
    with pytest.raises(ValidationError, match="requires primary key in versioned table"):
        run(ddl(path) + rates.format(pk="", wm=wm) + query.format(lk="user_id", rk="user_id"))
    with pytest.raises(ValidationError, match="has no WATERMARK"):
        run(ddl(path) + rates.format(pk=", PRIMARY KEY (user_id) NOT ENFORCED", wm="") +
            query.format(lk="user_id", rk="user_id"))
    with pytest.raises(ValidationError, match=r"equality condition on the primary key \(user_id\)"):
        run(ddl(path) + rates.format(pk=", PRIMARY KEY (user_id) NOT ENFORCED", wm=wm) +
            query.format(lk="amount", rk="rate"))
    with pytest.raises(ValidationError, match=r"At line \d+, column \d+: FOR SYSTEM_TIME AS OF needs a time attribute of the left table"):
        run(ddl(path) + rates.format(pk=", PRIMARY KEY (user_id) NOT ENFORCED", wm=wm) +
            query.format(lk="user_id", rk="user_id").replace("AS OF o.ts", "AS OF o.amount"))


def test_scalar_subqueries_outside_their_supported_forms_are_rejected(json_file):
    path = json_file(GOOD_JSON)
    with pytest.raises(ValidationError, match="must be one aggregate without GROUP BY"):
        run(ddl(path) + "SELECT order_id FROM orders WHERE amount > (SELECT amount FROM orders);")
    with pytest.raises(ValidationError, match="correlated only by comparisons of an outer-row expression with a "
                                              "subquery expression yet; got p.amount > o.amount OR"):
        run(ddl(path) + "SELECT order_id FROM orders o "
            "WHERE amount > (SELECT AVG(p.amount) FROM orders p WHERE p.amount > o.amount OR p.amount < 0);")
    with pytest.raises(ValidationError, match="A scalar subquery next to aggregates or in HAVING is supported "
                                              "uncorrelated and outside aggregate calls"):
        run(ddl(path) + "SELECT user_id, COUNT(*) FROM orders o GROUP BY user_id "
            "HAVING COUNT(*) > (SELECT COUNT(*) FROM orders p WHERE p.user_id = o.user_id) / 2;")


def test_cli_reports_errors_without_traceback(tmp_path):
    job = tmp_path / "bad.sql"
    job.write_text("CREATE TABLE t (a INT) WITH ('connector' = 'datagen');\nSELECT a FROM t WHERE;\n")
    p = forked_cli.run(["run", str(job)], cwd=os.getcwd(), text=True)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "ERROR: SQL parse error at line 2" in p.stderr
    assert "SELECT a FROM t WHERE;\n" in p.stderr and "^" in p.stderr


def test_cli_missing_sql_file(tmp_path):
    p = forked_cli.run(["run", str(tmp_path / "none.sql")], cwd=os.getcwd(), text=True)
    assert p.returncode == 1
    assert "cannot read SQL file" in p.stderr and "Traceback" not in p.stderr


def test_window_on_ltz_rowtime_in_a_daylight_saving_zone_is_refused_not_shifted(tmp_path):
    """Flink puts window boundaries on the session zone's wall clock for a TIMESTAMP_LTZ time attribute; windows
    here take the zone's offset as one number, so a zone with daylight saving time is a planning error rather
    than windows an hour off around its changes (zones with one offset: tests/test_window_zone.py)."""
    data = tmp_path / "t.json"
    data.write_text('{"ms": 1704067200000}\n')
    ddl = (f"CREATE TABLE t (ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts)\n"
           f"WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');\n")
    query = ("SELECT window_start, COUNT(*) AS c FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' DAY))\n"
             "GROUP BY window_start, window_end;\n")
    with pytest.raises(ValidationError, match="session time zone 'America/Los_Angeles', which has daylight saving "
                                              "time, are not supported yet"):
        run("SET 'table.local-time-zone' = 'America/Los_Angeles';\n" + ddl + query)
    with pytest.raises(ValidationError, match="which has daylight saving time"):
        run("SET 'table.local-time-zone' = 'Europe/Berlin';\n" + ddl +
            "SELECT TUMBLE_START(ts, INTERVAL '1' HOUR) AS s, COUNT(*) AS c FROM t GROUP BY TUMBLE(ts, INTERVAL '1' HOUR);\n")
    out, _ = run("SET 'table.local-time-zone' = 'UTC';\n" + ddl + query)
    assert '"window_start": "2024-01-01 00:00:00.000", "c": 1' in out
    out, _ = run("SET 'table.local-time-zone' = 'Asia/Tokyo';\n" + ddl + query)
    assert '"window_start": "2024-01-01 00:00:00.000", "c": 1' in out  # 09:00 in Tokyo


@pytest.mark.parametrize("zone", ["Mars/Olympus", "a" * 3000])  # too long a file name where tzdata is installed
def test_invalid_session_time_zone_is_a_clear_error(tmp_path, zone):
    data = tmp_path / "t.json"
    data.write_text('{"ms": 0}\n')
    with pytest.raises(ValidationError, match=f"Invalid time zone '{zone}' in 'table.local-time-zone'"):
        run(f"SET 'table.local-time-zone' = '{zone}';\n"
            f"CREATE TABLE t (ms BIGINT) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');\n"
            "SELECT HOUR(TO_TIMESTAMP_LTZ(ms, 3)) AS h FROM t;\n")


@pytest.mark.parametrize("query, operator", [
    ("SELECT user_id, COUNT(*) OVER (PARTITION BY user_id ORDER BY ts) FROM d", "OverAggregate"),
    ("SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY amount DESC) AS r"
     " FROM TABLE(TUMBLE(TABLE d, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) WHERE r <= 2", "WindowRank"),
    ("SELECT a.user_id FROM (SELECT * FROM TABLE(TUMBLE(TABLE d, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) a JOIN "
     "(SELECT * FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) b ON a.user_id = b.user_id "
     "AND a.window_start = b.window_start AND a.window_end = b.window_end", "WindowJoin"),
])
def test_operators_that_need_insert_only_input_reject_an_updating_one(json_file, query, operator):
    """As Flink: OVER aggregation, window Top-N and window joins cannot take back a row, so an updating input
    (here a keep-last deduplication on rowtime) is rejected rather than its retractions ignored."""
    ddl = ORDERS_DDL.format(path=json_file(GOOD_JSON), fmt="json", extra="")
    dedup = ("CREATE VIEW d AS SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC)"
             " AS rn FROM orders) WHERE rn = 1;\n")
    with pytest.raises(ValidationError, match=f"StreamPhysical{operator} doesn't support consuming update and "
                                              f"delete changes"):
        run(ddl + dedup + query + ";")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return forked_cli.run(list(args), cwd=os.getcwd(), input=stdin, text=True, timeout=120)


def test_piped_statements_accept_what_the_shell_accepts():
    p = cli(stdin="CREATE TABLE t (a INT) WITH ('connector' = 'datagen');\nSHOW TABLES;\nHELP;\nEXIT;\nSHOW VIEWS;\n")
    assert p.returncode == 0, p.stderr
    assert "table name" in p.stdout and "STOP JOB '<id>'" in p.stdout
    assert p.stdout.startswith("[INFO] Execute statement succeeded.\n"), p.stdout
    assert "view name" not in p.stdout and "Empty set" not in p.stdout, "nothing runs after EXIT"
    p = cli(stdin="SHOW JOBS;\nquit\n")
    assert p.returncode == 0 and p.stdout.startswith("Empty set"), p.stderr


def test_sql_file_accepts_help_and_quit(tmp_path):
    job = tmp_path / "job.sql"
    job.write_text("HELP;\nCREATE VIEW v AS SELECT 1;\nSHOW VIEWS;\nQUIT;\nSELECT nothing;\n")
    for args in (["-f", str(job)], ["run", str(job)]):
        p = cli(*args)
        assert p.returncode == 0, p.stderr
        assert "HELP;  QUIT;" in p.stdout and "view name" in p.stdout


def test_sql_file_prints_each_result_as_flinks_client_and_stops_at_an_error(tmp_path):
    job = tmp_path / "job.sql"
    job.write_text("SET sql-client.execution.result-mode = tableau;\n"
                   "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS T(id, s);\n"
                   "SELECT nope FROM T;\n"
                   "SELECT 1 + 1 AS two;\n")
    p = cli("-f", str(job))
    assert p.returncode == 1
    out = p.stdout
    assert out.startswith("[INFO] Execute statement succeeded.\n"), out
    assert "| op |" in out and "|  +I |" not in out and "Received a total of 2 rows" in out
    assert "[ERROR] Could not execute SQL statement. Reason:\nValidationError: At line 3, column 18: Object 'T' not found" in out
    assert "two" not in out, "the script stops at the first failing statement"
    p = cli("-f", str(job), "--continue-on-error")
    assert p.returncode == 1 and "[ERROR] Could not execute SQL statement." in p.stdout
    assert "| op |         two |" in p.stdout and "Received a total of 1 row\n" in p.stdout


def test_statement_sets_take_only_inserts_and_end_needs_a_begin(tmp_path):
    out = tmp_path / "out"
    job = tmp_path / "job.sql"
    job.write_text(f"CREATE TABLE sink (id INT) WITH ('connector' = 'filesystem', 'path' = '{out}', "
                   f"'format' = 'csv');\n"
                   "END;\nBEGIN STATEMENT SET;\nSELECT 1;\nCREATE VIEW v AS SELECT 1;\n"
                   "INSERT INTO sink VALUES (1), (2);\nINSERT INTO sink SELECT 3;\nEND;\nSELECT * FROM sink;\n")
    p = cli("-f", str(job), "--continue-on-error")
    assert p.stdout.count("No Statement Set to submit. 'END' statement should be used after 'BEGIN STATEMENT "
                          "SET'.") == 1, p.stdout
    assert p.stdout.count("Only 'INSERT/CREATE TABLE AS' statement is allowed in Statement Set") == 2
    assert "[INFO] Complete execution of the SQL update statement." in p.stdout
    assert "Received a total of 3 rows" in p.stdout


def test_top_level_help_lists_the_commands_and_there_is_a_version():
    from sqlstream import __version__
    p = cli("--help")
    assert p.returncode == 0
    for command in ("run FILE.sql", "savepoint JOB|PID", "kafka topics|create|produce|consume"):
        assert command in p.stdout, command
    p = cli("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"sqlstream {__version__}"


@pytest.mark.parametrize("sql, message", [
    ("SELECT a FROM t WHERE a >;", "Expected an expression to complete >"),
    ("SELECT a FROM t WHERE a BETWEEN 1;", "Expected an expression to complete BETWEEN"),
    ("SELECT a FROM t ORDER BY;", "Expected an expression to complete ORDER BY"),
    ("INSERT INTO;", "Expected table name but got the end of the statement"),
])
def test_parse_errors_speak_sql_not_parser_internals(sql, message):
    from sqlstream.core.errors import SqlError
    from sqlstream.session import parse_script
    with pytest.raises(SqlError) as e:
        parse_script(sql)
    assert message in str(e.value)
    assert "Token" not in str(e.value) and "class" not in str(e.value)


@pytest.mark.parametrize("clause", ["LIMIT 2.5", "LIMIT 1e308", "LIMIT 2 OFFSET 1.5", "LIMIT 'a'"])
def test_a_limit_that_is_no_whole_number_is_refused(json_file, clause):
    with pytest.raises(ValidationError, match=r"(LIMIT|OFFSET) needs a whole number"):
        run(ddl(json_file(GOOD_JSON)) + f"SELECT user_id FROM orders {clause};")


def test_fetch_first_row_only_is_one_row(json_file):
    out, _ = run(ddl(json_file(GOOD_JSON)) + "SELECT user_id FROM orders FETCH FIRST ROW ONLY;")
    assert len([ln for ln in out.splitlines() if ln.startswith("{") or ln.startswith("+I")]) == 1, out


def test_an_insert_without_a_query_names_what_is_missing(json_file):
    with pytest.raises(ValidationError, match=r"INSERT INTO .*out needs a query after the table: SELECT"):
        run(ddl(json_file(GOOD_JSON)) + "CREATE TABLE out (a INT) WITH ('connector' = 'blackhole');\n"
            "INSERT INTO out;")


def test_a_misspelled_statement_keyword_is_pointed_at():
    from sqlstream.core.errors import SqlError
    from sqlstream.session import parse_script
    for sql in ("SELEC x FROM t", "SELEC * FROM t", "SELECT 1;\n  selec x, y FROM t"):
        with pytest.raises(SqlError) as e:
            parse_script(sql)
        line = sql.splitlines()[-1]
        assert e.value.line == len(sql.splitlines()) and line[e.value.col - 1:].lower().startswith("selec"), sql
        assert "did you mean SELECT?" in str(e.value)


def test_an_unsupported_function_is_named_as_written(json_file):
    with pytest.raises(ValidationError, match=r"Unsupported aggregate function APPROX_COUNT_DISTINCT\(user_id\)"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT APPROX_COUNT_DISTINCT(user_id) FROM orders;")


def test_positions_are_one_based_and_inside_the_text(json_file):
    path = json_file(GOOD_JSON)
    sql = ddl(path) + "SELECT order_id FROM orders WHERE 'ab\ncd' + 1 > 0;"
    with pytest.raises(ValidationError, match=r"At line 9, column 35: Cannot apply '\+'"):
        run(sql)
    sql = ddl(path) + "SELECT order_id FROM orders UNION SELECT user_id FROM orders;"
    with pytest.raises(ValidationError, match="Type mismatch in UNION:"):
        run(sql)


def test_explain_accepts_flinks_detail_keywords_and_says_what_it_has():
    from sqlstream.client import ClientScript
    c = ClientScript()
    c.execute("CREATE TABLE orders (u BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'datagen');")
    o = c.execute("EXPLAIN CHANGELOG_MODE, ESTIMATED_COST, PLAN_ADVICE, JSON_EXECUTION_PLAN SELECT u FROM orders;")
    assert o.ok, o.error
    assert "changelogMode=[I]" in o.message and "sqlstream has no cost model" in o.message
    assert "No available advice" in o.message and '"type": "Scan"' in o.message
    o = c.execute("EXPLAIN PLAN FOR SELECT u FROM orders;")
    assert o.ok and "Estimated Cost" not in o.message and "TableSourceScan(table=[orders]" in o.message


def test_sql_file_rows_as_jsonl_keep_stdout_for_rows(tmp_path):
    job = tmp_path / "job.sql"
    job.write_text("CREATE TABLE t (a INT) WITH ('connector' = 'datagen', 'number-of-rows' = '2', "
                   "'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '2');\nSELECT a FROM t;\n")
    p = cli("-f", str(job), "--format", "jsonl")
    assert p.returncode == 0, p.stderr
    assert [json.loads(line) for line in p.stdout.splitlines()] == [{"a": 1, "op": "+I"}, {"a": 2, "op": "+I"}]
    assert "[INFO] Execute statement succeeded." in p.stderr


def test_a_statement_set_block_is_one_statement_explained_or_run_whole(tmp_path):
    out = tmp_path / "out"
    job = tmp_path / "job.sql"
    job.write_text(f"CREATE TABLE sink (id INT) WITH ('connector' = 'filesystem', 'path' = '{out}', "
                   f"'format' = 'csv');\n"
                   "EXPLAIN STATEMENT SET BEGIN\nINSERT INTO sink SELECT 1;\nINSERT INTO sink SELECT 2;\nEND;\n"
                   "EXECUTE STATEMENT SET BEGIN\nINSERT INTO nope SELECT 1;\nINSERT INTO sink SELECT 3;\nEND;\n"
                   "EXPLAIN STATEMENT SET BEGIN\nEND;\n"
                   "SELECT * FROM sink;\n")
    p = cli("-f", str(job), "--continue-on-error")
    assert p.stdout.count("Sink(table=[sink]") == 2 * 2, p.stdout  # each INSERT in the logical and physical plan
    assert "Object 'nope' not found" in p.stdout
    assert "Only INSERT INTO statements may appear in a STATEMENT SET" in p.stdout
    assert "No Statement Set to submit" not in p.stdout, "the failed block's END belongs to it"
    assert f"File or directory '{out}' does not exist" in p.stdout, \
        "nothing was written: the explained set is not run, the failed one neither"


def test_join_using_column_unqualified_in_where_is_ambiguous(json_file):
    """Calcite merges a JOIN .. USING column in SELECT and GROUP BY, not in WHERE: there, unqualified, it is
    Flink's ambiguity error (golden cases join_using_* run the rest)."""
    path = json_file(GOOD_JSON)
    with pytest.raises(ValidationError, match="Column 'user_id' is ambiguous"):
        run(ddl(path) + "SELECT user_id FROM orders a JOIN orders b USING (user_id) WHERE user_id <> 'x';")
    out, _ = run(ddl(path) + "SELECT user_id, a.amount FROM orders a JOIN orders b USING (user_id) "
                 "WHERE a.user_id <> 'x';")
    assert out.strip()


def test_two_names_for_one_over_window_are_refused_as_in_flink(json_file):
    with pytest.raises(ValidationError, match="Duplicate window specification not allowed in the same window clause"):
        run(ddl(json_file(GOOD_JSON)) + "SELECT SUM(amount) OVER w1 AS a, SUM(amount) OVER w2 AS b FROM orders "
            "WINDOW w1 AS (ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), "
            "w2 AS (ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);")
