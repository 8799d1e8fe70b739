"""Kafka-backed tables against a real broker (tansu on 127.0.0.1): sources, sinks, formats, metadata,
per-partition watermarks, upsert-kafka and debezium-json."""
import decimal
import io
import json
import time

import pytest

from sqlstream.core.errors import FormatError, ValidationError
from sqlstream.script import ScriptRunner
from tests.cli_job import wait_until
from tests.golden import CONFORMANCE, case_sql, expected, oracle

pytestmark = pytest.mark.kafka

ORDERS_COLUMNS = """  order_id BIGINT,
  user_id STRING,
  product STRING,
  amount DOUBLE,
  price DECIMAL(10, 2),
  quantity INT,
  status STRING,
  coupon STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND"""


def run(sql: str, fmt: str = "jsonl") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    ScriptRunner(out=out, err=err, fmt=fmt).run(sql)
    return out.getvalue(), err.getvalue()


def rows(text: str) -> list[dict]:
    return [json.loads(line, parse_float=decimal.Decimal) for line in text.splitlines() if line.strip()]


def kafka_table(name, broker, topic, extra="", columns=ORDERS_COLUMNS, bounded=True):
    opts = f"'connector' = 'kafka', 'topic' = '{topic}', 'properties.bootstrap.servers' = '{broker.bootstrap}', " \
           f"'scan.startup.mode' = 'earliest-offset'"
    if bounded:
        opts += ", 'scan.bounded.mode' = 'latest-offset'"
    return f"CREATE TABLE {name} (\n{columns}\n) WITH ({opts}{extra});\n"


@pytest.fixture(scope="module")
def orders_topic(broker):
    """The conformance orders file, spread over 4 partitions (order_id % 4) in file order."""
    case = CONFORMANCE / "core" / "tvf_tumble_basic"
    sql = case_sql(case)
    path = sql.split("'path' = '")[1].split("'")[0]
    broker.create_topic("orders", 4)
    lines = [ln for ln in open(path).read().splitlines() if ln]
    broker.produce("orders", [(json.loads(ln)["order_id"] % 4, None, ln.encode()) for ln in lines])
    return case


def test_tumble_over_four_partitions_equals_flink_on_the_file(broker, orders_topic):
    compare, _ = oracle()
    broker.create_topic("tumble_out", 2)
    query = (orders_topic / "case.sql").read_text().split(";")[-2].strip()
    sql = kafka_table("orders", broker, "orders", ", 'format' = 'json'") + f"""
CREATE TABLE tumble_out (window_start TIMESTAMP(3), window_end TIMESTAMP(3), user_id STRING, cnt BIGINT,
  sum_amount DOUBLE, max_price DECIMAL(10, 2), min_qty INT)
WITH ('connector' = 'kafka', 'topic' = 'tumble_out', 'properties.bootstrap.servers' = '{broker.bootstrap}',
      'format' = 'json');
INSERT INTO tumble_out {query};"""
    _, err = run(sql)
    assert "rows in: 400" in err
    got = [dict(json.loads(m.value(), parse_float=decimal.Decimal), op="+I") for m in broker.consume_all("tumble_out")]
    exp, cols, types = expected(orders_topic)
    ok, msg = compare.compare_rows(exp, got, cols, types)
    assert ok, msg


def test_metadata_columns(broker):
    broker.create_topic("meta", 2)
    broker.produce("meta", [(0, b"k1", b'{"v": 1}', 1700000000000, [("h", b"x")]),
                            (1, b"k2", b'{"v": 2}', 1700000001000),
                            (0, b"k3", b'{"v": 3}', 1700000002000)])
    cols = """  v INT,
  `topic` STRING METADATA VIRTUAL,
  `partition` INT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  hdrs MAP<STRING, BYTES> METADATA FROM 'headers'"""
    out, _ = run(kafka_table("meta", broker, "meta", ", 'format' = 'json'", cols) +
                 "SELECT v, `topic`, `partition`, `offset`, ts, hdrs FROM meta;")
    got = sorted((r["v"], r["topic"], r["partition"], r["offset"], r["ts"]) for r in rows(out))
    assert got == [(1, "meta", 0, 0, "2023-11-14 22:13:20.000"), (2, "meta", 1, 0, "2023-11-14 22:13:21.000"),
                   (3, "meta", 0, 1, "2023-11-14 22:13:22.000")]
    assert [r["hdrs"] for r in rows(out) if r["v"] == 1] == [{"h": "78"}]


