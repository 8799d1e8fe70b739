"""CSV format: lines -> Arrow batch with pyarrow's CSV reader (no header, Flink's csv.* options)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import TableSchema
from connectors.options import Options
from sqlstream.errors import FormatError
from sqlstream.types import FlinkType

FORMAT_OPTIONS = ["csv.field-delimiter", "csv.quote-character", "csv.disable-quote-character",
                  "csv.allow-comments", "csv.ignore-parse-errors", "csv.array-element-delimiter",
                  "csv.escape-character", "csv.null-literal", "csv.write-bigdecimal-in-scientific-notation"]


class CsvDecoder:
    def __init__(self, schema: TableSchema, delimiter: str = ",", quote: str | None = '"',
                 escape: str | None = None, null_literal: str | None = None, ignore_parse_errors: bool = False,
                 allow_comments: bool = False):
        self.schema = schema
        self.delimiter, self.quote, self.escape = delimiter, quote, escape
        self.null_literal, self.ignore_errors, self.allow_comments = null_literal, ignore_parse_errors, allow_comments
        self.skipped = 0

    @classmethod
    def from_options(cls, opts: Options, schema: TableSchema, prefix: str = "csv.") -> "CsvDecoder":
        delim = opts.get(prefix + "field-delimiter", ",")
        delim = {"\\t": "\t"}.get(delim, delim)
        quote = None if opts.get_bool(prefix + "disable-quote-character") else opts.get(prefix + "quote-character", '"')
        opts.get(prefix + "array-element-delimiter")
        opts.get(prefix + "write-bigdecimal-in-scientific-notation")
        return cls(schema, delim, quote, opts.get(prefix + "escape-character"), opts.get(prefix + "null-literal"),
                   opts.get_bool(prefix + "ignore-parse-errors"), opts.get_bool(prefix + "allow-comments"))

    def decode(self, lines: pa.Array, where: Callable[[int], str]) -> pa.RecordBatch:
        n = len(lines)
        names = self.schema.all_names
        if n == 0:
            return pa.RecordBatch.from_arrays([pa.array([], t.to_arrow()) for t in self.schema.types],
                                              names=self.schema.names)
        if self.allow_comments:
            keep = pc.invert(pc.starts_with(lines, "#"))
            lines = lines.filter(keep)
        lines = pc.utf8_rtrim(lines, characters="\r\n")
        blob = "\n".join(lines.to_pylist()).encode() + b"\n"
        bad_rows: list[int] = []

        def on_invalid(row):
            bad_rows.append(row.number)
            return "skip"
        parse = pacsv.ParseOptions(delimiter=self.delimiter, quote_char=self.quote or False,
                                   escape_char=self.escape or False, invalid_row_handler=on_invalid,
                                   newlines_in_values=False)
        read = pacsv.ReadOptions(column_names=names, autogenerate_column_names=False, use_threads=False)
        conv = pacsv.ConvertOptions(column_types={nm: pa.string() for nm in names},
                                    null_values=[self.null_literal] if self.null_literal else [],
                                    strings_can_be_null=self.null_literal is not None,
                                    quoted_strings_can_be_null=False)
        table = pacsv.read_csv(pa.py_buffer(blob), read_options=read, parse_options=parse, convert_options=conv)
        if bad_rows and not self.ignore_errors:
            i = bad_rows[0] - 1
            raise FormatError(f"Failed to deserialize CSV row '{lines[i].as_py()}': wrong number of fields", where(i))
        line_no = np.array([i for i in range(n) if (i + 1) not in set(bad_rows)], dtype=np.int64) \
            if bad_rows else np.arange(n)
        self.skipped += len(bad_rows)
        cols, bad = [], np.zeros(table.num_rows, dtype=bool)
        for name, t in zip(self.schema.names, self.schema.types):
            raw = table.column(name).combine_chunks()
            col, failed = _convert(raw, t)
            bad |= failed
            cols.append(col)
        if bad.any():
            if not self.ignore_errors:
                i = int(line_no[np.flatnonzero(bad)[0]])
                raise FormatError(f"Failed to deserialize CSV row '{lines[i].as_py()}': a field does not match "
                                  f"its column type", where(i))
            self.skipped += int(bad.sum())
            keep = pa.array(~bad)
            cols = [c.filter(keep) for c in cols]
        return pa.RecordBatch.from_arrays(cols, names=self.schema.names)


def _convert(raw: pa.Array, t: FlinkType) -> tuple[pa.Array, np.ndarray]:
    target = t.to_arrow()
    if t.is_string:
        return raw, np.zeros(len(raw), dtype=bool)
    empty = pc.equal(pc.utf8_trim_whitespace(raw), "")
    raw = pc.if_else(empty, pa.scalar(None, pa.string()), raw)
    try:
        if t.name == "BOOLEAN":
            low = pc.utf8_lower(raw)
            out = pc.if_else(pc.equal(low, "true"), True, pc.if_else(pc.equal(low, "false"), False, None))
            failed = pc.and_(pc.is_valid(raw), pc.is_null(out))
            return out, np.asarray(failed.to_numpy(zero_copy_only=False))
        return pc.cast(pc.utf8_trim_whitespace(raw), target), np.zeros(len(raw), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        vals, failed = [], np.zeros(len(raw), dtype=bool)
        for i, v in enumerate(raw.to_pylist()):
            if v is None:
                vals.append(None)
                continue
            try:
                vals.append(pc.cast(pa.array([v.strip()]), target)[0].as_py())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                vals.append(None)
                failed[i] = True
        return pa.array(vals, target), failed


def encode_csv_lines(batch: pa.RecordBatch, names: list[str], delimiter: str = ",") -> pa.Array:
    from runtime.expressions import format_double, format_timestamp
    parts = []
    for i, _ in enumerate(names):
        arr = batch.column(i)
        if pa.types.is_timestamp(arr.type):
            s = format_timestamp(arr)
        elif pa.types.is_floating(arr.type):
            s = format_double(arr)
        elif pa.types.is_string(arr.type):
            needs = pc.match_substring_regex(arr, '[",\\n]')
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
            s = pc.if_else(pc.fill_null(needs, False), quoted, arr)
        elif pa.types.is_boolean(arr.type):
            s = pc.cast(arr, pa.string())
        else:
            s = pc.cast(arr, pa.string())
        parts.append(pc.fill_null(s, ""))
    return pc.binary_join_element_wise(*parts, delimiter)
