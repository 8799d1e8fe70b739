"""Python scalar functions: registered by CREATE FUNCTION or from Python, row and vectorized forms."""
import io
import json
from decimal import Decimal

import pytest

from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.script import ScriptRunner
from sqlstream.session import Session

ORDERS = ("CREATE TABLE orders (order_id BIGINT, price DECIMAL(10, 2), quantity INT) WITH ("
          "'connector' = 'filesystem', 'path' = 'sql_examples/data/orders.json', 'format' = 'json');")


def run(sql: str, session: Session | None = None) -> list[dict]:
    out = io.StringIO()
    ScriptRunner(session=session, out=out, err=io.StringIO(), fmt="jsonl").run(sql)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_create_function_row_and_vectorized_forms():
    rows = run(ORDERS + "CREATE TEMPORARY FUNCTION add_tax AS 'tests.udfs.sample.add_tax' LANGUAGE PYTHON;"
               "CREATE FUNCTION double_it AS 'tests.udfs.sample.double_it';"
               "SELECT order_id, price, add_tax(price) AS gross, double_it(order_id) AS d FROM orders "
               "WHERE order_id <= 3;")
    assert [(r["order_id"], r["d"]) for r in rows] == [(1, 2), (2, 4), (3, 6)]
    for r in rows:
        assert Decimal(r["gross"]) == (Decimal(r["price"]) * Decimal("1.19")).quantize(Decimal("0.01"))


def test_register_from_python_and_show_functions():
    from tests.udfs.sample import double_it
    s = Session()
    s.register_function("twice", double_it)
    rows = run(ORDERS + "SELECT twice(quantity) AS q2, quantity FROM orders WHERE order_id = 1;", s)
    assert rows[0]["q2"] == 2 * rows[0]["quantity"]
    out = io.StringIO()
    ScriptRunner(session=s, out=out, err=io.StringIO()).run("SHOW FUNCTIONS;")
    assert "| TWICE " in out.getvalue()


def test_failing_function_names_itself_and_the_row():
    with pytest.raises(ExecutionError, match=r"Python function FAILS_ON_SEVEN failed on row \[7\]: "
                                             r"ValueError: seven is not allowed"):
        run(ORDERS + "CREATE FUNCTION fails_on_seven AS 'tests.udfs.sample.fails_on_seven';"
            "SELECT fails_on_seven(quantity) FROM orders;")


def test_bad_registrations_fail_when_the_function_is_first_used():
    with pytest.raises(ValidationError, match="must be declared with @sqlstream.core.udf.udf"):
        run("CREATE FUNCTION u AS 'tests.udfs.sample.undeclared'; SELECT u(1);")
    with pytest.raises(ValidationError, match="Cannot load Python function 'nope.missing'"):
        run("CREATE FUNCTION m AS 'nope.missing'; SELECT m(1);")
    with pytest.raises(ValidationError, match="Cannot load Python function 'nope.missing'"):
        run("CREATE FUNCTION m AS 'nope.missing' LANGUAGE PYTHON; SELECT m(1);")


def test_a_jvm_function_is_a_definition_that_cannot_be_called():
    """As in Flink, a catalog function's class is loaded when it is used: a Flink script's CREATE FUNCTION of a
    Java class runs (the function is listed, altered, dropped), and calling it says why it cannot run."""
    from sqlstream.client import ClientScript
    c = ClientScript()
    for sql in ("CREATE FUNCTION lower_j AS 'com.example.LowerUDF' LANGUAGE JAVA;",
                "CREATE TEMPORARY FUNCTION t_j AS 'LowerUDF';",
                "CREATE FUNCTION py AS 'tests.udfs.sample.split_words';"):
        assert c.execute(sql).ok, sql
    o = c.execute("SHOW USER FUNCTIONS;")
    assert o.rows == [["lower_j"], ["py"], ["t_j"]], o.rows
    o = c.execute("SELECT lower_j('A');")
    assert not o.ok and "Cannot instantiate user-defined function 'default_catalog.default_database.lower_j': " \
        "its class 'com.example.LowerUDF' is a Java class" in str(o.error)
    o = c.execute("DESCRIBE FUNCTION t_j;")
    assert not o.ok and "Cannot instantiate user-defined function" in str(o.error)
    o = c.execute("DESCRIBE FUNCTION py;")
    assert o.rows == [["is system function", "false"], ["is temporary", "false"],
                      ["class name", "tests.udfs.sample.split_words"], ["function language", "PYTHON"],
                      ["resource uris", "[]"]], o.rows
    assert c.execute("ALTER FUNCTION lower_j AS 'tests.udfs.sample.split_words';").ok
    assert c.execute("DESCRIBE FUNCTION lower_j;").ok
    o = c.execute("ALTER TEMPORARY FUNCTION t_j AS 'X';")
    assert "Alter temporary catalog function is not supported" in str(o.error)
    assert c.execute("DROP TEMPORARY FUNCTION t_j;").ok and c.execute("DROP FUNCTION lower_j;").ok
    o = c.execute("DROP FUNCTION lower_j;")
    assert "Function default_database.lower_j does not exist in Catalog default_catalog." in str(o.error)
    o = c.execute("SELECT lower_j('A');")
    assert "No match found for function signature" in str(o.error)


