"""Lookup joins into a real PostgreSQL table (`JOIN dim FOR SYSTEM_TIME AS OF o.proc`), with and without the
partial cache; the expected rows come from the same files, as in tests/test_lookup_join.py."""
import json
import re

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.connectors.lookup_cache import PartialCache, encode_keys
from sqlstream.core.errors import ConnectorError
from tests.golden import case_sql, run_sql
from tests.ports import free_port
from tests.test_jdbc_sink import jdbc
from tests.test_lookup_join import CASE

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres):
    postgres.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return postgres


def users_in_postgres(pg, sql: str, **options: str) -> tuple[str, dict]:
    """The case with its users table moved into PostgreSQL; the users by id."""
    data = re.search(r"'path' = '([^']+)/orders.json'", sql).group(1)
    users = [json.loads(line) for line in open(f"{data}/users.json").read().splitlines()]
    pg.execute("CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT, country TEXT, tier TEXT, "
               "signup_ts TIMESTAMP)")
    with pg.connect() as conn:
        with conn.cursor().copy("COPY users (user_id, name, country, tier) FROM STDIN") as copy:
            for u in users:
                copy.write_row((u["user_id"], u["name"], u["country"], u["tier"]))
    ddl = re.search(r"(CREATE TABLE users \(.*?\)) WITH \([^;]*\);", sql, re.S)
    return sql.replace(ddl.group(0), f"{ddl.group(1)} {jdbc(pg.url, 'users', **options)};"), \
        {u["user_id"]: u for u in users}


def expected_rows(sql: str, users: dict) -> list[tuple]:
    data = re.search(r"'path' = '([^']+)/orders.json'", sql).group(1)
    return sorted((o["order_id"], o["user_id"], users.get(o["user_id"], {}).get("name"),
                   users.get(o["user_id"], {}).get("country"))
                  for o in map(json.loads, open(f"{data}/orders.json").read().splitlines())
                  if o["amount"] is not None and o["amount"] > 50)


@pytest.mark.parametrize("cache", [{}, {"lookup.cache": "PARTIAL", "lookup.partial-cache.max-rows": "3"},
                                   {"lookup.cache": "PARTIAL", "lookup.partial-cache.expire-after-write": "1h"}])
def test_lookup_join_into_postgres(pg, cache):
    sql, users = users_in_postgres(pg, case_sql(CASE), **cache)
    expected = expected_rows(sql, users)
    assert any(e[2] is None for e in expected) and any(e[2] is not None for e in expected)
    for batch in (None, 1, 7):
        got = sorted((r["order_id"], r["user_id"], r["name"], r["country"]) for r in run_sql(sql, batch))
        assert got == expected, f"batch size {batch}"
    inner = sql.replace("LEFT JOIN users FOR", "JOIN users FOR")
    assert sorted((r["order_id"], r["user_id"], r["name"], r["country"]) for r in run_sql(inner, 7)) == \
        [e for e in expected if e[2] is not None]


def test_composite_keys_and_several_rows_per_key(pg, tmp_path):
    pg.execute("CREATE TABLE prices (sku TEXT, region INT, price INT)")
    pg.execute("INSERT INTO prices VALUES ('a', 1, 10), ('a', 1, 11), ('a', 2, 20), ('b', 1, 30), (NULL, 1, 99)")
    orders = [(1, "a", 1), (2, "a", 2), (3, "b", 2), (4, None, 1), (5, "a", 1), (6, "b", 1)]
    (tmp_path / "o.json").write_text("".join(json.dumps({"id": i, "sku": s, "region": r}) + "\n"
                                             for i, s, r in orders))
    sql = f"""CREATE TABLE o (id INT, sku STRING, region INT, proc AS PROCTIME())
                WITH ('connector' = 'filesystem', 'path' = '{tmp_path}/o.json', 'format' = 'json');
              CREATE TABLE prices (sku STRING, region INT, price INT) {jdbc(pg.url, 'prices')};
              SELECT o.id, p.price FROM o
              LEFT JOIN prices FOR SYSTEM_TIME AS OF o.proc AS p ON o.sku = p.sku AND o.region = p.region;"""
    for batch in (None, 1, 2):
        assert sorted((r["id"], r["price"]) for r in run_sql(sql, batch)) == \
            [(1, 10), (1, 11), (2, 20), (3, None), (4, None), (5, 10), (5, 11), (6, 30)]
    single = sql.replace(" AND o.region = p.region", "")
    assert sorted((r["id"], r["price"]) for r in run_sql(single, 7)) == \
        [(1, 10), (1, 11), (1, 20), (2, 10), (2, 11), (2, 20), (3, 30), (4, None), (5, 10), (5, 11), (5, 20),
         (6, 30)]


def test_unreachable_or_mistyped_lookup_table_fails_at_start(pg):
    sql = case_sql(CASE)
    moved, _ = users_in_postgres(pg, sql, **{"lookup.max-retries": "1"})
    down = moved.replace(pg.url, f"jdbc:postgresql://127.0.0.1:{free_port()}/postgres")
    with pytest.raises(ConnectorError, match=r"cannot connect to PostgreSQL at 'url' = .* after 2 attempt\(s\) "
                                             r"\('lookup.max-retries' = '1'\)"):
        run_sql(down)
    mistyped = moved.replace("  country STRING,", "  country INT,")
    assert mistyped != moved
    with pytest.raises(ConnectorError, match="column 'country' is INT in the DDL but text"):
        run_sql(mistyped)


