"""The JSON decoder's byte checks (json_text) against the regular expressions they stand for: every document or
value the expression flags is flagged (a false alarm only costs Flink's rules), on random bytes and offsets."""
import re

import numpy as np
import pyarrow as pa

from sqlstream.connectors.formats.json_text import not_plain_text, trailing_comma

TRAILING_COMMA = re.compile(r",\s*[}\]]")


def random_texts(rng, alphabet: bytes, count: int, longest: int) -> list:
    letters = np.frombuffer(alphabet, dtype=np.uint8)
    return [None if rng.random() < 0.1 else bytes(rng.choice(letters, rng.integers(0, longest))).decode()
            for _ in range(count)]


def test_a_trailing_comma_is_found_in_every_document_that_has_one():
    rng = np.random.default_rng(7)
    for _ in range(150):
        docs = [d or "" for d in random_texts(rng, b'ab1,}] \n\t\f{["', int(rng.integers(1, 12)), 14)]
        arr = pa.array(docs, pa.large_string()).slice(int(rng.integers(0, 2)))
        docs = arr.to_pylist()
        found = trailing_comma(arr)
        found = np.zeros(len(docs), dtype=bool) if found is None else found
        expected = np.array([TRAILING_COMMA.search(d) is not None for d in docs], dtype=bool)
        assert not (expected & ~found).any(), docs
        if not TRAILING_COMMA.search("".join(docs)):
            assert not found.any(), docs


def plain(value: str | None, kind: str, sep: str = " ") -> bool:
    """What the decoder may read with Arrow's casts: the patterns spelled as regular expressions."""
    if value is None:
        return True
    if kind == "BIGINT":
        return re.fullmatch(r"-?\d+", value) is not None and len(value) < 19
    if kind == "INT":
        return re.fullmatch(r"-?\d+", value) is not None and len(value) < 10
    if kind == "DATE":
        return re.fullmatch(r"....-..-..", value, re.S) is not None
    if kind == "TIMESTAMP":
        return re.fullmatch(r"....-..-..(?:" + sep + r")..:..:..(?:\.[\s\S]{1,6})?", value, re.S) is not None
    return re.match(r"(?:-?[0-9]+[.eE]|[\[{])", value) is None


def test_a_value_the_patterns_do_not_allow_is_flagged():
    rng = np.random.default_rng(11)
    shapes = {"BIGINT": (b"-0123456789 .x", 22), "INT": (b"-0123456789+", 12), "DATE": (b"-0123", 11),
              "TIMESTAMP": (b"-: .T0123", 27), "STRING": (b"-1.e[{a", 6)}
    for kind, (alphabet, longest) in shapes.items():
        for _ in range(60):
            values = random_texts(rng, alphabet, int(rng.integers(1, 20)), longest)
            if kind in ("DATE", "TIMESTAMP") and rng.random() < 0.5:  # the fixed-width layout of real data
                good = "2023-11-14" if kind == "DATE" else "2023-11-14 22:13:20.000"
                values = [None if v is None else (good if rng.random() < 0.8 else v[:len(good)].ljust(len(good), "-"))
                          for v in values]
            for sep in (" ", "T"):
                arr = pa.array(values, pa.string())
                flagged = not_plain_text(arr, kind, sep)
                flagged = np.zeros(len(values), dtype=bool) if flagged is None else flagged
                expected = np.array([not plain(v, kind, sep) for v in values], dtype=bool)
                assert not (expected & ~flagged).any(), (kind, values)
                if kind in ("BIGINT", "INT"):  # not strict: only what Arrow's cast reads and Flink refuses (hex)
                    loose = not_plain_text(arr, kind, sep, strict=False)
                    loose = np.zeros(len(values), dtype=bool) if loose is None else loose
                    hexadecimal = np.array([v is not None and "x" in v.lower() for v in values], dtype=bool)
                    assert not (hexadecimal & ~loose).any(), (kind, values)
