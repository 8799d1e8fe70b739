"""CSV format: lines -> Arrow batch with pyarrow's CSV reader (no header, Flink's csv.* options)."""
from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from sqlstream.connectors.base import TableSchema, rows_batch
from sqlstream.connectors.options import Options
from sqlstream.connectors.utf8 import reject_invalid_utf8
from sqlstream.core.errors import FormatError, OptionError
from sqlstream.core.types import FlinkType

FORMAT_OPTIONS = ["csv.field-delimiter", "csv.quote-character", "csv.disable-quote-character",
                  "csv.allow-comments", "csv.ignore-parse-errors", "csv.array-element-delimiter",
                  "csv.escape-character", "csv.null-literal", "csv.write-bigdecimal-in-scientific-notation"]


def single_character(opts, key: str, default: str | None, unescape: bool = False) -> str | None:
    """An option that is one character (Flink's csv.field-delimiter, quote and escape characters; '\\t' is a tab;
    with `unescape` Java's escapes such as '\\u0001' are read, as Flink reads the field delimiter)."""
    value = opts.get(key, default)
    if value is None:
        return None
    value = {"\\t": "\t"}.get(value, value)
    if unescape and "\\" in value:
        value = JAVA_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else
                                JAVA_ESCAPES.get(m.group(2), m.group(2)), value)
    if len(value) != 1:
        raise OptionError(f"Option '{key}' must be a string with single character, but was: {value}")
    return value


JAVA_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))", re.S)
JAVA_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "0": "\0"}


def field_delimiter(opts, prefix: str = "csv.") -> str:
    return single_character(opts, prefix + "field-delimiter", ",", unescape=True)


