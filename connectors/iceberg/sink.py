"""The Iceberg sink: exactly once, one snapshot per checkpoint.

Rows of a checkpoint are kept until the checkpoint; `prepare_commit` writes them as Parquet data files (one
per partition) under the table's data folder and returns their paths; `commit`, called once the checkpoint's
manifest is durable, adds them to the table in one snapshot whose summary records `flink.job-id` and
`flink.max-committed-checkpoint-id`, as Flink's committer does. A restore commits the restored checkpoint's
files only when the table's newest snapshot of this job names an older checkpoint, so no checkpoint is
committed twice or lost. Updating input (a primary key with a changelog, or 'write.upsert.enabled') is applied
by key: each checkpoint deletes the keys it touched (copy-on-write, pyiceberg's delete) and appends the rows
that are the keys' final values, in one transaction.
"""
from __future__ import annotations

import re
import uuid
import warnings
from urllib.parse import quote_plus

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sqlstream.connectors.base import Sink, SinkWriter, TableSchema
from sqlstream.core.errors import ConnectorError

JOB_ID = "flink.job-id"
MAX_COMMITTED = "flink.max-committed-checkpoint-id"
INSERT, UPDATE_AFTER = 0, 2


class IcebergSinkWriter(SinkWriter):
    """Keeps a checkpoint's changelog batches; the sink writes and commits them."""

    def __init__(self, sink: IcebergSink, job: str):
        self.sink, self.job = sink, job
        self.batches: list[pa.RecordBatch] = []

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self.batches.append(batch)

    def prepare_commit(self, checkpoint_id: int):
        batches, self.batches = self.batches, []
        return self.sink.stage(batches, checkpoint_id, self.job)

    def commit(self, committable) -> None:
        self.sink.commit(committable, self.job)

    def abort(self, committable) -> None:
        self.sink.discard(committable)

    def close(self) -> None:
        self.commit(self.prepare_commit(-1))

    def cancel(self) -> None:
        self.batches = []


