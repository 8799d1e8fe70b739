"""Every shared conformance case (checked against Apache Flink) must give Flink's rows."""
import pytest

from tests.golden import CONFORMANCE, case_dirs, check_case

# Features of later milestones; these cases are expected to fail until they land (strict: a pass is reported).
NOT_YET = {
}

CASES = case_dirs(CONFORMANCE)


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_conformance_case(case):
    if case.name in NOT_YET:
        pytest.xfail(NOT_YET[case.name])
    check_case(case)
