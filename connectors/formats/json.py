"""JSON format: a batch of JSON documents -> one Arrow batch, decoded by DuckDB; the few documents DuckDB may read
otherwise than Flink (found by one regular expression over the batch) take Flink's rules one by one (json_flink).

Error policy as in Flink: a malformed record (bad JSON, not one object) fails the job naming where it came from,
or with 'json.ignore-parse-errors' is skipped and counted; a value that does not convert fails the job, or under
the option is NULL and the row stays (counted).
"""
from __future__ import annotations

import json as _json
import re
import threading
from typing import TYPE_CHECKING, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.base import TableSchema, rows_batch
from sqlstream.connectors.formats import json_flink
from sqlstream.connectors.formats.json_leaves import LeafPaths
from sqlstream.connectors.formats.json_text import INTEGER_DIGITS, not_plain_text, null_mask, trailing_comma, \
    true_mask, valid_mask
from sqlstream.connectors.options import Options
from sqlstream.connectors.utf8 import reject_invalid_utf8
from sqlstream.core.errors import FormatError, OptionError
from sqlstream.core.types import FlinkType

if TYPE_CHECKING:
    import duckdb

FORMAT_OPTIONS = ["json.ignore-parse-errors", "json.fail-on-missing-field", "json.timestamp-format.standard",
                  "json.map-null-key.mode", "json.map-null-key.literal", "json.encode.decimal-as-plain-number",
                  "json.encode.ignore-null-fields"]

_local = threading.local()


def duck() -> duckdb.DuckDBPyConnection:
    """One DuckDB connection per thread, single-threaded so results keep arrival order. DuckDB is imported
    here, when a job first decodes JSON, not when a job that never does starts."""
    con = getattr(_local, "con", None)
    if con is None:
        import duckdb
        con = duckdb.connect()
        con.execute("SET threads=1")
        _local.con = con
    return con


# the name a block's documents take on this thread's connection while a statement reads them (`over_docs`)
DOCS = "sqlstream_json_docs"
KEPT_RELATIONS = 64  # statements whose relations a thread keeps (a few per table: json_leaves' forms)


def over_docs(sql: str, params: dict | None, docs: pa.Array) -> pa.Table:
    """`sql`, which reads the documents as table `DOCS` (column `line`), over `docs` on this thread's connection.
    The statement's relation is made (bound) once per thread and run again for each block: binding it for every
    block was a third of a small block's cost (~2 ms of each call)."""
    con = duck()
    relations = getattr(_local, "relations", None)
    if relations is None:
        relations = _local.relations = {}
    key = (sql, docs.type, None if params is None else tuple((k, tuple(v) if isinstance(v, list) else v)
                                                              for k, v in sorted(params.items())))
    con.register(DOCS, pa.table({"line": docs}))
    try:
        rel = relations.get(key)
        if rel is None:
            if len(relations) >= KEPT_RELATIONS:
                relations.clear()
            rel = relations[key] = con.sql(sql, params=params)
        return rel.to_arrow_table()
    finally:
        con.unregister(DOCS)


def _duck_error() -> type[Exception]:
    import duckdb
    return duckdb.Error


def duck_type(t: FlinkType) -> str:
    n = t.name
    simple = {"TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INT": "INTEGER", "BIGINT": "BIGINT",
              "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN", "CHAR": "VARCHAR",
              "VARCHAR": "VARCHAR", "DATE": "DATE", "TIME": "TIME", "TIMESTAMP": "TIMESTAMP",
              "TIMESTAMP_LTZ": "TIMESTAMP", "BINARY": "BLOB", "VARBINARY": "BLOB"}
    if n in ("TIMESTAMP", "TIMESTAMP_LTZ") and t.precision is not None and t.precision > 6:
        return "TIMESTAMP_NS"  # keeps nanoseconds
    if n in simple:
        return simple[n]
    if n == "DECIMAL":
        return f"DECIMAL({t.precision},{t.scale})"
    if n == "ARRAY":
        return duck_type(t.children[0]) + "[]"
    if n == "MAP":
        return f"MAP({duck_type(t.children[0])}, {duck_type(t.children[1])})"
    if n == "ROW":
        return "STRUCT(" + ", ".join(f'"{f}" {duck_type(c)}' for f, c in zip(t.field_names, t.children)) + ")"
    raise OptionError(f"JSON format does not support type {t}")


def _structure(t: FlinkType, in_collection: bool = False):
    """DuckDB's from_json structure; a field checked by its text (`text_kind`) outside arrays and maps is read
    as its JSON text and converted after the check."""
    if t.name == "ROW":
        return {f: _structure(c, in_collection) for f, c in zip(t.field_names, t.children)}
    if t.name == "ARRAY":
        return [_structure(t.children[0], True)]
    if not in_collection and text_kind(t):
        return "VARCHAR"
    return duck_type(t)


def text_kind(t: FlinkType) -> str | None:
    """The kind of a field whose JSON text alone tells whether DuckDB reads it as Flink does (TEXT_PLAIN): read as
    text, it is checked on its own few characters instead of by a pattern over the whole document."""
    if t.name in INTEGER_DIGITS:
        return t.name
    if t.name in ("BOOLEAN", "DATE") or t.is_string:
        return "STRING" if t.is_string else t.name
    if t.name == "TIMESTAMP" and (t.precision is None or t.precision <= 6):
        return "TIMESTAMP"
    return None


