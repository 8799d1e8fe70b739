"""Rescaling from savepoints: a job stopped with a savepoint at parallelism 2, resumed from it at parallelism 3,
stopped again and finished at parallelism 1 commits exactly the output of an uninterrupted run at parallelism 1.
Each subtask's keyed state moves by key-group range (state that cannot be split is refused by name:
tests/test_window_state.py)."""
from __future__ import annotations

import collections
import json
import signal
from pathlib import Path

from sqlstream.runtime.checkpoint import read_checkpoint
from tests.cli_job import CliJob, latest_checkpoint_id

# the runs that are stopped read an unbounded source, so each stop finds its job running however fast it reads;
# the last run and the reference read the same rows up to a bound past where the stopped runs got
RATE, ROWS = 20_000, 40_000
HEAD = """
SET 'parallelism.default' = '{p}';
SET 'execution.checkpointing.interval' = '100 ms';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
SET 'sqlstream.batch-size' = '200';
CREATE TABLE events (id BIGINT, k INT, val BIGINT, key AS CONCAT('k', CAST(k AS STRING)),
  ts AS TO_TIMESTAMP_LTZ(id * 5, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'datagen', 'rows-per-second' = '{rate}',{bound} 'seed' = '7',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{end}',
  'fields.k.min' = '0', 'fields.k.max' = '199', 'fields.val.min' = '0', 'fields.val.max' = '999');
CREATE TEMPORARY VIEW latest AS SELECT key, val, ts FROM (SELECT key, val, ts, ROW_NUMBER() OVER (PARTITION BY key
  ORDER BY ts DESC) AS rn FROM events WHERE val >= 900) WHERE rn = 1;
"""

# name -> (sink columns, sink format, query); every query reads `events` and has a keyed operator
TUMBLE = "TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND))"
SHAPES = {
    "group_by": ("key STRING, cnt BIGINT, total BIGINT", "debezium-json",
                 "SELECT key, COUNT(*), SUM(val) FROM events GROUP BY key"),
    "window": ("key STRING, ws TIMESTAMP(3), cnt BIGINT, total BIGINT", "json",
               f"SELECT key, window_start, COUNT(*), SUM(val) FROM {TUMBLE} GROUP BY key, window_start, window_end"),
    "hop": ("k INT, ws TIMESTAMP(3), cnt BIGINT, top BIGINT", "json",
            "SELECT k, window_start, COUNT(*), MAX(val) FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), "
            "INTERVAL '2' SECOND, INTERVAL '6' SECOND)) GROUP BY k, window_start, window_end"),
    "cascaded": ("g INT, ws TIMESTAMP(3), cnt BIGINT, keys BIGINT", "json",
                 "SELECT g, window_start, SUM(cnt), COUNT(*) FROM (SELECT k, MOD(k, 7) AS g, window_start, "
                 f"window_end, COUNT(*) AS cnt FROM {TUMBLE} GROUP BY k, window_start, window_end) "
                 "GROUP BY g, window_start, window_end"),
    "session": ("key STRING, ws TIMESTAMP(3), we TIMESTAMP(3), cnt BIGINT, total BIGINT", "json",
                "SELECT key, window_start, window_end, COUNT(*), SUM(val) FROM TABLE(SESSION(TABLE events "
                "PARTITION BY key, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY key, window_start, window_end"),
    "join": ("key STRING, cnt BIGINT, top BIGINT", "debezium-json",
             "SELECT a.key, a.cnt, b.top FROM (SELECT key, COUNT(*) AS cnt FROM events WHERE val < 500 GROUP BY key) a "
             "JOIN (SELECT key, MAX(val) AS top FROM events GROUP BY key) b ON a.key = b.key"),
    "top_n": ("key STRING, val BIGINT, rn BIGINT", "debezium-json",
              "SELECT key, val, rn FROM (SELECT key, val, ROW_NUMBER() OVER (PARTITION BY key ORDER BY val DESC) AS rn "
              "FROM events) WHERE rn <= 3"),
    "dedup": ("key STRING, val BIGINT, ts TIMESTAMP_LTZ(3)", "json",
              "SELECT key, val, ts FROM (SELECT key, val, ts, ROW_NUMBER() OVER (PARTITION BY key ORDER BY ts) AS rn "
              "FROM events) WHERE rn = 1"),
    "dedup_last": ("key STRING, val BIGINT, ts TIMESTAMP_LTZ(3)", "debezium-json",
                   "SELECT key, val, ts FROM (SELECT key, val, ts, ROW_NUMBER() OVER (PARTITION BY key "
                   "ORDER BY ts DESC) AS rn FROM events WHERE val < 100) WHERE rn = 1"),
    "over": ("key STRING, val BIGINT, total BIGINT, top BIGINT", "json",
             "SELECT key, val, SUM(val) OVER w, MAX(val) OVER w FROM events "
             "WINDOW w AS (PARTITION BY key ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)"),
    "match": ("key STRING, v0 BIGINT, n BIGINT, last_val BIGINT", "json",
              "SELECT * FROM events MATCH_RECOGNIZE (PARTITION BY key ORDER BY ts MEASURES FIRST(A.val) AS v0, "
              "COUNT(A.val) AS n, B.val AS last_val AFTER MATCH SKIP PAST LAST ROW PATTERN (A+? B) "
              "DEFINE A AS A.val < 700, B AS B.val > AVG(A.val) + 200) AS T"),
    "window_topn": ("k INT, ws TIMESTAMP(3), val BIGINT, id BIGINT, rn BIGINT", "json",
                    "SELECT k, window_start, val, id, rn FROM (SELECT k, window_start, window_end, val, id, "
                    "ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY val DESC) AS rn "
                    f"FROM {TUMBLE}) WHERE rn <= 2 AND k < 50"),
    "window_join": ("k INT, ws TIMESTAMP(3), lid BIGINT, rid BIGINT", "json",
                    f"SELECT L.k, L.window_start, L.id, R.id FROM (SELECT * FROM {TUMBLE} WHERE val < 100) L "
                    f"JOIN (SELECT * FROM {TUMBLE} WHERE val >= 900) R ON L.k = R.k "
                    "AND L.window_start = R.window_start AND L.window_end = R.window_end"),
    "interval_join": ("id BIGINT, key STRING, rid BIGINT", "json",
                      "SELECT a.id, a.key, b.id FROM (SELECT * FROM events WHERE val < 50) a LEFT JOIN "
                      "(SELECT * FROM events WHERE val >= 900) b ON a.key = b.key "
                      "AND b.ts BETWEEN a.ts - INTERVAL '2' SECOND AND a.ts + INTERVAL '1' SECOND"),
    "temporal_join": ("id BIGINT, key STRING, val BIGINT", "json",
                      "SELECT o.id, o.key, v.val FROM (SELECT * FROM events WHERE val < 50) AS o "
                      "LEFT JOIN latest FOR SYSTEM_TIME AS OF o.ts AS v ON o.key = v.key"),
    "except_all": ("key STRING, val BIGINT", "debezium-json",
                   "SELECT key, val FROM events WHERE val < 300 EXCEPT ALL "
                   "SELECT key, val FROM events WHERE val > 200 AND val < 260"),
}
# a join of two updating inputs: after a restore the two inputs' changes may reach it in another interleaving
# (as in Flink), so its changelog may differ on the way while the result it adds up to is the same
INTERLEAVED = {"join"}


