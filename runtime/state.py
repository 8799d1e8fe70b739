"""State behind one interface: operators keep named tables here so checkpoints snapshot them uniformly."""
from __future__ import annotations

import io
from typing import Any, Protocol

import pyarrow as pa


class Snapshottable(Protocol):
    def snapshot(self) -> pa.Table: ...

    def restore(self, table: pa.Table) -> None: ...

    def size_bytes(self) -> int: ...


class StateBackend:
    """In-memory state: name -> table object; snapshots are Arrow IPC bytes per table."""

    def __init__(self, operator_uid: str = "") -> None:
        self.uid = operator_uid
        self.tables: dict[str, Snapshottable] = {}

    def register(self, name: str, table: Any) -> Any:
        if name in self.tables:
            raise ValueError(f"state table {name!r} registered twice in operator {self.uid}")
        self.tables[name] = table
        return table

    def snapshot(self) -> dict[str, bytes]:
        out = {}
        for name, t in self.tables.items():
            sink = io.BytesIO()
            tbl = t.snapshot()
            with pa.ipc.new_stream(sink, tbl.schema) as w:
                w.write_table(tbl)
            out[name] = sink.getvalue()
        return out

    def restore(self, blobs: dict[str, bytes]) -> None:
        for name, data in blobs.items():
            if name not in self.tables:
                raise ValueError(f"operator {self.uid} has no state table {name!r}")
            self.tables[name].restore(pa.ipc.open_stream(data).read_all())

    def size_bytes(self) -> int:
        return sum(t.size_bytes() for t in self.tables.values())