def test_key_and_value_formats(broker):
    broker.create_topic("kv", 1)
    broker.produce("kv", [(0, b'{"user_id": "u1"}', b'{"amount": 1.5}'), (0, b'{"user_id": "u2"}', b'{"amount": 2.5}')])
    cols = "  k_user_id STRING,\n  amount DOUBLE"
    extra = (", 'key.format' = 'json', 'key.fields' = 'k_user_id', 'key.fields-prefix' = 'k_', "
             "'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY'")
    out, _ = run(kafka_table("kv", broker, "kv", extra, cols) + "SELECT k_user_id, amount FROM kv;")
    assert [(r["k_user_id"], r["amount"]) for r in rows(out)] == [("u1", 1.5), ("u2", 2.5)]


def test_csv_and_raw_formats(broker):
    broker.create_topic("csvt", 1)
    broker.produce("csvt", [(0, None, b"1,alpha"), (0, None, b'2,"be,ta"')])
    out, _ = run(kafka_table("c", broker, "csvt", ", 'format' = 'csv'", "  id INT,\n  name STRING") +
                 "SELECT id, name FROM c;")
    assert [(r["id"], r["name"]) for r in rows(out)] == [(1, "alpha"), (2, "be,ta")]
    out, _ = run(kafka_table("r", broker, "csvt", ", 'format' = 'raw'", "  line STRING") + "SELECT line FROM r;")
    assert [r["line"] for r in rows(out)] == ["1,alpha", '2,"be,ta"']


def test_malformed_message_fails_naming_topic_partition_offset(broker):
    broker.create_topic("bad", 1)
    broker.produce("bad", [(0, None, b'{"v": 1}'), (0, None, b'{"v": 2}'), (0, None, b'{"v": '), (0, None, b'{"v": 4}')])
    with pytest.raises(FormatError, match="topic 'bad' partition 0 offset 2"):
        run(kafka_table("bad", broker, "bad", ", 'format' = 'json'", "  v INT") + "SELECT v FROM bad;")
    out, err = run(kafka_table("bad", broker, "bad", ", 'format' = 'json', 'json.ignore-parse-errors' = 'true'",
                               "  v INT") + "SELECT v FROM bad;")
    assert [r["v"] for r in rows(out)] == [1, 2, 4]
    assert "records with parse errors: 1" in err


def test_invalid_utf8_message_is_a_malformed_record(broker):
    """Invalid UTF-8 fails naming topic/partition/offset, or is skipped and counted under ignore-parse-errors;
    the rows kept line up with their own offsets."""
    broker.create_topic("badutf8", 1)
    broker.produce("badutf8", [(0, None, b'{"v": 1, "s": "a"}'), (0, None, b'{"v": 2, "s": "b\xff"}'),
                               (0, None, b'{"v": 3, "s": "c"}')])
    cols = "  v INT,\n  s STRING,\n  off BIGINT METADATA FROM 'offset' VIRTUAL"
    with pytest.raises(FormatError, match="invalid UTF-8.*topic 'badutf8' partition 0 offset 1"):
        run(kafka_table("b", broker, "badutf8", ", 'format' = 'json'", cols) + "SELECT v FROM b;")
    out, err = run(kafka_table("b", broker, "badutf8", ", 'format' = 'json', 'json.ignore-parse-errors' = 'true'",
                               cols) + "SELECT v, s, off FROM b;")
    assert [(r["v"], r["s"], r["off"]) for r in rows(out)] == [(1, "a", 0), (3, "c", 2)]
    assert "records with parse errors: 1" in err

    broker.create_topic("badutf8csv", 1)
    broker.produce("badutf8csv", [(0, None, b"1,a"), (0, None, b"2,\xc3"), (0, None, b"3,c")])
    with pytest.raises(FormatError, match="invalid UTF-8.*topic 'badutf8csv' partition 0 offset 1"):
        run(kafka_table("c", broker, "badutf8csv", ", 'format' = 'csv'", cols) + "SELECT v FROM c;")
    out, err = run(kafka_table("c", broker, "badutf8csv", ", 'format' = 'csv', 'csv.ignore-parse-errors' = 'true'",
                               cols) + "SELECT v, s, off FROM c;")
    assert [(r["v"], r["s"], r["off"]) for r in rows(out)] == [(1, "a", 0), (3, "c", 2)]
    assert "records with parse errors: 1" in err

    out, _ = run(kafka_table("r", broker, "badutf8csv", ", 'format' = 'raw'", "  line STRING") + "SELECT line FROM r;")
    assert [r["line"] for r in rows(out)] == ["1,a", "2,\ufffd", "3,c"]


