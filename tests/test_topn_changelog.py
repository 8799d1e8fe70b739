"""Top-N emits Flink's changelog row for row, not only its final rows: per rank position (-U/+U, +I, -D) when
the row number is read downstream or the range has an offset, per row (-D of the row leaving, +I of the row
entering) when it is not. The expectations are the Flink golden cases' own changelogs."""
import json

import pytest

from tests.golden import GOLDEN_STATIC, case_dirs, expected, run_sql, static_case_sql

CASES = [c for c in case_dirs(GOLDEN_STATIC) if c.name.startswith(("topn_", "top1_"))
         and json.loads((c / "meta.json").read_text())["result_kind"] == "updating"]


def _rows(rows: list[dict]) -> list[str]:
    return [json.dumps({k: str(v) for k, v in r.items()}, sort_keys=True) for r in rows]


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_top_n_changelog_is_flinks_row_for_row(case, batch_size):
    flink = _rows(expected(case)[0])
    ours = _rows(run_sql(static_case_sql(case), batch_size))
    first = next((i for i, (a, b) in enumerate(zip(ours, flink)) if a != b), min(len(ours), len(flink)))
    assert ours == flink, f"{case.name}: first difference at row {first + 1}: " \
                          f"{ours[first] if first < len(ours) else '<end>'} vs Flink's " \
                          f"{flink[first] if first < len(flink) else '<end>'}"
