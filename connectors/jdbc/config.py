"""The jdbc connector's WITH options, read once into a typed config (Flink's JDBC option names and defaults)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from sqlstream.connectors.options import Options, parse_duration_ms
from sqlstream.core.errors import OptionError

OPTIONS = ["connector", "url", "table-name", "username", "password", "driver", "connection.max-retry-timeout",
           "sink.buffer-flush.max-rows", "sink.buffer-flush.interval", "sink.max-retries", "sink.parallelism",
           "lookup.cache", "lookup.partial-cache.max-rows", "lookup.partial-cache.expire-after-write",
           "lookup.partial-cache.expire-after-access", "lookup.partial-cache.cache-missing-key",
           "lookup.max-retries", "lookup.cache.max-rows", "lookup.cache.ttl", "lookup.cache.caching-missing-key",
           "scan.partition.column", "scan.partition.num", "scan.partition.lower-bound",
           "scan.partition.upper-bound", "scan.fetch-size", "scan.auto-commit"]

_URL = re.compile(r"jdbc:postgresql://(?:(?P<host>\[[^\]]+\]|[^:/?]+)(?::(?P<port>\d+))?)?/?(?P<db>[^?]*)"
                  r"(?:\?(?P<query>.*))?")


@dataclass(frozen=True)
class JdbcConfig:
    table: str  # the sqlstream table's name, for messages
    url: str
    host: str
    port: int
    database: str
    table_name: str  # the database table, 'name' or 'schema.name'
    username: str | None
    password: str | None
    connect_timeout_s: int
    flush_max_rows: int
    flush_interval_ms: int
    sink_max_retries: int
    lookup_cache: bool
    cache_max_rows: int | None
    cache_expire_after_write_ms: int
    cache_expire_after_access_ms: int
    cache_missing_key: bool
    lookup_max_retries: int
    partition_column: str | None
    partition_num: int | None
    partition_lower: int | None
    partition_upper: int | None
    fetch_size: int

    @property
    def shown_url(self) -> str:
        """The url for messages: without its query string, which may hold a password."""
        return self.url.split("?", 1)[0]

    def connect_kwargs(self) -> dict:
        kw = {"host": self.host, "port": self.port, "dbname": self.database,
              "connect_timeout": max(1, self.connect_timeout_s)}
        if self.username is not None:
            kw["user"] = self.username
        if self.password is not None:
            kw["password"] = self.password
        return kw


def parse(table: str, raw: dict[str, str]) -> JdbcConfig:
    """The config of one jdbc table; an unknown option, a non-Postgres url or a half-given partitioning is an
    OptionError naming the option."""
    o = Options(table, "jdbc", raw, OPTIONS)
    url = o.require("url")
    m = _URL.fullmatch(url)
    if not m:
        dialect = url.split(":")[1] if url.startswith("jdbc:") and ":" in url[5:] else url
        shown = url.split("?", 1)[0]
        raise OptionError(f"Table '{table}': option 'url' = '{shown}' is not a PostgreSQL JDBC url "
                          f"(jdbc:postgresql://host:port/database); the jdbc connector supports PostgreSQL only, "
                          f"not '{dialect}'")
    params = dict(parse_qsl(m.group("query") or ""))
    o.get("driver")
    o.get("sink.parallelism")
    o.get("scan.auto-commit")
    # Flink's deprecated cache options still turn the partial cache on, as they do in Flink
    legacy = "lookup.cache.max-rows" in raw or "lookup.cache.ttl" in raw
    cache = o.get_choice("lookup.cache", ("NONE", "PARTIAL"), "PARTIAL" if legacy else "NONE")
    partial = [k for k in ("lookup.partial-cache.max-rows", "lookup.partial-cache.expire-after-write",
                           "lookup.partial-cache.expire-after-access") if k in raw]
    if cache == "NONE" and partial:
        raise OptionError(f"Table '{table}': option '{partial[0]}' needs 'lookup.cache' = 'PARTIAL'")
    legacy_rows = o.get_int("lookup.cache.max-rows")
    legacy_ttl = _duration(o, "lookup.cache.ttl", "0")
    legacy_missing = o.get_bool("lookup.cache.caching-missing-key", True)
    cfg = JdbcConfig(
        table=table, url=url, host=(m.group("host") or "localhost").strip("[]"), port=int(m.group("port") or 5432),
        database=unquote(m.group("db") or "postgres"), table_name=o.require("table-name"),
        username=o.get("username", params.get("user")), password=o.get("password", params.get("password")),
        connect_timeout_s=_duration(o, "connection.max-retry-timeout", "60s") // 1000,
        flush_max_rows=o.get_int("sink.buffer-flush.max-rows", 100),
        flush_interval_ms=_duration(o, "sink.buffer-flush.interval", "1s"),
        sink_max_retries=_non_negative(o, "sink.max-retries", 3),
        lookup_cache=cache == "PARTIAL",
        cache_max_rows=o.get_int("lookup.partial-cache.max-rows", legacy_rows),
        cache_expire_after_write_ms=_duration(o, "lookup.partial-cache.expire-after-write", "0") or legacy_ttl,
        cache_expire_after_access_ms=_duration(o, "lookup.partial-cache.expire-after-access", "0"),
        cache_missing_key=o.get_bool("lookup.partial-cache.cache-missing-key", legacy_missing),
        lookup_max_retries=_non_negative(o, "lookup.max-retries", 3),
        partition_column=o.get("scan.partition.column"), partition_num=o.get_int("scan.partition.num"),
        partition_lower=o.get_int("scan.partition.lower-bound"),
        partition_upper=o.get_int("scan.partition.upper-bound"),
        fetch_size=o.get_int("scan.fetch-size", 0) or 10000)
    o.finish()
    scan = {"scan.partition.column": cfg.partition_column, "scan.partition.num": cfg.partition_num,
            "scan.partition.lower-bound": cfg.partition_lower, "scan.partition.upper-bound": cfg.partition_upper}
    given = [k for k, v in scan.items() if v is not None]
    if given and len(given) < len(scan):
        missing = [k for k in scan if k not in given]
        raise OptionError(f"Table '{table}': the 'scan.partition' options must all be specified if any of them "
                          f"is specified; missing: {', '.join(missing)}")
    if given and cfg.partition_lower > cfg.partition_upper:
        raise OptionError(f"Table '{table}': 'scan.partition.lower-bound' ({cfg.partition_lower}) must not be "
                          f"larger than 'scan.partition.upper-bound' ({cfg.partition_upper})")
    if given and cfg.partition_num < 1:
        raise OptionError(f"Table '{table}': 'scan.partition.num' must be at least 1, got {cfg.partition_num}")
    if cfg.cache_max_rows is not None and cfg.cache_max_rows < 1:
        raise OptionError(f"Table '{table}': 'lookup.partial-cache.max-rows' must be at least 1")
    return cfg


def _duration(o: Options, key: str, default: str) -> int:
    text = o.get(key, default)
    try:
        return parse_duration_ms(text)
    except OptionError:
        raise OptionError(f"Table '{o.table}': option '{key}' must be a duration such as '1s' or '500 ms', "
                          f"got '{text}'") from None


def _non_negative(o: Options, key: str, default: int) -> int:
    n = o.get_int(key, default)
    if n < 0:
        raise OptionError(f"Table '{o.table}': option '{key}' must not be negative, got {n}")
    return n
