"""Values DuckDB cannot read as their type (it makes them NULL) or reads otherwise than Flink, at every nested
position: inside a ROW, an ARRAY, a MAP's values and ROWs in arrays, of the types not read as their text (DOUBLE,
FLOAT, DECIMAL, TIME, BYTES, TIMESTAMP_LTZ, TIMESTAMP(9)). Each document decodes, fails or is skipped as Flink's rules one by one say."""
import json

import pyarrow as pa
import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats.json import JsonDecoder
from tests.test_json_fast_path import by_flinks_rules, flink_type

KINDS = {"dbl": "DOUBLE", "flt": "FLOAT", "dec": "DECIMAL(10, 2)", "tm": "TIME", "bin": "BYTES",
         "ltz": "TIMESTAMP_LTZ(3)", "ts9": "TIMESTAMP(9)"}
ROW = "ROW<" + ", ".join(f"{k} {t}" for k, t in KINDS.items()) + ">"
SCHEMA = TableSchema(["a", *KINDS, "r", "only", "arr", "m", "rows"],
                     [flink_type("INT"), *(flink_type(t) for t in KINDS.values()), flink_type(ROW),
                      flink_type("ROW<d DOUBLE, t TIME>"), flink_type("ARRAY<DOUBLE>"),
                      flink_type("MAP<STRING, TIME>"), flink_type(f"ARRAY<{ROW}>")])
DOUBLES = ["abc", "1.5", " 2", "1e400", "NaN", "Infinity", "1.5f", True, [1], {"a": 1}, "", 1e308, 12, "0x10"]
ODD = {"dbl": DOUBLES, "flt": DOUBLES,
       "dec": ["abc", "1.005", "12345678901.5", 1.005, 99999999.995, True, "", "1e3", [1], "NaN"],
       "tm": ["xx", "10:00", "10:00:00.5", "25:00:00", "10:00:00Z", "T10:00:00", 5, "", "10:00:60", "1:00:00"],
       "bin": ["AQI=", "not base64!", "AQI", 5, "", True, [1]],
       "ltz": ["2023-11-14 22:13:20Z", "2023-11-14 22:13:20.5Z", "2023-11-14 22:13:20", "2023-11-14 22:13:20+01:00",
               "2023-11-14T22:13:20Z", "2023-11-14 22:13:20.Z", "x", 5],
       "ts9": ["2023-11-14 22:13:20.123456789", "2023-11-14T22:13:20", "2023-11-14 22:13", "2023-02-30 00:00:00",
               "x", 5]}
GOOD = json.dumps({"a": 0, "dbl": 1.5, "r": {"dbl": 2.5, "tm": "10:00:00"}, "only": {"d": 1.0, "t": "01:02:03"},
                   "arr": [1.5], "m": {"k": "11:00:00"}, "rows": [{"dec": 1.25}]})


def odd_documents() -> list[str]:
    """Each odd value at the top level, in a ROW whose names also stand for fields in an array, in a ROW whose
    names are its own, in an array of ROWs, in an ARRAY<DOUBLE> and as a MAP<STRING, TIME> value."""
    docs = []
    for kind, values in ODD.items():
        for v in values:
            docs += [{"a": 1, kind: v}, {"r": {kind: v}}, {"rows": [{kind: v}]}]
            if kind == "dbl":
                docs += [{"arr": [1.0, v]}, {"only": {"d": v}}]
            if kind == "tm":
                docs += [{"m": {"x": v, "y": "10:00:00"}}, {"only": {"t": v}}]
    return [json.dumps(d) for d in docs]


def run(docs: pa.Array, fn, ignore: bool):
    decoder = JsonDecoder(SCHEMA, ignore_parse_errors=ignore)
    try:
        return repr((fn(decoder, docs).to_pylist(), decoder.skipped))  # repr: NaN equals NaN
    except Exception as e:
        return str(e)


@pytest.mark.parametrize("ignore", [False, True])
def test_nested_values_duckdb_cannot_read_take_flinks_rules(ignore):
    batches = [[GOOD] + odd_documents()] if ignore else [[GOOD, doc] for doc in odd_documents()]
    for docs in batches:
        docs = pa.array(docs)
        assert run(docs, lambda d, x: d.decode(x, str), ignore) == run(docs, by_flinks_rules, ignore), docs[1]


def test_a_nested_double_that_does_not_convert_fails_naming_its_field():
    docs = pa.array([json.dumps({"a": 1, "only": {"d": "abc", "t": "xx"}})])
    with pytest.raises(Exception, match="Fail to deserialize at field: only"):
        JsonDecoder(SCHEMA).decode(docs, str)


def test_plain_nested_values_stay_vectorized(monkeypatch):
    """(A NULL inside an array or map, a missing field of a ROW in one, any BYTES value take Flink's rules.)"""
    plain = json.loads(GOOD) | {"rows": None, "m": None}  # a MAP of TIME: its colons look like a value
    called = []
    monkeypatch.setattr(JsonDecoder, "_with_flink_rules", lambda *a: called.append(1))
    batch = JsonDecoder(SCHEMA).decode(pa.array([json.dumps(plain)] * 20), str)
    assert not called and batch.num_rows == 20
