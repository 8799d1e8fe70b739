"""The filesystem connector's bulk formats, `parquet` and `orc`, through pyarrow.

A source reads each file's record batches with only the columns the query needs, cast to the table's types;
its position is (file, rows served), so a restore skips what was read. A sink collects a part file's rows and
writes the file when it rolls; as Flink's bulk formats, a part file rolls at every checkpoint (a half-written
Parquet or ORC file is not readable), and also by size and time as the rolling policy says.
"""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors import partitions
from sqlstream.connectors.base import Source, SplitReader, TableSchema, rows_batch
from sqlstream.connectors.filesystem import FileSystemSinkWriter, list_files
from sqlstream.core.errors import ConnectorError

BULK_FORMATS = ("parquet", "orc")


def _open(path: str, fmt: str):
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq
            return pq.ParquetFile(path)
        import pyarrow.orc as orc
        return orc.ORCFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise ConnectorError(f"Cannot read '{path}' as {fmt}: {e}") from None


class BulkSplitReader(SplitReader):
    """Reads the files of a table in order; position = [file index, rows served from it]."""

    def __init__(self, files: list[str], fmt: str, schema: TableSchema, root: str, default_partition: str,
                 position=None):
        self.files, self.fmt, self.schema = files, fmt, schema
        self.root, self.default_partition = root, default_partition
        self.file_idx, self.served = position or (0, 0)
        self.pending: list[pa.RecordBatch] = []
        self.opened = None
        self.finished = False

    def _batches(self, path: str):
        f = _open(path, self.fmt)
        keys = set(self.schema.partition_keys)
        present = set(f.schema.names if self.fmt == "orc" else f.schema_arrow.names)
        wanted = [n for n in self.schema.names if n not in keys and n in present]
        if self.fmt == "parquet":
            yield from f.iter_batches(columns=wanted)
        else:
            for i in range(f.nstripes):
                yield f.read_stripe(i, columns=wanted)

    def _convert(self, batch: pa.RecordBatch, path: str) -> pa.RecordBatch:
        values = partitions.values_from_path(path, self.root, self.schema.partition_keys, self.default_partition) \
            if self.schema.partition_keys else {}
        cols = []
        for name, t in zip(self.schema.names, self.schema.types):
            target = t.to_arrow()
            if name in self.schema.partition_keys:
                text = pa.array([values.get(name)] * batch.num_rows, pa.string())
                cols.append(text if target == pa.string() else pc.cast(text, target))
                continue
            i = batch.schema.get_field_index(name)
            if i < 0:  # a column the file does not have reads as NULL
                cols.append(pa.nulls(batch.num_rows, target))
                continue
            col = batch.column(i)
            try:
                cols.append(col if col.type == target else col.cast(target, safe=not pa.types.is_timestamp(target)))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise ConnectorError(f"Column '{name}' of '{path}' is {col.type}, which does not read as {t}: "
                                     f"{e}") from None
        return rows_batch(cols, self.schema.names, batch.num_rows)

    def poll(self, max_rows: int) -> pa.RecordBatch | None:
        while not self.pending:
            if self.file_idx >= len(self.files):
                self.finished = True
                return None
            if self.opened is None:
                self.opened = self._batches(self.files[self.file_idx])
                self.skip = self.served
            batch = next(self.opened, None)
            if batch is None:
                self.opened, self.file_idx, self.served = None, self.file_idx + 1, 0
                continue
            if self.skip >= batch.num_rows:
                self.skip -= batch.num_rows
                continue
            batch, self.skip = batch.slice(self.skip), 0
            self.pending = [self._convert(batch, self.files[self.file_idx])]
        batch = self.pending.pop()
        if batch.num_rows > max_rows:
            self.pending.append(batch.slice(max_rows))
            batch = batch.slice(0, max_rows)
        self.served += batch.num_rows
        return batch

    def position(self):
        return [self.file_idx, self.served]


class BulkSource(Source):
    bounded = True

    def __init__(self, path: str, fmt: str, schema: TableSchema, default_partition: str,
                 pattern: re.Pattern | None = None):
        self.path, self.fmt, self.schema, self.default_partition = path, fmt, schema, default_partition
        self.pattern = pattern  # 'source.path.regex-pattern'
        self.root = path[len("file://"):] if path.startswith("file://") else path

    def reader(self, split: str, position=None) -> SplitReader:
        return BulkSplitReader(list_files(self.path, self.pattern), self.fmt, self.schema, self.root,
                               self.default_partition, position)


class BulkSinkWriter(FileSystemSinkWriter):
    """Part files of Parquet or ORC: rows are kept per part file and written when it rolls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows: dict[str, list[pa.RecordBatch]] = {}  # in-progress path -> its rows

    def _write(self, ops: pa.Array, data: pa.RecordBatch, folder: str, now: float) -> None:
        data = pa.RecordBatch.from_arrays([data.column(data.schema.get_field_index(n)) for n in self.names],
                                          names=self.names)
        part = self._open(folder, now)
        self.rows.setdefault(part.in_progress, []).append(data)
        part.size += data.nbytes
        part.written_ms = now
        if self.policy.on_event(part):
            self._roll(folder)

    def _roll(self, folder: str) -> None:
        part = self.current[folder]
        batches = self.rows.pop(part.in_progress, [])
        table = pa.Table.from_batches(batches) if batches else \
            pa.table({n: pa.array([], t.to_arrow()) for n, t in zip(self.names, self.types)})

        def write():
            if self.fmt == "parquet":
                import pyarrow.parquet as pq
                pq.write_table(table, part.handle)
            else:
                import pyarrow.orc as orc
                orc.write_table(table, part.handle)
        self._io("a part file", part.folder, write)
        super()._roll(folder)

    def prepare_commit(self, checkpoint_id: int):
        for folder in list(self.current):  # bulk formats roll on every checkpoint
            self._roll(folder)
        return super().prepare_commit(checkpoint_id)
