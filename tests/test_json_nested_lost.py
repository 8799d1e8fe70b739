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
    odd = odd_documents()  # a few at a time under ignore-parse-errors: one DuckDB cannot read sends all apart
    batches = [[GOOD] + odd[i:i + 8] for i in range(0, len(odd), 8)] if ignore else [[GOOD, doc] for doc in odd]
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


RANDOM_TYPES = {"i": "INT", "ti": "TINYINT", "bi": "BIGINT", "b": "BOOLEAN", "s": "STRING", "d": "DATE",
                "ts": "TIMESTAMP(3)", "dbl": "DOUBLE", "flt": "FLOAT", "dec": "DECIMAL(6, 2)", "tm": "TIME", "bin": "BYTES",
                "ltz": "TIMESTAMP_LTZ(3)"}
RANDOM_ROW = "ROW<" + ", ".join(f"{k} {t}" for k, t in RANDOM_TYPES.items()) + ">"
RANDOM_SCHEMA = TableSchema(
    [*RANDOM_TYPES, "r", "rr", "arr", "m", "rows", "mi"],
    [*(flink_type(t) for t in RANDOM_TYPES.values()), flink_type(RANDOM_ROW),
     flink_type("ROW<q ROW<dbl DOUBLE, tm TIME, i INT>>"), flink_type("ARRAY<DECIMAL(6, 2)>"),
     flink_type("MAP<STRING, DOUBLE>"), flink_type(f"ARRAY<{RANDOM_ROW}>"), flink_type("MAP<INT, TIME>")])
TEXTS = ["x", "", "12", "1.5", " 3", "NaN", "true", "2023-11-14", "2023-11-14 22:13:20", "2023-11-14 22:13:20.5Z",
         "10:00:00", "10:00", "AQI=", "2023-11-14T22:13:20", "99999999", "-0", "1e5", "00:00:00.123456789"]


def random_documents(rnd, n: int) -> list[str]:
    """Documents of random values of every JSON type at random positions: top-level, in ROWs (two deep),
    arrays, ROWs in arrays, MAP values and INT keys."""
    def value():
        return rnd.choice([lambda: rnd.randint(-300, 300), lambda: rnd.choice([1.5, -0.25, 1e3, 1e20, 3.0, 1234.567]),
                           lambda: rnd.choice([True, False]), lambda: None, lambda: rnd.choice(TEXTS),
                           lambda: 2 ** 63 + rnd.randint(0, 5), lambda: [rnd.randint(0, 3)], lambda: {"a": 1}])()

    def row():
        return {k: value() for k in rnd.sample(list(RANDOM_TYPES), rnd.randint(0, 4))}
    nested = {"r": lambda: row() if rnd.random() < .8 else value(),
              "rr": lambda: {"q": {"dbl": value(), "tm": value(), "i": value()}},
              "arr": lambda: [value() for _ in range(rnd.randint(0, 3))],
              "m": lambda: {str(i): value() for i in range(rnd.randint(0, 3))},
              "mi": lambda: {rnd.choice(["1", "x", "2", " 3"]): value() for _ in range(rnd.randint(0, 2))},
              "rows": lambda: [row() for _ in range(rnd.randint(0, 2))]}
    return [json.dumps({k: nested[k]() if k in nested else value()
                        for k in rnd.sample(RANDOM_SCHEMA.names, rnd.randint(1, 4))}) for _ in range(n)]


def test_random_values_at_nested_positions_decode_as_flinks_rules_say():
    """Under ignore-parse-errors a few documents at a time; without it, each document after a plain one."""
    import random
    docs = random_documents(random.Random(2), 300)

    def run_random(batch, fn, ignore):
        decoder = JsonDecoder(RANDOM_SCHEMA, ignore_parse_errors=ignore)
        try:
            return repr((fn(decoder, batch).to_pylist(), decoder.skipped))
        except Exception as e:
            return str(e)
    for i in range(0, len(docs), 8):
        batch = pa.array(docs[i:i + 8])
        assert run_random(batch, lambda d, x: d.decode(x, str), True) == run_random(batch, by_flinks_rules, True)
    for doc in docs[:100]:
        batch = pa.array(["{}", doc])
        assert run_random(batch, lambda d, x: d.decode(x, str), False) == \
            run_random(batch, by_flinks_rules, False), doc
