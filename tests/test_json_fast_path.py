"""JSON documents DuckDB reads as Flink does stay on the vectorized path; only the others take Flink's rules one
by one. A field name used for fields of different kinds (nexmark's `auction` is a ROW and, inside `bid`, a
BIGINT) is judged by its paths, not its name, so every auction event is not sent down the per-row path."""
import json

import pyarrow as pa
import sqlglot
import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats.json import JsonDecoder
from sqlstream.core.errors import FormatError
from sqlstream.core.types import from_sqlglot
from sqlstream.dialect import Flink


def flink_type(text: str):
    return from_sqlglot(sqlglot.parse_one(f"CAST(x AS {text})", read=Flink).to)


SCHEMA = TableSchema(["event_type", "auction", "bid"],
                     [flink_type("INT"), flink_type("ROW<id BIGINT, itemName STRING>"),
                      flink_type("ROW<auction BIGINT, price BIGINT>")])
CLEAN = [{"event_type": 1, "auction": {"id": 7, "itemName": "lamp"}, "bid": None},
         {"event_type": 2, "auction": None, "bid": {"auction": 7, "price": 30}}]


def decode(docs, monkeypatch, per_row_allowed: bool):
    decoder = JsonDecoder(SCHEMA)
    taken = []
    original = JsonDecoder._with_flink_rules

    def spy(self, docs, fast, fast_idx, slow_idx, where):
        taken.extend(slow_idx.tolist())
        return original(self, docs, fast, fast_idx, slow_idx, where)
    monkeypatch.setattr(JsonDecoder, "_with_flink_rules", spy)
    batch = decoder.decode(pa.array([json.dumps(d) for d in docs]), lambda i: f"line {i + 1}")
    if not per_row_allowed:
        assert taken == []
    return batch.to_pylist(), taken


def test_clean_documents_with_an_ambiguous_name_stay_vectorized(monkeypatch):
    rows, _ = decode(CLEAN * 50, monkeypatch, per_row_allowed=False)
    assert rows[:2] == [{"event_type": 1, "auction": {"id": 7, "itemName": "lamp"}, "bid": None},
                        {"event_type": 2, "auction": None, "bid": {"auction": 7, "price": 30}}]


@pytest.mark.parametrize("odd", [{"event_type": 2, "auction": None, "bid": {"auction": 7.5, "price": 30}},
                                 {"event_type": 2, "auction": None, "bid": {"auction": {"id": 1}, "price": 30}},
                                 {"event_type": 1, "auction": 5, "bid": None}])
def test_another_json_type_at_an_ambiguous_path_takes_flinks_rules(monkeypatch, odd):
    """7.5 into the BIGINT bid.auction is truncated as Flink's converter does; an object or a number where Flink
    expects the other fails naming the document. Either way the document took Flink's rules."""
    try:
        rows, taken = decode(CLEAN + [odd], monkeypatch, per_row_allowed=True)
    except Exception as e:
        assert "line 3" in str(e)
    else:
        assert taken == [2] and rows[2]["bid"]["auction"] == 7


@pytest.mark.parametrize("text", [' \t[1]', '\u00a0{"event_type": 1}', '{"event_type": 1,}', '  7', '"x"'])
def test_a_document_that_is_not_one_object_takes_flinks_rules(text):
    """Found by a check of the document's start and a trailing-comma expression apart from the values' one."""
    decoder = JsonDecoder(SCHEMA, ignore_parse_errors=True)
    batch = decoder.decode(pa.array([json.dumps(CLEAN[0]), text, '  ' + json.dumps(CLEAN[1])]), str)
    assert batch.to_pylist() == CLEAN and decoder.skipped == 1


@pytest.mark.parametrize("bad_at", [[0], [999], [0, 1, 2], [3, 500, 501, 998], list(range(0, 1000, 97))])
def test_lines_duckdb_cannot_read_are_found_among_many(bad_at):
    """A batch DuckDB fails on is halved until its unreadable documents are found: they are skipped and counted,
    or the first of them names its line; every other document is a row, in order."""
    good = [{"event_type": 2, "auction": None, "bid": {"auction": i, "price": 2}} for i in range(1000)]
    texts = ["{oops" if i in bad_at else json.dumps(d) for i, d in enumerate(good)]
    decoder = JsonDecoder(SCHEMA, ignore_parse_errors=True)
    batch = decoder.decode(pa.array(texts), str)
    assert batch.to_pylist() == [d for i, d in enumerate(good) if i not in bad_at]
    assert decoder.skipped == len(bad_at)
    with pytest.raises(Exception, match=rf"\b{bad_at[0]}\b"):
        JsonDecoder(SCHEMA).decode(pa.array(texts), lambda i: f"line {i}")


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82"])
@pytest.mark.parametrize("where", ["unread value", "unread key", "after the object"])
def test_invalid_utf8_anywhere_in_a_document_is_found(bad, where):
    """Invalid UTF-8 in a field no column reads, in a key or after the object: the block's UTF-8 is checked only
    when DuckDB fails on it, so DuckDB must fail on every such document (a surrogate, an overlong form, a code
    point above U+10FFFF, a cut sequence); it is skipped and counted, or names its document."""
    doc = {"unread value": b'{"event_type": 2, "note": "a' + bad + b'", "bid": {"auction": 1, "price": 2}}',
           "unread key": b'{"event_type": 2, "n' + bad + b'": 1, "bid": {"auction": 1, "price": 2}}',
           "after the object": b'{"event_type": 2, "bid": {"auction": 1, "price": 2}} ' + bad}[where]
    good = [json.dumps(d).encode() for d in CLEAN * 20]
    docs = pa.array(good[:7] + [doc] + good[7:], pa.binary()).view(pa.string())
    decoder = JsonDecoder(SCHEMA, ignore_parse_errors=True)
    assert decoder.decode(docs, str).to_pylist() == CLEAN * 20 and decoder.skipped == 1
    with pytest.raises(FormatError, match="invalid UTF-8") as e:
        JsonDecoder(SCHEMA).decode(docs, lambda i: f"line {i + 1}")
    assert "line 8" in str(e.value)


