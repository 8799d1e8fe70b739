"""The physical plan: operators chosen by the planner and built by name, each edge's distribution, and a job
identity (checkpoint folder, operator ids) that follows the plan's structure rather than the SQL's text."""
import pytest

from benchmarks.core import make_data
from sqlstream.plan.physical import FORWARD, HASH, SINGLE
from sqlstream.planner.physical import _CHOICES, physical_plan
from sqlstream.runtime.operators import registry
from sqlstream.session import Session, parse_script
from tests.cli_job import CliJob
from tests.test_checkpoints import committed

DDL = """CREATE TABLE orders (order_id BIGINT, user_id STRING, amount DOUBLE, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'datagen');
CREATE TABLE users (user_id STRING, name STRING) WITH ('connector' = 'datagen');
"""


def plan_of(sql: str):
    session = Session()
    stmts = parse_script(DDL + sql)
    for s in stmts[:-1]:
        session.execute(s, DDL + sql)
    return physical_plan([session.plan(stmts[-1])], session.config.effective())


def spec(plan, name: str):
    return next(s for s in plan.operators if s.name == name)


def test_every_operator_the_planner_chooses_is_registered():
    import inspect
    import re
    chosen = set()
    for pick in set(_CHOICES.values()):
        chosen |= set(re.findall(r'"([A-Z]\w+)"', inspect.getsource(pick)))
    assert chosen - {"TableSourceScan", "Sink", "INNER", "LEFT", "RIGHT", "FULL", "SESSION"} <= set(registry.OPERATORS)
    for name in registry.OPERATORS:
        assert registry.operator_class(name).__name__.endswith("Operator")


def test_edges_carry_distribution_and_changelog_mode():
    plan = plan_of("SELECT o.user_id, SUM(amount) FROM orders o JOIN users u ON o.user_id = u.user_id "
                   "GROUP BY o.user_id;")
    join, agg = spec(plan, "InnerJoin"), spec(plan, "GroupAggregate")
    assert [e.distribution.kind for e in join.inputs] == [HASH, HASH]
    assert [plan.operators[e.source].names[k] for e in join.inputs for k in e.distribution.keys] == \
        ["user_id", "user_id"]
    assert agg.inputs[0].distribution.kind == HASH and agg.inputs[0].changelog == "I"
    assert agg.changelog == "I,UB,UA"
    total = plan_of("SELECT COUNT(*) FROM orders;")
    assert spec(total, "GroupAggregate").inputs[0].distribution.kind == SINGLE
    assert spec(total, "WatermarkAssigner").inputs[0].distribution.kind == FORWARD


def test_the_planner_picks_the_physical_variant():
    top = "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount DESC) AS rn " \
          "FROM orders) WHERE rn <= {n};"
    assert any(s.name == "Top1" for s in plan_of(top.format(n=1)).operators)
    assert any(s.name == "AppendRank" for s in plan_of(top.format(n=3)).operators)
    # over a GROUP BY holding the partition, ordered by what only rises (COUNT DESC), as Flink: update-fast
    counts = "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY c {d}) AS rn FROM " \
             "(SELECT user_id, order_id, COUNT(*) AS c FROM orders GROUP BY user_id, order_id)) WHERE rn <= {n};"
    assert any(s.name == "UpdatableRank" for s in plan_of(counts.format(d="DESC", n=3)).operators)
    assert any(s.config.get("upserts") for s in plan_of(counts.format(d="DESC", n=1)).operators if s.name == "Top1")
    assert any(s.name == "Rank" for s in plan_of(counts.format(d="ASC", n=3)).operators)
    left = plan_of("SELECT * FROM orders o LEFT JOIN users u ON o.user_id = u.user_id;")
    assert any(s.name == "OuterJoin" for s in left.operators)
    session = plan_of("SELECT user_id, COUNT(*) FROM TABLE(SESSION(TABLE orders PARTITION BY user_id, "
                      "DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY user_id, window_start, window_end;")
    assert any(s.name == "SessionWindowAggregate" for s in session.operators)


