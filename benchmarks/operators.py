"""Operator shapes fed by the Nexmark generator: events/s per CPU second of the process, one core.

    python -m benchmarks.operators [--events 3000000] [--shapes session,over_rows,topn_updating,topn_append]

Each shape runs in its own process into a blackhole. The figure is events over the CPU time (user + system,
`resource.getrusage`) of running the job, not wall time, so that other work on a shared machine does not count;
the generator and the operators upstream of the measured one are included. The generator's event time runs at
100 000 events/s, so that watermarks pass (and release OVER rows, fire sessions) while the job runs rather than
once at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

from benchmarks.nexmark.queries import generator_ddl

SHAPES = {
    "session": ("SESSION(10 s) per bidder, COUNT/MAX",
                "SELECT bidder, COUNT(*), MAX(price), window_start, window_end "
                "FROM TABLE(SESSION(TABLE bid PARTITION BY bidder, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND)) "
                "GROUP BY bidder, window_start, window_end"),
    "over_rows": ("OVER ROWS 10 PRECEDING COUNT/SUM/MAX per auction",
                  "SELECT auction, price, COUNT(*) OVER w, SUM(price) OVER w, MAX(price) OVER w FROM bid "
                  "WINDOW w AS (PARTITION BY auction ORDER BY `dateTime` ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)"),
    "over_range": ("OVER RANGE 2 s PRECEDING COUNT/AVG/MIN per bidder",
                   "SELECT bidder, price, COUNT(*) OVER w, AVG(price) OVER w, MIN(price) OVER w FROM bid "
                   "WINDOW w AS (PARTITION BY bidder ORDER BY `dateTime` "
                   "RANGE BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW)"),
    "over_values": ("OVER ROWS 10 FIRST_VALUE/LAST_VALUE/COUNT(DISTINCT) per auction",
                    "SELECT auction, price, FIRST_VALUE(bidder) OVER w, LAST_VALUE(channel) OVER w, "
                    "COUNT(DISTINCT bidder) OVER w FROM bid WINDOW w AS (PARTITION BY auction ORDER BY `dateTime` "
                    "ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)"),
    "over_unbounded": ("OVER UNBOUNDED PRECEDING COUNT/SUM per auction",
                       "SELECT auction, price, COUNT(*) OVER w, SUM(price) OVER w FROM bid "
                       "WINDOW w AS (PARTITION BY auction ORDER BY `dateTime` "
                       "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"),
    "topn_updating": ("Top-3 auctions by bid count per bidder (over GROUP BY)",
                      "SELECT bidder, auction, cnt FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder "
                      "ORDER BY cnt DESC) AS rn FROM (SELECT bidder, auction, COUNT(*) AS cnt FROM bid "
                      "GROUP BY bidder, auction)) WHERE rn <= 3"),
    "group_count": ("GROUP BY bidder, auction COUNT(*) (updating)",
                    "SELECT bidder, auction, COUNT(*) AS cnt FROM bid GROUP BY bidder, auction"),
    "topn_updating_few": ("Top-3 auctions by bid count per auction % 16 (over GROUP BY)",
                          "SELECT p, auction, cnt FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY p "
                          "ORDER BY cnt DESC) AS rn FROM (SELECT MOD(auction, 16) AS p, auction, COUNT(*) AS cnt "
                          "FROM bid GROUP BY MOD(auction, 16), auction)) WHERE rn <= 3"),
    "topn_append": ("Top-3 bids by price per auction (insert-only input)",
                    "SELECT auction, bidder, price FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction "
                    "ORDER BY price DESC) AS rn FROM bid) WHERE rn <= 3"),
    "top1_append": ("Highest bid per auction (Top-1, insert-only input)",
                    "SELECT auction, bidder, price FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction "
                    "ORDER BY price DESC) AS rn FROM bid) WHERE rn = 1"),
    "left_join_updating": ("LEFT JOIN of two GROUP BY results (updating), per auction",
                           "SELECT a.auction, a.cnt, b.top FROM (SELECT auction, COUNT(*) AS cnt FROM bid "
                           "GROUP BY auction) a LEFT JOIN (SELECT auction, MAX(price) AS top FROM bid "
                           "WHERE price > 5000000 GROUP BY auction) b ON a.auction = b.auction"),
    "semi_join_updating": ("IN over a GROUP BY result (updating), per bidder",
                           "SELECT auction, bidder, price FROM bid WHERE bidder IN (SELECT bidder FROM "
                           "(SELECT bidder, MAX(price) AS top FROM bid GROUP BY bidder) WHERE top > 9000000)"),
    "anti_join_updating": ("NOT EXISTS over a GROUP BY result (updating), per bidder",
                           "SELECT auction, bidder, price FROM bid b WHERE NOT EXISTS (SELECT 1 FROM "
                           "(SELECT bidder, MAX(price) AS top FROM bid GROUP BY bidder) g "
                           "WHERE g.bidder = b.bidder AND g.top > 9000000)"),
    "not_in": ("NOT IN over a GROUP BY result (updating)",
               "SELECT auction, bidder, price FROM bid WHERE bidder NOT IN (SELECT bidder FROM "
               "(SELECT bidder, MAX(price) AS top FROM bid GROUP BY bidder) WHERE top > 9000000)"),
    "match_v_shape": ("MATCH_RECOGNIZE V-shape, navigating DEFINE, per auction",
                      "SELECT * FROM bid MATCH_RECOGNIZE (PARTITION BY auction ORDER BY `dateTime` "
                      "MEASURES FIRST(D.price) AS p0, LAST(U.price) AS high AFTER MATCH SKIP PAST LAST ROW "
                      "PATTERN (S D+ U) DEFINE D AS D.price < COALESCE(LAST(D.price, 1), S.price), "
                      "U AS U.price > LAST(D.price)) AS m"),
    "match_simple": ("MATCH_RECOGNIZE three low then a high, per auction",
                     "SELECT * FROM bid MATCH_RECOGNIZE (PARTITION BY auction ORDER BY `dateTime` "
                     "MEASURES FIRST(L.price) AS p0, H.price AS high AFTER MATCH SKIP PAST LAST ROW "
                     "PATTERN (L{3} H) DEFINE L AS L.price < 3000000, H AS H.price > 9000000) AS m"),
}


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_one(shape: str, events: int, rate: int) -> dict:
    import io
    from benchmarks.nexmark.__main__ import Counter
    from sqlstream.plan import logical as L
    from sqlstream.script import ScriptRunner
    from sqlstream.session import parse_script
    runner = ScriptRunner(out=io.StringIO(), err=io.StringIO(), summary=False)
    text = generator_ddl(events, rate) + "\n" + SHAPES[shape][1] + ";\n"
    *setup, last = parse_script(text)
    for stmt in setup:
        runner.session.execute(stmt, text)
    plan = runner.session.plan(last)
    root = L.Sink(plan.fields, plan.changelog, input=plan, table="<blackhole>", connector="collect")
    counter = Counter()
    c0 = cpu_seconds()
    runner.run_query(root, counter)
    cpu = cpu_seconds() - c0
    return {"shape": shape, "events": events, "cpu_s": cpu, "events_per_cpu_s": events / cpu, "rows": counter.rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=3_000_000)
    ap.add_argument("--rate", type=int, default=100_000, help="the generator's first-event.rate")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one, a.events, a.rate)))
        return 0
    print(f"{'shape':<58} {'events':>10} {'CPU s':>7} {'events/CPU s':>13} {'rows out':>10}")
    for s in a.shapes.split(","):
        p = subprocess.run([sys.executable, "-m", "benchmarks.operators", "--events", str(a.events), "--rate",
                            str(a.rate), "--one", s], capture_output=True, text=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
        if p.returncode != 0:
            print(f"{s}: failed\n{p.stderr}", file=sys.stderr)
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{SHAPES[s][0]:<58} {r['events']:>10,} {r['cpu_s']:>7.2f} {r['events_per_cpu_s']:>13,.0f} "
              f"{r['rows']:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
