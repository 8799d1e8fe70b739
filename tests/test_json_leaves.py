"""A table of text fields (top level and in ROWs) is read by its leaves' paths (json_leaves.LeafPaths) instead of
from_json: the same rows, skipped counts and errors as from_json's reading, whether a ROW's own path is
extracted with the values or typed afterwards where its leaves leave it open."""
import json

import pyarrow as pa
import pytest
import sqlglot

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats.json import JsonDecoder
from sqlstream.connectors.formats.json_leaves import LeafPaths
from sqlstream.core.types import from_sqlglot
from sqlstream.dialect import Flink


def flink_type(text: str):
    return from_sqlglot(sqlglot.parse_one(f"CAST(x AS {text})", read=Flink).to)


SCHEMA = TableSchema(["event_type", "person", "bid", "note"],
                     [flink_type("INT"), flink_type("ROW<`dateTime` TIMESTAMP(3), name STRING>"),
                      flink_type("ROW<auction BIGINT, ok BOOLEAN, `day` DATE, extra STRING>"), flink_type("STRING")])
CLEAN = [{"event_type": 0, "person": {"dateTime": "2023-11-14 22:13:20.000", "name": "Ann"}, "bid": None,
          "note": "x"},
         {"event_type": 2, "person": None, "bid": {"auction": 7, "ok": True, "day": "2023-11-14", "extra": "e"},
          "note": None}]
ODD = ['{"event_type": 2, "person": null, "bid": {}}',  # a ROW of NULLs
       '{"event_type": 2, "bid": {"auction": null, "ok": null}}',  # fields NULL, person missing
       '{"event_type": 2, "person": 5, "bid": null}',  # a number where a ROW is
       '{"event_type": 2, "person": "s", "bid": [1, 2]}',  # a string and an array where ROWs are
       '{"event_type": 2, "person": {"name": {"a": [1, 2]}}, "bid": {"extra": 4.50}}',  # object and number as text
       '{"event_type": "7", "person": {"dateTime": "2023-11-14T22:13:20"}, "bid": {"auction": 3.7}}',
       '{"event_type": 1, "person": {"name": "a", "name": "b"}, "bid": {"ok": "true"}}',  # duplicate key
       '{"event_type": 1, "note": "\\u00e9\\n\\"q\\"", "bid": {"day": "2023-02-30"}}',  # escapes; no such day
       '{"event_type": 12345678901, "bid": {"auction": 99999999999999999999}}',  # too wide
       '{"event_type": 1,}', '[1, 2]', '7', 'null', '"x"', '{}', '{"other": 1}',
       '{"event_type": 1, "bid": {"ok": true, "extra": null}, "person": {"dateTime": null}}']


def decode_both(texts: list[str], ignore: bool, probed: bool):
    """(rows, skipped, kept) or the error's message, from the leaves' paths and from from_json."""
    results = []
    for leaves in (True, False):
        decoder = JsonDecoder(SCHEMA, ignore_parse_errors=ignore)
        assert isinstance(decoder.leaves, LeafPaths)
        if leaves:
            decoder.leaves.probed = {j: probed for j in decoder.leaves.probed}
        else:
            decoder.leaves = None
        try:
            batch = decoder.decode(pa.array(texts), lambda i: f"line {i + 1}")
            kept = None if decoder.last_kept is None else decoder.last_kept.tolist()
            results.append((batch.to_pylist(), decoder.skipped, kept))
        except Exception as e:  # noqa: BLE001  (compared between the two readings)
            results.append(f"{type(e).__name__}: {e}")
    return results


@pytest.mark.parametrize("probed", [True, False])
@pytest.mark.parametrize("ignore", [True, False])
@pytest.mark.parametrize("odd", range(len(ODD)))
def test_an_odd_document_reads_as_from_json_reads_it(odd, ignore, probed):
    texts = [json.dumps(CLEAN[0]), ODD[odd], json.dumps(CLEAN[1])]
    by_leaves, by_struct = decode_both(texts, ignore, probed)
    assert by_leaves == by_struct


