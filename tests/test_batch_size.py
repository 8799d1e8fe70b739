"""Results never depend on batch size: the same jobs at batch sizes 1, 7 and 10 000 give identical changelogs."""
import decimal
import itertools
import math
from pathlib import Path

import pytest

from tests.golden import CONFORMANCE, GOLDEN, case_data, case_dirs, case_sql, run_sql

CASES = [c for c in case_dirs(CONFORMANCE / "core") + case_dirs(CONFORMANCE / "more-sql") + case_dirs(GOLDEN)
         if c.name in {"late_tvf_tumble", "tvf_hop", "tvf_session_partition", "agg_having_retract",
                       "legacy_session", "tvf_cumulate", "tvf_grouping_sets", "union_all", "late_hop",
                       "late_session", "filter_then_window", "agg_over_agg", "late_cumulate",
                       "join_interval", "join_regular_inner", "join_window_inner", "nexmark_q5", "nexmark_q8",
                       "nexmark_q19", "dedup_last_ties", "join_duplicate_names", "topn_per_key", "join_window_full_outer",
                       "join_window_tvf_left", "window_topn_after_agg", "window_dedup_first", "window_agg_cascaded",
                       "join_window_semi_anti", "window_stacked",
                       "dedup_last_rowtime", "window_topn_tvf", "over_rows",
                       "join_left_outer", "join_full_outer_cond", "join_right_dim", "join_updating_input",
                       "semi_anti_in", "semi_anti_exists", "element_access", "temporal_join",
                       "scalar_subquery", "set_ops_all", "join_interval_outer", "temporal_join_view",
                       "not_in_nulls", "set_ops_nulls", "match_fraud_small_then_large", "match_v_shape_orders",
                       "dedup_first_late", "legacy_hop_uneven", "topn_range_shop", "limit_no_order_offset",
                       "limit_no_order_over_updating"}
         or c.name.startswith(("changelog_", "agg_retract_", "agg_listagg_", "window_listagg_"))]


# cases run on the first rows of each input file: sqlstream runs the same lines at batch sizes 7 and 10 000 on these
# rows as on the whole input (traced line by line), and batch size 1 takes a time proportional to the rows
FIRST_ROWS = {"dedup_last_ties": 2760}


def batch_case_sql(case: Path, folder: Path) -> str:
    """The case's script, reading its inputs cut to FIRST_ROWS[case] lines (written into `folder`) if listed."""
    if case.name not in FIRST_ROWS:
        return case_sql(case)
    for f in case_data(case).iterdir():
        with f.open() as lines:
            (folder / f.name).write_text("".join(itertools.islice(lines, FIRST_ROWS[case.name])))
    return case_sql(case, folder)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal):
        return a == b or math.isclose(float(a), float(b), rel_tol=1e-12)
    return a == b


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_identical_output_for_any_batch_size(case, tmp_path):
    sql = batch_case_sql(case, tmp_path)
    runs = {size: run_sql(sql, batch_size=size) for size in (1, 7, 10_000)}
    reference = runs[10_000]
    assert reference, "the job produced no rows"
    for size in (1, 7):
        rows = runs[size]
        assert len(rows) == len(reference), f"batch size {size}: {len(rows)} rows vs {len(reference)}"
        for i, (r, ref) in enumerate(zip(rows, reference)):
            assert r.keys() == ref.keys()
            assert all(_same(r[k], ref[k]) for k in r), f"batch size {size}, row {i + 1}: {r} != {ref}"


LATE_E = ["a 1 01", "b 2 03", "a 3 07", "a 4 08", "b 4 12", "a 5 04", "c 6 20", "b 7 21"]
LATE_F = ["a 10 02", "b 20 03", "a 30 09", "c 40 13", "b 50 14", "a 60 06", "b 70 22"]


@pytest.mark.parametrize("query", [
    # a window join: the right input's late row (a 60 06) arrives after its window closed
    "SELECT l.k, l.window_start, v, w FROM (SELECT * FROM TABLE(TUMBLE(TABLE e, DESCRIPTOR(ts), INTERVAL '5' SECOND)))"
    " l LEFT JOIN (SELECT * FROM TABLE(TUMBLE(TABLE f, DESCRIPTOR(ts), INTERVAL '5' SECOND))) r"
    " ON l.k = r.k AND l.window_start = r.window_start AND l.window_end = r.window_end",
    # a window Top-N: a 5 04 arrives after [0, 5) and [0, 10) closed
    "SELECT window_start, window_end, k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end"
    " ORDER BY v DESC) AS r FROM TABLE(CUMULATE(TABLE e, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)))"
    " WHERE r <= 2"])
def test_late_rows_of_window_joins_and_window_top_n_for_any_batch_size(tmp_path, query):
    """A row that a window operator's watermark has made late is late at any batch size: the watermark in force
    at each row of a batch, not the one before the batch (at batch size 10 000 no row was late)."""
    ddl = ""
    for name, rows, col in (("e", LATE_E, "v"), ("f", LATE_F, "w")):
        path = tmp_path / f"{name}.json"
        path.write_text("".join(f'{{"k": "{k}", "{col}": {x}, "ts": "2024-01-01 00:00:{s}.000"}}\n'
                                for k, x, s in (r.split() for r in rows)))
        ddl += (f"CREATE TABLE {name} (k STRING, {col} INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1'"
                f" SECOND) WITH ('connector'='filesystem','path'='{path}','format'='json');\n")
    runs = {size: run_sql(ddl + query + ";", batch_size=size) for size in (1, 7, 10_000)}
    assert runs[1] == runs[7] == runs[10_000]