def test_invalid_utf8_debezium_event_is_skipped_under_ignore_parse_errors(broker):
    broker.create_topic("badcdc", 1)
    broker.produce("badcdc", [(0, None, b'{"before": null, "after": {"id": 1, "name": "a"}, "op": "c"}'),
                              (0, None, b'{"before": null, "after": {"id": 2, "name": "\xff"}, "op": "c"}'),
                              (0, None, b'{"before": null, "after": {"id": 3, "name": "c"}, "op": "c"}')])
    cols = "  id INT,\n  name STRING"
    with pytest.raises(FormatError, match="invalid UTF-8.*topic 'badcdc' partition 0 offset 1"):
        run(kafka_table("d", broker, "badcdc", ", 'format' = 'debezium-json'", cols) + "SELECT * FROM d;")
    out, err = run(kafka_table("d", broker, "badcdc", ", 'format' = 'debezium-json', "
                               "'debezium-json.ignore-parse-errors' = 'true'", cols) + "SELECT * FROM d;")
    assert [(r["id"], r["name"]) for r in rows(out)] == [(1, "a"), (3, "c")]
    assert "records with parse errors: 1" in err


def test_debezium_json_changelog(broker):
    broker.create_topic("cdc", 1)
    events = [
        {"before": None, "after": {"id": 1, "name": "apple", "qty": 3}, "op": "c"},
        {"before": None, "after": {"id": 2, "name": "pear", "qty": 5}, "op": "r"},
        {"before": {"id": 1, "name": "apple", "qty": 3}, "after": {"id": 1, "name": "apple", "qty": 7}, "op": "u"},
        {"before": {"id": 2, "name": "pear", "qty": 5}, "after": None, "op": "d"},
    ]
    broker.produce("cdc", [(0, None, json.dumps(e).encode()) for e in events])
    cols = "  id INT,\n  name STRING,\n  qty INT"
    out, _ = run(kafka_table("cdc", broker, "cdc", ", 'format' = 'debezium-json'", cols) + "SELECT * FROM cdc;")
    assert [(r["op"], r["id"], r["qty"]) for r in rows(out)] == [
        ("+I", 1, 3), ("+I", 2, 5), ("-U", 1, 3), ("+U", 1, 7), ("-D", 2, 5)]
    out, _ = run(kafka_table("cdc", broker, "cdc", ", 'format' = 'debezium-json'", cols) +
                 "SELECT SUM(qty) AS total FROM cdc;")
    assert [(r["op"], r["total"]) for r in rows(out)][-1] == ("+U", 7)


def test_upsert_kafka_round_trip_of_a_group_by(broker, orders_topic):
    broker.create_topic("user_counts", 2)
    sink = f"""CREATE TABLE user_counts (user_id STRING, cnt BIGINT, total DOUBLE, PRIMARY KEY (user_id) NOT ENFORCED)
WITH ('connector' = 'upsert-kafka', 'topic' = 'user_counts', 'properties.bootstrap.servers' = '{broker.bootstrap}',
      'key.format' = 'json', 'value.format' = 'json', 'properties.batch.num.messages' = '1');
"""
    run(kafka_table("orders", broker, "orders", ", 'format' = 'json'") + sink +
        "INSERT INTO user_counts SELECT user_id, COUNT(*), SUM(amount) FROM orders "
        "WHERE user_id IS NOT NULL GROUP BY user_id;")
    source = sink.replace("'value.format' = 'json'", "'value.format' = 'json', "
                          "'scan.bounded.mode' = 'latest-offset'")
    out, _ = run(source + "SELECT user_id, cnt FROM user_counts;")
    final: dict[str, int] = {}
    for r in rows(out):
        if r["op"] in ("+I", "+U"):
            final[r["user_id"]] = r["cnt"]
        else:
            assert final.pop(r["user_id"]) == r["cnt"]
    path = case_sql(orders_topic).split("'path' = '")[1].split("'")[0]
    import duckdb
    want = dict(duckdb.sql(f"SELECT user_id, COUNT(*) FROM read_json('{path}') WHERE user_id IS NOT NULL "
                           f"GROUP BY user_id").fetchall())
    assert final == want
    tombstones = broker.consume_all("user_counts")
    assert all(m.key() is not None for m in tombstones)


