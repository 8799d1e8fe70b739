"""sqlstream's own golden cases: expected.jsonl produced by Apache Flink 2.3 through ../shared/flink-oracle."""
import pytest

from tests.golden import GOLDEN, case_dirs, check_case

CASES = case_dirs(GOLDEN)


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case):
    check_case(case)
