"""The Iceberg source: a table's snapshot read once (bounded), or with 'streaming' = 'true' that snapshot and
then, every 'monitor-interval', the data files each newer snapshot appended (Flink's incremental streaming read
from the current snapshot). With 'start-snapshot-id' a streaming read starts with that snapshot's appended
files, a bounded one reads what the snapshots after it appended, as in Flink. The position in a checkpoint is the snapshot being read, whether it is read whole
("scan") or only its appended files ("added"), the file and the rows served from it."""
from __future__ import annotations

import time

import pyarrow as pa

from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch
from sqlstream.core.errors import ConnectorError


class IcebergSplitReader(SplitReader):
    def __init__(self, source: IcebergSource, position=None):
        self.source = source
        self.table = source.iceberg.refresh()
        self.paced = source.streaming
        self.finished = False
        self.last_check = time.monotonic()
        if position:
            self.snapshot, self.mode = position["snapshot"], position["mode"]
            self.file_idx, self.served = position["file"], position["row"]
        else:
            current = self.table.current_snapshot()
            self.snapshot = source.start if source.start is not None else (current.snapshot_id if current else None)
            self.mode = "scan" if source.start is None else "added"
            self.file_idx, self.served = 0, 0
        self.tasks = self._tasks()
        if not position and source.start is not None and not source.streaming:
            self.file_idx = len(self.tasks)  # a bounded read appends after 'start-snapshot-id', as Flink's does
        self.batches = None
        self.pending: list[pa.RecordBatch] = []

    # ---- which files -------------------------------------------------------------------------------------
    def _tasks(self) -> list:
        """The files of the current unit, in a stable order (a restore finds the same list)."""
        from pyiceberg.manifest import DataFileContent, ManifestEntryStatus
        from pyiceberg.table import FileScanTask
        if self.snapshot is None:
            return []
        if self.mode == "scan":
            tasks = list(self.table.scan(snapshot_id=self.snapshot).plan_files())
            return sorted(tasks, key=lambda t: t.file.file_path)
        snap = self.table.snapshot_by_id(self.snapshot)
        if snap is None:
            raise ConnectorError(f"Table '{self.source.table}': snapshot {self.snapshot} of Iceberg table "
                                 f"{'.'.join(self.table.name())} no longer exists (expired?)")
        files = []
        for manifest in snap.manifests(self.table.io):
            if manifest.added_snapshot_id != self.snapshot:
                continue
            for entry in manifest.fetch_manifest_entry(self.table.io, discard_deleted=True):
                if entry.status == ManifestEntryStatus.ADDED and entry.snapshot_id == self.snapshot and \
                        entry.data_file.content == DataFileContent.DATA:
                    files.append(FileScanTask(entry.data_file))
        return sorted(files, key=lambda t: t.file.file_path)

    def _next_snapshot(self) -> bool:
        """Move to the oldest snapshot after the current one, if the table has one; False when none yet."""
        self.table = self.table.refresh()
        chain = []
        snap = self.table.current_snapshot()
        while snap is not None and snap.snapshot_id != self.snapshot:
            chain.append(snap)
            snap = self.table.snapshot_by_id(snap.parent_snapshot_id) if snap.parent_snapshot_id is not None \
                else None
        if snap is None and self.snapshot is not None:
            raise ConnectorError(f"Table '{self.source.table}': snapshot {self.snapshot} is no longer an ancestor "
                                 f"of Iceberg table {'.'.join(self.table.name())}'s current snapshot (rolled back "
                                 f"or expired); the streaming read cannot continue from it")
        if not chain:
            return False
        nxt = chain[-1]
        op = nxt.summary.operation.value if nxt.summary else "append"
        skip_delete, skip_overwrite = self.source.skips
        if op == "delete" and not skip_delete or op == "overwrite" and not skip_overwrite:
            option = "streaming-skip-delete-snapshots" if op == "delete" else "streaming-skip-overwrite-snapshots"
            raise ConnectorError(f"Table '{self.source.table}': snapshot {nxt.snapshot_id} of Iceberg table "
                                 f"{'.'.join(self.table.name())} is an {op}, which a streaming read cannot "
                                 f"follow; set '{option}' = 'true' to skip such snapshots")
        self.snapshot, self.mode, self.file_idx, self.served = nxt.snapshot_id, "added", 0, 0
        self.tasks = self._tasks() if op == "append" else []
        return True

    # ---- reading ----------------------------------------------------------------------------------------
    def _open(self, task):
        from pyiceberg.expressions import AlwaysTrue
        from pyiceberg.io.pyarrow import ArrowScan
        projected = self.table.schema().select(*self.source.schema.names) if self.source.schema.names else \
            self.table.schema().select(self.table.schema().fields[0].name)
        return ArrowScan(self.table.metadata, self.table.io, projected, AlwaysTrue()).to_record_batches([task])

    def _convert(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        cols = []
        for name, t in zip(self.source.schema.names, self.source.schema.types):
            col, target = batch.column(batch.schema.get_field_index(name)), t.to_arrow()
            cols.append(col if col.type == target else col.cast(target, safe=False))
        return rows_batch(cols, self.source.schema.names, batch.num_rows)

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        while not self.pending:
            if self.file_idx >= len(self.tasks):
                if not self.source.streaming:
                    if self.mode == "added" and self._next_snapshot():
                        continue
                    self.finished = True
                    return None
                now = time.monotonic()
                if now - self.last_check < self.source.interval_ms / 1000:
                    return None
                self.last_check = now
                if not self._next_snapshot():
                    return None
                continue
            if self.batches is None:
                self.batches, self.skip = self._open(self.tasks[self.file_idx]), self.served
            batch = next(self.batches, None)
            if batch is None:
                self.batches, self.file_idx, self.served = None, self.file_idx + 1, 0
                continue
            if self.skip >= batch.num_rows:
                self.skip -= batch.num_rows
                continue
            batch, self.skip = batch.slice(self.skip), 0
            if batch.num_rows:
                self.pending = [self._convert(batch)]
        batch = self.pending.pop()
        if batch.num_rows > max_rows:
            self.pending.append(batch.slice(max_rows))
            batch = batch.slice(0, max_rows)
        self.served += batch.num_rows
        return batch

    def position(self):
        return {"snapshot": self.snapshot, "mode": self.mode, "file": self.file_idx, "row": self.served}


class IcebergSource(Source):
    def __init__(self, table: str, iceberg, schema: TableSchema, streaming: bool, interval_ms: int,
                 start: int | None, skips: tuple[bool, bool]):
        self.table, self.iceberg, self.schema = table, iceberg, schema
        self.streaming, self.interval_ms, self.start, self.skips = streaming, interval_ms, start, skips
        self.bounded = not streaming

    def reader(self, split: str, position=None) -> SplitReader:
        return IcebergSplitReader(self, position)