def test_updating_result_into_plain_kafka_sink_is_rejected(broker, orders_topic):
    broker.create_topic("plain_out", 1)
    with pytest.raises(ValidationError, match="doesn't support consuming update changes"):
        run(kafka_table("orders", broker, "orders", ", 'format' = 'json'") +
            f"CREATE TABLE plain_out (user_id STRING, cnt BIGINT) WITH ('connector' = 'kafka', 'topic' = 'plain_out', "
            f"'properties.bootstrap.servers' = '{broker.bootstrap}', 'format' = 'json');\n"
            "INSERT INTO plain_out SELECT user_id, COUNT(*) FROM orders GROUP BY user_id;")


def test_missing_bootstrap_and_unknown_option(broker):
    from sqlstream.core.errors import OptionError
    with pytest.raises(OptionError, match="requires option 'properties.bootstrap.servers'"):
        run("CREATE TABLE t (v INT) WITH ('connector' = 'kafka', 'topic' = 'x', 'format' = 'json');\n"
            "SELECT v FROM t;")
    with pytest.raises(OptionError, match="scan.startup.modee"):
        run(f"CREATE TABLE t (v INT) WITH ('connector' = 'kafka', 'topic' = 'meta', 'format' = 'json', "
            f"'properties.bootstrap.servers' = '{broker.bootstrap}', 'scan.startup.modee' = 'x');\nSELECT v FROM t;")


def _idle_job(broker, topic: str, idle: str | None):
    from tests.test_state import build_job
    extra = ", 'format' = 'json'" + (f", 'scan.watermark.idle-timeout' = '{idle}'" if idle else "")
    cols = "  v INT,\n  ts TIMESTAMP(3),\n  WATERMARK FOR ts AS ts"
    sql = kafka_table("e", broker, topic, extra, cols, bounded=False) + (
        "SELECT window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE e, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) "
        "GROUP BY window_start, window_end;")
    return build_job(sql, 100)


def test_idle_partition_holds_the_watermark_back_until_idle_timeout(broker):
    broker.create_topic("two", 2)
    broker.produce("two", [(0, None, json.dumps({"v": i, "ts": f"2024-03-01 09:{i:02d}:00.000"}).encode())
                           for i in range(10)])
    # without an idle timeout: every row read, then partition 1 silent for twice the timeout the second run
    # sets, and no window has closed; with it, the windows close once partition 1 has been silent that long
    job, out = _idle_job(broker, "two", None)
    wait_until(lambda: job.step() and job.stats.rows_in == 10, "the 10 rows of partition 0 read")
    silent_since = time.monotonic()
    while time.monotonic() - silent_since < 0.6:
        job.step()
    job.close()
    assert out.getvalue() == "", "partition 1 has no data and holds the watermark back"
    status = job.watermark_status()
    assert len(status) == 1 and "split two/1 holds the watermark back (no watermark yet" in status[0]

    job, out = _idle_job(broker, "two", "300 ms")
    wait_until(lambda: job.step() is not None and len(out.getvalue().splitlines()) >= 9,
               "nine windows closed once partition 1 is idle")
    job.close()
    assert [json.loads(line)["n"] for line in out.getvalue().splitlines()] == [1] * 9


def test_queries_that_read_no_column(broker):
    """COUNT(*) and constants read no column: the messages are still decoded (a changelog's kinds count)."""
    broker.create_topic("noproj", 1)
    broker.produce("noproj", [(0, None, b'{"v": 1}'), (0, None, b'{"v": 2}'), (0, None, b'{"v": 3}')])
    out, _ = run(kafka_table("t", broker, "noproj", ", 'format' = 'json'", "  v INT") +
                 "SELECT COUNT(*) AS n FROM t;")
    assert rows(out)[-1]["n"] == 3
    out, _ = run(kafka_table("t", broker, "noproj", ", 'format' = 'json'", "  v INT") + "SELECT 'k' AS k FROM t;")
    assert [r["k"] for r in rows(out)] == ["k"] * 3
    out, _ = run(kafka_table("t", broker, "noproj", ", 'format' = 'json'", "  v INT,\n  p INT METADATA FROM "
                             "'partition' VIRTUAL") + "SELECT p FROM t;")
    assert [r["p"] for r in rows(out)] == [0] * 3
    broker.create_topic("noproj_csv", 1)
    broker.produce("noproj_csv", [(0, None, b"1,a"), (0, None, b'2,"b,c"')])
    out, _ = run(kafka_table("c", broker, "noproj_csv", ", 'format' = 'csv'", "  id INT,\n  name STRING") +
                 "SELECT COUNT(*) AS n FROM c;")
    assert rows(out)[-1]["n"] == 2
    broker.create_topic("noproj_cdc", 1)
    events = [{"before": None, "after": {"id": 1}, "op": "c"}, {"before": None, "after": {"id": 2}, "op": "c"},
              {"before": {"id": 1}, "after": {"id": 1}, "op": "u"}, {"before": {"id": 2}, "after": None, "op": "d"}]
    broker.produce("noproj_cdc", [(0, None, json.dumps(e).encode()) for e in events])
    out, _ = run(kafka_table("cdc", broker, "noproj_cdc", ", 'format' = 'debezium-json'", "  id INT") +
                 "SELECT COUNT(*) AS n FROM cdc;")
    assert rows(out)[-1]["n"] == 1, "one row is live after c, c, u, d"