class JsonDecoder:
    """Decodes JSON documents into the table's physical columns."""

    def __init__(self, schema: TableSchema, ignore_parse_errors: bool = False,
                 fail_on_missing_field: bool = False, timestamp_standard: str = "SQL"):
        if ignore_parse_errors and fail_on_missing_field:
            raise OptionError("fail-on-missing-field and ignore-parse-errors shouldn't both be true.")
        self.schema = schema
        self.ignore_errors = ignore_parse_errors
        self.fail_on_missing = fail_on_missing_field
        self.structure = _json.dumps({n: _structure(t) for n, t in zip(schema.names, schema.types)})
        self.targets = [t.to_arrow() for t in schema.types]
        self.standard = timestamp_standard
        self.paths = ["$." + _json.dumps(n) for n in schema.names]
        self.suspicious, self.by_path = _suspicious_pattern(schema)
        sep = "T" if timestamp_standard == "ISO-8601" else " "
        self.text_leaves = [(j, path, kind, sep) for j, t in enumerate(schema.types)
                            for path, kind in _text_leaves(t)]
        # columns whose NULLs are checked against the JSON type: a ROW, MAP or ARRAY DuckDB could not read is
        # a value of another JSON type, which the check by paths flags; a field read as text is never made NULL
        # by DuckDB
        self.null_checked = [j for j, t in enumerate(schema.types)
                             if fail_on_missing_field or (t.name not in ("ROW", "MAP", "ARRAY") and not text_kind(t))]
        # the JSON type of the document (one object?), of the NULL-checked columns, of the fields checked by path
        self.checked_paths = ["$"] + [self.paths[j] for j in self.null_checked] + self.by_path.paths
        temporal = [(n, t.name) for n, t in zip(schema.names, schema.types)
                    if t.name in TEMPORAL and not text_kind(t)]
        temporal += [nested for nested in _nested_temporal(schema) if nested[0] not in schema.names]
        if temporal:  # a date, time or timestamp whose text is not the plain pattern DuckDB parses as Flink does
            self.suspicious += "|" + "|".join(re.escape(_json.dumps(n)) + r'\s*:\s*"' + _not_plain(kind, sep)
                                              for n, kind in temporal)
        # columns holding an ARRAY or MAP (DuckDB makes an element it cannot read NULL, with no path to ask its
        # JSON type at) or a BINARY (Flink decodes base64 text, DuckDB takes the text's bytes)
        self.null_walked = [j for j, t in enumerate(schema.types) if _collection_or_binary(t)]
        self.floats = [j for j, t in enumerate(schema.types) if t.name in ("FLOAT", "DOUBLE")]
        # a table of text fields (top level or in ROWs) is read by its leaves' paths, not from_json
        self.leaves = None if fail_on_missing_field else LeafPaths.of(schema, text_kind)
        self.skipped = 0
        self._twin: JsonDecoder | None = None
        # a document that is a JSON array is its elements, one row each (Flink's JSON format over a file)
        self.array_roots = False

    def twin(self) -> "JsonDecoder | None":
        """A decoder of the same table for a second thread (its own skipped count), made once; None when no
        column is read (nothing to share out)."""
        if not self.schema.names:
            return None
        if self._twin is None:
            self._twin = JsonDecoder(self.schema, self.ignore_errors, self.fail_on_missing, self.standard)
            self._twin.array_roots = self.array_roots
        return self._twin

    @classmethod
    def from_options(cls, opts: Options, schema: TableSchema, prefix: str = "json.") -> "JsonDecoder":
        std = opts.get_choice(prefix + "timestamp-format.standard", ("SQL", "ISO-8601"), "SQL")
        opts.get(prefix + "map-null-key.mode")
        opts.get(prefix + "map-null-key.literal")
        opts.get(prefix + "encode.decimal-as-plain-number")
        opts.get(prefix + "encode.ignore-null-fields")
        return cls(schema, opts.get_bool(prefix + "ignore-parse-errors"),
                   opts.get_bool(prefix + "fail-on-missing-field"), std)

    def decode(self, docs: pa.Array, where: Callable[[int], str]) -> pa.RecordBatch:
        """Decode documents (a string array); `where(i)` names document i's origin for error messages."""
        self.last_kept = None  # mask of the documents that became rows, when some were skipped
        if len(docs) == 0:
            return self._empty()
        if not self.schema.names:
            kept = self._without_invalid_utf8(docs, where)
            return self._count_documents(docs, where) if kept is None else kept
        # the values; the JSON type at each checked path in the same pass when every document needs it, else
        # afterwards for the few documents whose decoded values leave it open (`_type_candidates`)
        try:
            # from_json's one STRUCT column, its fields taken in Arrow (DuckDB's unnest costs a third more planning
            # per call; a document's NULL struct, JSON null, makes its fields NULL), or a table of text fields by
            # its leaves' paths (`json_leaves`)
            if self.by_path.typed_everywhere:
                out = over_docs(f"SELECT from_json(line, $s), json_type(line, $p) FROM {DOCS}",
                                {"s": self.structure, "p": self.checked_paths}, docs)
                raw, json_types = _one_array(out.column(0)).flatten(), _one_array(out.column(1))
            elif self.leaves is not None and not _row_of_another_type_is_null():
                raw, json_types = self.leaves.read(docs), None  # the same columns, without STRUCTs
            else:
                out = over_docs(f"SELECT from_json(line, $s) FROM {DOCS}", {"s": self.structure}, docs)
                raw, json_types = _one_array(out.column(0)).flatten(), None
        except (_duck_error(), UnicodeDecodeError):  # DuckDB's message may quote the invalid bytes
            kept = self._without_invalid_utf8(docs, where)
            return self._decode_checked(docs, where) if kept is None else kept
        slow = self._needs_flink_rules(docs, raw, json_types)
        strict = False
        while True:
            fast = raw if slow is None else [c.filter(pa.array(~slow)) for c in raw]
            try:
                batch = self._to_batch(fast)
                break
            except pa.ArrowInvalid:  # a value Arrow's casts refuse: first the text checks in full (an integer of
                # other characters than digits, or too wide), then one value at a time (2023-02-30)
                bad = self._not_convertible(raw) if strict else self._text_not_plain(raw, strict=True)
                strict = True
                if bad is not None:
                    slow = bad | (False if slow is None else slow)
        if slow is None:
            return batch
        return self._with_flink_rules(docs, batch, np.flatnonzero(~slow), np.flatnonzero(slow), where)

    def _without_invalid_utf8(self, docs: pa.Array, where) -> pa.RecordBatch | None:
        """The block decoded without its documents of invalid UTF-8 (which fail the job or are skipped and
        counted), or None when it has none. Asked only of a block DuckDB failed on: DuckDB validates the UTF-8 of
        the whole document, fields it does not read too, so a block it reads holds none."""
        valid = reject_invalid_utf8(docs, where, self.ignore_errors, "JSON")
        if valid is None:
            return None
        self.skipped += int((~valid).sum())
        return self._decode_kept(docs, valid, where)

    def _text_not_plain(self, raw: list[pa.Array], strict: bool = False) -> np.ndarray | None:
        """Documents with a field read as text (`text_leaves`) whose text DuckDB or Arrow may read otherwise than
        Flink: checked on the field's own characters, not on the whole document; integers only for what Arrow's
        cast would take unless `strict` (see `not_plain_text`)."""
        slow = None
        for j, path, kind, sep in self.text_leaves:
            bad = not_plain_text(_leaf(raw[j], path), kind, sep, strict)
            if bad is not None:
                slow = bad if slow is None else slow | bad
        return slow

    def _not_convertible(self, raw: list[pa.Array]) -> np.ndarray:
        """Documents with a plain-looking value Arrow cannot convert (2023-02-30, an INT out of range); found one
        value at a time, only when a batch holds one."""
        bad = np.zeros(len(raw[0]), dtype=bool)
        for j, path, kind, _ in self.text_leaves:
            if kind != "STRING":
                t = _leaf_type(self.schema.types[j], path)
                for i, v in enumerate(_leaf(raw[j], path).to_pylist()):
                    try:
                        _from_text(pa.array([v], pa.string()), kind, t)
                    except pa.ArrowInvalid:
                        bad[i] = True
        return bad

    def _needs_flink_rules(self, docs: pa.Array, raw: list[pa.Array],
                           json_types: pa.Array | None) -> np.ndarray | None:
        """Documents DuckDB's reading may differ from Flink's for: not one object, a trailing comma, a value of
        another JSON type than its column's (DuckDB rounds 3.7 into an INT, takes true as 1, writes 4.50 as 4.5
        into a STRING), a date or time not in the plain pattern, a value DuckDB turned into NULL, a missing
        field under fail-on-missing-field. These take Flink's rules one by one; the rest stay as decoded.
        Found with one regular expression over the text (a false alarm costs only the slower path) and the JSON
        types DuckDB saw at the document's root, the top-level fields and the paths checked by kind (`json_types`,
        a list per document in the order of `checked_paths`)."""
        slow = true_mask(pc.match_substring_regex(_small_offsets(docs), self.suspicious)) if self.suspicious else \
            np.zeros(len(docs), dtype=bool)
        for bad in (self._text_not_plain(raw), trailing_comma(docs)):
            if bad is not None:
                slow |= bad
        for j in self.null_walked:
            slow |= _maybe_lost(raw[j], self.schema.types[j], False)
        if self.fail_on_missing and any(t.name in ("ROW", "ARRAY", "MAP") for t in self.schema.types):
            return np.ones(len(docs), dtype=bool)  # a field missing inside: each document by Flink's rules
        for j in self.floats:  # DuckDB reads a bare NaN or Infinity token, which Jackson refuses (as a string
            # it is a number, for both)
            if pa.types.is_floating(raw[j].type) and len(raw[j]):
                slow |= true_mask(pc.or_(pc.is_nan(raw[j]), pc.is_inf(raw[j])))
        if json_types is not None:
            slow |= self._of_another_type(raw, json_types)
        else:
            candidates = np.flatnonzero(self._type_candidates(raw))
            if len(candidates):
                json_types = _one_array(over_docs(f"SELECT json_type(line, $p) FROM {DOCS}", {"p": self.checked_paths},
                                                  docs.take(pa.array(candidates))).column(0))
                idx = pa.array(candidates)
                slow[candidates] |= self._of_another_type([c.take(idx) for c in raw], json_types)
        return slow if slow.any() else None

    def _of_another_type(self, raw: list[pa.Array], json_types: pa.Array) -> np.ndarray:
        """Documents that are not one object, or hold another JSON type at a checked path than its field's kind,
        or a value DuckDB could not read (made NULL), or miss a field under fail-on-missing-field."""
        slow = ~true_mask(pc.equal(pc.list_element(json_types, 0), "OBJECT"))
        for k, j in enumerate(self.null_checked):
            if raw[j].null_count or self.fail_on_missing:
                jt = pc.list_element(json_types, k + 1)
                lost = pc.and_kleene(pc.is_null(raw[j]), pc.not_equal(jt, "NULL"))
                slow |= true_mask(pc.fill_null(lost, self.fail_on_missing))  # a value DuckDB could not read, or missing
        return slow | self.by_path.suspicious(json_types, 1 + len(self.null_checked), raw)

    def _type_candidates(self, raw: list[pa.Array]) -> np.ndarray:
        """The documents whose decoded values may hide another JSON type than a checked field's kind (when
        only ROW, MAP and ARRAY fields are checked by path): DuckDB reads a non-object into a ROW as a ROW of
        NULLs (or NULL), and a wrong value into a MAP or ARRAY as NULL; a document that is not an object has every
        column NULL; a NULL-checked column is NULL."""
        out = np.logical_and.reduce([null_mask(c) for c in raw])
        for j in self.null_checked:
            out |= null_mask(raw[j])
        for (j, *path), name in zip(self.by_path.indices, self.by_path.type_names):
            arr = _leaf(raw[j], tuple(path))
            if name != "ROW" or _row_of_another_type_is_null():
                out |= null_mask(arr)
            if name == "ROW":
                valid = ~null_mask(arr)
                out |= valid & np.logical_and.reduce([null_mask(arr.field(i)) for i in range(arr.type.num_fields)])
        return out

    def _with_flink_rules(self, docs: pa.Array, fast: pa.RecordBatch, fast_idx: np.ndarray, slow_idx: np.ndarray,
                          where) -> pa.RecordBatch:
        """Rows for the documents `fast_idx` (as decoded) and `slow_idx` (converted one by one by Flink's rules)
        in document order. A document that is not one JSON object fails the job or is skipped and counted; a
        value that does not convert fails the job or is NULL (the row stays, counted), as in Flink."""
        values: list[list] = [[] for _ in self.schema.names]
        kept = []
        for i in slow_idx.tolist():
            text = docs[i].as_py()
            for doc in self._objects_of(text, i, where):
                self._flink_row(doc, text, i, where, values)
                kept.append(i)
        slow_cols = [arrow_values(vals, t) for vals, t in zip(values, self.schema.types)]
        idx = np.concatenate([fast_idx, np.array(kept, dtype=np.int64)])
        order = pa.array(np.argsort(idx, kind="stable"))
        cols = [pa.concat_arrays([fast.column(j), slow_cols[j]]).take(order) for j in range(len(slow_cols))]
        produced = np.zeros(len(docs), dtype=bool)
        produced[idx] = True
        if not produced.all():
            self.last_kept = produced
        return rows_batch(cols, self.schema.names, len(idx))

    def _objects_of(self, text: str, i: int, where) -> list[dict]:
        """The JSON objects a document holds: itself, or (array_roots) an array's elements up to the first that
        is no object. One that is not fails the job, or is skipped and counted under ignore-parse-errors."""
        objects: list[dict] = []  # those before an element that is no object stay, as in Flink
        try:
            root = json_flink.parse_root(text)
            elements = root if self.array_roots and isinstance(root, list) else [root]
            for el in elements:
                if not isinstance(el, dict):
                    raise json_flink.Malformed("not a JSON object")
                objects.append(el)
        except json_flink.Malformed as e:
            if not self.ignore_errors:
                raise FormatError(f"Failed to deserialize JSON '{_snippet(text)}': {e}", where(i)) from None
            self.skipped += 1
        return objects

    def _flink_row(self, doc: dict, text: str, i: int, where, values: list[list]) -> None:
        """One object's row by Flink's rules, appended to `values` (one list per column)."""
        row, failed = [], False
        for name, t in zip(self.schema.names, self.schema.types):
            if self.fail_on_missing and name not in doc:
                raise FormatError(f"Failed to deserialize JSON '{_snippet(text)}': Could not find field with "
                                  f"name '{name}'.", where(i))
            try:
                row.append(json_flink.convert(doc.get(name), t, self.standard, self.ignore_errors,
                                              self.fail_on_missing))
            except (json_flink.FieldError, ValueError, OverflowError, ArithmeticError) as e:
                if not self.ignore_errors:
                    raise FormatError(f"Failed to deserialize JSON '{_snippet(text)}': Fail to deserialize at "
                                      f"field: {name}: {e}", where(i)) from None
                row.append(None)
                failed = True
        self.skipped += failed
        for j, v in enumerate(row):
            values[j].append(v)

    def _objects(self, docs: pa.Array, where) -> np.ndarray:
        """Mask of the documents that are JSON objects; the others fail the job or are skipped and counted."""
        tbl = pa.table({"line": docs})  # noqa: F841  (read by DuckDB by name)
        valid = duck().sql("SELECT CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END "
                           "FROM tbl").to_arrow_table()
        ok = np.asarray(pc.fill_null(valid.column(0), False).to_numpy(zero_copy_only=False))
        bad_idx = np.flatnonzero(~ok)
        if len(bad_idx) and not self.ignore_errors:
            i = int(bad_idx[0])
            raise FormatError(f"Failed to deserialize JSON '{_snippet(docs[i].as_py())}': malformed JSON",
                              where(i))
        self.skipped += len(bad_idx)
        return ok

    def _decode_checked(self, docs: pa.Array, where) -> pa.RecordBatch:
        """DuckDB failed on the batch: the documents it cannot read one at a time take Flink's rules, the rest
        are decoded together. `last_kept` tells which documents became rows."""
        ok = ~self._unreadable(docs)
        if ok.all():
            raise FormatError(f"Failed to deserialize JSON '{_snippet(docs[0].as_py())}'", where(0))
        readable = np.flatnonzero(ok)
        fast = self.decode(docs.filter(pa.array(ok)), lambda i: where(int(readable[i])))
        fast_idx = readable if self.last_kept is None else readable[self.last_kept]
        self.last_kept = None
        return self._with_flink_rules(docs, fast, fast_idx, np.flatnonzero(~ok), where)

    def _decode_kept(self, docs: pa.Array, ok: np.ndarray, where) -> pa.RecordBatch:
        """Decode the documents `ok` keeps; `last_kept` tells which documents became rows."""
        kept_idx = np.flatnonzero(ok)
        out = self.decode(docs.filter(pa.array(ok)), lambda i: where(int(kept_idx[i])))
        if self.last_kept is not None:  # the kept documents were filtered once more
            ok = ok.copy()
            ok[kept_idx[~self.last_kept]] = False
        self.last_kept = ok
        return out

    def _unreadable(self, docs: pa.Array) -> np.ndarray:
        """The documents DuckDB cannot read, in a batch it failed on: found by halving the failing ranges, so a
        few bad lines in a block cost a few dozen DuckDB calls, not one per line."""
        bad = np.zeros(len(docs), dtype=bool)
        failing = [(0, len(docs))]
        while failing:
            lo, hi = failing.pop()
            if hi - lo == 1:
                bad[lo] = True
                continue
            mid = (lo + hi) // 2
            halves = [(a, b) for a, b in ((lo, mid), (mid, hi)) if not self._readable(docs.slice(a, b - a))]
            # a range that fails while both halves read (never seen) is tried one document at a time
            failing += halves or [(i, i + 1) for i in range(lo, hi) if not self._readable(docs.slice(i, 1))]
        return bad

    def _readable(self, docs: pa.Array) -> bool:
        tbl = pa.table({"line": docs})  # noqa: F841  (read by DuckDB by name)
        try:
            duck().sql("SELECT unnest(from_json(line, $s)) FROM tbl", params={"s": self.structure}).to_arrow_table()
        except _duck_error():
            return False
        return True

    def _count_documents(self, docs: pa.Array, where) -> pa.RecordBatch:
        """No column is read: the documents are still checked, and each good one is a row (each object of an
        array, with array_roots)."""
        if self.array_roots and pc.any(pc.starts_with(pc.utf8_ltrim_whitespace(docs), "[")).as_py():
            counts = np.array([len(self._objects_of(text, i, where)) for i, text in enumerate(docs.to_pylist())])
            if not (counts > 0).all():
                self.last_kept = counts > 0
            return rows_batch([], [], int(counts.sum()))
        ok = self._objects(docs, where)
        if not ok.all():
            self.last_kept = ok
        return rows_batch([], [], int(ok.sum()))

    def _to_batch(self, raw: list[pa.Array]) -> pa.RecordBatch:
        cols = []
        for c, t, target in zip(raw, self.schema.types, self.targets):
            c = _from_json_text(c, t)
            if c.type != target:
                if pa.types.is_timestamp(target) and target.tz is not None:
                    c = pc.cast(pc.cast(pc.cast(c, pa.timestamp(target.unit), safe=False), pa.int64()), target)
                else:
                    c = pc.cast(c, target, safe=False)
            cols.append(c)
        return pa.RecordBatch.from_arrays(cols, names=self.schema.names)

    def _empty(self) -> pa.RecordBatch:
        return rows_batch([pa.array([], t) for t in self.targets], self.schema.names, 0)


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """A result column as one array: its chunk when it has one (Arrow's combine_chunks copies even that)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _small_offsets(docs: pa.Array) -> pa.Array:
    """The documents as a string array (32-bit offsets), which Arrow's regular expressions scan a third faster
    than a large_string one (the filesystem source's lines); a block too large for it stays as it is."""
    if pa.types.is_large_string(docs.type):
        try:
            return docs.cast(pa.string())
        except pa.ArrowInvalid:
            return docs
    return docs


def _text_leaves(t: FlinkType, path: tuple = ()) -> list[tuple[tuple, str]]:
    """(field positions inside the column, text kind) of the fields read as text, outside arrays and maps."""
    kind = text_kind(t)
    if kind:
        return [(path, kind)]
    if t.name == "ROW":
        return [leaf for i, c in enumerate(t.children) for leaf in _text_leaves(c, path + (i,))]
    return []


def _collection_or_binary(t: FlinkType) -> bool:
    return t.name in ("ARRAY", "MAP", "BINARY", "VARBINARY") or any(_collection_or_binary(c) for c in t.children)


def _maybe_lost(arr: pa.Array, t: FlinkType, in_collection: bool) -> np.ndarray:
    """Mask of the values that may not be what Flink reads: any NULL inside an array or map (a JSON null there,
    or an element DuckDB could not read: a false alarm costs only Flink's rules) and any BINARY (base64 text)."""
    n = t.name
    if n in ("ARRAY", "MAP"):
        offsets = np.asarray(arr.offsets)
        start, end = int(offsets[0]), int(offsets[-1])
        parents = np.repeat(np.arange(len(arr)), np.diff(offsets))
        if n == "ARRAY":
            inner = _maybe_lost(arr.values.slice(start, end - start), t.children[0], True)
        else:
            inner = _maybe_lost(arr.keys.slice(start, end - start), t.children[0], True) | \
                _maybe_lost(arr.items.slice(start, end - start), t.children[1], True)
        out = np.zeros(len(arr), dtype=bool)
        out[parents[inner]] = True
    elif n == "ROW":
        out = np.zeros(len(arr), dtype=bool)
        for i, c in enumerate(t.children):
            if in_collection or _collection_or_binary(c):
                out |= _maybe_lost(arr.field(i), c, in_collection)
    elif n in ("BINARY", "VARBINARY"):
        return valid_mask(arr)
    else:
        return null_mask(arr) if in_collection and arr.null_count else np.zeros(len(arr), dtype=bool)
    if in_collection and arr.null_count:
        out |= null_mask(arr)
    return out


def _leaf(arr: pa.Array, path: tuple) -> pa.Array:
    for i in path:
        arr = arr.field(i)
    return arr


def _leaf_type(t: FlinkType, path: tuple) -> FlinkType:
    for i in path:
        t = t.children[i]
    return t


def _from_text(text: pa.Array, kind: str, t: FlinkType | None) -> pa.Array:
    if kind == "STRING":
        return text
    if kind == "BOOLEAN":
        return pc.equal(text, "true")
    if kind == "DATE":
        return pc.cast(text, pa.date32())
    if kind == "TIMESTAMP":
        return pc.cast(text, pa.timestamp("us"))
    return pc.cast(text, t.to_arrow())


def _from_json_text(arr: pa.Array, t: FlinkType) -> pa.Array:
    """A decoded column with its fields read as text converted to their types (their text is plain)."""
    kind = text_kind(t)
    if kind:
        return _from_text(arr, kind, t)
    if t.name == "ROW" and _text_leaves(t):
        children = [_from_json_text(arr.field(i), c) for i, c in enumerate(t.children)]
        return pa.StructArray.from_arrays(children, names=t.field_names,
                                          mask=arr.is_null() if arr.null_count else None)
    return arr


_probe: list[bool] = []


def _row_of_another_type_is_null() -> bool:
    """Whether this DuckDB reads a non-object into a ROW as NULL (rather than a ROW of NULLs); asked once."""
    if not _probe:
        row = duck().sql("""SELECT from_json('{"a": 5}', '{"a": {"b": "BIGINT"}}').a""").fetchall()[0][0]
        _probe.append(row is None)
    return _probe[0]


# how a value begins that DuckDB may read otherwise than Flink (another JSON type than the column's)
SUSPICIOUS_VALUE = {"INTEGER": r'(?:true|false|"|-?\d+[.eE]|\[|\{)', "FLOAT": r"(?:true|false|\[|\{)",
                    "BOOLEAN": r'(?:[-\d"\[{])', "STRING": r"(?:-?\d+[.eE]|\[|\{)",
                    "TEMPORAL": r"(?:[-\dtf\[{])", "OBJECT": r"(?:[^{n\s])", "ARRAY": r"(?:[^\[n\s])"}


def _not_plain(kind: str, sep: str) -> str:
    """A regular expression for date, time or timestamp text (after its opening quote) that departs from the plain
    'yyyy-MM-dd[ HH:mm:ss[.f{1,9}]]', 'yyyy-MM-dd HH:mm:ss[.f{1,9}]Z' or 'HH:mm:ss[.f{1,9}]' DuckDB parses as Flink does (a T, a date alone, a longer or signed year,
    no seconds, a zone..): the first character where it departs, for one pass without look-ahead."""
    digit = (r"\d", r"[^\d]")

    def lit(c: str) -> tuple[str, str]:
        return re.escape(c), "[^" + re.escape(c) + "]"
    clock = [digit] * 2 + [lit(":")] + [digit] * 2 + [lit(":")] + [digit] * 2
    tokens = [digit] * 4 + [lit("-")] + [digit] * 2 + [lit("-")] + [digit] * 2
    if kind in ("TIMESTAMP", "TIMESTAMP_LTZ"):
        tokens += [lit(sep)] + clock
    elif kind == "TIME":
        tokens = clock
    alts, prefix = [], ""
    for cls, other in tokens:
        alts.append(prefix + other)
        prefix += cls
    if kind == "TIMESTAMP_LTZ":  # a fraction of 1 to 9 digits, then Z
        alts += [prefix + r"[^.Z]", prefix + r"\.(?:[^\d]|\d{10})", prefix + r"\.\d{1,9}[^\dZ]",
                 prefix + r'(?:\.\d{1,9})?Z[^"]']
    elif kind in ("TIMESTAMP", "TIME"):
        alts += [prefix + r'[^".]', prefix + r"\.(?:[^\d]|\d{10})", prefix + r'\.\d{1,9}[^\d"]']
    else:
        alts.append(prefix + r'[^"]')
    return "(?:" + "|".join(alts) + ")"


def _suspicious_kind(t: FlinkType) -> str:
    if t.is_integer:
        return "INTEGER"
    if t.is_approx or t.is_decimal:
        return "FLOAT"
    if t.is_string:
        return "STRING"
    if t.name in ("TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "TIME"):
        return "TEMPORAL"
    if t.name in ("ROW", "MAP"):
        return "OBJECT"
    if t.name == "ARRAY":
        return "ARRAY"
    return "BOOLEAN" if t.name == "BOOLEAN" else "STRING"


def _suspicious_pattern(schema: TableSchema) -> tuple[str, "PathKinds"]:
    """How the fields that are not read as text (`text_kind`) are checked: outside arrays and maps by the JSON
    type at their paths (`PathKinds`); a name that also stands for a field inside an array or map, which has no
    path, by one regular expression over the document for its values beginning as another JSON type, and for an
    array element of another type. The expression is empty unless the table has arrays or maps."""
    by_kind: dict[str, set[str]] = {}
    arrays: list[str] = []
    # name -> (JSON path, kind, inside a collection, (column, field positions), type name)
    occurrences: dict[str, list[tuple[str, str, bool, tuple, str]]] = {}

    def visit(name: str, t: FlinkType, path: str, in_collection: bool, index: tuple = ()) -> None:
        kind = _suspicious_kind(t)
        if in_collection or not text_kind(t):  # a field read as text is checked on its text
            occurrences.setdefault(name, []).append((path, kind, in_collection, index, t.name))
        if t.name == "ROW":
            for i, (f, c) in enumerate(zip(t.field_names, t.children)):
                visit(f, c, path + "." + _json.dumps(f), in_collection, index + (i,))
        elif t.name in ("ARRAY", "MAP"):
            item = t.children[-1]
            item_kind = _suspicious_kind(item)
            if item_kind not in ("OBJECT", "ARRAY"):
                opening = r"\[[^\]]*?" if t.name == "ARRAY" else r"\{[^}]*?:\s*"
                arrays.append(re.escape(_json.dumps(name)) + r"\s*:\s*" + opening + SUSPICIOUS_VALUE[item_kind])
            if item.name == "ROW":
                for f, c in zip(item.field_names, item.children):
                    visit(f, c, "", True)
    for j, (n, t) in enumerate(zip(schema.names, schema.types)):
        visit(n, t, "$." + _json.dumps(n), False, (j,))
    # every field outside arrays and maps is checked at its path, also one whose name stands for a field inside
    # one (that name is checked by the expression too): a value DuckDB could not read shows only there
    by_path = {n: [o for o in occ if not o[2]] for n, occ in occurrences.items() if not all(o[2] for o in occ)}
    for name, occ in occurrences.items():
        if any(o[2] for o in occ):
            for _, kind, *_ in occ:
                by_kind.setdefault(kind, set()).add(re.escape(_json.dumps(name)))
    parts = ["(?:" + "|".join(sorted(names)) + r")\s*:\s*" + SUSPICIOUS_VALUE[kind]
                                     for kind, names in sorted(by_kind.items())] + arrays
    # an integer with as many digits as may overflow its column: DuckDB makes it NULL, Flink fails (or, under
    # json.ignore-parse-errors, NULL and counted); by name, with the narrowest column of the name
    widest: dict[str, int] = {}
    for name, t in _named_types(schema, by_pattern=True):
        if t.name in INTEGER_DIGITS:
            widest[name] = min(widest.get(name, 99), INTEGER_DIGITS[t.name])
    by_digits: dict[int, list[str]] = {}
    for name, digits in widest.items():
        by_digits.setdefault(digits, []).append(re.escape(_json.dumps(name)))
    parts += ["(?:" + "|".join(sorted(names)) + r")\s*:\s*-?\d{" + str(digits) + "}"
              for digits, names in sorted(by_digits.items())]
    return "|".join(parts), PathKinds(by_path)


def _named_types(schema: TableSchema, by_pattern: bool = False) -> list[tuple[str, FlinkType]]:
    """Every named field of the schema, top-level and inside ROWs (also ROWs in arrays and maps); `by_pattern`:
    only those the regular expression checks (not the fields read as text)."""
    out: list[tuple[str, FlinkType]] = []

    def visit(name: str, t: FlinkType, in_collection: bool) -> None:
        if not (by_pattern and not in_collection and text_kind(t)):
            out.append((name, t))
        if t.name == "ROW":
            for f, c in zip(t.field_names, t.children):
                visit(f, c, in_collection)
        elif t.name in ("ARRAY", "MAP") and t.children[-1].name == "ROW":
            for f, c in zip(t.children[-1].field_names, t.children[-1].children):
                visit(f, c, True)
    for n, t in zip(schema.names, schema.types):
        visit(n, t, False)
    return out


# the temporal types whose text DuckDB may parse otherwise than Flink unless it is of the plain pattern
TEMPORAL = ("TIMESTAMP", "TIMESTAMP_LTZ", "DATE", "TIME")


def _nested_temporal(schema: TableSchema) -> list[tuple[str, str]]:
    """(name, temporal type) of the nested fields whose name stands for that one temporal type only: their
    text is checked as a top-level column's is (another type under the same name would flag every value)."""
    types: dict[str, set[str]] = {}
    for name, t in _named_types(schema):
        types.setdefault(name, set()).add(t.name)
    by_pattern = {name for name, _ in _named_types(schema, by_pattern=True)}
    return [(name, next(iter(kinds))) for name, kinds in sorted(types.items())
            if len(kinds) == 1 and next(iter(kinds)) in TEMPORAL and name in by_pattern]


# the JSON types (DuckDB's json_type) a field of each kind takes as DuckDB reads it: what the kind's
# SUSPICIOUS_VALUE does not flag
PLAIN_JSON_TYPES = {"INTEGER": ["BIGINT", "UBIGINT", "NULL"], "FLOAT": ["BIGINT", "UBIGINT", "DOUBLE", "VARCHAR", "NULL"],
                    "BOOLEAN": ["BOOLEAN", "NULL"], "STRING": ["VARCHAR", "BIGINT", "UBIGINT", "BOOLEAN", "NULL"],
                    "TEMPORAL": ["VARCHAR", "NULL"], "OBJECT": ["OBJECT", "NULL"], "ARRAY": ["ARRAY", "NULL"]}


class PathKinds:
    """The fields outside arrays and maps that are not read as text: DuckDB's json_type at each one's path tells
    whether a document holds another JSON type there than the field's kind (a name may stand for fields of
    different kinds: nexmark's `auction` is a ROW and, inside `bid`, a BIGINT)."""

    def __init__(self, occurrences: dict[str, list[tuple[str, str, bool, tuple, str]]]):
        found = [o for occ in occurrences.values() for o in occ]
        self.paths = [o[0] for o in found]
        self.kinds = [o[1] for o in found]
        self.indices = [o[3] for o in found]  # (column, field positions)
        self.type_names = [o[4] for o in found]
        # a scalar read as its type (a DOUBLE, a TIME..) may hold another JSON type without a sign in its value:
        # every document's JSON types are then read; ROW, MAP and ARRAY values show one (`_type_candidates`)
        self.typed_everywhere = any(name not in ("ROW", "MAP", "ARRAY") for name in self.type_names)

    def suspicious(self, json_types: pa.Array, first: int, raw: list[pa.Array]) -> np.ndarray:
        """Mask of the documents holding another JSON type than a path's kind, or a value there that DuckDB
        could not read (NULL for a non-null JSON value: 'abc' into a nested DOUBLE, 'xx' into a TIME);
        `json_types` has this object's paths from position `first` on, `raw` the decoded columns."""
        bad = np.zeros(len(json_types), dtype=bool)
        for k, (kind, index, name) in enumerate(zip(self.kinds, self.indices, self.type_names)):
            jt = pc.list_element(json_types, first + k)
            plain = pc.or_kleene(pc.is_null(jt), pc.is_in(jt, pa.array(PLAIN_JSON_TYPES[kind])))
            bad |= ~np.asarray(pc.fill_null(plain, True).to_numpy(zero_copy_only=False), dtype=bool)
            value = _leaf(raw[index[0]], index[1:])
            if name != "ROW" and value.null_count:
                bad |= true_mask(pc.and_kleene(value.is_null(), pc.not_equal(jt, "NULL")))
        return bad


def arrow_values(values: list, t: FlinkType) -> pa.Array:
    """Values converted by json_flink (temporal ones as integers in the Arrow unit) as an Arrow array."""
    target = t.to_arrow()
    n = t.name
    if n in ("TIMESTAMP", "TIMESTAMP_LTZ"):
        return pa.array(values, pa.int64()).cast(pa.timestamp(target.unit)).cast(target)
    if n == "DATE":
        return pa.array(values, pa.int32()).cast(target)
    if n == "TIME":
        return pa.array(values, pa.int32() if pa.types.is_time32(target) else pa.int64()).cast(target)
    if n == "ROW":
        mask = pa.array([v is None for v in values], pa.bool_())
        children = [arrow_values([None if v is None else v[f] for v in values], c) for f, c in zip(t.field_names, t.children)]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if n in ("ARRAY", "MAP"):
        offsets, flat = [0], []
        for v in values:
            flat += v or []
            offsets.append(len(flat))
        off = pa.array(offsets, pa.int32())
        mask = pa.array([v is None for v in values], pa.bool_())
        if n == "MAP":
            keys = arrow_values([k for k, _ in flat], t.children[0])
            items = arrow_values([x for _, x in flat], t.children[1])
            return pa.MapArray.from_arrays(off, keys, items, mask=mask).cast(target)
        return pa.ListArray.from_arrays(off, arrow_values(flat, t.children[0]), mask=mask).cast(target)
    return pa.array(values, target)


def _snippet(s: str | None, limit: int = 120) -> str:
    s = (s or "").rstrip("\r\n")
    return s if len(s) <= limit else s[:limit] + "..."


# ---- encoding -----------------------------------------------------------------------------------
def encode_json_lines(batch: pa.RecordBatch, names: list[str], types: list[FlinkType],
                      extra: dict[str, pa.Array] | None = None, rows_as_lists: bool = False) -> pa.Array:
    """One JSON object per row, built column-wise (TIMESTAMP as 'yyyy-MM-dd HH:mm:ss.SSS'). A ROW value is an
    object, as Flink's json format writes it, or with `rows_as_lists` a list of field values, as Flink's
    collected results print it."""
    parts: list = []
    n = batch.num_rows
    first = True
    cols = list(zip(names, [batch.column(i) for i in range(len(names))], types))
    for name, arr in (extra or {}).items():
        cols.append((name, arr, None))
    for name, arr, t in cols:
        key = ("{" if first else ", ") + _json.dumps(name) + ": "
        first = False
        parts.append(pa.scalar(key))
        parts.append(json_values(arr, t, rows_as_lists))
    parts.append(pa.scalar("}"))
    arrays = [p if isinstance(p, pa.Array) else p for p in parts]
    if n == 0:
        return pa.array([], pa.string())
    return pc.binary_join_element_wise(*arrays, "")


def encode_debezium_lines(ops: pa.Array, batch: pa.RecordBatch, names: list[str],
                          types: list[FlinkType]) -> pa.Array:
    """Debezium JSON as Flink writes it: +I/+U -> {"before":null,"after":..,"op":"c"}, -U/-D -> "d"."""
    rows = encode_json_lines(batch, names, types)
    adds = pc.is_in(ops, value_set=pa.array([0, 2], pa.int8()))
    after = pc.binary_join_element_wise('{"before": null, "after": ', rows, ', "op": "c"}', "")
    before = pc.binary_join_element_wise('{"before": ', rows, ', "after": null, "op": "d"}', "")
    return pc.if_else(adds, after, before)


def json_values(arr: pa.Array, t: FlinkType | None, rows_as_lists: bool = False) -> pa.Array:
    """JSON text of each value (null -> 'null')."""
    from sqlstream.core.formatting import format_timestamp
    at = arr.type
    if pa.types.is_duration(at):  # INTERVAL: a number, as Flink's json format writes it (milliseconds, months)
        s = pc.cast(pc.cast(arr, pa.int64()), pa.string())
    elif pa.types.is_string(at) or pa.types.is_large_string(at):
        s = _escape(arr)
        s = pc.binary_join_element_wise('"', s, '"', "")
    elif pa.types.is_boolean(at):
        s = pc.cast(arr, pa.string())
    elif pa.types.is_integer(at):
        s = pc.cast(arr, pa.string())
    elif pa.types.is_floating(at):
        s = _json_float(arr)
    elif pa.types.is_decimal(at):
        s = pc.binary_join_element_wise('"', _plain_decimals(arr), '"', "")
    elif pa.types.is_timestamp(at):
        s = pc.binary_join_element_wise('"', format_timestamp(arr), '"', "")
    elif pa.types.is_binary(at) or pa.types.is_large_binary(at):
        s = pa.array([None if v is None else '"' + _bytes_text(v, rows_as_lists) + '"' for v in arr.to_pylist()],
                     pa.string())
    elif pa.types.is_date(at):
        s = pc.binary_join_element_wise('"', pc.cast(arr, pa.string()), '"', "")
    elif pa.types.is_time(at):  # HH:mm:ss, with a fraction only when there is one (as java.time prints it)
        text = pc.replace_substring_regex(pc.cast(arr, pa.string()), r"\.0+$", "")
        s = pc.binary_join_element_wise('"', text, '"', "")
    elif pa.types.is_struct(at) and not rows_as_lists and len(arr):
        parts = []
        for i, f in enumerate(at):
            parts.append(("{" if i == 0 else ", ") + _json.dumps(f.name) + ": ")
            child = pc.struct_field(arr, [i])
            parts.append(json_values(child, t.children[i] if t is not None else None))
        s = pc.binary_join_element_wise(*parts, "}", "") if parts else pa.array(["{}"] * len(arr))
        s = pc.if_else(arr.is_valid(), s, pa.scalar(None, pa.string()))
    else:
        s = pa.array([None if v is None else _json.dumps(_plain(v, at, rows_as_lists), default=str)
                      for v in arr.to_pylist()], pa.string())
    return pc.fill_null(s, "null")


def _plain_decimals(arr: pa.Array) -> pa.Array:
    """DECIMALs as plain digits, as Java's BigDecimal.toPlainString (Arrow writes a zero of scale 8 as 0E-8)."""
    text = pc.cast(arr, pa.string())
    if not pc.any(pc.match_substring(text, "E")).as_py():
        return text
    return pa.array([None if v is None else format(v, "f") for v in arr.to_pylist()], pa.string())


def _bytes_text(v: bytes, printed: bool) -> str:
    """BYTES as Flink's json format writes them (base64), or as a collected result prints them (hex)."""
    if printed:
        return v.hex()
    import base64
    return base64.b64encode(v).decode()


def _plain(v, t: pa.DataType, printed: bool = True):
    """Nested values as the oracle writes them: MAP -> object, ROW -> list of field values."""
    if v is None:
        return None
    if pa.types.is_map(t):
        return {_json.dumps(_plain(k, t.key_type, printed)) if isinstance(k, (list, tuple)) else str(k):
                _plain(x, t.item_type, printed) for k, x in v}
    if pa.types.is_struct(t):
        return [_plain(v[f.name], f.type, printed) for f in t]
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [_plain(x, t.value_type, printed) for x in v]
    if pa.types.is_timestamp(t):
        return v.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (v.microsecond // 1000)
    if pa.types.is_decimal(t):
        return format(v, "f")
    if isinstance(v, (bytes, bytearray)):
        return _bytes_text(v, printed)
    return v


def _json_float(arr: pa.Array) -> pa.Array:
    from sqlstream.core.formatting import format_double
    vals = arr.to_numpy(zero_copy_only=False)
    s = format_double(arr)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(np.asarray(vals, dtype=np.float64))
    if bad.any():
        py = s.to_pylist()
        for i in np.flatnonzero(bad):
            v = vals[i]
            if v is None or not arr[i].is_valid:  # a NULL FLOAT reads back as a numpy NaN
                continue
            py[i] = '"NaN"' if np.isnan(v) else ('"Infinity"' if v > 0 else '"-Infinity"')
        s = pa.array(py, pa.string())
    return s


def _escape(s: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring_regex(s, r"[\x00-\x1f]")).as_py():
        return pa.array([None if v is None else _json.dumps(v, ensure_ascii=False)[1:-1] for v in s.to_pylist()],
                        pa.string())
    s = pc.replace_substring(s, "\\", "\\\\")
    return pc.replace_substring(s, '"', '\\"')
