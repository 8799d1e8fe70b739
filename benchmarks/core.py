"""Core engine throughput: events/s and peak memory over a JSON file, end to end (decode included).

    python -m benchmarks.core [--rows 5000000] [--keys 10000] [--queries filter,tumble,hop]
    python -m benchmarks.core --rows 1000000 --queries interval_join,regular_join   # 1M rows per side

Each query runs in its own process into a blackhole sink; peak RSS is that process's maximum.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

QUERIES = {
    "filter": ("filter + projection",
               "INSERT INTO sink_filter SELECT key, val * 2 AS v2, ts FROM events WHERE val > 500 AND key <> 'k7'"),
    "tumble": ("TUMBLE(10 s) COUNT/SUM per key",
               "INSERT INTO sink_agg SELECT key, window_start, window_end, COUNT(*), SUM(val) "
               "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
               "GROUP BY key, window_start, window_end"),
    "hop": ("HOP(10 s size, 2 s slide) COUNT/SUM per key",
            "INSERT INTO sink_agg SELECT key, window_start, window_end, COUNT(*), SUM(val) "
            "FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '10' SECOND)) "
            "GROUP BY key, window_start, window_end"),
    "interval_join": ("interval join (self, key+val, +-1 s)",
                      "INSERT INTO sink_join SELECT a.key, a.val, b.ts FROM events a JOIN events_b b "
                      "ON a.key = b.key AND a.val = b.val "
                      "AND b.ts BETWEEN a.ts - INTERVAL '1' SECOND AND a.ts + INTERVAL '1' SECOND"),
    "regular_join": ("regular join (self, key+val)",
                     "INSERT INTO sink_join SELECT a.key, a.val, b.ts FROM events a JOIN events_b b "
                     "ON a.key = b.key AND a.val = b.val"),
    "left_join": ("LEFT join (self, key+val)",
                  "INSERT INTO sink_join SELECT a.key, a.val, b.ts FROM events a LEFT JOIN events_b b "
                  "ON a.key = b.key AND a.val = b.val"),
    "over_rows": ("OVER ROWS 10 PRECEDING COUNT/SUM/MAX per key",
                  "INSERT INTO sink_over SELECT key, val, COUNT(*) OVER w, SUM(val) OVER w, MAX(val) OVER w "
                  "FROM events WINDOW w AS (PARTITION BY key ORDER BY ts ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)"),
    "over_unbounded": ("OVER UNBOUNDED PRECEDING COUNT/SUM/MAX per key",
                       "INSERT INTO sink_over SELECT key, val, COUNT(*) OVER w, SUM(val) OVER w, MAX(val) OVER w "
                       "FROM events WINDOW w AS (PARTITION BY key ORDER BY ts "
                       "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"),
    "over_range": ("OVER RANGE 5 s PRECEDING COUNT/AVG/MIN per key",
                   "INSERT INTO sink_over SELECT key, val, COUNT(*) OVER w, AVG(val) OVER w, MIN(val) OVER w "
                   "FROM events WINDOW w AS (PARTITION BY key ORDER BY ts "
                   "RANGE BETWEEN INTERVAL '5' SECOND PRECEDING AND CURRENT ROW)"),
    "match_simple": ("MATCH_RECOGNIZE three low then a high, per key",
                     "INSERT INTO sink_match SELECT * FROM events MATCH_RECOGNIZE (PARTITION BY key ORDER BY ts "
                     "MEASURES FIRST(L.ts) AS t0, H.val AS high AFTER MATCH SKIP PAST LAST ROW "
                     "PATTERN (L{3} H) WITHIN INTERVAL '5' SECOND DEFINE L AS L.val < 300, H AS H.val > 900) AS m"),
    "match_v_shape": ("MATCH_RECOGNIZE V-shape (navigating DEFINE), per key",
                      "INSERT INTO sink_match SELECT * FROM events MATCH_RECOGNIZE (PARTITION BY key ORDER BY ts "
                      "MEASURES FIRST(D.ts) AS t0, LAST(U.val) AS high AFTER MATCH SKIP PAST LAST ROW "
                      "PATTERN (S D+ U) DEFINE D AS D.val < COALESCE(LAST(D.val, 1), S.val), "
                      "U AS U.val > LAST(D.val)) AS m"),
}

DDL = """
CREATE TABLE events (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
CREATE TABLE events_b (key STRING, val BIGINT, payload STRING, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
CREATE TABLE sink_filter (key STRING, v2 BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'blackhole');
CREATE TABLE sink_join (key STRING, val BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'blackhole');
CREATE TABLE sink_over (key STRING, val BIGINT, c BIGINT, s BIGINT, m BIGINT) WITH ('connector' = 'blackhole');
CREATE TABLE sink_match (key STRING, t0 TIMESTAMP(3), high BIGINT) WITH ('connector' = 'blackhole');
CREATE TABLE sink_agg (key STRING, ws TIMESTAMP(3), we TIMESTAMP(3), cnt BIGINT, total BIGINT)
WITH ('connector' = 'blackhole');
"""


def make_data(path: str, rows: int, keys: int, seed: int = 7) -> None:
    """JSON lines: key (k0..kN), val, payload, ts advancing 1 ms per row with up to 500 ms disorder."""
    rng = np.random.default_rng(seed)
    start = 1_700_000_000_000
    with open(path + ".tmp", "w") as f:
        for lo in range(0, rows, 500_000):
            n = min(500_000, rows - lo)
            k = rng.integers(0, keys, n)
            v = rng.integers(0, 1000, n)
            ts = start + np.arange(lo, lo + n) - rng.integers(0, 500, n)
            stamp = (np.datetime64("1970-01-01T00:00:00.000") + ts.astype("timedelta64[ms]")).astype(str)
            f.write("".join(f'{{"key":"k{a}","val":{b},"payload":"abcdefghij","ts":"{c.replace("T", " ")}"}}\n'
                            for a, b, c in zip(k, v, stamp)))
    os.replace(path + ".tmp", path)


def run_one(path: str, query: str, checkpoint_interval: str | None = None) -> dict:
    from sqlstream.script import ScriptRunner, RestoreOptions
    import io
    import tempfile
    sql = DDL.format(path=path) + QUERIES[query][1] + ";"
    if checkpoint_interval:
        folder = tempfile.mkdtemp(prefix="sqlstream_ckpt_")
        sql = (f"SET 'execution.checkpointing.interval' = '{checkpoint_interval}';\n"
               f"SET 'execution.checkpointing.dir' = '{folder}';\n") + sql
    err = io.StringIO()
    t0 = time.perf_counter()
    ScriptRunner(out=io.StringIO(), err=err, restore=RestoreOptions(fresh=True)).run(sql)
    secs = time.perf_counter() - t0
    checkpoints = int(err.getvalue().split("checkpoints: ")[1].split(",")[0]) if checkpoint_interval else 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows_in = int(err.getvalue().split("rows in: ")[1].split(",")[0])
    return {"query": query, "rows": rows_in, "seconds": secs, "events_per_s": rows_in / secs, "peak_rss": rss,
            "checkpoints": checkpoints}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--queries", default="filter,tumble,hop")
    ap.add_argument("--data", default="/tmp/sqlstream_bench")
    ap.add_argument("--checkpoint-interval", default=None,
                    help="also run each query with checkpoints at this interval (e.g. '1 s') and report the overhead")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    path = os.path.join(a.data, f"events_{a.rows}_{a.keys}.json")
    if a.one:
        print(json.dumps(run_one(path, a.one, a.checkpoint_interval)))
        return 0
    os.makedirs(a.data, exist_ok=True)
    if not os.path.exists(path):
        print(f"generating {a.rows:,} rows -> {path}", file=sys.stderr)
        make_data(path, a.rows, a.keys)
    print(f"{'query':<46} {'events':>10} {'seconds':>8} {'events/s':>12} {'peak RSS':>10}")
    for q in a.queries.split(","):
        runs = [None] + ([a.checkpoint_interval] if a.checkpoint_interval else [])
        base = None
        for interval in runs:
            cmd = [sys.executable, "-m", "benchmarks.core", "--rows", str(a.rows), "--keys", str(a.keys),
                   "--data", a.data, "--one", q] + (["--checkpoint-interval", interval] if interval else [])
            p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
            if p.returncode != 0:
                print(f"{q}: failed\n{p.stderr}", file=sys.stderr)
                continue
            r = json.loads(p.stdout.strip().splitlines()[-1])
            label = QUERIES[q][0] if interval is None else f"  + checkpoints every {interval} ({r['checkpoints']})"
            extra = ""
            if interval is None:
                base = r["events_per_s"]
            elif base:
                extra = f"  overhead {100 * (1 - r['events_per_s'] / base):.1f}%"
            print(f"{label:<46} {r['rows']:>10,} {r['seconds']:>8.2f} {r['events_per_s']:>12,.0f} "
                  f"{r['peak_rss'] / 2**20:>8.0f} MB{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
