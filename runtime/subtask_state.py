"""A parallel region's state in a checkpoint, one part per subtask, and how it is redistributed to another
parallelism.

A region's head stores each subtask's snapshot (its operators' state tables and watermarks) as rows of one table
(`SUBTASKS`). A subtask holds only the keys of its key groups, a contiguous range (`key_groups.group_range`), so
restoring at another parallelism gives each new subtask the parts of the old subtasks whose ranges overlap its
own and keeps the keys of its range; parallelism 1 takes the merge of every part. At a checkpoint each subtask
writes its part into the checkpoint's folder itself (`write_part`: a local path or a filesystem URI, so Ray
actors on other machines write to a shared directory or an object store), and the table then only says so; at a
restore each subtask reads the parts it restores from there itself (`load`). Only keyed state splits: an
operator with other state is refused by name, never restored wrong. Parallelism 1 imports this module too, so it
imports nothing of the parallel runtime.
"""
from __future__ import annotations

import json
import zlib

import pyarrow as pa

from sqlstream.core.errors import ValidationError
from sqlstream.runtime.checkpoint_fs import Files
from sqlstream.runtime.key_groups import group_range
from sqlstream.runtime.state import Counters, StateBackend

SUBTASKS = "subtasks"  # the state table of an operator standing for parallel subtasks
WATERMARKS = "_watermarks"  # the part's entry holding the subtask's watermarks

Part = dict[str, dict[str, bytes]]  # operator uid (or WATERMARKS) -> state table name -> Arrow IPC bytes


def _table(rows: list[tuple]) -> pa.Table:
    return pa.table({"subtask": pa.array([r[0] for r in rows], pa.int32()),
                     "operator": pa.array([r[1] for r in rows], pa.string()),
                     "table": pa.array([r[2] for r in rows], pa.string()),
                     "data": pa.array([r[3] for r in rows], pa.large_binary())})


def encode(parts: list[Part], parallelism: int) -> pa.Table:
    """One row per subtask with an empty operator (the subtask exists; its `table` names the entry holding its
    part when the subtask wrote it, empty when the part is in this table), then one row per (subtask, operator,
    table) with its bytes."""
    subtasks = [(i, "", "", None) for i in range(parallelism)]
    return _table(subtasks + [(i, uid, name, data) for i, part in enumerate(parts) for uid, tables in part.items()
                              for name, data in tables.items()])


def written(parallelism: int) -> pa.Table:
    """The table of a checkpoint whose subtasks wrote their parts themselves (entries `subtask-<i>`)."""
    return _table([(i, "", f"subtask-{i}", None) for i in range(parallelism)])


def decode(blobs: dict) -> list:
    """The parts of an operator's checkpoint blobs (its `SUBTASKS` table, and the parts its subtasks wrote), one
    per subtask of the parallelism the checkpoint was taken at. A part not read yet (a `checkpoint.PartRef`)
    stays one, for the subtask restoring from it to read (`load`)."""
    table = pa.ipc.open_stream(blobs[SUBTASKS]).read_all()
    meta = table.schema.metadata or {}
    if b"parallelism" in meta:  # written when the parallelism was kept in the schema's metadata
        if meta.get(b"parts") != b"written":
            return _decode_table(table)
        entries = [f"subtask-{i}" for i in range(int(meta[b"parallelism"]))]
    else:
        if any(entry == "" for uid, entry in zip(*(table.column(c).to_pylist() for c in ("operator", "table")))
               if uid == ""):
            return _decode_table(table)
        entries = [entry for uid, entry in zip(*(table.column(c).to_pylist() for c in ("operator", "table")))
                   if uid == ""]
    return [load(blobs[e]) if isinstance(blobs[e], (bytes, bytearray)) else blobs[e] for e in entries]


def load(part) -> Part:
    """A part: itself when read already, else read from the checkpoint's folder (and checked) and decoded."""
    if isinstance(part, dict):
        return part
    data = part if isinstance(part, (bytes, bytearray)) else part.read()
    return _decode_table(pa.ipc.open_stream(data).read_all())[0]


