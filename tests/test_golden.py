"""sqlstream's own golden cases: expected.jsonl produced by Apache Flink 2.3 through ../shared/flink-oracle."""
import pytest

from tests.golden import GOLDEN, case_dirs, check_case

CASES = case_dirs(GOLDEN)


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case):
    check_case(case)


from tests.golden import GOLDEN_STATIC, check_static_case  # noqa: E402

STATIC = case_dirs(GOLDEN_STATIC)


@pytest.mark.golden
@pytest.mark.parametrize("case", STATIC, ids=[c.name for c in STATIC])
@pytest.mark.parametrize("batch_size", [1, 10_000])
def test_golden_static_case(case, batch_size):
    check_static_case(case, batch_size)



GOLDEN_UDF = case_dirs(GOLDEN.parent / "golden_udf")


@pytest.mark.golden
@pytest.mark.parametrize("case", GOLDEN_UDF, ids=[c.name for c in GOLDEN_UDF])
@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_golden_python_function_case(case, batch_size):
    """Python scalar, table and aggregate functions (tests/udfs/golden.py), expectations from Flink running the
    same functions (tests/tools/run_flink_udf.py)."""
    check_case(case, batch_size)
