"""Partitioned tables on a filesystem (PARTITIONED BY): a row's partition values form its folder,
`k1=v1/k2=v2`, escaped as Flink escapes them; a NULL value is the default partition name. The values live only
in the path, not in the files."""
from __future__ import annotations

import os
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_NAME = "__DEFAULT_PARTITION__"
_ESCAPE = set('"#%\'*/:=?\\\x7f{[]^')


def escape(value: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in _ESCAPE or ord(c) < 0x20 else c for c in value)


def partition_dirs(batch: pa.RecordBatch, keys: list[str], default_name: str = DEFAULT_NAME) -> list[str]:
    """The folder of each row."""
    parts = []
    for k in keys:
        col = batch.column(batch.schema.get_field_index(k))
        text = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
        values = [default_name if v is None else escape(v) for v in text.to_pylist()]
        parts.append([f"{k}={v}" for v in values])
    return ["/".join(p) for p in zip(*parts)] if parts else [""] * batch.num_rows


def values_from_path(path: str, root: str, keys: list[str], default_name: str = DEFAULT_NAME) -> dict[str, str | None]:
    """Partition values of a file below `root`, from its `k=v` folders."""
    found: dict[str, str | None] = {}
    for seg in os.path.relpath(os.path.dirname(path), root).split(os.sep):
        k, eq, v = seg.partition("=")
        if eq and k in keys:
            v = unquote(v)
            found[k] = None if v == default_name else v
    return found