class CsvDecoder:
    def __init__(self, schema: TableSchema, delimiter: str = ",", quote: str | None = '"',
                 escape: str | None = None, null_literal: str | None = None, ignore_parse_errors: bool = False,
                 allow_comments: bool = False, element_delimiter: str = ";"):
        self.schema = schema
        self.element_delimiter = element_delimiter
        self.delimiter, self.quote, self.escape = delimiter, quote, escape
        self.null_literal, self.ignore_errors, self.allow_comments = null_literal, ignore_parse_errors, allow_comments
        self.skipped = 0
        self.records_span_lines = False  # a file's quoted value may hold newlines; a Kafka message is one record

    @classmethod
    def from_options(cls, opts: Options, schema: TableSchema, prefix: str = "csv.") -> "CsvDecoder":
        delim = field_delimiter(opts, prefix)
        quote = None if opts.get_bool(prefix + "disable-quote-character") else \
            single_character(opts, prefix + "quote-character", '"')
        opts.get(prefix + "write-bigdecimal-in-scientific-notation")
        return cls(schema, delim, quote, single_character(opts, prefix + "escape-character", None),
                   opts.get(prefix + "null-literal"),
                   opts.get_bool(prefix + "ignore-parse-errors"), opts.get_bool(prefix + "allow-comments"),
                   opts.get(prefix + "array-element-delimiter", ";"))

    def decode(self, lines: pa.Array, where: Callable[[int], str]) -> pa.RecordBatch:
        """Lines -> batch. As Flink: too few fields are NULL-padded, too many fields drop the row (with
        ignore-parse-errors) and values that do not convert become NULL; without the option each is an error."""
        self.last_kept = None  # mask of the lines that became rows, when some were dropped
        n = len(lines)
        names = self.schema.all_names
        if n == 0:
            return rows_batch([pa.array([], t.to_arrow()) for t in self.schema.types], self.schema.names, 0)
        index = np.arange(n)
        if self.allow_comments:
            comment = pc.match_substring_regex(lines, r"^[ \t]*#")  # Jackson skips spaces before the '#'
            keep = np.asarray(pc.invert(comment).to_numpy(zero_copy_only=False))
            lines, index = lines.filter(pa.array(keep)), index[keep]
        valid = reject_invalid_utf8(lines, lambda i: where(int(index[i])), self.ignore_errors, "CSV")
        if valid is not None:
            self.skipped += int((~valid).sum())
            lines, index = lines.filter(pa.array(valid)), index[valid]
        # a blank line is a record too (one empty field), as Flink's CSV reader reads a file
        records = pc.utf8_rtrim(lines, characters="\r\n")
        if self.quote and pc.any(pc.not_equal(pc.bit_wise_and(pc.count_substring(lines, self.quote), 1), 0)).as_py():
            joined, index = self._records(records.to_pylist(), lines.to_pylist(), index, where)
            records = pa.array(joined, pa.string())

        def text(i: int) -> str:
            return records[int(i)].as_py()
        table, bad = self._parse(records)
        # one empty value after the last field (a trailing delimiter) is allowed, as by Flink's CSV parser
        trailing = {i for i, cols in bad if cols == len(names) + 1 and text(i).endswith(self.delimiter)}
        short = [(i, cols) for i, cols in bad if cols < len(names)] + [(i, len(names)) for i in sorted(trailing)]
        long_ = [i for i, cols in bad if cols > len(names) and i not in trailing]
        wrong = [(i, cols) for i, cols in bad if i not in trailing]
        if wrong and not self.ignore_errors:
            i = wrong[0][0]
            problem = f"Row length mismatch. {len(names)} fields expected but was {wrong[0][1]}." \
                if wrong[0][1] < len(names) else f"Too many entries: expected at most {len(names)}, found {wrong[0][1]}"
            raise FormatError(f"Failed to deserialize CSV row '{text(i)}': {problem}", where(int(index[i])))
        self.skipped += len(long_)
        parsed = np.ones(len(records), dtype=bool)
        parsed[[i for i, _ in bad]] = False
        rows = np.flatnonzero(parsed).astype(np.int64)
        if short:
            padded = [text(i)[:-len(self.delimiter)] if i in trailing else text(i) + self.delimiter * (len(names) - c)
                      for i, c in short]
            extra, _ = self._parse(pa.array(padded, pa.string()))
            missing = np.zeros((len(short), len(names)), dtype=bool)
            for j, (_, c) in enumerate(short):
                missing[j, c:] = True
            extra = pa.table({nm: pc.if_else(pa.array(missing[:, k]), pa.scalar(None, pa.string()),
                                             extra.column(nm)) for k, nm in enumerate(names)})
            table = pa.concat_tables([table, extra])
            rows = np.concatenate([rows, np.array([i for i, _ in short], dtype=np.int64)])
            order = np.argsort(rows, kind="stable")
            table, rows = table.take(pa.array(order)), rows[order]
        cols, failed_rows = [], np.zeros(table.num_rows, dtype=bool)
        for name, t in zip(self.schema.names, self.schema.types):
            col, failed = _convert(table.column(name).combine_chunks(), t, self.element_delimiter)
            if failed.any() and not self.ignore_errors:
                r = int(np.flatnonzero(failed)[0])
                raise FormatError(f"Failed to deserialize CSV row '{text(rows[r])}': field '{name}' does not "
                                  f"match its column type {t}", where(int(index[rows[r]])))
            failed_rows |= failed
            cols.append(col)
        self.skipped += int(failed_rows.sum()) + len(short) - len(trailing)
        if table.num_rows < n:
            self.last_kept = np.zeros(n, dtype=bool)
            self.last_kept[index[rows]] = True
        return rows_batch(cols, self.schema.names, table.num_rows)

    def _records(self, text: list[str], raw: list[str], index: np.ndarray, where) -> tuple[list[str], np.ndarray]:
        """Some line holds an odd number of quote characters: a quoted value runs on over the next lines (one
        record, as Flink's CSV reader reads a file) or is never closed. An unclosed quote is a malformed record:
        in a file it runs to the end of the data (as in Flink, whose parser looks for the quote until the end
        of the file), in a Kafka message to the end of the message."""
        records, first, i = [], [], 0
        while i < len(text):
            j, open_ = i, _ends_quoted(text[i], False, self)
            while open_ and self.records_span_lines and j + 1 < len(text):
                j += 1
                open_ = _ends_quoted(text[j], True, self)
            if open_:
                if not self.ignore_errors:
                    raise FormatError(f"Failed to deserialize CSV row '{_snippet(text[i])}': Missing closing quote "
                                      f"for value", where(int(index[i])))
                self.skipped += 1
            else:  # line breaks inside a quoted value are kept as written (CRLF too)
                records.append(text[i] if j == i else "".join(raw[i:j + 1]).rstrip("\r\n"))
                first.append(i)
            i = j + 1
        return records, index[np.array(first, dtype=np.int64)]

    def _parse(self, records: pa.Array) -> tuple[pa.Table, list[tuple[int, int]]]:
        """Parse records (a string array) as all-string columns; rows with the wrong field count are returned
        separately."""
        bad: list[tuple[int, int]] = []

        def on_invalid(row):
            bad.append((row.number - 1, row.actual_columns))
            return "skip"
        names = self.schema.all_names
        blank = np.flatnonzero(np.asarray(pc.equal(records, "").to_numpy(zero_copy_only=False), dtype=bool)) \
            if len(names) > 1 and len(records) else []
        unescape = self.escape and pc.any(pc.match_substring(records, self.escape)).as_py() and \
            not pc.any(pc.match_substring_regex(records, "[\ue000-\ue003]")).as_py()
        if unescape:  # Jackson's escapes \n \r \t \0 are control characters; pyarrow's take the next one as is
            pair = re.compile(re.escape(self.escape) + "(.)", re.S)
            records = pa.array([pair.sub(lambda m: self.escape + ESCAPED.get(m.group(1), m.group(1)), r)
                                for r in records.to_pylist()], pa.string())
        parse = pacsv.ParseOptions(delimiter=self.delimiter, quote_char=self.quote or False,
                                   escape_char=self.escape or False, invalid_row_handler=on_invalid,
                                   newlines_in_values=False, ignore_empty_lines=False)
        read = pacsv.ReadOptions(column_names=names, autogenerate_column_names=False, use_threads=False)
        conv = pacsv.ConvertOptions(column_types={nm: pa.string() for nm in names},
                                    null_values=[self.null_literal] if self.null_literal else [],
                                    strings_can_be_null=self.null_literal is not None,
                                    quoted_strings_can_be_null=True)
        newline = None
        if len(records) and pc.any(pc.match_substring(records, "\n")).as_py():  # records over several lines
            text = records.to_pylist()
            newline = next((c for c in NEWLINE_STANDS_IN if not any(c in t for t in text)), None)
            if newline:  # one record per physical line keeps pyarrow's row numbers those of the records
                records = pa.array([t.replace("\n", newline) for t in text], pa.string())
        blob = _lines_blob(records)
        read.block_size = max(read.block_size, len(blob) + 1)  # a record never straddles pyarrow's blocks
        table = pacsv.read_csv(blob, read_options=read, parse_options=parse, convert_options=conv)
        if newline:
            table = pa.table({nm: pc.replace_substring(table.column(nm), newline, "\n") for nm in names})
        if unescape:
            table = pa.table({nm: _unescaped(table.column(nm)) for nm in names})
        if len(blank):  # pyarrow reads a blank line as a row of empty fields; it is one empty field
            rows = np.setdiff1d(np.arange(len(records)), np.array([i for i, _ in bad], dtype=np.int64))
            keep = ~np.isin(rows, blank)
            table = table.filter(pa.array(keep))
            bad = sorted(bad + [(int(i), 1) for i in blank])
        return table, bad


