"""Every Kafka client the connector creates is configured here, from one place: the table's `properties.*`
(security settings included, Flink's JAAS credentials translated), librdkafka's logs routed through Python
logging, rate-limited, and the broker's reachability tracked so that an outage is reported once, within
seconds, naming the broker and what to check, and shows in the job's status while it lasts.

A client's events (errors, logs, statistics) are served by its poll/consume/flush calls, so they arrive on
the job's thread."""
from __future__ import annotations

import json
import logging
import re
import threading
import time

from sqlstream.connectors.kafka.config import KafkaConfig, confluent
from sqlstream.core.errors import ConnectorError

LOG = logging.getLogger("sqlstream.kafka")
REPEAT_S = 30.0  # the same message is logged at most once per this many seconds, with a count of the rest
STATS_MS = 1000  # how often a client reports its brokers' states, which is how a recovery is seen


class RateLimitedLog:
    """Logs a message at most once per REPEAT_S per key; the next one says how many were suppressed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen: dict[tuple, list] = {}  # key -> [last logged (monotonic), suppressed since]

    def log(self, level: int, key: tuple, message: str) -> None:
        now = time.monotonic()
        with self.lock:
            entry = self.seen.get(key)
            if entry is not None and now - entry[0] < REPEAT_S:
                entry[1] += 1
                return
            suppressed = entry[1] if entry is not None else 0
            self.seen[key] = [now, 0]
        if suppressed:
            message += f" ({suppressed} more like it in the last {now - entry[0]:.0f} s)"
        LOG.log(level, message)


RATE_LIMITED = RateLimitedLog()
_NUMBERS = re.compile(r"\d+")


class BrokerHealth:
    """Whether the clients of one table reach their brokers.

    A connection failure makes `problem` say what the client waits for (logged at once, then at most every
    REPEAT_S); a broker seen up again, or a message received, clears it. librdkafka's own lines about the same
    failures are then only debug output."""

    def __init__(self, what: str, servers: str):
        self.what, self.servers = what, servers
        self.problem: str | None = None
        self.down_since: float | None = None
        self.last_error: str | None = None
        self.last_code: str | None = None

    def cause(self, fallback: str | None = None) -> str:
        """Why the broker cannot be used, for an error message: 'no connection to Kafka broker X (reason);
        check ...'."""
        reason = self.last_error or fallback or "no answer"
        return f"no connection to Kafka broker {self.servers} ({reason}); {self.hint()}"

    def status(self) -> str | None:
        return f"{self.what}: {self.problem}" if self.problem else None

    def hint(self, code: str | None = None) -> str:
        """What to check, for the failure `code` (by default the last one seen)."""
        code = code or self.last_code
        if code == "_AUTHENTICATION":
            return "check 'properties.sasl.jaas.config' / 'properties.sasl.mechanism' and the credentials"
        if code == "_SSL":
            return "check 'properties.security.protocol' and 'properties.ssl.*'"
        return "check 'properties.bootstrap.servers' and that the broker is running"

    def on_error(self, err) -> None:
        code = err.name()
        if code not in ("_TRANSPORT", "_ALL_BROKERS_DOWN", "_RESOLVE", "_AUTHENTICATION", "_SSL"):
            RATE_LIMITED.log(logging.WARNING, (self.what, code),
                             f"{self.what}: Kafka client error {code}: {err.str()}")
            return
        reason = "connection lost" if code == "_ALL_BROKERS_DOWN" else _reason(err.str())
        if code != "_ALL_BROKERS_DOWN" or self.last_error is None:
            self.last_error, self.last_code = reason, code
        now = time.monotonic()
        first = self.down_since is None
        if first:
            self.down_since = now
        self.problem = f"waiting for Kafka broker {self.servers} ({self.last_error}); retrying"
        shown = self.problem if first else (f"still waiting for Kafka broker {self.servers} after "
                                            f"{now - self.down_since:.0f} s ({self.last_error}); retrying")
        RATE_LIMITED.log(logging.WARNING, (self.what, "down"), f"{self.what}: {shown}. {self.hint(code).capitalize()}")

    def up(self) -> None:
        if self.down_since is not None:
            LOG.warning(f"{self.what}: Kafka broker {self.servers} is reachable again after "
                        f"{time.monotonic() - self.down_since:.1f} s")
            RATE_LIMITED.seen.pop((self.what, "down"), None)
        self.problem = self.down_since = self.last_error = self.last_code = None

    def on_stats(self, text: str) -> None:
        if self.down_since is None:
            return
        try:
            brokers = json.loads(text).get("brokers", {})
        except ValueError:
            return
        if any(b.get("state") == "UP" for b in brokers.values()):
            self.up()

    def on_log(self, level: int, facility: str, message: str) -> None:
        """librdkafka's log lines, rate-limited per kind; connection failures are what `problem` reports."""
        if facility == "FAIL" and level >= logging.INFO:
            level = logging.DEBUG
        RATE_LIMITED.log(level, (self.what, facility, _NUMBERS.sub("#", message)),
                         f"{self.what}: librdkafka {facility}: {message}")


