"""Apache Flink's own SQL-client test scripts (tests/sql_client/*.q, Apache-2.0, from apache/flink) run through
sqlstream's `-f` statement path; each statement must behave as Flink's expected output says.

The floors are the per-file pass counts reached so far: a change that makes fewer statements pass fails here
(raise a floor when more pass). The failures are printed with what differed.
"""
from __future__ import annotations

import pytest

from tests.sql_client import runner

# applicable statements passing, per file (raise as things improve)
FLOORS = {"table": 98, "view": 45, "set": 18, "statement_set": 22, "function": 37, "misc": 0, "select": 35,
          "insert": 10, "catalog_database": 133, "module": 14}


@pytest.mark.parametrize("name", runner.FILES)
def test_flink_sql_client_script(name, capsys):
    report = runner.run_file(name)
    with capsys.disabled():
        print(f"\n{name}.q: {report.passed} of {report.applicable} applicable statements pass "
              f"({len(report.skipped)} skipped)")
        failed = runner.failures([report])
        if failed:
            print(failed)
    assert report.passed >= FLOORS[name], runner.failures([report])


def test_every_skip_says_why_and_applies_to_a_statement():
    cases = [c for name in runner.FILES for c in runner.parse_q(f"{runner.HERE}/{name}.q")]
    firsts = {(c.file, runner._norm(c.sql.split("\n")[0])) for c in cases} | \
             {(c.file, runner._norm(c.sql)) for c in cases}
    for key, why in runner.SKIPS.items():
        assert why and key in firsts, key


def test_statement_splitting_keeps_quotes_and_comments_whole():
    from sqlstream.client import ends_statement, split_statements
    assert split_statements("SELECT ';\n';\nSELECT 1; -- a; b\nSELECT /*;*/ 2;") == \
        ["SELECT ';\n';", "\nSELECT 1;", " -- a; b\nSELECT /*;*/ 2;"]
    assert not ends_statement("SELECT --;")
    assert ends_statement("SELECT --;\n1;")
    assert split_statements("SELECT /*;") == ["SELECT /*;"]