NEWLINE_STANDS_IN = ("\x1e", "\x1f", "\x1d", "\x1c")
ESCAPED = {"n": "\ue000", "r": "\ue001", "t": "\ue002", "0": "\ue003"}  # stand-ins while pyarrow parses


def _unescaped(col: pa.ChunkedArray) -> pa.ChunkedArray:
    for letter, stand_in in ESCAPED.items():
        col = pc.replace_substring(col, stand_in, {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}[letter])
    return col


def _lines_blob(records: pa.Array) -> pa.Buffer:
    """The records as newline-terminated UTF-8 lines, one buffer, straight from Arrow's."""
    if len(records) == 0:
        return pa.py_buffer(b"\n")
    large = pa.types.is_large_string(records.type)
    newline = pa.scalar("\n", pa.large_string() if large else pa.string())
    joined = pc.binary_join_element_wise(records, newline, pa.scalar("", newline.type))
    kind = np.int64 if large else np.int32
    offsets = np.frombuffer(joined.buffers()[1], dtype=kind)[joined.offset:joined.offset + len(joined) + 1]
    return joined.buffers()[2][int(offsets[0]):int(offsets[-1])]


def _snippet(s: str, limit: int = 120) -> str:
    return s if len(s) <= limit else s[:limit] + "..."


