"""Runs golden cases (case.sql + gen.json + Flink's expected.jsonl) through sqlstream in-process."""
from __future__ import annotations

import collections
import decimal
import io
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SQLSTREAM_SHARED", REPO.parent / "shared"))
ORACLE = SHARED / "flink-oracle"
CONFORMANCE = SHARED / "conformance"
GOLDEN = REPO / "tests" / "golden"

if str(ORACLE) not in sys.path:
    sys.path.insert(0, str(ORACLE))


def oracle():
    import compare  # noqa: F401  (the oracle's comparator: changelog applied, multiset compared)
    import gen  # noqa: F401
    return compare, gen


def case_dirs(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p.parent for p in root.rglob("case.sql") if (p.parent / "expected.jsonl").exists())


def case_data(case: Path) -> Path:
    """The folder of the case's generated input files (made by the oracle's generator on first use)."""
    _, gen = oracle()
    spec = json.loads((case / "gen.json").read_text())
    return Path(gen.ensure_data(spec, os.environ.get("ORACLE_DATA_ROOT", "/tmp/oracle_scratch/data")))


def case_sql(case: Path, data: Path | None = None) -> str:
    """case.sql reading its inputs from `data` (the generated ones by default)."""
    return (case / "case.sql").read_text().replace("${DATA}", str(data or case_data(case)))


def run_sql(sql: str, batch_size: int | None = None) -> list[dict]:
    """The changelog of the script's last query; fails if a -U/-D retracts a row that is not live."""
    from sqlstream.script import ScriptRunner
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt="jsonl", batch_size=batch_size).run(sql)
    rows = [json.loads(ln, parse_float=decimal.Decimal) for ln in out.getvalue().splitlines() if ln.strip()]
    check_changelog(rows, f"batch size {batch_size}")
    return rows


def check_changelog(rows: list[dict], label: str = "") -> None:
    """Every -U/-D must equal, value for value (as printed), a row added before and not yet retracted: a
    consumer that applies the changelog (a downstream GROUP BY, a debezium `before` image) relies on it."""
    live: collections.Counter = collections.Counter()
    for i, row in enumerate(rows):
        key = json.dumps({k: v for k, v in row.items() if k != "op"}, sort_keys=True, default=str)
        if row["op"] in ("+I", "+U"):
            live[key] += 1
        elif live[key] > 0:
            live[key] -= 1
        else:
            near = [k for k, c in live.items() if c > 0]
            raise AssertionError(f"{label}: changelog row {i + 1} {row['op']} {key} retracts no live row"
                                 f" ({len(near)} live rows, e.g. {near[:3]})")


def expected(case: Path) -> tuple[list[dict], list[str], list[str]]:
    meta = json.loads((case / "meta.json").read_text())
    cols = [c["name"] for c in meta["columns"]]
    types = [c["type"] for c in meta["columns"]]
    rows = [json.loads(ln, parse_float=decimal.Decimal)
            for ln in (case / "expected.jsonl").read_text().splitlines() if ln.strip()]
    return rows, cols, types


def check_case(case: Path, batch_size: int | None = None) -> None:
    compare, _ = oracle()
    rows, cols, types = expected(case)
    actual = run_sql(case_sql(case), batch_size)
    ok, msg = compare.compare_rows(rows, actual, cols, types)
    assert ok, f"{case.name}: {msg}"
    if flink_appends(case):
        updates = sorted({r["op"] for r in actual} - {"+I"})
        assert not updates, f"{case.name}: Flink's result is insert-only, ours has {', '.join(updates)} rows"


def flink_appends(case: Path) -> bool:
    meta = case / "meta.json"
    return meta.exists() and json.loads(meta.read_text()).get("result_kind") == "insert-only"


GOLDEN_STATIC = REPO / "tests" / "golden_static"


def static_case_sql(case: Path) -> str:
    """case.sql of a case whose input files ship in its data/ folder."""
    return (case / "case.sql").read_text().replace("${DATA}", str(case / "data"))


def error_case_dirs(root: Path) -> list[Path]:
    """Cases whose job Flink fails: expected_error.txt holds the deepest causes of Flink's failure, one
    'Caused by' line each (tests/tools/run_flink_static.py --record-error)."""
    return sorted(p.parent for p in root.rglob("case.sql") if (p.parent / "expected_error.txt").exists())


def check_static_error_case(case: Path, batch_size: int | None = None) -> None:
    """The job fails, and its message holds each of Flink's causes (the text after the exception's class,
    without the closing full stop)."""
    from sqlstream.core.errors import SqlStreamError
    causes = [ln.split(": ", 2)[-1].rstrip(".") for ln in (case / "expected_error.txt").read_text().splitlines()
              if ln.strip()]
    try:
        rows = run_sql(static_case_sql(case), batch_size)
    except SqlStreamError as e:
        missing = [c for c in causes if c not in str(e)]
        assert not missing, f"{case.name}: Flink's {missing} not in our error: {e}"
    else:
        raise AssertionError(f"{case.name}: Flink fails with {causes}, ours gave {len(rows)} rows")


def check_static_case(case: Path, batch_size: int | None = None) -> None:
    compare, _ = oracle()
    rows, cols, types = expected(case)
    actual = run_sql(static_case_sql(case), batch_size)
    ok, msg = compare.compare_rows(rows, actual, cols, types)
    assert ok, f"{case.name}: {msg}"
    key = changelog_key(case)
    if key is not None:
        check_changes_per_key(rows, actual, cols, types, key, case.name)
    if flink_appends(case):
        updates = sorted({r["op"] for r in actual} - {"+I"})
        assert not updates, f"{case.name}: Flink's result is insert-only, ours has {', '.join(updates)} rows"


CHANGELOG_KEY = re.compile(r"^--\s*changelog key:(.*)$", re.MULTILINE)


def changelog_key(case: Path) -> list[str] | None:
    """The columns a case names in a `-- changelog key: a, b` line of its case.sql (an empty list: the whole
    result is one key). Only for a case whose changelog Flink makes deterministic: one source, parallelism 1."""
    m = CHANGELOG_KEY.search((case / "case.sql").read_text())
    return None if m is None else [c.strip() for c in m.group(1).split(",") if c.strip()]


def check_changes_per_key(expected_rows: list[dict], actual: list[dict], cols: list[str], types: list[str],
                          key: list[str], label: str) -> None:
    """Each key's changes (+I/-U/+U/-D with their rows) come in Flink's order, not only to the same end:
    a consumer sees every intermediate version of a key, so the versions and their kinds must be Flink's."""
    compare, _ = oracle()

    def per_key(rows: list[dict]) -> dict:
        out: dict = collections.defaultdict(list)
        for r in rows:
            exact, floats = compare.canon_row(r, cols, types)
            out[json.dumps([r.get(k) for k in key], default=str)].append((r["op"], exact, floats))
        return out
    want, got = per_key(expected_rows), per_key(actual)
    for k in sorted(set(want) | set(got)):
        a, b = want.get(k, []), got.get(k, [])
        same = len(a) == len(b) and all(x[:2] == y[:2] and compare.floats_close(x[2], y[2]) for x, y in zip(a, b))
        assert same, (f"{label}: key {k}: Flink's changes {[(x[0], x[1]) for x in a]}"
                      f" but ours {[(y[0], y[1]) for y in b]}")
