"""The JSON decoder's values read by their paths: for a table whose fields are all read as their JSON text (the
`text_kind` fields), at the top level or inside ROWs of such fields, every leaf is taken by one DuckDB
json_extract_string over its path instead of from_json.

from_json builds a STRUCT vector for each ROW, which costs more than the leaves themselves (nexmark q0's
columns: 0.67-0.71 against 0.48-0.52 us per document for the leaves alone). The paths
give each leaf the text from_json gives it (a number, object or array as DuckDB writes it, a string unescaped;
NULL for JSON null, a missing key or a path through a value that is no object), so every check after the
decoding is the same. What the leaves do not tell is whether a ROW whose leaves are all NULL is NULL (JSON null
or missing, as from_json has it) or a ROW of NULLs (an object, or a value of another JSON type, which from_json
also reads as a ROW of NULLs): its own path answers, either extracted with the leaves (its text: DuckDB writes
the whole object, worth it when most documents hold no object there) or typed by json_type in the same pass for
only the documents whose first leaf is NULL (a second parse of those, worth it when most documents hold an object
there: nexmark's bid). Which of the two follows the share of open documents in the block before; both give the
same rows.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlstream.connectors.formats.json_text import true_mask, valid_mask

if TYPE_CHECKING:
    from sqlstream.connectors.base import TableSchema
    from sqlstream.core.types import FlinkType

# a ROW's own path is extracted in the values' pass when more than this share of the block before left it open
PROBE_SHARE = 0.5


def _path(*names: str) -> str:
    return "$" + "".join('."' + n + '"' for n in names)


def _plain_name(name: str) -> bool:
    """A name DuckDB's path syntax takes quoted as it is (no quote, backslash or control character)."""
    return name.isprintable() and '"' not in name and "\\" not in name


class LeafPaths:
    """Reads the decoded columns of a table of text fields by their leaves' paths (see the module)."""

    def __init__(self, schema: TableSchema):
        self.names = list(schema.names)
        self.paths: list[str] = []  # every leaf's path, column after column
        self.columns: list[tuple[int, int, list[str] | None]] = []  # (first leaf, leaves, ROW field names)
        for name, t in zip(schema.names, schema.types):
            if t.name == "ROW":
                self.columns.append((len(self.paths), len(t.field_names), list(t.field_names)))
                self.paths += [_path(name, f) for f in t.field_names]
            else:
                self.columns.append((len(self.paths), 1, None))
                self.paths.append(_path(name))
        self.rows = [j for j, (_, _, fields) in enumerate(self.columns) if fields is not None]
        self.probed = {j: True for j in self.rows}  # ROW column -> its path extracted in the values' pass

    @classmethod
    def of(cls, schema: TableSchema, text_kind) -> "LeafPaths | None":
        """A reader for `schema` when every field is read as text (`text_kind`), at the top level or in a ROW of
        such fields, under plain names; else None (from_json reads it)."""
        def plain(t: FlinkType) -> bool:
            return t.name != "ROW" and bool(text_kind(t))
        for name, t in zip(schema.names, schema.types):
            if not _plain_name(name):
                return None
            if t.name == "ROW":
                if not t.field_names or not all(plain(c) and _plain_name(f)
                                                 for f, c in zip(t.field_names, t.children)):
                    return None
            elif not plain(t):
                return None
        return cls(schema)

    def read(self, docs: pa.Array) -> list[pa.Array]:
        """The decoded columns of `docs` (a top-level field's text, a ROW as a STRUCT of its fields' texts), as
        from_json's STRUCT split into its fields gives them. Raises DuckDB's error for a block it cannot read."""
        from sqlstream.connectors.formats.json import DOCS, _one_array, over_docs
        probes = [j for j in self.rows if self.probed[j]]
        typed = [j for j in self.rows if not self.probed[j]]
        paths = self.paths + [_path(self.names[j]) for j in probes]
        picks = [f"v[{i + 1}]" for i in range(len(self.paths))]
        # a probed ROW's text only tells whether it is there: it comes back as that, not as the text (an object's
        # text, written out by DuckDB, was copied to Arrow for nothing)
        picks += [f"v[{len(self.paths) + k + 1}] IS NOT NULL" for k in range(len(probes))]
        for j in typed:  # json_type (a second parse) only where the ROW's first leaf is NULL: a few more documents
            # than those its leaves leave open, for one condition to plan instead of one per leaf
            first = self.columns[j][0]
            path = _path(self.names[j]).replace("'", "''")
            picks.append(f"CASE WHEN v[{first + 1}] IS NULL THEN json_type(line, '{path}') <> 'NULL' END")  # NULL:
            # the path is missing
        out = over_docs(f"SELECT {', '.join(picks)} FROM (SELECT line, json_extract_string(line, $p) AS v FROM "
                        f"{DOCS})", {"p": paths}, docs)
        leaves = [_one_array(out.column(i)) for i in range(len(self.paths))]
        n = len(docs)
        present: dict[int, np.ndarray] = {}
        for k, j in enumerate(probes + typed):
            present[j] = true_mask(_one_array(out.column(len(self.paths) + k)))
        cols: list[pa.Array] = []
        for j, (first, count, fields) in enumerate(self.columns):
            if fields is None:
                cols.append(leaves[first])
                continue
            unknown = ~np.logical_or.reduce([valid_mask(leaves[first + i]) for i in range(count)])
            self.probed[j] = bool(unknown.sum() > PROBE_SHARE * n)
            if j in typed:
                present[j] |= ~unknown
            mask = None if present[j].all() else pa.array(~present[j])
            cols.append(pa.StructArray.from_arrays(leaves[first:first + count],
                                                   fields=[pa.field(f, pa.string()) for f in fields], mask=mask))
        return cols