def _ends_quoted(line: str, quoted: bool, fmt: CsvDecoder) -> bool:
    """Whether a line ends inside a quoted value, given whether it starts inside one. A quote opens a value
    only at the start of a field; two quotes inside a quoted value are one quote character."""
    q, esc, delim = fmt.quote, fmt.escape, fmt.delimiter
    at_start, i, n = not quoted, 0, len(line)
    while i < n:
        c = line[i]
        if esc and c == esc:
            i += 2
            at_start = False
            continue
        if quoted:
            if c == q:
                if i + 1 < n and line[i + 1] == q:
                    i += 2
                    continue
                quoted = False
        elif c == q and at_start:
            quoted = True
        at_start = c == delim and not quoted
        i += 1
    return quoted


JAVA_SPACE = "".join(chr(c) for c in range(33))  # what Java's String.trim() removes
# text Arrow casts exactly as Java parses it; other text takes Java's rules one value at a time
PLAIN = {"INTEGER": r"^-?\d{1,18}$", "FLOAT": r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", "DECIMAL": r"^-?\d+(\.\d+)?$",
         "TIMESTAMP": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$", "DATE": r"^\d{4}-\d{2}-\d{2}$",
         "TIMESTAMP_LTZ": r"^$.", "TIME": r"^$."}  # one value at a time
SQL_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
ISO_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?")  # LocalTime.parse: seconds are optional