def test_a_schema_of_ambiguous_names_only_decodes():
    """No name left for the values' expression: the paths alone decide."""
    schema = TableSchema(["a"], [flink_type("ROW<a BIGINT>")])
    docs = [{"a": {"a": 1}}, {"a": None}, {"a": {"a": 2.5}}]
    batch = JsonDecoder(schema).decode(pa.array([json.dumps(d) for d in docs]), str)
    assert batch.to_pylist() == [{"a": {"a": 1}}, {"a": None}, {"a": {"a": 2}}]


NESTED = TableSchema(["r", "items"], [flink_type("ROW<x INT, ts TIMESTAMP(3), s SMALLINT, b BIGINT, d DATE>"),
                                      flink_type("ARRAY<ROW<t TINYINT, at TIMESTAMP(3)>>")])


def by_flinks_rules(decoder: JsonDecoder, docs: pa.Array):
    """Every document through Flink's rules one by one: the reference the vectorized path must equal."""
    import numpy as np
    empty = decoder._empty()
    return decoder._with_flink_rules(docs, empty, np.zeros(0, dtype=np.int64), np.arange(len(docs)), str)


@pytest.mark.parametrize("doc", [{"r": {"x": 3000000000}}, {"r": {"x": -2147483649}}, {"r": {"s": 70000}},
                                 {"r": {"b": 92233720368547758070}}, {"items": [{"t": 300}]},
                                 {"r": {"ts": "2023-11-14T22:13:20"}}, {"r": {"ts": "2023-11-14 22:13"}},
                                 {"r": {"d": "2023-11-14 00:00:00"}}, {"items": [{"at": "2023-11-14"}]}])
@pytest.mark.parametrize("ignore", [False, True])
def test_a_nested_value_duckdb_reads_otherwise_than_flink_takes_flinks_rules(doc, ignore):
    """An integer too wide for its nested field (DuckDB: NULL) or nested date/timestamp text that is not the
    plain pattern (DuckDB: parsed) decodes, fails or is skipped exactly as Flink's rules say."""
    good = {"r": {"x": 1, "ts": "2023-11-14 22:13:20.5", "s": 2, "b": 3, "d": "2023-11-14"},
            "items": [{"t": 4, "at": "2023-11-14 22:13:20"}]}
    docs = pa.array([json.dumps(good), json.dumps(doc)])

    def run(fn):
        decoder = JsonDecoder(NESTED, ignore_parse_errors=ignore)
        try:
            return fn(decoder).to_pylist(), decoder.skipped
        except Exception as e:
            return str(e)
    fast = run(lambda d: d.decode(docs, str))
    assert fast == run(lambda d: by_flinks_rules(d, docs))
    assert ignore or isinstance(fast, str)


def test_plain_nested_values_stay_vectorized(monkeypatch):
    """Integers with fewer digits than may overflow (a wider one is a false alarm: Flink's rules, same result)."""
    docs = [{"r": {"x": 214748364, "ts": "2023-11-14 22:13:20.123", "s": 3276, "b": 922337203685477580,
                   "d": "2023-11-14"}, "items": [{"t": 99, "at": "2023-11-14 22:13:20"}]}] * 20
    called = []
    monkeypatch.setattr(JsonDecoder, "_with_flink_rules", lambda *a: called.append(1))
    batch = JsonDecoder(NESTED).decode(pa.array([json.dumps(d) for d in docs]), str)
    assert not called and batch.num_rows == 20


def test_a_name_read_at_one_path_is_judged_by_the_fields_of_that_name_it_does_not_read(monkeypatch):
    """Asked only for bid.price and the auction ROW (a query's pruned fields), the decoder still knows that
    `auction` is also a BIGINT inside bid, as every bid document shows: clean documents stay vectorized."""
    narrowed = TableSchema(["auction", "bid"], [flink_type("ROW<id BIGINT>"), flink_type("ROW<price BIGINT>")],
                           physical_names=SCHEMA.names, physical_types=SCHEMA.types)
    monkeypatch.setattr("tests.test_json_fast_path.SCHEMA", narrowed)
    rows, _ = decode(CLEAN * 50, monkeypatch, per_row_allowed=False)
    assert rows[:2] == [{"auction": {"id": 7}, "bid": None}, {"auction": None, "bid": {"price": 30}}]


