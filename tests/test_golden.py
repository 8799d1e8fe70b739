"""sqlstream's own golden cases: expected.jsonl produced by Apache Flink 2.3 through ../shared/flink-oracle."""
import pytest

from tests.golden import GOLDEN, case_dirs, check_case, UPDATING_WHERE_FLINK_APPENDS

CASES = case_dirs(GOLDEN)


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case):
    check_case(case)


from tests.golden import GOLDEN_STATIC, check_static_case  # noqa: E402, UPDATING_WHERE_FLINK_APPENDS

STATIC = case_dirs(GOLDEN_STATIC)


@pytest.mark.golden
@pytest.mark.parametrize("case", STATIC, ids=[c.name for c in STATIC])
@pytest.mark.parametrize("batch_size", [1, 10_000])
def test_golden_static_case(case, batch_size):
    check_static_case(case, batch_size)


@pytest.mark.golden
@pytest.mark.parametrize("name", sorted(UPDATING_WHERE_FLINK_APPENDS))
def test_known_updating_results_are_still_updating(name):
    """The cases listed as updating where Flink appends: once one becomes insert-only, drop it from the list."""
    from tests.golden import CONFORMANCE, case_dirs, case_sql, flink_appends, run_sql
    case = next(c for c in case_dirs(CONFORMANCE / "more-sql") + case_dirs(CONFORMANCE / "core") if c.name == name)
    assert flink_appends(case)
    assert {r["op"] for r in run_sql(case_sql(case), None)} - {"+I"}, UPDATING_WHERE_FLINK_APPENDS[name]
