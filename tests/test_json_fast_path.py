"""JSON documents DuckDB reads as Flink does stay on the vectorized path; only the others take Flink's rules one
by one. A field name used for fields of different kinds (nexmark's `auction` is a ROW and, inside `bid`, a
BIGINT) is judged by its paths, not its name, so every auction event is not sent down the per-row path."""
import json

import pyarrow as pa
import sqlglot
import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats.json import JsonDecoder
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


def test_a_schema_of_ambiguous_names_only_decodes():
    """No name left for the values' expression: the paths alone decide."""
    schema = TableSchema(["a"], [flink_type("ROW<a BIGINT>")])
    docs = [{"a": {"a": 1}}, {"a": None}, {"a": {"a": 2.5}}]
    batch = JsonDecoder(schema).decode(pa.array([json.dumps(d) for d in docs]), str)
    assert batch.to_pylist() == [{"a": {"a": 1}}, {"a": None}, {"a": {"a": 2}}]