def test_conditions_on_one_side_of_an_inner_join_filter_that_side_before_the_join():
    plan = plan_of("SELECT o.order_id, u.name FROM orders o JOIN users u ON o.user_id = u.user_id AND u.name <> 'x' "
                   "WHERE o.amount > 10 AND o.amount > CHAR_LENGTH(u.name) AND RAND() < 2;")
    join = spec(plan, "InnerJoin")
    sides = [plan.operators[e.source] for e in join.inputs]
    assert [s.name for s in sides] == ["Calc", "Calc"]
    assert [str(s.config["condition"]) for s in sides] == [">($2:amount, 10.0)", "<>($1:name, 'x')"]
    # what reads both sides, or no column at all (RAND() < 2 is evaluated per joined row), stays with the join
    assert str(join.config["condition"]) == "AND(>($2:amount, CAST(CHAR_LENGTH($4:name) AS DOUBLE)), <(RAND(), 2.0))"
    left = plan_of("SELECT * FROM orders o LEFT JOIN users u ON o.user_id = u.user_id AND u.name <> 'x';")
    assert str(spec(left, "OuterJoin").config["condition"]) == "<>($5:name, 'x')"  # an outer join keeps it


QUERY = "SELECT user_id, COUNT(*) AS n, SUM(amount) AS total FROM orders WHERE amount > 10 GROUP BY user_id;"


@pytest.mark.parametrize("same", [
    QUERY.replace(" FROM", "\n    FROM").replace("GROUP BY", "-- per user\nGROUP  BY"),
    QUERY.replace("AS n", "AS how_many").replace("AS total", "AS spent"),
    QUERY.replace("SELECT user_id", "SELECT user_id AS who").replace("GROUP BY user_id", "GROUP BY user_id"),
])
def test_a_change_that_keeps_the_physical_plan_keeps_the_job_identity(same):
    before, after = plan_of(QUERY), plan_of(same)
    assert after.fingerprint == before.fingerprint
    assert [s.uid for s in after.operators] == [s.uid for s in before.operators]


@pytest.mark.parametrize("changed", [
    QUERY.replace("amount > 10", "amount > 11"),
    QUERY.replace("SUM(amount)", "MAX(amount)"),
    QUERY.replace("FROM orders", "FROM orders /*+ OPTIONS('rows-per-second' = '5') */"),
])
def test_a_change_of_the_physical_plan_is_another_job(changed):
    assert plan_of(changed).fingerprint != plan_of(QUERY).fingerprint


JOB = """
SET 'execution.checkpointing.interval' = '1 min';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE events (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'json');
CREATE TABLE windowed (key STRING, ws TIMESTAMP(3), cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/windowed', 'format' = 'json');
CREATE TABLE totals (key STRING, cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = '{dir}/out/totals', 'format' = 'debezium-json');
INSERT INTO windowed SELECT key, window_start, COUNT(*), SUM(val)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY key, window_start, window_end;
INSERT INTO totals SELECT key, COUNT(*), SUM(val) FROM events WHERE val > 900 GROUP BY key;
"""


def test_a_finished_job_is_recognized_after_cosmetic_edits_and_a_changed_one_runs_afresh(tmp_path):
    data = tmp_path / "events.json"
    make_data(str(data), 3000, 50)
    job = tmp_path / "job.sql"
    job.write_text(JOB.format(dir=tmp_path, data=data))
    rc, _, err = CliJob(job).finish()
    assert rc == 0, err
    first = committed(tmp_path)
    assert sum(first["windowed"].values()) > 50 and sum(first["totals"].values()) > 50
    cosmetic = tmp_path / "cosmetic.sql"
    cosmetic.write_text("-- the same job, reformatted\n" + job.read_text()
                        .replace("SELECT key, COUNT(*), SUM(val) FROM", "SELECT key AS k,\n  COUNT(*) AS c, "
                                 "SUM(val)   AS s\nFROM"))
    rc, _, err = CliJob(cosmetic).finish()
    assert rc == 0 and "already finished" in err, err
    assert committed(tmp_path) == first
    changed = tmp_path / "changed.sql"
    changed.write_text(job.read_text().replace("val > 900", "val > 950"))
    rc, _, err = CliJob(changed).finish()
    assert rc == 0 and "already finished" not in err, err
    assert committed(tmp_path) != first


def test_the_job_identity_of_a_plan_stays_across_engine_changes():
    """A job's fingerprint names its checkpoint folder: a field added to a plan node must keep the fingerprints
    of the plans it does not change (metadata `signature_default`), or their jobs lose their checkpoints."""
    assert plan_of(QUERY).fingerprint == "fe7f184af90f6735"
