"""Every job in sql_examples/ runs from the command line; results are checked where an independent oracle exists."""
import decimal
import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.cli_job import PATIENCE_S
from tests import forked_cli

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "sql_examples").glob("*.sql"))


def run_cli(path: Path, fmt: str = "jsonl") -> subprocess.CompletedProcess:
    return forked_cli.run(["run", str(path), "--format", fmt], cwd=REPO, text=True, timeout=PATIENCE_S)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path):
    header = path.read_text().splitlines()[0]
    assert header.startswith("-- "), "each example opens with a comment saying what it shows"
    p = run_cli(path)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert p.stdout.strip() or "Job finished" in p.stderr


def test_orders_per_minute_matches_duckdb():
    p = run_cli(REPO / "sql_examples" / "01_orders_per_minute.sql")
    rows = [json.loads(line, parse_float=decimal.Decimal) for line in p.stdout.splitlines()]
    got = {(r["window_start"], r["orders"], decimal.Decimal(r["revenue"])) for r in rows}
    data = REPO / "sql_examples" / "data" / "orders.json"
    expected = duckdb.sql(f"""
        SELECT strftime(time_bucket(INTERVAL 1 MINUTE, ts), '%Y-%m-%d %H:%M:%S.000') AS ws, COUNT(*) AS n,
               CAST(SUM(price * quantity) AS VARCHAR) AS revenue
        FROM read_json('{data}', columns={{'price': 'DECIMAL(10,2)', 'quantity': 'INTEGER', 'ts': 'TIMESTAMP'}})
        GROUP BY ws""").fetchall()
    assert got == {(ws, n, decimal.Decimal(rev)) for ws, n, rev in expected}
    assert all(r["op"] == "+I" for r in rows)


def test_changelog_example_applies_to_the_having_result():
    p = run_cli(REPO / "sql_examples" / "04_customer_totals_changelog.sql")
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    final: dict[str, dict] = {}
    for r in rows:
        key = r["user_id"]
        if r["op"] in ("+I", "+U"):
            assert key not in final, f"{key} inserted twice"
            final[key] = r
        else:
            assert final.pop(key)["orders"] == r["orders"], "a retraction must carry the previous value"
    data = REPO / "sql_examples" / "data" / "orders.json"
    expected = dict(duckdb.sql(f"""SELECT user_id, COUNT(*) FROM read_json('{data}') WHERE user_id IS NOT NULL
                                 GROUP BY user_id HAVING COUNT(*) < 5""").fetchall())
    assert {k: v["orders"] for k, v in final.items()} == expected


def test_statement_set_writes_both_sinks(tmp_path):
    sql = (REPO / "sql_examples" / "06_statement_set_to_files.sql").read_text().replace(
        "/tmp/sqlstream_out", str(tmp_path))
    job = tmp_path / "job.sql"
    job.write_text(sql)
    p = run_cli(job)
    assert p.returncode == 0, p.stderr
    per_status = [json.loads(line) for f in (tmp_path / "per_status").glob("part-*") for line in f.read_text().splitlines()]
    rollup = [line for f in (tmp_path / "rollup").glob("part-*") for line in f.read_text().splitlines()]
    assert sum(r["orders"] for r in per_status) == 400
    by_window: dict[str, int] = {}
    for line in rollup:
        ws, status, product, n = line.split(",")
        if status and product:
            by_window[ws] = by_window.get(ws, 0) + int(n)
    data = REPO / "sql_examples" / "data" / "orders.json"
    expected = dict(duckdb.sql(f"""
        SELECT strftime(time_bucket(INTERVAL 2 MINUTE, ts), '%Y-%m-%d %H:%M:%S.000'), COUNT(*)
        FROM read_json('{data}', columns={{'status': 'VARCHAR', 'product': 'VARCHAR', 'ts': 'TIMESTAMP'}})
        WHERE status IS NOT NULL AND product IS NOT NULL GROUP BY 1""").fetchall())
    assert by_window == expected
    assert not list(tmp_path.rglob(".*inprogress")), "no uncommitted part files are left"


def test_the_readme_first_command_prints_a_whole_table():
    p = run_cli(REPO / "sql_examples" / "01_orders_per_minute.sql", fmt="table")
    assert p.returncode == 0, p.stderr
    table = [ln for ln in p.stdout.splitlines() if ln.startswith(("+", "|"))]
    assert len(table) > 5 and len({len(ln) for ln in table}) == 1, "\n".join(table)
    assert "265.6698529411765 |" in p.stdout