def write_job(folder: Path, shapes: list[str], p: int, rows: int | None = ROWS) -> Path:
    """One job writing each shape's query into its own sink (out_<shape>): the shapes share the job's runs. Its
    source gives `rows` rows (None: without end); row i is the same whatever the bound."""
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "job.sql"
    text = HEAD.format(p=p, dir=folder, rate=RATE, bound=f" 'number-of-rows' = '{rows}'," if rows else "",
                       end=rows or 10 ** 15)
    for shape in shapes:
        columns, fmt, query = SHAPES[shape]
        text += (f"CREATE TABLE out_{shape} ({columns}) WITH ('connector' = 'filesystem', "
                 f"'path' = '{folder}/out_{shape}', 'format' = '{fmt}');\n")
    job.write_text(text + "".join(f"INSERT INTO out_{shape} {SHAPES[shape][2]};\n" for shape in shapes))
    return job


def net_rows(lines: collections.Counter) -> collections.Counter:
    """The rows a debezium-json changelog adds up to: each row put in ('c') less each row taken back ('d')."""
    net: collections.Counter = collections.Counter()
    for line, n in lines.items():
        change = json.loads(line)
        if change["after"] is not None:
            net[json.dumps(change["after"], sort_keys=True)] += n
        if change["before"] is not None:
            net[json.dumps(change["before"], sort_keys=True)] -= n
    return +net


def committed(folder: Path, shape: str) -> collections.Counter:
    d = folder / f"out_{shape}"
    files = sorted(f for f in d.glob("*part-*") if not f.name.startswith(".")) if d.exists() else []
    return collections.Counter(line for f in files for line in f.read_text().splitlines() if line)


def stop_with_savepoint(job: CliJob, folder: Path, how: str) -> str:
    """Wait for a checkpoint of this run, then stop the job with a savepoint (SIGTERM, or the CLI's
    `savepoint --stop`); the savepoint's location."""
    target = latest_checkpoint_id(folder / "checkpoints") + 1
    job.wait_for(lambda: latest_checkpoint_id(folder / "checkpoints") >= target, f"checkpoint {target}")
    if how == "signal":
        job.signal(signal.SIGTERM)
    else:
        r = job.request_savepoint("--stop")
        assert r.returncode == 0, r.stderr
    rc, _, err = job.finish()
    assert rc == 0 and "savepoint written to " in err, err
    return err.split("savepoint written to ")[1].split()[0].rstrip(";")


def test_rescaling_2_3_1_from_savepoints_gives_the_uninterrupted_output(tmp_path):
    """Every shape in one job: one reference run and one savepoint cycle for all."""
    shapes = sorted(SHAPES)
    folder = tmp_path / "rescaled"
    savepoint = stop_with_savepoint(CliJob(write_job(folder, shapes, 2, rows=None)), folder, "signal")
    stopped = {shape: committed(folder, shape) for shape in shapes}
    job = CliJob(write_job(folder, shapes, 3, rows=None), "--from-savepoint", savepoint)
    job.wait_for(lambda: "restored from savepoint" in job.err, "the restore")
    savepoint = stop_with_savepoint(job, folder, "cli")
    rows = max(position for positions in read_checkpoint(savepoint)[0]["positions"].values()
               for position in positions) + ROWS // 2
    rc, _, err = CliJob(write_job(folder, shapes, 1, rows), "--from-savepoint", savepoint).finish()
    assert rc == 0, err

    reference = tmp_path / "reference"
    rc, _, err = CliJob(write_job(reference, shapes, 1, rows)).finish()
    assert rc == 0, err
    for shape in shapes:
        want, got = committed(reference, shape), committed(folder, shape)
        assert sum(want.values()) > 100, shape
        assert stopped[shape] != want, f"{shape}: stopped mid-stream"
        if shape in INTERLEAVED:
            want, got = net_rows(want), net_rows(got)
        assert got == want, (f"{shape}: {sum((want - got).values())} missing, "
                             f"{sum((got - want).values())} duplicated or unexpected")
