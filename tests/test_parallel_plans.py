"""Operators' parallelism and the exchanges between them, compared with what Apache Flink 2.3 chose for the same
statements (tests/parallel_plans/flink/*.txt, written by tests/tools/run_flink_parallel_plans.py).

Flink's stream graph and ours differ in plumbing: Flink splits window aggregates into local and global parts, adds
timestamp inserters and constraint enforcers and has no union operator, while sqlstream has its own Calc
placement. Both graphs are therefore reduced to their sources, sinks and the operators that keep state (where rows
must meet: aggregates, joins, ranks, sorts, OVER, MATCH_RECOGNIZE), each edge keeping the exchange found on the
path it replaces, and compared: same operators, same parallelism, same exchange on every edge.
"""
import json
import os
import re

import pytest

from sqlstream.connectors.values import NAME as VALUES
from sqlstream.core.errors import SqlStreamError
from sqlstream.plan import logical as L
from sqlstream.planner.physical import physical_plan
from sqlstream.session import Session, parse_script
from tests.tools.run_flink_parallel_plans import CASES, read_cases, tables_sql

FAMILIES = {
    "GroupAggregate": "Aggregate", "GlobalWindowAggregate": "Aggregate", "WindowAggregate": "Aggregate",
    "SessionWindowAggregate": "Aggregate", "WindowGroupAggregate": "Aggregate", "SetOpAll": "Aggregate",
    "Join": "Join", "InnerJoin": "Join", "OuterJoin": "Join", "IntervalJoin": "Join", "WindowJoin": "Join",
    "TemporalJoin": "Join", "Rank": "Rank", "Top1": "Rank", "AppendRank": "Rank", "UpdatableRank": "Rank",
    "WindowRank": "Rank", "SortLimit": "Rank", "Deduplicate": "Rank", "FirstRowDeduplicate": "Rank", "TemporalSort": "Sort",
    "OverAggregate": "Over", "Match": "Match", "MatchRecognize": "Match", "ChangelogNormalize": "Normalize",
}
STRATEGIES = {"forward": "FORWARD", "hash": "HASH", "single": "GLOBAL", "rebalance": "REBALANCE",
              "broadcast": "BROADCAST"}


def family(kind: str) -> str | None:
    """The kept operator a vertex stands for, or None for plumbing that is collapsed away."""
    if kind.startswith("Source: "):
        return "Source " + kind[len("Source: "):]
    if kind.startswith("Sink: ") or kind == "StreamingFileWriter":
        return "Sink"
    return FAMILIES.get(kind)


def reduce(nodes: dict, sinks: list) -> list:
    """Trees from the sinks down: (family, parallelism, [(exchange, subtree), ...]) over kept vertices only.

    `nodes` maps an id to (kind, parallelism, [(input id, exchange), ...])."""
    def inputs_of(nid) -> list:
        found = []
        for source, strategy in nodes[nid][2]:
            kind, _, _ = nodes[source]
            if family(kind) is not None:
                found.append((strategy, tree(source)))
                continue
            for inner, subtree in inputs_of(source):  # collapse: the path keeps its one real exchange
                found.append((strategy if strategy != "FORWARD" else inner, subtree))
        return found

    def tree(nid):
        kind, parallelism, _ = nodes[nid]
        return family(kind), parallelism, inputs_of(nid)
    return [tree(s) for s in sinks]


def flink_trees(text: str) -> list:
    graph = json.loads(text.split("== Physical Execution Plan ==")[1])
    nodes = {n["id"]: (re.sub(r"\[\d+\]$", "", n["type"]), n["parallelism"],
                       [(p["id"], p["ship_strategy"]) for p in n.get("predecessors", [])]) for n in graph["nodes"]}
    first_sink = next(i for i, (kind, _, _) in nodes.items() if family(kind) == "Sink")
    return reduce(nodes, [first_sink])


def our_trees(plan) -> list:
    nodes = {}
    for i, spec in enumerate(plan.operators):
        kind = ("Source: Values" if spec.node.connector == VALUES else f"Source: {spec.node.table}") \
            if isinstance(spec.node, L.Scan) else \
            "Sink: " + spec.node.table if isinstance(spec.node, L.Sink) else spec.name
        nodes[i] = (kind, spec.parallelism, [(e.source, STRATEGIES[e.distribution.kind]) for e in spec.inputs])
    return reduce(nodes, plan.roots)