def test_a_message_without_value_is_no_row_in_a_kafka_table(broker):
    """A tombstone (null value) in a 'kafka' (not upsert-kafka) table: Flink's json, csv, avro and debezium-json
    deserializers return no row for a null message (the raw format gives a row holding NULL). Before, every
    format gave an all-NULL row."""
    broker.create_topic("tomb", 1)
    broker.produce("tomb", [(0, b"k1", b'{"v": 1}'), (0, b"k2", None), (0, b"k3", b'{"v": 3}'), (0, b"k4", None)])
    cols = "  v INT,\n  off BIGINT METADATA FROM 'offset' VIRTUAL"
    for extra in (", 'format' = 'json'", ", 'format' = 'json', 'json.ignore-parse-errors' = 'true'"):
        out, err = run(kafka_table("t", broker, "tomb", extra, cols) + "SELECT v, off FROM t;")
        assert [(r["v"], r["off"]) for r in rows(out)] == [(1, 0), (3, 2)]
        assert "parse errors" not in err
    out, _ = run(kafka_table("t", broker, "tomb", ", 'format' = 'json'", "  v INT") + "SELECT COUNT(*) AS n FROM t;")
    assert rows(out)[-1]["n"] == 2
    broker.create_topic("tombcsv", 1)
    broker.produce("tombcsv", [(0, None, b"1,a"), (0, None, None), (0, None, b"3,c")])
    out, _ = run(kafka_table("c", broker, "tombcsv", ", 'format' = 'csv'", "  v INT,\n  s STRING") +
                 "SELECT v, s FROM c;")
    assert [(r["v"], r["s"]) for r in rows(out)] == [(1, "a"), (3, "c")]
    out, _ = run(kafka_table("r", broker, "tombcsv", ", 'format' = 'raw'", "  line STRING") + "SELECT line FROM r;")
    assert [r["line"] for r in rows(out)] == ["1,a", None, "3,c"]


def test_a_row_read_by_its_fields_decodes_only_those(broker, monkeypatch):
    """Nested projection pushdown into a JSON topic: the scan asks for bid<price>, the rows are those of the
    messages, and `auction` (a ROW, and a number inside bid, which is not read) keeps clean messages vectorized."""
    broker.create_topic("nested_json", 1)
    events = [{"auction": {"id": 1, "name": "lamp"}, "bid": None},
              {"auction": None, "bid": {"auction": 1, "price": 30, "extra": "x"}},
              {"auction": None, "bid": {"auction": 1, "price": 45, "extra": "y"}}]
    broker.produce("nested_json", [(0, None, json.dumps(e).encode()) for e in events])
    table = kafka_table("ev", broker, "nested_json", ", 'format' = 'json'",
                        columns="auction ROW<id BIGINT, name STRING>, bid ROW<auction BIGINT, price BIGINT, "
                                "extra STRING>")
    plan, _ = run(table + "EXPLAIN SELECT bid.price AS price FROM ev WHERE bid IS NOT NULL;", fmt="table")
    assert "fields=[bid<auction, price, extra>]" in plan  # read whole by IS NOT NULL
    plan, _ = run(table + "EXPLAIN SELECT bid.price AS price, auction.id AS id FROM ev;", fmt="table")
    assert "fields=[auction<id>, bid<price>]" in plan
    from sqlstream.connectors.formats.json import JsonDecoder
    per_row = []
    monkeypatch.setattr(JsonDecoder, "_with_flink_rules", lambda self, docs, *a: per_row.append(docs))
    out, _ = run(table + "SELECT bid.price AS price, auction.id AS id FROM ev;")
    assert [(r["price"], r["id"]) for r in rows(out)] == [(None, 1), (30, None), (45, None)]
    assert per_row == []
