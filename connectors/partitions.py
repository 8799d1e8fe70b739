"""Partitioned tables on a filesystem (PARTITIONED BY): a row's partition values form its folder,
`k1=v1/k2=v2`, escaped as Flink escapes them; a NULL value is the default partition name. The values live only
in the path, not in the files."""
from __future__ import annotations

import os
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_NAME = "__DEFAULT_PARTITION__"
_ESCAPE = set('"#%\'*/:=?\\\x7f{[]^')


def escape(value: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in _ESCAPE or ord(c) < 0x20 else c for c in value)


def partition_groups(batch: pa.RecordBatch, keys: list[str],
                     default_name: str = DEFAULT_NAME) -> list[tuple[str, np.ndarray]]:
    """(folder, its rows) for each folder the batch's rows go to, in order of first appearance. Values are
    escaped once per distinct value."""
    n = batch.num_rows
    if not keys:
        return [("", np.arange(n))]
    combined = np.zeros(n, dtype=np.int64)
    names, codes = [], []
    for k in keys:
        col = batch.column(batch.schema.get_field_index(k))
        text = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
        enc = pc.dictionary_encode(text, null_encoding="encode")
        codes.append(np.asarray(enc.indices, dtype=np.int64))
        names.append([f"{k}={default_name if v is None else escape(v)}" for v in enc.dictionary.to_pylist()])
        combined = combined * (len(enc.dictionary) + 1) + codes[-1]
        _, combined = np.unique(combined, return_inverse=True)  # keep the mixed codes small
    uniq, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    ends = np.cumsum(np.bincount(inverse, minlength=len(uniq)))
    groups = []
    for g in np.argsort(first):
        folder = "/".join(per_key[c[first[g]]] for per_key, c in zip(names, codes))
        groups.append((folder, order[(ends[g - 1] if g else 0):ends[g]]))
    return groups


def values_from_path(path: str, root: str, keys: list[str], default_name: str = DEFAULT_NAME) -> dict[str, str | None]:
    """Partition values of a file below `root`, from its `k=v` folders."""
    found: dict[str, str | None] = {}
    for seg in os.path.relpath(os.path.dirname(path), root).split(os.sep):
        k, eq, v = seg.partition("=")
        if eq and k in keys:
            v = unquote(v)
            found[k] = None if v == default_name else v
    return found