def cached(cache: PartialCache, keys: list, now: float) -> list:
    """Each key's cached values (None: not cached)."""
    slot = cache.find(pa.array(keys, pa.string()), now)
    present = np.flatnonzero(slot >= 0)
    columns, owner = cache.rows_of(slot[present])
    out = [None] * len(keys)
    for i in present:
        out[i] = []
    for value, o in zip(columns[0].to_pylist(), owner):
        out[present[o]].append(value)
    return out


def put(cache: PartialCache, rows: dict, now: float) -> None:
    keys = pa.array(list(rows), pa.string())
    flat = [(k, v) for k, vs in rows.items() for v in vs]
    row_keys = pa.array([k for k, _ in flat], pa.string())
    cache.add(keys, pa.table({"v": pa.array([v for _, v in flat], pa.int64())}), row_keys, now)


def test_partial_cache_evicts_least_recently_used_and_expires():
    schema = pa.schema([("v", pa.int64())])
    cache = PartialCache(schema, pa.string(), max_rows=2, expire_after_write_ms=0, expire_after_access_ms=0)
    put(cache, {"a": [1, 2], "b": []}, now=0)
    assert cached(cache, ["a", "b", "x"], now=1) == [[1, 2], [], None]
    assert cached(cache, ["a"], now=2) == [[1, 2]]  # "b" is now the least recently used
    put(cache, {"c": [3]}, now=3)
    assert cached(cache, ["a", "b", "c"], now=3) == [[1, 2], None, [3]] and len(cache) == 2
    written = PartialCache(schema, pa.string(), max_rows=None, expire_after_write_ms=1000, expire_after_access_ms=0)
    put(written, {"a": [1]}, now=0)
    assert cached(written, ["a"], now=0.5) == [[1]] and cached(written, ["a"], now=1.0) == [None]
    put(written, {"a": [5]}, now=1.0)
    assert cached(written, ["a"], now=1.5) == [[5]]
    accessed = PartialCache(schema, pa.string(), max_rows=None, expire_after_write_ms=0, expire_after_access_ms=1000)
    put(accessed, {"a": []}, now=0)
    assert cached(accessed, ["a"], now=0.9) == [[]] and cached(accessed, ["a"], now=1.8) == [[]]
    assert cached(accessed, ["a"], now=2.9) == [None]


def test_composite_keys_encode_without_collisions():
    a = encode_keys([pa.array(["a:b", "a"]), pa.array(["c", "b:c"])])
    assert a[0] != a[1]
    assert encode_keys([pa.array([1, 1]), pa.array(["x", "x"])]).to_pylist()[0] == \
        encode_keys([pa.array([1]), pa.array(["x"])]).to_pylist()[0]


def test_lookup_queries_only_uncached_keys_and_counts_them(pg):
    from sqlstream.connectors.base import TableSchema
    from sqlstream.connectors.jdbc import create_lookup
    from sqlstream.core.types import FlinkType
    pg.execute("CREATE TABLE dim (id BIGINT PRIMARY KEY, name TEXT)")
    pg.execute("INSERT INTO dim SELECT i, 'n' || i FROM generate_series(1, 10) i")
    options = {"connector": "jdbc", "url": pg.url + "?password=hunter2", "table-name": "dim",
               "username": "postgres", "lookup.cache": "PARTIAL"}
    lookup = create_lookup("dim", options, TableSchema(["id", "name"], [FlinkType("BIGINT"), FlinkType.of("STRING")]),
                           ["id"])
    columns, owner = lookup.lookup([pa.array([3, 42, 1], pa.int64())])
    assert sorted(zip(owner.tolist(), columns[1].to_pylist())) == [(0, "n3"), (2, "n1")]
    columns, owner = lookup.lookup([pa.array([1, 42, 2], pa.int64())])  # 1 and 42 (no row) cached, 2 queried
    assert sorted(zip(owner.tolist(), columns[1].to_pylist())) == [(0, "n1"), (2, "n2")]
    assert lookup.metrics() == {"loadCount": 2, "numLoadFailures": 0, "hitCount": 2, "missCount": 4,
                                "numCachedRecords": 3}
    pg.execute("UPDATE dim SET name = 'changed' WHERE id = 1")
    columns, _ = lookup.lookup([pa.array([1], pa.int64())])
    assert columns[1].to_pylist() == ["n1"], "a cached key is not queried again"
    lookup.close()


def test_flinks_deprecated_cache_options_turn_the_partial_cache_on():
    from sqlstream.connectors.jdbc.config import parse
    base = {"connector": "jdbc", "url": "jdbc:postgresql://db:5433/shop", "table-name": "dim"}
    cfg = parse("dim", {**base, "lookup.cache.max-rows": "5000", "lookup.cache.ttl": "10 min",
                        "lookup.cache.caching-missing-key": "false"})
    assert (cfg.lookup_cache, cfg.cache_max_rows, cfg.cache_expire_after_write_ms, cfg.cache_missing_key) == \
        (True, 5000, 600_000, False)
    assert (cfg.host, cfg.port, cfg.database) == ("db", 5433, "shop")
    assert not parse("dim", base).lookup_cache
