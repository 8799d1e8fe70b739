"""Python scalar functions: registered by CREATE FUNCTION or from Python, row and vectorized forms."""
import io
import json
from decimal import Decimal

import pytest

from sqlstream.errors import ExecutionError, ValidationError
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


def test_bad_registrations():
    with pytest.raises(ValidationError, match="must be declared with @sqlstream.udf.udf"):
        run("CREATE FUNCTION u AS 'tests.udfs.sample.undeclared';")
    with pytest.raises(ValidationError, match="Cannot load Python function 'nope.missing'"):
        run("CREATE FUNCTION m AS 'nope.missing';")


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