def plan_case(settings: dict, statement: str):
    session = Session()
    sql = "".join(f"SET '{k}' = '{v}';\n" for k, v in settings.items()) + tables_sql() + ";\n" + statement + ";"
    stmts = parse_script(sql)
    for s in stmts[:-1]:
        session.execute(s, sql)
    return physical_plan([session.plan(stmts[-1])], session.config.effective())


def flink_answer(name: str) -> str:
    with open(os.path.join(CASES, "flink", name + ".txt")) as f:
        return f.read()


# Flink's refusal -> what sqlstream's message must say
REFUSALS = {"Invalid configured parallelism": "Invalid configured parallelism",
            "NumberFormatException": "Invalid configured parallelism x",
            "a primary key is required but could not be found": "a primary key is required but could not be found",
            "Unsupported options found": "Unsupported options"}


# cases where sqlstream differs from Flink for a reason outside parallelism
DIFFERENT: dict[str, str] = {}


def _cases():
    return [pytest.param(*case, marks=pytest.mark.xfail(reason=DIFFERENT[case[0]], strict=True))
            if case[0] in DIFFERENT else case for case in read_cases()]


@pytest.mark.parametrize("name,settings,statement", _cases(), ids=[c[0] for c in read_cases()])
def test_parallelism_and_exchanges_are_flinks(name, settings, statement):
    answer = flink_answer(name)
    if answer.startswith("ERROR"):
        expected = next(ours for theirs, ours in REFUSALS.items() if theirs in answer)
        with pytest.raises(SqlStreamError) as caught:
            plan_case(settings, statement)
        assert expected.lower() in str(caught.value).lower(), str(caught.value)
        return
    assert our_trees(plan_case(settings, statement)) == flink_trees(answer)


PER_USER = "INSERT INTO out_kv SELECT k, COUNT(*) FROM g {hint} GROUP BY k"


def test_the_job_identity_survives_rescaling_but_not_another_number_of_key_groups():
    """A savepoint taken at parallelism 2 restores at 3 (the fingerprint names the checkpoint folder), while
    another 'pipeline.max-parallelism' moves keys to other key groups: another job."""
    base = plan_case({"parallelism.default": "2"}, PER_USER.format(hint=""))
    for settings, hint in [({"parallelism.default": "3"}, ""), ({"parallelism.default": "1"}, ""),
                           ({"parallelism.default": "2", "table.exec.resource.default-parallelism": "4"}, ""),
                           ({"parallelism.default": "2", "pipeline.max-parallelism": "128"}, ""),
                           ({"parallelism.default": "2"}, "/*+ OPTIONS('scan.parallelism' = '1') */")]:
        other = plan_case(settings, PER_USER.format(hint=hint))
        assert other.fingerprint == base.fingerprint, settings
        assert [s.uid for s in other.operators] == [s.uid for s in base.operators]
    assert plan_case({"parallelism.default": "3"}, PER_USER.format(hint="")).operators[-1].parallelism == 3
    wider = plan_case({"parallelism.default": "2", "pipeline.max-parallelism": "256"}, PER_USER.format(hint=""))
    assert wider.fingerprint != base.fingerprint and wider.max_parallelism == 256


@pytest.mark.parametrize("settings,message", [
    ({"parallelism.default": "4", "pipeline.max-parallelism": "2"},
     "parallelism 4 of TableSourceScan is larger than the maximum parallelism 2"),
    ({"pipeline.max-parallelism": "40000"}, "'pipeline.max-parallelism' must be from 1 to 32768"),
    ({"pipeline.max-parallelism": "0"}, "'pipeline.max-parallelism' must be from 1 to 32768 (or -1: not set)"),
    ({"table.exec.resource.default-parallelism": "0"}, "must be from 1 to 32768 (or -1: not set), got 0"),
    ({"table.exec.sink.keyed-shuffle": "SOMETIMES"}, "must be one of AUTO, NONE, FORCE"),
])
def test_parallelism_settings_are_checked(settings, message):
    with pytest.raises(SqlStreamError) as caught:
        plan_case(settings, PER_USER.format(hint=""))
    assert message in str(caught.value)


def test_set_refuses_a_parallelism_setting_that_cannot_work():
    from sqlstream.config import Config
    config = Config()
    config.set("pipeline.max-parallelism", "256")
    config.set("table.exec.resource.default-parallelism", "-1")
    with pytest.raises(SqlStreamError, match="must be from 1 to 32768"):
        config.set("pipeline.max-parallelism", "0")
