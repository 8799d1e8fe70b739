"""Each streaming shape is recognized by its rule (planner/rules/, run in the order of streaming.RULES) on the plain
node the binder builds: these statements bind to the operator Flink plans for them."""
import pytest

from sqlstream.plan import logical as L
from sqlstream.plan.expr import WindowBound
from sqlstream.planner.rules import streaming, window_aggregate
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
    "window_aggregate": (WINDOWED, L.WindowAggregate),
    "legacy group window": ("SELECT user_id, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS s, TUMBLE_END(ts, INTERVAL '1' "
                            "MINUTE) AS e, TUMBLE_ROWTIME(ts, INTERVAL '1' MINUTE) AS t, COUNT(*) AS n FROM orders "
                            "GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), user_id", L.WindowAggregate),
    "top_n": ("SELECT id, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount DESC) AS rn "
              "FROM orders) WHERE rn <= 2", L.Rank),
    "semi_anti_join": ("SELECT id FROM orders WHERE user_id NOT IN (SELECT user_id FROM users)", L.Join),
}

# shapes a rule makes of what an earlier rule made: (query, operator, the rules it takes)
CHAINED = {
    "window semi join": (f"SELECT a.user_id FROM ({WINDOWED}) a WHERE EXISTS (SELECT * FROM ({WINDOWED}) b "
                         f"WHERE a.user_id = b.user_id AND a.window_start = b.window_start AND "
                         f"a.window_end = b.window_end)", L.WindowJoin, ("semi_anti_join", "window_join")),
    "deduplication": (SHAPES["deduplicate"][0], L.FirstRowDeduplicate, ("top_n", "deduplicate")),
    "window Top-N": (SHAPES["window_rank"][0], L.WindowRank, ("top_n", "window_rank")),
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
        "semi_anti_join", "temporal_join", "lookup_join", "top_n", "window_rank", "deduplicate", "window_join",
        "interval_join", "window_aggregate", "cascaded_window_aggregate"]


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
    if shape == "top_n":
        assert found[0].limit == 2 and found[0].with_rank


def test_a_top_n_passes_its_row_numbers_on_only_when_they_are_read(tmp_path):
    """As in Flink, a Top-N whose row number is not read gives rows, not positions (-D/+I, not -U/+U)."""
    query = ("SELECT {} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount DESC) AS rn "
             "FROM orders) WHERE rn <= 2")
    ranks = [[n for n in nodes(plan_of(tmp_path, query.format(cols))) if type(n) is L.Rank][0]
             for cols in ("id", "id, rn", "*")]
    assert [r.with_rank for r in ranks] == [False, True, True]


def made_without(tmp_path, monkeypatch, query: str, operator: type, module: str) -> bool:
    """Whether the plan still has `operator` with the rule of `module` left out (binding may also refuse it)."""
    monkeypatch.setattr(streaming, "RULES", tuple(r for r in streaming.RULES if r.__module__.rsplit(".", 1)[1] != module))
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
    module = "window_aggregate" if shape == "legacy group window" else shape
    assert not made_without(tmp_path, monkeypatch, query, operator, module)


def test_a_group_window_binds_as_a_grouping_on_its_bounds(tmp_path, monkeypatch):
    """GROUP BY TUMBLE(ts, ..) binds as a plain GROUP BY keyed on the window's bounds, which TUMBLE_START, _END and
    _ROWTIME read as group keys; the rule makes a window aggregation with the same columns."""
    query = SHAPES["legacy group window"][0]
    window = [n for n in nodes(plan_of(tmp_path, query)) if type(n) is L.WindowAggregate][0]
    monkeypatch.setattr(streaming, "RULES", tuple(r for r in streaming.RULES if r is not window_aggregate.rule))
    plain = [n for n in nodes(plan_of(tmp_path, query)) if type(n) is L.GroupAggregate][0]
    bounds = [plain.input.projections[k] for k in plain.keys[-3:]]
    assert [b.prop for b in bounds] == ["window_start", "window_end", "window_time"]
    assert all(isinstance(b, WindowBound) and b.window.kind == "TUMBLE" for b in bounds)
    assert plain.names == window.names and plain.names[1:4] == ["window_start", "window_end", "window_time"]


@pytest.mark.parametrize("shape", sorted(CHAINED))
def test_a_rule_recognizes_what_an_earlier_rule_made(tmp_path, monkeypatch, shape):
    query, operator, modules = CHAINED[shape]
    found = [n for n in nodes(plan_of(tmp_path, query)) if type(n) is operator]
    assert found
    for module in modules:
        assert not made_without(tmp_path, monkeypatch, query, operator, module)


def test_a_plain_top_n_and_join_stay_plain(tmp_path):
    top_n = plan_of(tmp_path, "SELECT id FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount "
                              "DESC) AS rn FROM orders) WHERE rn <= 2")
    assert any(type(n) is L.Rank for n in nodes(top_n))
    join = plan_of(tmp_path, "SELECT a.id FROM orders a JOIN users b ON a.user_id = b.user_id")
    assert any(type(n) is L.Join for n in nodes(join))