def _orders() -> list[dict]:
    return [json.loads(line) for line in open("sql_examples/data/orders.json")]


ORDERS_USERS = ("CREATE TABLE o (order_id BIGINT, user_id STRING, status STRING) WITH ("
                "'connector' = 'filesystem', 'path' = 'sql_examples/data/orders.json', 'format' = 'json');"
                "CREATE FUNCTION split_words AS 'tests.udfs.sample.split_words';"
                "CREATE FUNCTION up_to AS 'tests.udfs.sample.up_to';")


def run_batched(sql: str, batch_size: int) -> list[dict]:
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt="jsonl", batch_size=batch_size).run(sql)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_lateral_table_function_row_form(batch_size):
    rows = run_batched(ORDERS_USERS + "SELECT order_id, w, n FROM o, LATERAL TABLE(split_words("
                       "REPLACE(user_id, '0', ' '))) AS T(w, n);", batch_size)
    expected = [(r["order_id"], w, len(w)) for r in _orders() for w in r["user_id"].replace("0", " ").split()]
    assert [(r["order_id"], r["w"], r["n"]) for r in rows] == expected
    assert {r["op"] for r in rows} == {"+I"}


@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_left_join_lateral_vectorized_keeps_rows_without_output(batch_size):
    rows = run_batched(ORDERS_USERS + "SELECT order_id, k FROM o LEFT JOIN LATERAL TABLE(up_to(order_id % 4)) "
                       "AS T(k) ON TRUE;", batch_size)
    expected = []
    for r in _orders():
        ks = list(range(r["order_id"] % 4)) or [None]
        expected += [(r["order_id"], k) for k in ks]
    assert [(r["order_id"], r["k"]) for r in rows] == expected


def test_lateral_table_function_over_an_updating_input_keeps_the_changes():
    rows = run_batched(ORDERS_USERS + "SELECT status, n, k FROM (SELECT status, COUNT(*) AS n FROM o "
                       "GROUP BY status), LATERAL TABLE(up_to(n % 3)) AS T(k);", 1)
    final: dict = {}
    for r in rows:  # apply the changelog
        key = (r["status"], r["n"], r["k"])
        final[key] = final.get(key, 0) + (1 if r["op"] in ("+I", "+U") else -1)
    counts: dict = {}
    for r in _orders():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    assert {k for k, v in final.items() if v} == {(s, n, k) for s, n in counts.items() for k in range(n % 3)}
    assert any(r["op"] in ("-U", "-D") for r in rows)


def test_table_function_errors_name_function_and_row():
    with pytest.raises(ExecutionError, match=r"Python table function FAILS_ON_THREE failed on row \[3\]: "
                                             r"ValueError: three is not allowed"):
        run(ORDERS_USERS + "CREATE FUNCTION fails_on_three AS 'tests.udfs.sample.fails_on_three';"
            "SELECT x FROM o, LATERAL TABLE(fails_on_three(CAST(order_id AS INT))) AS T(x);")
    with pytest.raises(ValidationError, match="No table function named 'nope'"):
        run(ORDERS_USERS + "SELECT x FROM o, LATERAL TABLE(nope(order_id)) AS T(x);")
    with pytest.raises(ValidationError, match="INNER or LEFT JOIN .. ON TRUE"):
        run(ORDERS_USERS + "SELECT k FROM o LEFT JOIN LATERAL TABLE(up_to(order_id)) AS T(k) ON k > 1;")
    with pytest.raises(ValidationError, match="returns 2 column"):
        run(ORDERS_USERS + "SELECT w FROM o, LATERAL TABLE(split_words(user_id)) AS T(w);")


UDAFS = ("CREATE TABLE w (order_id BIGINT, user_id STRING, amount DOUBLE, quantity INT, ts TIMESTAMP(3), "
         "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'filesystem', "
         "'path' = 'sql_examples/data/orders.json', 'format' = 'json');"
         "CREATE FUNCTION wavg AS 'tests.udfs.sample.WeightedAvg';"
         "CREATE FUNCTION median AS 'tests.udfs.sample.median';"
         "CREATE FUNCTION count_no_retract AS 'tests.udfs.sample.CountNoRetract';")


