"""Each streaming shape is recognized by its rule (planner/rules/, run in the order of streaming.RULES) on the plain
node the binder builds: these statements bind to the operator Flink plans for them."""
import pytest

from sqlstream.plan import logical as L
from sqlstream.planner.rules import streaming
from sqlstream.session import Session, parse_script

DDL = """
CREATE TABLE orders (id INT, user_id STRING, amount DOUBLE, ts TIMESTAMP(3), pt AS PROCTIME(),
  WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
CREATE TABLE rates (user_id STRING, rate DOUBLE, ts TIMESTAMP(3), PRIMARY KEY (user_id) NOT ENFORCED,
  WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
CREATE TABLE users (user_id STRING, name STRING) WITH ('connector' = 'filesystem', 'path' = '{path}',
  'format' = 'json');
"""

WINDOWED = ("SELECT window_start, window_end, user_id, SUM(amount) AS total FROM TABLE(TUMBLE(TABLE orders, "
            "DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, user_id")

SHAPES = {
    "deduplicate": ("SELECT id FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts) AS rn "
                    "FROM orders) WHERE rn = 1", L.FirstRowDeduplicate),
    "window_rank": (f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY "
                    f"total DESC) AS rn FROM ({WINDOWED})) WHERE rn <= 3", L.WindowRank),
    "window_join": (f"SELECT a.user_id, b.total FROM ({WINDOWED}) a JOIN ({WINDOWED}) b ON a.user_id = b.user_id "
                    f"AND a.window_start = b.window_start AND a.window_end = b.window_end", L.WindowJoin),
    "interval_join": ("SELECT a.id FROM orders a JOIN orders b ON a.id = b.id AND b.ts BETWEEN "
                      "a.ts - INTERVAL '1' MINUTE AND a.ts", L.IntervalJoin),
    "temporal_join": ("SELECT o.id, r.rate FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r "
                      "ON o.user_id = r.user_id", L.TemporalJoin),
    "lookup_join": ("SELECT o.id, u.name FROM orders AS o JOIN users FOR SYSTEM_TIME AS OF o.pt AS u "
                    "ON o.user_id = u.user_id", L.LookupJoin),
    "cascaded_window_aggregate": (f"SELECT window_start, window_end, COUNT(*) AS n FROM ({WINDOWED}) "
                                  f"GROUP BY window_start, window_end", L.GroupAggregate),
    "semi_anti_join": ("SELECT id FROM orders WHERE user_id NOT IN (SELECT user_id FROM users)", L.Join),
}

# shapes a rule makes of what an earlier rule made: (query, operator, the rules it takes)
CHAINED = {
    "window semi join": (f"SELECT a.user_id FROM ({WINDOWED}) a WHERE EXISTS (SELECT * FROM ({WINDOWED}) b "
                         f"WHERE a.user_id = b.user_id AND a.window_start = b.window_start AND "
                         f"a.window_end = b.window_end)", L.WindowJoin, ("semi_anti_join", "window_join")),
}


def plan_of(tmp_path, query: str) -> L.Node:
    path = tmp_path / "t.json"
    path.write_text("")
    session = Session()
    plan = None
    for stmt in parse_script(DDL.format(path=path) + query + ";"):
        plan = session.execute(stmt).plan
    return plan


def nodes(node: L.Node) -> list[L.Node]:
    return [node] + [n for child in node.inputs() for n in nodes(child)]


def test_every_rule_is_one_module_in_the_declared_order():
    assert [r.__module__.rsplit(".", 1)[1] for r in streaming.RULES] == [
        "semi_anti_join", "temporal_join", "lookup_join", "window_rank", "deduplicate", "window_join", "interval_join",
        "cascaded_window_aggregate"]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_rule_makes_the_streaming_operator_of_the_plain_node(tmp_path, shape):
    query, operator = SHAPES[shape]
    found = [n for n in nodes(plan_of(tmp_path, query)) if type(n) is operator]
    assert found, f"{shape}: no {operator.__name__} in the plan"
    assert all(not isinstance(n, L.Snapshot) for n in nodes(plan_of(tmp_path, query)))
    if shape == "cascaded_window_aggregate":
        assert found[0].window_end is not None and not found[0].updating
    if shape == "semi_anti_join":
        assert found[0].kind == "ANTI" and found[0].null_aware


def made_without(tmp_path, monkeypatch, query: str, operator: type, module: str) -> bool:
    """Whether the plan still has `operator` with the rule of `module` left out (binding may also refuse it)."""
    monkeypatch.setattr(streaming, "RULES", tuple(r for r in streaming.RULES if not r.__module__.endswith(module)))
    try:
        plan = plan_of(tmp_path, query)
    except Exception:
        return False
    finally:
        monkeypatch.undo()
    return any(type(n) is operator and (operator is not L.GroupAggregate or n.window_end is not None)
               for n in nodes(plan))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_without_its_rule_the_shape_is_not_made(tmp_path, monkeypatch, shape):
    query, operator = SHAPES[shape]
    assert not made_without(tmp_path, monkeypatch, query, operator, shape)


@pytest.mark.parametrize("shape", sorted(CHAINED))
def test_a_rule_recognizes_what_an_earlier_rule_made(tmp_path, monkeypatch, shape):
    query, operator, modules = CHAINED[shape]
    found = [n for n in nodes(plan_of(tmp_path, query)) if type(n) is operator]
    assert found and found[0].kind in ("SEMI", "INNER", "ANTI")
    for module in modules:
        assert not made_without(tmp_path, monkeypatch, query, operator, module)


def test_a_plain_top_n_and_join_stay_plain(tmp_path):
    top_n = plan_of(tmp_path, "SELECT id FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount "
                              "DESC) AS rn FROM orders) WHERE rn <= 2")
    assert any(type(n) is L.Rank for n in nodes(top_n))
    join = plan_of(tmp_path, "SELECT a.id FROM orders a JOIN users b ON a.user_id = b.user_id")
    assert any(type(n) is L.Join for n in nodes(join))
