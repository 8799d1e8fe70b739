"""How the jdbc sink should batch its writes: rows/s of the ways to upsert and append into PostgreSQL.

    taskset -c 0 python -m benchmarks.jdbc_sink [--rows 200000] [--batch 5000]

Each way writes the same Arrow rows (a text key, a BIGINT, a NUMERIC, a TIMESTAMP) in transactions of `--batch`
rows, from the Arrow batch to the committed table, against a PostgreSQL server it starts:
- COPY (CSV written by pyarrow) into a temporary table + one INSERT .. SELECT .. ON CONFLICT (the sink's way),
- one multi-row INSERT .. SELECT FROM unnest(array parameters) .. ON CONFLICT,
- executemany of a one-row INSERT .. ON CONFLICT (psycopg pipelines it).
Appends compare COPY with the unnest INSERT.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from tests.postgres_server import PostgresServer

COLS = "k, n, amount, ts"
UPDATE = "ON CONFLICT (k) DO UPDATE SET n = EXCLUDED.n, amount = EXCLUDED.amount, ts = EXCLUDED.ts"


def rows(count: int, keys: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"k": pa.array([f"user{i}" for i in rng.permutation(keys)[:count]]),
                     "n": pa.array(rng.integers(0, 1 << 40, count)),
                     "amount": pa.array(rng.integers(0, 10**8, count) / 100).cast(pa.decimal128(12, 2)),
                     "ts": pa.array(rng.integers(0, 10**12, count), pa.timestamp("ms"))})


def copy_stage(conn, t: pa.Table, upsert: bool) -> None:
    from sqlstream.connectors.jdbc.sink import _copy
    if upsert:
        _copy(conn, f"COPY stage ({COLS}) FROM STDIN (FORMAT csv)", t)
        conn.execute(f"INSERT INTO target ({COLS}) SELECT {COLS} FROM stage {UPDATE}")
        conn.execute("TRUNCATE stage")
    else:
        _copy(conn, f"COPY target ({COLS}) FROM STDIN (FORMAT csv)", t)


def unnest(conn, t: pa.Table, upsert: bool) -> None:
    conn.execute(f"INSERT INTO target ({COLS}) SELECT * FROM unnest(%s::text[], %s::int8[], %s::numeric(12,2)[], "
                 f"%s::timestamp[]) {UPDATE if upsert else ''}", [c.to_pylist() for c in t.columns])


def executemany(conn, t: pa.Table, upsert: bool) -> None:
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO target ({COLS}) VALUES (%s, %s, %s, %s) {UPDATE if upsert else ''}",
                        list(zip(*(c.to_pylist() for c in t.columns))))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=5000)
    args = ap.parse_args()
    pg = PostgresServer()
    try:
        data = rows(args.rows, args.rows, 1)
        again = rows(args.rows, args.rows, 2)  # the same keys in another order: every row an update
        for label, way, upsert in [("upsert: COPY + INSERT .. SELECT .. ON CONFLICT", copy_stage, True),
                                   ("upsert: INSERT .. unnest(arrays) .. ON CONFLICT", unnest, True),
                                   ("upsert: executemany INSERT .. ON CONFLICT", executemany, True),
                                   ("append: COPY", copy_stage, False),
                                   ("append: INSERT .. unnest(arrays)", unnest, False)]:
            pg.execute("DROP TABLE IF EXISTS target")
            pg.execute("CREATE TABLE target (k TEXT" + (" PRIMARY KEY" if upsert else "") +
                       ", n BIGINT, amount NUMERIC(12, 2), ts TIMESTAMP)")
            with pg.connect() as conn:
                conn.autocommit = False
                conn.execute(f"CREATE TEMP TABLE stage AS SELECT {COLS} FROM target WITH NO DATA")
                conn.commit()
                spent = 0.0
                for table in ([data, again] if upsert else [data]):
                    start = time.perf_counter()
                    for at in range(0, table.num_rows, args.batch):
                        way(conn, table.slice(at, args.batch), upsert)
                        conn.commit()
                    spent += time.perf_counter() - start
                written = args.rows * (2 if upsert else 1)
            assert pg.execute("SELECT count(*) FROM target")[0][0] == args.rows
            print(f"{label}: {written} rows in {spent:.2f} s = {written / spent / 1000:.0f}k rows/s", flush=True)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