class IcebergSink(Sink):
    needs_checkpoints = True

    def __init__(self, table: str, iceberg, schema: TableSchema, upsert: bool):
        self.table, self.iceberg, self.schema, self.upsert = table, iceberg, schema, upsert
        self.keys = list(schema.primary_key) or [iceberg.schema().find_field(i).name
                                                  for i in iceberg.schema().identifier_field_ids]
        self.accepts_updates = bool(self.keys)
        self.partitions = partition_columns(iceberg, table)

    def writer(self, job: str = "job") -> SinkWriter:
        return IcebergSinkWriter(self, job)

    # ---- writing data files ----------------------------------------------------------------------------
    def stage(self, batches: list[pa.RecordBatch], checkpoint_id: int, job: str) -> dict | None:
        """Write a checkpoint's rows as data files; the committable names them (None: nothing to commit)."""
        if not batches:
            return None
        data = pa.Table.from_batches(batches)
        ops = data.column(0)
        keyed = bool(self.keys) and (self.upsert or not pc.all(pc.equal(ops, INSERT)).as_py())
        touched = None
        if keyed:
            data, touched = self._final_rows(data)
        rows = data.drop_columns([data.column_names[0]])
        # checkpoint's files are named after it (`recover` removes those of checkpoints never committed)
        when = f"{checkpoint_id:05d}" if checkpoint_id >= 0 else "end"
        prefix = f"{job[:12]}-{when}-{uuid.uuid4().hex[:8]}"
        files = self._write_data_files(rows, prefix)
        committable = {"checkpoint": checkpoint_id, "files": files, "keys": None}
        if touched is not None and touched.num_rows:
            committable["keys"] = self._write(touched, f"{self.iceberg.location()}/metadata/sqlstream-keys/"
                                                       f"{prefix}.parquet")
        return committable

    def _final_rows(self, data: pa.Table) -> tuple[pa.Table, pa.Table]:
        """The last row of each key in this checkpoint, kept if it is an insert or update-after, and every
        key the checkpoint touched (all of them are deleted from the table before the kept rows are added)."""
        indexed = data.append_column("__row", pa.array(range(data.num_rows), pa.int64()))
        last = indexed.group_by(self.keys, use_threads=False).aggregate([("__row", "max")])
        rows = last.column("__row_max")
        final = data.take(pc.take(rows, pc.sort_indices(rows)))  # in changelog order
        ops = final.column(0)
        kept = final.filter(pc.or_(pc.equal(ops, INSERT), pc.equal(ops, UPDATE_AFTER)))
        return kept, last.select(self.keys)

    def _write_data_files(self, rows: pa.Table, prefix: str) -> list[str]:
        """One Parquet file per partition, cast to the table's Arrow schema (with Iceberg field ids)."""
        from pyiceberg.io.pyarrow import schema_to_pyarrow
        if rows.num_rows == 0:
            return []
        target = schema_to_pyarrow(self.iceberg.schema())
        cols = []
        for f in target:
            i = rows.schema.get_field_index(f.name)
            col = rows.column(i) if i >= 0 else pa.nulls(rows.num_rows, f.type)
            try:
                cols.append(col.cast(f.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise ConnectorError(f"Sink table '{self.table}': column '{f.name}' ({col.type}) cannot be "
                                     f"written as {f.type}: {e}") from None
        table = pa.Table.from_arrays(cols, schema=target)
        base = f"{self.iceberg.location()}/data"
        parts = self.partitions
        if not parts:
            return [self._write(table, f"{base}/{prefix}.parquet")]
        groups = table.append_column("__row", pa.array(range(table.num_rows), pa.int64())) \
            .group_by(parts, use_threads=False).aggregate([("__row", "list")])
        files = []
        for i in range(groups.num_rows):
            folder = "/".join(f"{quote_plus(k)}={quote_plus(_text(groups.column(k)[i].as_py()))}" for k in parts)
            files.append(self._write(table.take(groups.column("__row_list")[i].values),
                                     f"{base}/{folder}/{prefix}.parquet"))
        return files

    def _write(self, table: pa.Table, path: str) -> str:
        try:
            with self.iceberg.io.new_output(path).create(overwrite=True) as out:
                pq.write_table(table, out)
        except OSError as e:
            raise ConnectorError(f"Sink table '{self.table}': cannot write data file '{path}': {e}") from None
        return path

    # ---- committing --------------------------------------------------------------------------------------
    def commit(self, committable, job: str) -> None:
        """One transaction: delete the touched keys, add the data files; the snapshots name the checkpoint."""
        if not committable:
            return
        props = {JOB_ID: job}
        if committable["checkpoint"] >= 0:
            props[MAX_COMMITTED] = str(committable["checkpoint"])
        table = self.iceberg.refresh()
        try:
            with table.transaction() as tx:
                if committable.get("keys"):
                    with warnings.catch_warnings():  # keys seen for the first time match no row
                        warnings.simplefilter("ignore", UserWarning)
                        tx.delete(self._key_filter(committable["keys"]), snapshot_properties=props)
                if committable["files"]:
                    tx.add_files(committable["files"], snapshot_properties=props, check_duplicate_files=False)
        except Exception as e:
            raise ConnectorError(f"Sink table '{self.table}': committing checkpoint {committable['checkpoint']} "
                                 f"to Iceberg table {'.'.join(table.name())} failed: {type(e).__name__}: {e}") \
                from None
        if committable.get("keys"):
            self.iceberg.io.delete(committable["keys"])

    def _key_filter(self, keys_path: str):
        from pyiceberg.expressions import And, EqualTo, In, Or
        with self.iceberg.io.new_input(keys_path).open() as f:
            keys = pq.read_table(f)
        if len(self.keys) == 1:
            return In(self.keys[0], keys.column(0).to_pylist())
        rows = keys.to_pylist()
        terms = [And(*[EqualTo(k, r[k]) for k in self.keys]) for r in rows]
        return terms[0] if len(terms) == 1 else Or(*terms)

    def discard(self, committable) -> None:
        for path in (committable or {}).get("files", []) + [p for p in [(committable or {}).get("keys")] if p]:
            try:
                self.iceberg.io.delete(path)
            except OSError:
                pass

    def max_committed(self, job: str) -> int | None:
        """The checkpoint the table's newest snapshot written by `job` committed (None: none yet)."""
        table = self.iceberg.refresh()
        snapshot = table.current_snapshot()
        while snapshot is not None:
            extra = snapshot.summary.additional_properties if snapshot.summary else {}
            if extra.get(JOB_ID) == job and MAX_COMMITTED in extra:
                return int(extra[MAX_COMMITTED])
            snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) \
                if snapshot.parent_snapshot_id is not None else None
        return None

    def recover(self, job: str, committables) -> None:
        """Commit the restored checkpoint's files unless the table already holds that checkpoint, then remove
        the files this job staged for later checkpoints (written by an attempt that died before committing)."""
        restored = committables["checkpoint"] if committables and isinstance(committables, dict) else None
        done = self.max_committed(job)
        if restored is not None and (done is None or done < restored):
            self.commit(committables, job)
            done = restored
        self._remove_staged_after(job, max(c for c in (restored, done, -1) if c is not None))

    def _remove_staged_after(self, job: str, checkpoint_id: int) -> None:
        """Data and key files of `job` for checkpoints after `checkpoint_id`: no snapshot references them."""
        from pyarrow import fs
        try:
            filesystem, root = fs.FileSystem.from_uri(self.iceberg.location())
            infos = filesystem.get_file_info(fs.FileSelector(root, recursive=True, allow_not_found=True))
        except (OSError, pa.ArrowInvalid):
            return  # a store pyarrow cannot list: leftovers stay for Iceberg's orphan-file clean-up
        pattern = re.compile(rf"{re.escape(job[:12])}-(\d+)-[0-9a-f]{{8}}\.parquet")
        for info in infos:
            m = pattern.fullmatch(info.base_name)
            if m and int(m.group(1)) > checkpoint_id:
                filesystem.delete_file(info.path)

    def rollback(self, job: str, checkpoint_id: int) -> str | None:
        """A restore fell back to `checkpoint_id`: the table goes back to the snapshot before this job's
        commits of later checkpoints, when no other writer committed after them."""
        table = self.iceberg.refresh()
        snapshot, undone = table.current_snapshot(), 0
        while snapshot is not None:
            extra = snapshot.summary.additional_properties if snapshot.summary else {}
            if extra.get(JOB_ID) != job:
                if undone:
                    return (f"cannot take back the {undone} snapshot(s) committed after checkpoint {checkpoint_id}: "
                            f"another writer committed snapshot {snapshot.snapshot_id} after them")
                return None
            if MAX_COMMITTED in extra and int(extra[MAX_COMMITTED]) <= checkpoint_id:
                break
            undone += 1
            snapshot = table.snapshot_by_id(snapshot.parent_snapshot_id) \
                if snapshot.parent_snapshot_id is not None else None
        if not undone:
            return f"no snapshot of Iceberg table {'.'.join(table.name())} came after checkpoint {checkpoint_id}"
        if snapshot is None:
            from pyiceberg.expressions import AlwaysTrue
            table.delete(AlwaysTrue(), snapshot_properties={JOB_ID: job, MAX_COMMITTED: str(checkpoint_id)})
        else:
            table.manage_snapshots().set_current_snapshot(snapshot.snapshot_id).commit()
        return (f"took back {undone} snapshot(s) of Iceberg table {'.'.join(table.name())} committed after "
                f"checkpoint {checkpoint_id}")


def _text(value) -> str:
    return "null" if value is None else str(value)


def partition_columns(iceberg, table: str) -> list[str]:
    """The columns of the table's identity partitions (the only transform Flink's PARTITIONED BY makes)."""
    from pyiceberg.transforms import IdentityTransform
    spec, schema = iceberg.spec(), iceberg.schema()
    other = [str(f) for f in spec.fields if not isinstance(f.transform, IdentityTransform)]
    if other:
        raise ConnectorError(f"Sink table '{table}': Iceberg table {'.'.join(iceberg.name())} is partitioned by "
                             f"{', '.join(other)}; only identity partitions (PARTITIONED BY columns) are written")
    return [schema.find_field(f.source_id).name for f in spec.fields]
