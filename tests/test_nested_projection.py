"""Nested projection pushdown into JSON sources: a ROW column read only by its fields is decoded with just those
fields (EXPLAIN shows them at the scan), the rows are those of reading whole ROWs, the two sides of a self join
are narrowed alike so they stay one shared scan, and a bad value in a field read still fails naming its line."""
import io
import json

import pytest

from sqlstream.core.errors import FormatError
from sqlstream.script import ScriptRunner
from tests.golden import run_sql

EVENTS = [{"event_type": 1, "auction": {"id": 7, "itemName": "lamp", "seller": 3}, "bid": None},
          {"event_type": 2, "auction": None, "bid": {"auction": 7, "price": 30, "extra": "a"}},
          {"event_type": 2, "auction": None, "bid": {"auction": 7, "price": 45, "extra": "b"}},
          {"event_type": 2, "auction": None, "bid": {"auction": 8, "price": 12, "extra": "c"}}]


def table(path, name: str = "ev") -> str:
    return f"""CREATE TABLE {name} (event_type INT, auction ROW<id BIGINT, itemName STRING, seller BIGINT>,
        bid ROW<auction BIGINT, price BIGINT, extra STRING>)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
        CREATE VIEW bid AS SELECT bid.auction, bid.price, bid.extra FROM {name} WHERE event_type = 2;"""


def explain(sql: str) -> str:
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO()).run(sql)
    return out.getvalue().split("== Physical Plan ==")[0]


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.json"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return path


def test_only_the_fields_read_are_decoded_and_the_rows_stay(events):
    query = "SELECT auction, price FROM bid WHERE price > 20;"
    plan = explain(table(events) + "EXPLAIN " + query)
    assert "fields=[event_type, bid<auction, price>]" in plan
    rows = run_sql(table(events) + query)
    assert [(r["auction"], r["price"]) for r in rows] == [(7, 30), (7, 45)]
    whole = run_sql(table(events) + "SELECT bid, event_type FROM ev WHERE event_type = 2 AND bid.price > 20;")
    assert [tuple(r["bid"][:2]) for r in whole] == [(7, 30), (7, 45)]  # a ROW prints as its values


def test_a_self_join_reads_the_fields_of_both_sides_from_one_scan(events):
    query = """SELECT x.auction, y.price FROM (SELECT auction FROM bid) x
        JOIN (SELECT auction, price FROM bid WHERE price > 40) y ON x.auction = y.auction;"""
    plan = explain(table(events) + "EXPLAIN " + query)
    scans = [ln for ln in plan.splitlines() if "TableSourceScan" in ln]
    assert scans and all("bid<auction, price>" in ln for ln in scans), plan
    rows = run_sql(table(events) + query)
    assert sorted((r["auction"], r["price"]) for r in rows) == [(7, 45), (7, 45)]


def test_a_bad_value_in_a_field_read_still_fails_naming_its_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(EVENTS[1]) + "\n" + '{"event_type": 2, "bid": {"auction": 9, "price": "x"}}\n')
    with pytest.raises(FormatError, match=r"bad.json:2"):
        run_sql(table(path) + "SELECT price FROM bid;")
    skipped = run_sql(table(path).replace("'format' = 'json'", "'format' = 'json', 'json.ignore-parse-errors' = "
                                          "'true'") + "SELECT auction, price FROM bid;")
    assert [(r["auction"], r["price"]) for r in skipped] == [(7, 30), (9, None)]


def test_avro_rows_are_read_whole(tmp_path):
    """avro decodes a datum by position: its ROWs are never narrowed."""
    sql = """CREATE TABLE ev (event_type INT, bid ROW<auction BIGINT, price BIGINT>) WITH ('connector' = 'kafka',
        'topic' = 't', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'avro');
        EXPLAIN SELECT bid.price FROM ev;"""
    assert "fields=[bid]" in explain(sql)


def test_rows_are_read_whole_when_a_missing_field_must_fail(events):
    """Under json.fail-on-missing-field every field of a ROW read is to be checked, as Flink reads whole ROWs."""
    strict = table(events).replace("'format' = 'json'", "'format' = 'json', 'json.fail-on-missing-field' = 'true'")
    assert "fields=[event_type, bid]" in explain(strict + "EXPLAIN SELECT price FROM bid;")
