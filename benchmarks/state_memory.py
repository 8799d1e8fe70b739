"""Memory of window state: a TUMBLE aggregation with N live keys (all rows in one open window, which fires
only when the input ends), reporting peak RSS, RSS before the job and bytes per key.

    python -m benchmarks.state_memory [--keys 1000000] [--rows 3000000]
"""
from __future__ import annotations

import argparse
import io
import resource
import sys
import time


def rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--rows", type=int, default=3_000_000)
    a = ap.parse_args()
    from sqlstream.script import ScriptRunner
    sql = f"""
CREATE TABLE events (id BIGINT, val BIGINT,
  k AS id % {a.keys}, ts AS CAST('2024-01-01 00:00:00' AS TIMESTAMP(3)), WATERMARK FOR ts AS ts)
WITH ('connector' = 'datagen', 'number-of-rows' = '{a.rows}', 'rows-per-second' = '100000000',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '0', 'fields.id.end' = '{a.rows - 1}',
      'fields.val.min' = '0', 'fields.val.max' = '1000');
CREATE TABLE sink (k BIGINT, ws TIMESTAMP(3), cnt BIGINT, total BIGINT, hi BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT k, window_start, COUNT(*), SUM(val), MAX(val)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' HOUR)) GROUP BY k, window_start, window_end;
"""
    base = rss_now()
    err = io.StringIO()
    t0 = time.perf_counter()
    ScriptRunner(out=io.StringIO(), err=err).run(sql)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows_out = int(err.getvalue().split("rows out: ")[1].split(",")[0])
    print(f"TUMBLE COUNT/SUM/MAX over {a.keys:,} live keys ({a.rows:,} rows, one window): {secs:.2f} s, "
          f"{a.rows / secs:,.0f} rows/s, {rows_out:,} results")
    print(f"RSS before the job {base / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB, "
          f"{(peak - base) / a.keys:.0f} bytes per key above the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
