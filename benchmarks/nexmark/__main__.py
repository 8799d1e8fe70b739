"""Nexmark runner: python -m benchmarks.nexmark [--queries q0,q5] [--events N]

Each supported query reads the generated stream and its rows are counted (a blackhole); the table shows
events, seconds, events/s and peak RSS per query (each query in its own process)."""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from benchmarks.nexmark.queries import DDL, QUERIES, UNSUPPORTED
from connectors.base import SinkWriter


class Counter(SinkWriter):
    """Counts result rows and keeps none."""

    def __init__(self):
        self.rows = 0

    def write(self, batch):
        self.rows += batch.num_rows


def side_input() -> str:
    """q13's side input: 10 000 lines `key,value` (key 0..9999), written once."""
    import tempfile
    path = os.path.join(tempfile.gettempdir(), "nexmark_side_input.csv")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            f.write("".join(f"{k},{k * 7 % 10000}\n" for k in range(10000)))
        os.replace(path + ".tmp", path)
    return path


def run_one(query: str, events: int, rate: int) -> dict:
    import io
    from planner import logical as L
    from sqlstream.script import ScriptRunner
    from sqlstream.session import parse_script
    runner = ScriptRunner(out=io.StringIO(), err=io.StringIO(), summary=False)
    sql = DDL.format(events=events, rate=rate)
    for stmt in parse_script(sql):
        runner.session.execute(stmt, sql)
    text = QUERIES[query].replace("${SIDE_INPUT}", side_input())
    *setup, last = parse_script(text)  # a query may define tables and views first
    for stmt in setup:
        runner.session.execute(stmt, text)
    plan = runner.session.plan(last)
    root = L.Sink(plan.fields, plan.changelog, input=plan, table="<blackhole>", connector="collect")
    counter = Counter()
    t = time.perf_counter()
    runner._run_job_with_writer(root, counter)
    secs = time.perf_counter() - t
    return {"query": query, "events": events, "seconds": secs, "events_per_s": events / secs,
            "rows": counter.rows, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--queries", default=",".join(QUERIES))
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rate", type=int, default=10_000_000, help="event-time rate of the generator (events/s)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one, a.events, a.rate)))
        return 0
    print(f"{'query':<6} {'events':>11} {'seconds':>8} {'events/s':>12} {'rows out':>10} {'peak RSS':>9}")
    for q in a.queries.split(","):
        if QUERIES.get(q) is None:
            print(f"{q:<6} not supported: {UNSUPPORTED.get(q, 'unknown query')}")
            continue
        p = subprocess.run([sys.executable, "-m", "benchmarks.nexmark", "--one", q, "--events", str(a.events),
                            "--rate", str(a.rate)], capture_output=True, text=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
        if p.returncode != 0:
            err = (p.stderr.strip().splitlines() or ["?"])[-1]
            print(f"{q:<6} failed: {err[:150]}")
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{q:<6} {r['events']:>11,} {r['seconds']:>8.2f} {r['events_per_s']:>12,.0f} {r['rows']:>10,} "
              f"{r['peak_rss'] / 2**20:>7.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
