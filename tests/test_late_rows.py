"""Late rows as data: 'table.exec.late-rows.sink' sends every row an operator drops as late into a table."""
import io
import json
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from sqlstream.core.errors import ValidationError
from sqlstream.script import ScriptRunner
from sqlstream.session import Session

WINDOW_MS = 5000


def shop_orders(path: Path, n: int = 3000, late_share: float = 0.08, seed: int = 7) -> list[dict]:
    """Orders of 5 shops, mostly in time order; `late_share` of them arrive 6-20 s behind (past the 2 s
    watermark delay, so most of those land in windows that already fired)."""
    rng = random.Random(seed)
    t = 1_700_000_000_000
    rows = []
    for i in range(n):
        t += rng.randint(0, 400)
        ts = t - (rng.randint(6000, 20000) if rng.random() < late_share else rng.randint(0, 1500))
        rows.append({"order_id": i, "shop": f"s{i % 5}", "amount": i,
                     "ts": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts // 1000)) + f".{ts % 1000:03d}"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def run(sql: str, batch_size: int | None = None) -> str:
    err = io.StringIO()
    ScriptRunner(Session(), out=io.StringIO(), err=err, batch_size=batch_size).run(sql)
    return err.getvalue()


def read_json_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(folder.iterdir()) if not f.name.startswith(".")
            for line in f.read_text().splitlines()]


def window_of(ts: str) -> str:
    ms = int(time.mktime(time.strptime(ts[:19], "%Y-%m-%d %H:%M:%S")) - time.timezone) * 1000 + int(ts[20:23])
    start = ms // WINDOW_MS * WINDOW_MS
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start // 1000))


SHOP_JOB = """
SET 'table.exec.late-rows.sink' = 'late_orders';
CREATE TABLE orders (order_id BIGINT, shop STRING, amount BIGINT, ts TIMESTAMP(3),
                     WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH ('connector' = 'filesystem', 'path' = '{d}/orders.json', 'format' = 'json');
CREATE TABLE totals (shop STRING, window_start TIMESTAMP(3), n BIGINT, amount BIGINT)
  WITH ('connector' = 'filesystem', 'path' = '{d}/{out}/totals', 'format' = 'json');
CREATE TABLE late_orders (shop STRING, amount BIGINT, ts TIMESTAMP(3), late_operator STRING,
                          late_rowtime TIMESTAMP(3), late_watermark TIMESTAMP(3))
  WITH ('connector' = 'filesystem', 'path' = '{d}/{out}/late', 'format' = 'json');
INSERT INTO totals
SELECT shop, window_start, COUNT(*), SUM(amount)
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '5' SECOND))
GROUP BY shop, window_start, window_end;
"""


@pytest.mark.parametrize("batch_size", [1, 7, 10000])
def test_every_shop_order_is_in_a_window_result_or_in_the_late_table(tmp_path, batch_size):
    orders = shop_orders(tmp_path / "orders.json")
    summary = run(SHOP_JOB.format(d=tmp_path, out="out"), batch_size)
    totals = read_json_lines(tmp_path / "out" / "totals")
    late = read_json_lines(tmp_path / "out" / "late")
    assert 0.03 * len(orders) < len(late) < 0.08 * len(orders), "most of the 8% arrive after their window fired"
    assert f"late rows dropped: {len(late)}" in summary and f"late rows written to late_orders: {len(late)}" in summary
    # none lost: per shop and window, the rows counted in the result plus the late rows are the input rows
    counted = Counter()
    for r in totals:
        counted[r["shop"], r["window_start"][:19]] += r["n"]
    for r in late:
        counted[r["shop"], window_of(r["ts"])] += 1
    assert counted == Counter((o["shop"], window_of(o["ts"])) for o in orders)
    assert sum(r["amount"] for r in totals) + sum(r["amount"] for r in late) == sum(o["amount"] for o in orders)
    # each late row says which operator dropped it, its time and the watermark that had passed its window
    by_amount = {o["amount"]: o for o in orders}
    for r in late:
        assert r["late_operator"].endswith("WindowAggregate")
        assert r["late_rowtime"] == r["ts"] == by_amount[r["amount"]]["ts"]
        assert window_of(r["ts"]) < r["late_watermark"] and r["late_rowtime"] < r["late_watermark"]
    if batch_size == 1:
        other = tmp_path / "again"
        run(SHOP_JOB.format(d=tmp_path, out="again"), 10000)
        assert sorted(map(json.dumps, read_json_lines(other / "late"))) == sorted(map(json.dumps, late)), \
            "the same rows are late whatever the batch size"


def test_late_rows_of_over_match_recognize_session_windows_and_window_top_n(tmp_path):
    rows = [("a", 1, "2024-01-01 00:00:10"), ("a", 2, "2024-01-01 00:00:20"), ("a", 3, "2024-01-01 00:00:05"),
            ("a", 4, "2024-01-01 00:00:30"), ("a", 5, "2024-01-01 00:00:01")]
    (tmp_path / "ev.csv").write_text("".join(f"{k},{v},{t}\n" for k, v, t in rows))
    source = (f"CREATE TABLE ev (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ("
              f"'connector' = 'filesystem', 'path' = '{tmp_path}/ev.csv', 'format' = 'csv');")
    queries = {
        "OverAggregate": "SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY ts) FROM ev",
        "MatchRecognize": "SELECT * FROM ev MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES A.v AS av "
                          "PATTERN (A) DEFINE A AS A.v > 0)",
        "WindowAggregate": "SELECT k, window_start, SUM(v) FROM TABLE(SESSION(TABLE ev PARTITION BY k, "
                                  "DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY k, window_start, window_end",
    }
    queries["WindowRank"] = ("SELECT k, v, window_start FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, "
                             "window_end ORDER BY v DESC) AS rn FROM TABLE(TUMBLE(TABLE ev, DESCRIPTOR(ts), "
                             "INTERVAL '5' SECOND))) WHERE rn <= 1")
    for name, query in queries.items():
        out = tmp_path / name
        # one row per batch: a window Top-N judges lateness by the watermark it was sent before the batch
        run(f"SET 'table.exec.late-rows.sink' = 'late';SET 'sqlstream.batch-size' = '1';{source}"
            f"CREATE TABLE late (v INT, late_operator STRING, late_watermark TIMESTAMP(3)) WITH ("
            f"'connector' = 'filesystem', 'path' = '{out}/late', 'format' = 'json');"
            f"CREATE TABLE sink WITH ('connector' = 'blackhole') AS {query};")
        late = read_json_lines(out / "late")
        assert [(r["v"], r["late_watermark"]) for r in late] == [(3, "2024-01-01 00:00:20.000"),
                                                                  (5, "2024-01-01 00:00:30.000")], name
        assert all(r["late_operator"].endswith(name) for r in late), late


def test_a_late_rows_table_column_no_operator_reads_is_a_clear_error(tmp_path):
    shop_orders(tmp_path / "orders.json", n=10)
    sql = SHOP_JOB.format(d=tmp_path, out="out").replace("late_watermark TIMESTAMP(3))",
                                                               "late_watermark TIMESTAMP(3), order_id BIGINT)")
    with pytest.raises(ValidationError, match=r"Late-rows table 'late_orders' \(table.exec.late-rows.sink\) has "
                                              r"column\(s\) order_id that no operator dropping late rows can fill;.*"
                                              r"the columns those operators read: amount, shop, ts"):
        run(sql)
    with pytest.raises(ValidationError, match="'table.exec.late-rows.sink' = 'nowhere': Object 'nowhere' not found"):
        run(SHOP_JOB.format(d=tmp_path, out="out").replace("= 'late_orders'", "= 'nowhere'"))


def test_late_rows_are_written_exactly_once_across_a_kill_and_restore(tmp_path):
    from tests.cli_job import CliJob, latest_checkpoint_id
    orders = shop_orders(tmp_path / "orders.json", n=60_000)

    def job(out: str) -> Path:
        path = tmp_path / f"{out}.sql"
        path.write_text(f"SET 'execution.checkpointing.interval' = '100 ms';\n"
                        f"SET 'execution.checkpointing.dir' = '{tmp_path}/{out}/checkpoints';\n"
                        f"SET 'sqlstream.batch-size' = '200';\n" + SHOP_JOB.format(d=tmp_path, out=out))
        return path
    rc, _, err = CliJob(job("whole")).finish()
    assert rc == 0, err
    killed = CliJob(job("killed"))
    killed.wait_for(lambda: latest_checkpoint_id(tmp_path / "killed" / "checkpoints") >= 2 or killed.exited(),
                    "a second checkpoint")
    was_killed = not killed.exited()
    killed.kill()
    killed.finish()
    rc, _, err = CliJob(job("killed")).finish()
    assert rc == 0, err
    assert not was_killed or "restored from checkpoint" in err
    for sink in ("late", "totals"):
        whole = sorted(map(json.dumps, read_json_lines(tmp_path / "whole" / sink)))
        again = sorted(map(json.dumps, read_json_lines(tmp_path / "killed" / sink)))
        assert again == whole, f"{sink}: the killed and restored run wrote other rows"
    late = read_json_lines(tmp_path / "killed" / "late")
    counted = sum(r["n"] for r in read_json_lines(tmp_path / "killed" / "totals"))
    assert counted + len(late) == len(orders) and late


def test_late_rows_of_a_window_join_come_from_the_side_that_sent_them(tmp_path):
    # the right side is read after the left one: its last row comes when both sides' watermarks passed 00:00:05
    for side, rows in (("l", [(1, "00:00:10"), (2, "00:00:20"), (3, "00:00:30"), (4, "00:00:31")]),
                       ("r", [(11, "00:00:10"), (12, "00:00:20"), (13, "00:00:30"), (14, "00:00:01")])):
        (tmp_path / f"{side}.csv").write_text("".join(f"a,{v},2024-01-01 {t}\n" for v, t in rows))
    tables = "".join(f"CREATE TABLE {side} (k STRING, {side}v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ("
                     f"'connector' = 'filesystem', 'path' = '{tmp_path}/{side}.csv', 'format' = 'csv');"
                     for side in ("l", "r"))
    windows = {side: f"(SELECT * FROM TABLE(TUMBLE(TABLE {side}, DESCRIPTOR(ts), INTERVAL '5' SECOND)))"
               for side in ("l", "r")}
    summary = run(f"SET 'table.exec.late-rows.sink' = 'late';SET 'sqlstream.batch-size' = '1';{tables}"
                  f"CREATE TABLE late (k STRING, lv INT, rv INT, late_operator STRING, late_rowtime TIMESTAMP(3)) "
                  f"WITH ('connector' = 'filesystem', 'path' = '{tmp_path}/late', 'format' = 'json');"
                  f"CREATE TABLE sink WITH ('connector' = 'blackhole') AS SELECT L.lv, R.rv FROM {windows['l']} L "
                  f"JOIN {windows['r']} R ON L.k = R.k AND L.window_start = R.window_start "
                  f"AND L.window_end = R.window_end;")
    late = read_json_lines(tmp_path / "late")
    assert [(r["k"], r["lv"], r["rv"], r["late_rowtime"]) for r in late] == [("a", None, 14, "2024-01-01 00:00:04.999")]
    assert late[0]["late_operator"].endswith("WindowJoin") and "late rows dropped: 1" in summary


def test_rows_an_interval_join_can_no_longer_match_go_to_the_late_rows_table(tmp_path):
    # the right side is read after the left one: its last row comes when both watermarks passed its interval
    for side, rows in (("l", [(1, "00:00:10"), (2, "00:00:20"), (3, "00:00:30"), (4, "00:00:31")]),
                       ("r", [(11, "00:00:10"), (12, "00:00:20"), (13, "00:00:30"), (14, "00:00:01")])):
        (tmp_path / f"{side}.csv").write_text("".join(f"a,{v},2024-01-01 {t}\n" for v, t in rows))
    tables = "".join(f"CREATE TABLE {side} (k STRING, {side}v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ("
                     f"'connector' = 'filesystem', 'path' = '{tmp_path}/{side}.csv', 'format' = 'csv');"
                     for side in ("l", "r"))
    run(f"SET 'table.exec.late-rows.sink' = 'late';SET 'sqlstream.batch-size' = '1';{tables}"
        f"CREATE TABLE late (lv INT, rv INT, late_operator STRING, late_rowtime TIMESTAMP(3), "
        f"late_watermark TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '{tmp_path}/late', "
        f"'format' = 'json');"
        f"CREATE TABLE sink WITH ('connector' = 'blackhole') AS SELECT l.lv, r.rv FROM l JOIN r ON l.k = r.k "
        f"AND l.ts BETWEEN r.ts - INTERVAL '1' SECOND AND r.ts + INTERVAL '1' SECOND;")
    late = read_json_lines(tmp_path / "late")
    assert [(r["lv"], r["rv"], r["late_rowtime"], r["late_watermark"]) for r in late] == [
        (None, 14, "2024-01-01 00:00:01.000", "2024-01-01 00:00:30.000")]
    assert late[0]["late_operator"].endswith("IntervalJoin")