TEXT_SCHEMA = TableSchema(["i", "b", "s", "d", "ts", "r"],
                          [flink_type("INT"), flink_type("BOOLEAN"), flink_type("STRING"), flink_type("DATE"),
                           flink_type("TIMESTAMP(3)"),
                           flink_type("ROW<i SMALLINT, b BOOLEAN, s STRING, d DATE, ts TIMESTAMP(3)>")])
ODD_TEXT = {"i": ["12", " 12", "+12", "0x1F", "007", "-0", 1.5, 1e3, True, 2147483647, 2147483648, -2147483648,
                  99999999999, "1_000", "", None, [1], {"a": 1}],
            "b": [True, False, "true", "TRUE", "false", 1, 0, "yes", "", [True]],
            "s": ["x", 4.50, 1e5, 12, -3, True, {"a": 1}, [1, 2], "[x", "1.5", "-", 18446744073709551616],
            "d": ["2023-11-14", "2023-02-30", "2023-11-14 00:00:00", "+2023-11-14", "20231114", 5, "2023-13-01"],
            "ts": ["2023-11-14 22:13:20", "2023-11-14 22:13:20.123456", "2023-11-14 22:13:20.1234567",
                   "2023-11-14T22:13:20", "2023-11-14 22:13", "2023-11-14", "2023-02-29 10:00:00",
                   "2023-11-14 24:00:00", "2023-11-14 23:59:60", "2023-11-14 22:13:20Z", "2023-11-14 22:13:20.",
                   "2023-11-14 221320", 5, True]}


def odd_text_documents() -> list[str]:
    """Each odd value at the top level and inside the ROW (its SMALLINT takes the INT values), a ROW of another
    JSON type, and documents that are not one object."""
    docs = []
    for field, values in ODD_TEXT.items():
        for v in values:
            docs += [json.dumps({field: v}), json.dumps({"r": {field: v}})]
    docs += [json.dumps({"r": v}) for v in (5, "x", [1], True, {})]
    return docs + ["[1]", "5", '"x"', "null", "{}", '{"i": 1,}']


@pytest.mark.parametrize("ignore", [False, True])
def test_fields_read_as_text_decode_as_flinks_rules_say(ignore):
    """Integers, booleans, strings, dates and timestamps are read as their JSON text and judged on it: every odd
    text (numeric strings, hex, signs, too many digits, another JSON type, a T, no seconds, a 30th of February,
    nanoseconds) decodes, fails or is skipped exactly as Flink's rules one by one say."""
    good = json.dumps({"i": 1, "b": True, "s": "a", "d": "2023-11-14", "ts": "2023-11-14 22:13:20.5",
                       "r": {"i": 2, "b": False, "s": "b", "d": "2023-11-15", "ts": "2023-11-15 01:02:03"}})

    def run(docs, fn):
        decoder = JsonDecoder(TEXT_SCHEMA, ignore_parse_errors=ignore)
        try:
            return fn(decoder, docs).to_pylist(), decoder.skipped
        except Exception as e:
            return str(e)
    batches = [[good] + odd_text_documents()] if ignore else [[good, doc] for doc in odd_text_documents()]
    for docs in batches:
        docs = pa.array(docs)
        assert run(docs, lambda d, x: d.decode(x, str)) == run(docs, by_flinks_rules), docs[1]


def test_a_batch_whose_text_fields_are_all_empty_decodes():
    """No byte of text at all in a column read as text (every STRING value '')."""
    batch = JsonDecoder(TEXT_SCHEMA).decode(pa.array([json.dumps({"s": ""})] * 3), str)
    assert batch.column(2).to_pylist() == ["", "", ""]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_a_null_or_non_object_document_decodes_as_one_at_a_time(size):
    """DuckDB's one STRUCT per document is NULL for a JSON null (or not an object): its fields are then NULL in
    Arrow too, whatever the batch; the same rows come out in batches of any size as one document at a time."""
    docs = [json.dumps(CLEAN[0]), "null", json.dumps(CLEAN[1]), "[1]", json.dumps({"event_type": 3}), "7",
            json.dumps({"auction": None, "bid": None}), "null"]

    def rows(batch_size):
        decoder = JsonDecoder(SCHEMA, ignore_parse_errors=True)
        out = []
        for at in range(0, len(docs), batch_size):
            out += decoder.decode(pa.array(docs[at:at + batch_size]), str).to_pylist()
        return out, decoder.skipped
    assert rows(size) == rows(1)
    assert rows(size) == (CLEAN + [{"event_type": 3, "auction": None, "bid": None},
                                   {"event_type": None, "auction": None, "bid": None}], 4)
