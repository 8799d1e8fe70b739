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
