"""Lookup join into PostgreSQL: events/s of `JOIN dim FOR SYSTEM_TIME AS OF e.proc` against a 100k-row table.

    taskset -c 0 python -m benchmarks.jdbc_lookup [--events 2000000] [--dim-rows 100000] [--batch 65536]

Starts its own PostgreSQL server (as the tests do), fills the dimension table, then runs in one process each:
datagen -> blackhole (the source alone), and datagen -> lookup join -> blackhole with the partial cache on and
with no cache. Event keys are uniform over the dimension's ids, so after the first batches every key is cached.
"""
from __future__ import annotations

import argparse
import io
import time

from tests.postgres_server import PostgresServer

EVENTS = """CREATE TABLE events (id BIGINT, k BIGINT, amount INT, proc AS PROCTIME()) WITH (
  'connector' = 'datagen', 'number-of-rows' = '{events}', 'rows-per-second' = '0', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1',
  'fields.id.end' = '{events}', 'fields.k.min' = '1', 'fields.k.max' = '{dim}', 'fields.amount.min' = '1',
  'fields.amount.max' = '100');
CREATE TABLE out_plain (id BIGINT, k BIGINT, amount INT) WITH ('connector' = 'blackhole');
CREATE TABLE out_joined (id BIGINT, amount INT, name STRING, category STRING, price DECIMAL(10, 2))
  WITH ('connector' = 'blackhole');
"""
DIM = """CREATE TABLE dim (id BIGINT, name STRING, category STRING, price DECIMAL(10, 2)) WITH (
  'connector' = 'jdbc', 'url' = '{url}', 'table-name' = 'dim', 'username' = 'postgres'{cache});
"""
PLAIN = "INSERT INTO out_plain SELECT id, k, amount FROM events;"
JOINED = ("INSERT INTO out_joined SELECT e.id, e.amount, d.name, d.category, d.price FROM events AS e "
          "JOIN dim FOR SYSTEM_TIME AS OF e.proc AS d ON e.k = d.id;")


def run(sql: str, batch: int) -> float:
    from sqlstream.script import ScriptRunner
    start = time.perf_counter()
    ScriptRunner(out=io.StringIO(), err=io.StringIO(), batch_size=batch).run(sql)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--dim-rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=65536)
    args = ap.parse_args()
    pg = PostgresServer()
    try:
        pg.execute("CREATE TABLE dim (id BIGINT PRIMARY KEY, name TEXT, category TEXT, price NUMERIC(10, 2))")
        pg.execute("INSERT INTO dim SELECT i, 'product ' || i, 'category ' || (i %% 50), (i %% 1000) / 10.0 "
                   "FROM generate_series(1, %s) i", (args.dim_rows,))
        events = EVENTS.format(events=args.events, dim=args.dim_rows)
        cases = [("datagen -> blackhole (no join)", events + PLAIN),
                 ("lookup join, lookup.cache = PARTIAL", events + DIM.format(
                     url=pg.url, cache=", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '200000'")
                  + JOINED),
                 ("lookup join, lookup.cache = NONE", events + DIM.format(url=pg.url, cache="") + JOINED)]
        for label, sql in cases:
            seconds = run(sql, args.batch)
            print(f"{label}: {args.events} events in {seconds:.2f} s = {args.events / seconds / 1000:.0f}k events/s",
                  flush=True)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