def _reason(text: str) -> str:
    """A librdkafka error without the client's broker prefix and timings: '127.0.0.1:1/bootstrap: Connect to
    ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)' -> 'Connection refused'."""
    text = re.sub(r"\s*\(after \d+ms in state \w+(?:, \d+ identical error\(s\) suppressed)?\)", "", text)
    text = re.sub(r"\s*\(\d+ identical error\(s\) suppressed\)", "", text)
    text = re.sub(r"^\S+/\S+: ", "", text)
    m = re.fullmatch(r"Connect to \S+ failed: (.*)", text)
    return m.group(1) if m else text


class _LogAdapter:
    """What confluent-kafka calls for each log line: `log(level, "%s [%s] %s", facility, client, message)`."""

    def __init__(self, health: BrokerHealth):
        self.health = health

    def log(self, level, fmt, *args) -> None:
        if len(args) == 3:
            self.health.on_log(level, str(args[0]), str(args[2]))
        else:
            self.health.on_log(level, "", fmt % args if args else str(fmt))


def client_conf(cfg: KafkaConfig, health: BrokerHealth, defaults: dict | None = None, **fixed) -> dict:
    """The configuration of any client of a table: our defaults, then every `properties.*` of the table (JAAS
    translated), then what this client must have (`fixed`), and the callbacks that report its broker."""
    conf = {"log_level": 4, **(defaults or {})}  # librdkafka's warnings and errors
    conf.update(cfg.client)
    conf.update(fixed)
    conf.setdefault("statistics.interval.ms", STATS_MS)
    conf.update({"logger": _LogAdapter(health), "error_cb": health.on_error, "stats_cb": health.on_stats})
    return conf


def _create(kind, cfg: KafkaConfig, conf: dict):
    ck = confluent()
    try:
        return kind(conf)
    except (ck.KafkaException, ValueError, TypeError) as e:
        text = str(e.args[0].str() if e.args and hasattr(e.args[0], "str") else e)
        m = re.search(r'property: "?([\w.]+)"?', text) or re.search(r'"([\w.]+)"', text)
        key = m.group(1) if m else None
        raise ConnectorError(f"Table '{cfg.table}': invalid Kafka client configuration: {text}" +
                             (f" (from 'properties.{key}')" if key in cfg.client else "")) from None


def consumer(cfg: KafkaConfig, health: BrokerHealth, defaults: dict | None = None, **fixed):
    return _create(confluent().Consumer, cfg, client_conf(cfg, health, defaults, **fixed))


def producer(cfg: KafkaConfig, health: BrokerHealth, defaults: dict | None = None, **fixed):
    return _create(confluent().Producer, cfg, client_conf(cfg, health, defaults, **fixed))


def admin(cfg: KafkaConfig, health: BrokerHealth, defaults: dict | None = None, **fixed):
    from confluent_kafka.admin import AdminClient
    return _create(AdminClient, cfg, client_conf(cfg, health, defaults, **fixed))
