"""A state backend whose row stores keep their rows in Arrow IPC files in a temporary folder.

It proves the row store's interface is the whole contract: a backend gives its own classes and no operator
changes. Rows are written as one IPC file per append (a fragment) and read back memory-mapped on every access;
the per-row arrays (arrival numbers, flags) stay in memory. Named by SET 'state.backend.type' =
'tests.disk_state.DiskStateBackend'.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import weakref

import pyarrow as pa

from sqlstream.runtime.state import KeyedRows, RowStore, StateBackend


class _RowFiles:
    """Where a row store's rows live: IPC files in a folder of its own, removed with the store."""

    def _open_folder(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="sqlstream-rows-")
        self.files: list[str] = []
        self.written = 0
        weakref.finalize(self, shutil.rmtree, self.folder, True)

    def _write(self, table: pa.Table) -> str:
        path = os.path.join(self.folder, f"{self.written}.arrow")
        self.written += 1
        with pa.OSFile(path, "wb") as out, pa.ipc.new_file(out, table.schema) as writer:
            writer.write_table(table)
        return path

    def _stored(self) -> pa.Table:
        tables = [pa.ipc.open_file(pa.memory_map(p)).read_all() for p in self.files]
        return pa.concat_tables(tables) if tables else self.schema.empty_table()

    def _store_rows(self, table: pa.Table) -> None:
        for path in self.files:
            os.remove(path)
        self.files = [self._write(table)] if table.num_rows else []

    def _append_rows(self, table: pa.Table) -> None:
        if table.num_rows:
            self.files.append(self._write(table))


class DiskRowStore(_RowFiles, RowStore):
    def __init__(self, *args, **kwargs):
        self._open_folder()
        super().__init__(*args, **kwargs)


class DiskKeyedRows(_RowFiles, KeyedRows):
    def __init__(self, *args, **kwargs):
        self._open_folder()
        super().__init__(*args, **kwargs)


class DiskStateBackend(StateBackend):
    """The in-memory backend, except that row stores and keyed rows live in files."""

    def row_store(self, name, schema, arrays=None, live=None, transient=()):
        return self.register(name, DiskRowStore(schema, arrays, live, transient))

    def keyed_rows(self, name, schema, keys, arrays=None, live=None, transient=()):
        return self.register(name, DiskKeyedRows(schema, keys, arrays, self.max_parallelism, live, transient))
