"""CSV records as Flink's CSV reader finds them: values of any size, quoted values over several lines, and a quote
that is never closed (a malformed record, skipped and counted or an error naming the file and line)."""
import pyarrow as pa
import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.formats.csv import CsvDecoder
from sqlstream.core.errors import FormatError
from sqlstream.core.types import FlinkType
from tests.golden import run_sql


def table(path, ignore: bool = False) -> str:
    opt = ", 'csv.ignore-parse-errors' = 'true'" if ignore else ""
    return (f"CREATE TABLE t (id INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '{path}', "
            f"'format' = 'csv'{opt});\n")


def test_a_value_of_12_mb_is_read(tmp_path):
    """Flink 2.3 reads both values whole (12582912 characters); before: internal ArrowInvalid 'straddling object
    straddles two block boundaries'."""
    big = "x" * (12 << 20)
    (tmp_path / "t.csv").write_text(f'1,a\n2,{big}\n3,"{big}"\n4,d\n')
    rows = run_sql(table(tmp_path / "t.csv") + "SELECT id, CHAR_LENGTH(s) AS n FROM t;")
    assert [(r["id"], r["n"]) for r in rows] == [(1, 1), (2, 12 << 20), (3, 12 << 20), (4, 1)]


def test_an_unclosed_quote_names_file_and_line(tmp_path):
    """Flink 2.3: 'Missing closing quote for value'; before: a wrong-field-count message (or, with
    ignore-parse-errors, an internal 'Array arguments must all be the same length')."""
    (tmp_path / "t.csv").write_text('1,a\n2,"abc\n3,c\n')
    with pytest.raises(FormatError, match=r"Missing closing quote for value .*t\.csv:2\)"):
        run_sql(table(tmp_path / "t.csv") + "SELECT id, s FROM t;")


@pytest.mark.parametrize("batch_size", [1, 7])
def test_an_unclosed_quote_is_skipped_and_counted_under_ignore_parse_errors(tmp_path, batch_size):
    (tmp_path / "t.csv").write_text('1,a\n2,"abc\n3,c\n4,d\n')
    rows = run_sql(table(tmp_path / "t.csv", ignore=True) + "SELECT id, s FROM t;", batch_size)
    assert [(r["id"], r["s"]) for r in rows] == [(1, "a")]


def test_a_kafka_message_with_an_unclosed_quote_is_one_malformed_record():
    """Messages are records: an unclosed quote does not run into the next message."""
    dec = CsvDecoder(TableSchema(["id", "s"], [FlinkType.of("INT"), FlinkType.of("STRING")]),
                     ignore_parse_errors=True)
    out = dec.decode(pa.array(['1,a', '2,"abc', '3,"c\nd"', '4,e']), lambda i: f"offset {i}")
    assert out.to_pydict() == {"id": [1, 3, 4], "s": ["a", "c\nd", "e"]}
    assert dec.skipped == 1 and dec.last_kept.tolist() == [True, False, True, True]
    strict = CsvDecoder(dec.schema)
    with pytest.raises(FormatError, match=r"Missing closing quote for value \(at offset 1\)"):
        strict.decode(pa.array(['1,a', '2,"abc', '4,e']), lambda i: f"offset {i}")