def _decode_table(table: pa.Table) -> list[Part]:
    """The parts held in a table (a subtask row each, then their entries; or, written before the subtasks had
    rows, the parallelism in the schema's metadata)."""
    subtask, operator, name, data = (table.column(c).to_pylist() for c in ("subtask", "operator", "table", "data"))
    legacy = (table.schema.metadata or {}).get(b"parallelism")
    taken = int(legacy) if legacy is not None else sum(1 for uid in operator if uid == "")
    parts: list[Part] = [{} for _ in range(taken)]
    for i, uid, entry, blob in zip(subtask, operator, name, data):
        if uid != "":
            parts[i].setdefault(uid, {})[entry] = blob
    return parts


def write_part(parts_dir: str, name: str, part: Part) -> list:
    """Write a subtask's part as file `name` of the checkpoint folder `parts_dir` (a path or a pyarrow filesystem
    URI such as s3://..); [name, size, crc32] for the manifest."""
    sink = pa.BufferOutputStream()
    table = encode([part], 1)
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    data = sink.getvalue().to_pybytes()
    Files(parts_dir).write(name, data)
    return [name, len(data), zlib.crc32(data)]


def from_process(region_uids: list[str], operators: dict[str, dict[str, bytes]],
                 watermarks: dict[str, list]) -> Part:
    """A checkpoint taken at parallelism 1 (the region's operators in the job's process) as one subtask's part."""
    marks = [watermarks.get(uid) for uid in region_uids]
    if any(m is None for m in marks):
        missing = ", ".join(uid for uid, m in zip(region_uids, marks) if m is None)
        raise ValidationError(f"Cannot restore operator(s) {missing} as parallel subtasks: the checkpoint has no "
                              f"watermarks for them")
    part: Part = {uid: operators.get(uid, {}) for uid in region_uids}
    part[WATERMARKS] = {"watermarks": json.dumps({"out": [m[0] for m in marks],
                                                  "in": [list(m[1]) for m in marks]}).encode()}
    return part


def redistribute(parts: list[Part], parallelism: int, max_parallelism: int) -> list[tuple[list[Part], range | None]]:
    """For each subtask at `parallelism`: the parts it restores from and the key groups it keeps (None: the
    parts are its own, taken at this parallelism)."""
    taken = len(parts)
    if taken == parallelism:
        return [([part], None) for part in parts]
    old = [group_range(i, taken, max_parallelism) for i in range(taken)]
    out = []
    for j in range(parallelism):
        new = group_range(j, parallelism, max_parallelism)
        out.append(([p for p, r in zip(parts, old) if r.start < new.stop and new.start < r.stop], new))
    return out


def restore_operator(backend: StateBackend, tables: list[dict[str, bytes]], groups: range | None,
                     taken: int, parallelism: int) -> None:
    """Restore one operator from one or several subtasks' parts (keeping the keys of `groups`); state that cannot
    be split by key group is refused naming the operator and what to do."""
    if groups is not None:
        tables = _counters_placed(backend, tables, groups, taken)
    try:
        backend.restore(tables, groups)
    except (ValueError, KeyError) as e:
        if taken == parallelism:
            raise ValidationError(f"Cannot restore the state of operator {backend.uid}: {e}") from None
        raise ValidationError(f"Cannot restore operator {backend.uid} at parallelism {parallelism} from a "
                              f"checkpoint taken at parallelism {taken}: {e}; its state cannot be redistributed to "
                              f"another parallelism yet, so run the job at parallelism {taken}") from None


def _counters_placed(backend: StateBackend, tables: list[dict[str, bytes]], groups: range,
                     taken: int) -> list[dict[str, bytes]]:
    """The parts (those of the old subtasks whose key groups overlap `groups`, in order) with counters written
    before they carried their key group given their old subtask's first one, so that a rescale counts them once."""
    firsts = [r.start for r in (group_range(i, taken, backend.max_parallelism) for i in range(taken))
              if r.start < groups.stop and groups.start < r.stop]
    names = [name for name, table in backend.tables.items() if isinstance(table, Counters)]
    if not names or len(firsts) != len(tables):
        return tables
    return [{name: Counters.placed(blob, first) if name in names else blob for name, blob in part.items()}
            for part, first in zip(tables, firsts)]