def _duck(sql: str) -> list[tuple]:
    import duckdb
    return duckdb.sql(sql.replace("ORDERS", "read_json('sql_examples/data/orders.json', columns={'order_id': "
                                  "'BIGINT', 'user_id': 'VARCHAR', 'amount': 'DOUBLE', 'quantity': 'INTEGER', "
                                  "'ts': 'TIMESTAMP'})")).fetchall()


def _final(rows: list[dict], key: str) -> dict:
    """The changelog applied: the last value per key, keys whose row was deleted dropped."""
    out = {}
    for r in rows:
        if r["op"] in ("+I", "+U"):
            out[r[key]] = r
        elif r["op"] == "-D":
            out.pop(r[key], None)
    return out


@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_python_aggregate_in_group_by_gives_the_changelog(batch_size):
    rows = run_batched(UDAFS + "SELECT user_id, wavg(amount, quantity) AS w, COUNT(*) AS n FROM w GROUP BY user_id;",
                       batch_size)
    expected = {u: v for u, v in _duck("SELECT user_id, SUM(amount * quantity) / SUM(CASE WHEN amount IS NOT NULL THEN quantity END) FROM ORDERS "
                                       "GROUP BY user_id")}
    final = _final(rows, "user_id")
    assert set(final) == set(expected)
    for u, r in final.items():
        assert r["w"] == pytest.approx(expected[u], rel=1e-9)
    # one change per row: +I for a group's first row, then -U/+U pairs
    assert sum(r["op"] == "+I" for r in rows) == len(expected)
    assert sum(r["op"] == "+U" for r in rows) == sum(r["op"] == "-U" for r in rows) > 300


def test_python_aggregate_retracts_over_an_updating_input():
    sql = (UDAFS + "SELECT MOD(n, 2) AS parity, wavg(CAST(n AS DOUBLE), 1) AS w FROM "
           "(SELECT user_id, COUNT(*) AS n FROM w GROUP BY user_id) GROUP BY MOD(n, 2);")
    final = _final(run_batched(sql, 7), "parity")
    expected = dict(_duck("SELECT n % 2, AVG(n) FROM (SELECT user_id, COUNT(*) AS n FROM ORDERS GROUP BY user_id) "
                          "GROUP BY n % 2"))
    assert {p: r["w"] for p, r in final.items()} == pytest.approx(expected)
    with pytest.raises(ValidationError, match="COUNT_NO_RETRACT needs a retract"):
        run(UDAFS + "SELECT count_no_retract(n) FROM (SELECT user_id, COUNT(*) AS n FROM w GROUP BY user_id);")


@pytest.mark.parametrize("batch_size", [1, 10_000])
def test_python_aggregates_in_a_window_aggregation(batch_size):
    rows = run_batched(UDAFS + "SELECT window_start, median(amount) AS med, wavg(amount, quantity) AS w "
                       "FROM TABLE(TUMBLE(TABLE w, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) "
                       "GROUP BY window_start, window_end;", batch_size)
    expected = {str(ws)[:19]: (med, wv) for ws, med, wv in _duck(
        "SELECT time_bucket(INTERVAL 1 MINUTE, ts), MEDIAN(amount), SUM(amount * quantity) / SUM(CASE WHEN amount IS NOT NULL THEN quantity END) "
        "FROM ORDERS GROUP BY 1")}
    assert {r["window_start"][:19]: (r["med"], r["w"]) for r in rows} == {
        k: (pytest.approx(m), pytest.approx(w)) for k, (m, w) in expected.items()}
    assert {r["op"] for r in rows} == {"+I"}


def test_python_aggregate_over_a_rows_frame():
    rows = run(UDAFS + "SELECT order_id, median(amount) OVER (PARTITION BY user_id ORDER BY ts "
               "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS m FROM w WHERE user_id = 'u001';")
    mine = sorted((json.loads(line) for line in open("sql_examples/data/orders.json")),
                  key=lambda r: r["ts"])
    amounts = [r["amount"] for r in mine if r["user_id"] == "u001"]
    import statistics
    expected = [statistics.median([a for a in amounts[max(0, i - 2):i + 1] if a is not None]) for i in
                range(len(amounts))]
    assert [r["m"] for r in rows] == pytest.approx(expected)


def test_python_aggregate_restores_its_accumulators():
    from tests.test_state import check_restore
    check_restore(UDAFS + "SELECT user_id, wavg(amount, quantity) AS w FROM w GROUP BY user_id;", 3)


def test_python_aggregate_failure_names_function_and_row():
    with pytest.raises(ExecutionError,
                       match=r"Python aggregate function WAVG.accumulate failed on row \['u\d+', 1\]: TypeError"):
        run(UDAFS + "SELECT wavg(user_id, 1) FROM w GROUP BY order_id;")
