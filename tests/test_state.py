"""Operator state round-trips through snapshot/restore: a job restored mid-stream continues exactly."""
import decimal
import io
import json

import pytest

from sqlstream.plan import logical as L
from sqlstream.planner.physical import physical_plan
from sqlstream.runtime.executor import Dataflow
from sqlstream.output import ResultWriter
from sqlstream.session import Session, parse_script
from tests.golden import CONFORMANCE, GOLDEN, GOLDEN_STATIC, case_dirs, case_sql, check_changelog, static_case_sql

CASES = [c for c in case_dirs(CONFORMANCE / "core") + case_dirs(CONFORMANCE / "more-sql") + case_dirs(GOLDEN)
         if c.name in {"tvf_tumble_basic", "tvf_hop", "tvf_session_partition", "legacy_session", "agg_group_basic",
                       "agg_having_retract", "agg_over_agg", "group_rollup", "late_tvf_tumble", "late_session",
                       "union_all", "tvf_grouping_sets", "late_cumulate", "window_rollup_cube",
                       "join_regular_inner", "join_left_outer", "join_full_outer_cond", "topn_per_key",
                       "dedup_last_rowtime", "over_rows", "nexmark_q5", "join_updating_input", "not_in_nulls",
                       "set_ops_all", "temporal_join", "join_interval", "join_interval_outer",
                       "temporal_join_view", "join_window_inner", "nexmark_q8", "dedup_last_ties",
                       "join_window_full_outer", "join_window_tvf_left", "window_topn_tvf", "window_topn_after_agg",
                       "window_dedup_first", "window_agg_cascaded", "join_window_semi_anti",
                       "window_stacked", "match_fraud_small_then_large", "match_v_shape_orders",
                       "agg_retract_over_group", "agg_retract_over_dedup", "agg_retract_over_join",
                       "agg_listagg_first_last", "changelog_sum_double_regroup", "group_count_distinct",
                       "dedup_first_late", "legacy_hop_uneven", "topn_range_shop"}]


def build_job(sql: str, batch_size: int) -> tuple[Dataflow, io.StringIO]:
    session = Session()
    stmts = parse_script(sql)
    for s in stmts[:-1]:
        session.execute(s, sql)
    plan = session.plan(stmts[-1])
    out = io.StringIO()
    writer = ResultWriter(plan.names, [f.type for f in plan.fields], "jsonl", out)
    root = L.Sink(plan.fields, plan.changelog, input=plan, table="<result>", connector="collect")
    return Dataflow([(root, writer)], physical_plan([root]), batch_size=batch_size, round_rows=20), out


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("steps", [2, 6])
def test_restored_job_continues_exactly(case, steps):
    check_restore(case_sql(case), steps)


def check_restore(sql: str, steps: int, batch_size: int = 13) -> None:
    """Snapshot after `steps` steps; a job restored from it writes exactly the uninterrupted job's tail."""
    job, out = build_job(sql, batch_size=batch_size)
    for _ in range(steps):
        job.step()
    snap = json.loads(json.dumps(snap_to_jsonable(job.snapshot())))
    before = len(lines(out))
    job.run()
    uninterrupted_tail = lines(out)[before:]

    restored, out2 = build_job(sql, batch_size=batch_size)
    restored.restore(snap_from_jsonable(snap))
    restored.run()
    assert lines(out2) == uninterrupted_tail
    check_changelog([json.loads(ln, parse_float=decimal.Decimal) for ln in lines(out)], "batch size 13")
    assert uninterrupted_tail, "the split point should leave work to do"


def snap_to_jsonable(snap: dict) -> dict:
    import base64
    return {**snap, "operators": {u: {k: base64.b64encode(v).decode() for k, v in b.items()}
                                  for u, b in snap["operators"].items()}}


def snap_from_jsonable(snap: dict) -> dict:
    import base64
    return {**snap, "operators": {u: {k: base64.b64decode(v) for k, v in b.items()}
                                  for u, b in snap["operators"].items()}}


def test_changed_query_fails_to_restore_naming_the_operator(tmp_path):
    case = next(c for c in CASES if c.name == "tvf_tumble_basic")
    sql = case_sql(case)
    job, _ = build_job(sql, 50)
    for _ in range(3):
        job.step()
    snap = job.snapshot()
    changed = sql.replace("GROUP BY window_start, window_end, user_id", "GROUP BY window_start, window_end, user_id")
    changed = changed.replace("TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
                              "TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) WHERE amount > 0")
    other, _ = build_job(changed.replace("COUNT(*) AS cnt,", ""), 50)
    snap["operators"]["099-Mystery"] = {"x": b""}
    from sqlstream.core.errors import ValidationError
    with pytest.raises(ValidationError, match="099-Mystery"):
        other.restore(snap)
    other.restore(snap, allow_non_restored_state=True)


MATCH_CASES = [c for c in case_dirs(GOLDEN_STATIC) if c.name.startswith("match_") and (c / "expected.jsonl").stat().st_size]


@pytest.mark.golden
@pytest.mark.parametrize("case", MATCH_CASES, ids=[c.name for c in MATCH_CASES])
@pytest.mark.parametrize("steps", [2, 6])
def test_restored_match_recognize_continues_exactly(case, steps):
    """Pending rows, partial matches (with the rows they hold) and finished matches waiting to be emitted."""
    check_restore(static_case_sql(case), steps)


SMALL_CASES = [c for c in case_dirs(GOLDEN_STATIC)
               if c.name.startswith(("session_", "hop_", "cumulate_", "topn_", "window_", "dedup_"))
               and (c / "expected.jsonl").stat().st_size]


@pytest.mark.golden
@pytest.mark.parametrize("case", SMALL_CASES, ids=[c.name for c in SMALL_CASES])
@pytest.mark.parametrize("steps", [2, 5])
def test_restored_small_case_continues_exactly(case, steps):
    """Small hand-made inputs (sessions one gap apart, uneven HOPs, offsets, rank ranges, deduplication):
    snapshots every few rows."""
    check_restore(static_case_sql(case), steps, batch_size=2)