def _kind(t: FlinkType) -> str | None:
    if t.is_integer:
        return "INTEGER"
    if t.is_approx:
        return "FLOAT"
    if t.name in ("DECIMAL", "TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "TIME"):
        return t.name
    return None


def _convert(raw: pa.Array, t: FlinkType, elements: str = ";") -> tuple[pa.Array, np.ndarray]:
    """A column of CSV text -> values of type `t` as Flink's CSV format converts them (Java's parse methods on
    the trimmed text: '+5' and ' 42' are integers, '3.7' and '' are not; BOOLEAN is true for 'true' in any case
    and false for anything else; DECIMAL rounds half up and is NULL when too wide) and the mask of the values
    that do not convert (an error, or NULL under ignore-parse-errors). ARRAY and ROW values are their
    elements joined by `elements` (csv.array-element-delimiter)."""
    target = t.to_arrow()
    if t.name in ("ARRAY", "ROW"):
        return _convert_elements(raw, t, elements)
    if t.is_string:
        return raw, np.zeros(len(raw), dtype=bool)
    if t.name == "BOOLEAN":
        text = pc.utf8_lower(pc.utf8_trim(raw, characters=JAVA_SPACE))
        return pc.equal(text, "true"), np.zeros(len(raw), dtype=bool)
    if t.name in ("BINARY", "VARBINARY"):  # Base64 text, as Flink's CSV format (Jackson) reads and writes BYTES
        import base64
        vals, failed = _convert_each(raw, lambda v: base64.b64decode(v, validate=True))
        return pa.array(vals, target), failed
    kind = _kind(t)
    if kind is None:
        try:
            return pc.cast(raw, target), np.zeros(len(raw), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            vals, failed = _convert_each(raw, lambda v: pc.cast(pa.array([v]), target)[0].as_py())
            return pa.array(vals, target), failed
    # the CSV format's BigDecimal and date parsers take the text as it is; the others trim it first
    text = raw if kind in ("DATE", "DECIMAL") else pc.utf8_trim(raw, characters=JAVA_SPACE)
    plain = pc.fill_null(pc.match_substring_regex(text, PLAIN[kind]), False)
    if pc.all(pc.or_(plain, pc.is_null(text))).as_py():
        try:
            return _cast_plain(text, t), np.zeros(len(raw), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # out of range, or a date Arrow refuses: each value by Java's rules
    from sqlstream.connectors.formats.json import arrow_values
    vals, failed = _convert_each(text, lambda v: _java_value(v, t, kind))
    return arrow_values(vals, t), failed


def _convert_elements(raw: pa.Array, t: FlinkType, elements: str) -> tuple[pa.Array, np.ndarray]:
    """An ARRAY or ROW column: each value split at the element delimiter, each element converted as a column of
    its type would be (an empty value is one empty element); a value with an element that does not convert does
    not convert (an error; NULL under ignore-parse-errors, the value kept). An empty ARRAY value has no element,
    an empty ROW value is NULL; a ROW takes its fields in order, NULL for those the value has no element for."""
    missing = pc.is_null(raw)
    empty = pc.fill_null(pc.equal(raw, ""), False)
    parts = pc.split_pattern(pc.if_else(empty, pa.scalar(None, pa.string()), raw), elements)
    sizes = pc.fill_null(pc.list_value_length(parts), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    owner = np.repeat(np.arange(len(raw)), sizes)
    if t.name == "ARRAY":
        flat, failed_flat = _convert(pc.list_flatten(parts), t.children[0], elements)
        failed = np.bincount(owner[failed_flat], minlength=len(raw)) > 0
        offsets = pa.array(np.concatenate([[0], np.cumsum(sizes)]), pa.int32())
        arr = pa.ListArray.from_arrays(offsets, flat, mask=missing)
        return arr.cast(t.to_arrow()), failed
    failed = np.zeros(len(raw), dtype=bool)
    fields = []
    flat, starts = pc.list_flatten(parts), np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    for i, child in enumerate(t.children):
        text = flat.take(pa.array(starts + i, pa.int64(), mask=sizes <= i))
        col, bad = _convert(text, child, elements)
        failed |= bad
        fields.append(col)
    return pa.StructArray.from_arrays(fields, fields=list(t.to_arrow()), mask=pc.or_(missing, empty)), failed


def _cast_plain(text: pa.Array, t: FlinkType) -> pa.Array:
    target = t.to_arrow()
    if t.name == "TIMESTAMP":
        nanos = pc.cast(pc.cast(text, pa.timestamp("ns")), pa.int64()).to_numpy(zero_copy_only=False)
        unit = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[target.unit]
        missing = np.asarray(pc.is_null(text).to_numpy(zero_copy_only=False), dtype=bool)
        return pa.array(np.floor_divide(np.nan_to_num(nanos).astype(np.int64), unit), pa.int64(),
                        mask=missing).cast(pa.timestamp(target.unit)).cast(target)
    return pc.cast(text, target)


def _convert_each(text: pa.Array, convert) -> tuple[list, np.ndarray]:
    from sqlstream.connectors.formats.json_flink import FieldError
    vals, failed = [], np.zeros(len(text), dtype=bool)
    for i, v in enumerate(text.to_pylist()):
        if v is None:
            vals.append(None)
            continue
        try:
            vals.append(convert(v))
        except (FieldError, ValueError, ArithmeticError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
            vals.append(None)
            failed[i] = True
    return vals, failed


def _java_value(v: str, t: FlinkType, kind: str):
    """One trimmed CSV value by Java's rules (Integer.parseInt, Double.parseDouble, new BigDecimal,
    java.sql.Date.valueOf, the SQL timestamp pattern)."""
    from sqlstream.connectors.formats import json_flink
    if kind == "TIME":  # LocalTime.parse, then milliseconds
        m = ISO_TIME.fullmatch(v)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
            raise json_flink.FieldError(f"'{v}' is no time")
        millis = ((int(m.group(1)) * 60 + int(m.group(2))) * 60 + int(m.group(3) or 0)) * 1000 + \
            int((m.group(4) or "").ljust(3, "0")[:3])
        millis -= millis % 10 ** (3 - min(t.precision, 3))  # cut to the column's precision
        return millis * 1_000_000 // {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[t.to_arrow().unit]
    if kind == "DECIMAL" and v != v.strip(JAVA_SPACE):  # new BigDecimal(text) of the untrimmed text
        raise json_flink.FieldError(f"'{v}' is no DECIMAL")
    if kind != "DATE":  # the JSON format's rules for text are Java's parse methods too
        return json_flink.convert(v, t)
    m = SQL_DATE.fullmatch(v)
    if not m:
        raise json_flink.FieldError(f"'{v}' is no date")
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        raise json_flink.FieldError(f"'{v}' is no date")
    return json_flink._days_from_civil(y, mo, 1) + d - 1  # lenient, as java.sql.Date: Feb 30 is Mar 1


def encode_csv_lines(batch: pa.RecordBatch, names: list[str], delimiter: str = ",") -> pa.Array:
    from sqlstream.core.formatting import format_double, format_timestamp
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
        elif pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
            import base64
            s = pa.array([None if v is None else base64.b64encode(v).decode() for v in arr.to_pylist()], pa.string())
        else:
            s = pc.cast(arr, pa.string())
        parts.append(pc.fill_null(s, ""))
    return pc.binary_join_element_wise(*parts, delimiter)