@pytest.mark.parametrize("probed", [True, False])
def test_every_odd_document_among_clean_ones(probed):
    texts = [json.dumps(CLEAN[i % 2]) for i in range(200)]
    for k, text in enumerate(ODD):
        texts[7 * k + 3] = text
    by_leaves, by_struct = decode_both(texts, True, probed)
    assert by_leaves == by_struct and by_leaves[1] > 0


def test_the_way_each_row_is_told_apart_follows_the_block_before():
    """person is NULL in most documents: its path is extracted with the values; bid is an object in most: typed
    only where its leaves leave it open. Both give the same rows."""
    decoder = JsonDecoder(SCHEMA)
    texts = pa.array([json.dumps(CLEAN[1])] * 9 + [json.dumps(CLEAN[0])])
    first = decoder.decode(texts, str).to_pylist()
    assert decoder.leaves.probed == {1: True, 2: False}
    assert decoder.decode(texts, str).to_pylist() == first
    assert [r["person"] is None for r in first] == [True] * 9 + [False]
    assert [r["bid"] is None for r in first] == [False] * 9 + [True] and first[0]["bid"]["auction"] == 7


def test_tables_from_json_reads():
    """Fields read as their type (DOUBLE, arrays..), nested ROWs and names with a quote or backslash keep
    from_json."""
    for types in (["DOUBLE"], ["ARRAY<INT>"], ["ROW<a ROW<b INT>>"], ["ROW<a DOUBLE>"], ["TIME"]):
        assert JsonDecoder(TableSchema(["c"], [flink_type(t) for t in types])).leaves is None
    assert JsonDecoder(TableSchema(['a"b'], [flink_type("INT")])).leaves is None
    assert JsonDecoder(TableSchema(["c"], [flink_type("INT")]), fail_on_missing_field=True).leaves is None
    assert JsonDecoder(TableSchema(["c", "r"], [flink_type("INT"), flink_type("ROW<`a b.c` STRING>")])).leaves


@pytest.mark.parametrize("probed", [True, False])
def test_names_quoted_in_paths(probed):
    schema = TableSchema(["it's", "a.b c"], [flink_type("ROW<`x'y` STRING, `$z` INT>"), flink_type("STRING")])
    texts = pa.array(['{"it\'s": {"x\'y": "v", "$z": 3}, "a.b c": "w"}', '{"it\'s": null}', '{"it\'s": {}}',
                      '{"a.b c": 1}'])
    decoder = JsonDecoder(schema)
    decoder.leaves.probed = {0: probed}
    assert decoder.decode(texts, str).to_pylist() == [
        {"it's": {"x'y": "v", "$z": 3}, "a.b c": "w"}, {"it's": None, "a.b c": None},
        {"it's": {"x'y": None, "$z": None}, "a.b c": None}, {"it's": None, "a.b c": "1"}]


def test_blocks_reuse_one_relation_each_reading_its_own_documents():
    """A thread binds a decoding statement once and runs it again for every block (`over_docs`): each block gives
    its own rows, whether its documents are string or large_string, and after a block DuckDB failed on (a
    malformed document, read by Flink's rules) the next block still reads."""
    from sqlstream.connectors.formats import json as json_format
    decoder = JsonDecoder(SCHEMA, ignore_parse_errors=True)
    blocks = [[{**CLEAN[1], "bid": {**CLEAN[1]["bid"], "auction": k}}] * 3 for k in range(4)]
    texts = [[json.dumps(d) for d in block] for block in blocks]
    texts[2][1] = '{"event_type": 2, "bid": {"auction": '  # DuckDB fails on this block
    seen = []
    for k, block in enumerate(texts):
        docs = pa.array(block, pa.large_string() if k % 2 else pa.string())
        seen.append([r["bid"]["auction"] for r in decoder.decode(docs, lambda i: f"line {i + 1}").to_pylist()])
        if k == 0:
            relations = dict(json_format._local.relations)
    assert seen == [[0, 0, 0], [1, 1, 1], [2, 2], [3, 3, 3]]
    assert decoder.skipped == 1
    for key, rel in relations.items():  # the first block's statements were not bound again
        assert json_format._local.relations.get(key) is rel
