"""Result types of golden static cases: the final query's columns typed as Flink's resolved schema (meta.json)."""
import json

import pytest

from sqlstream.session import Session, parse_script
from tests.golden import GOLDEN_STATIC, case_dirs, static_case_sql

# each case's result columns as sqlstream types them must be Flink's; cases whose types differ are listed in
# KNOWN_TYPE_GAPS with what differs, so that a new case is checked from the start
TYPED = [c for c in case_dirs(GOLDEN_STATIC)]
KNOWN_TYPE_GAPS = {
    "cast_decimal_precision_above_38": "TYPEOF(..) is STRING NOT NULL here, nullable STRING in Flink",
    "fn_bytes_regex_typeof": "REGEXP_EXTRACT of a NOT NULL text is NOT NULL here, nullable in Flink",
    "fn_current_row_timestamp": "a text function of CURRENT_ROW_TIMESTAMP is NOT NULL here, nullable in Flink",
    "fn_datetime_patterns": "a TUMBLE_ROWTIME of a TIMESTAMP(0) rowtime is TIMESTAMP(0) here, TIMESTAMP(3) in Flink",
    "fn_rand_seeded": "RAND(42) is nullable here, NOT NULL in Flink",
    "fn_string_cast_lengths": "a text function of a VARCHAR(4) is STRING here, VARCHAR(4) in Flink",
    "fn_text_json": "a text function of NOT NULL text is NOT NULL here, nullable in Flink",
    "match_agg_in_define": "a MEASURES time of the match is not a rowtime here, *ROWTIME* in Flink",
    "match_star_past_last": "a MEASURES time of the match is not a rowtime here, *ROWTIME* in Flink",
    "match_v_shape": "a MEASURES time of the match is not a rowtime here, *ROWTIME* in Flink",
    "match_within_reluctant": "a MEASURES time of the match is not a rowtime here, *ROWTIME* in Flink",
    "over_lag_proctime": "LAG with a NOT NULL default is nullable here, NOT NULL in Flink",
}


def result_types(case) -> list[tuple[str, str]]:
    session = Session()
    stmts = parse_script(static_case_sql(case))
    for stmt in stmts[:-1]:
        session.execute(stmt)
    return [(f.name, str(f.type)) for f in session.plan(stmts[-1]).fields]


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_TYPE_GAPS[c.name], strict=True))
                                  if c.name in KNOWN_TYPE_GAPS else c for c in TYPED], ids=[c.name for c in TYPED])
def test_result_types_are_flinks(case):
    meta = json.loads((case / "meta.json").read_text())
    assert result_types(case) == [(c["name"], c["type"]) for c in meta["columns"]]
