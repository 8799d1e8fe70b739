"""Checkpoints and savepoints: a consistent cut of a job written as Arrow IPC state files plus a manifest.

Layout under the checkpoint directory (one folder per job fingerprint):

    <dir>/<job>/chk-<n>/<operator uid>.<table>.arrow   operator state (Arrow IPC stream)
    <dir>/<job>/chk-<n>/<operator uid>.subtask-<i>.arrow  a parallel subtask's state, written by the subtask
    <dir>/<job>/chk-<n>/_manifest.json                 positions, rows read, watermarks, sink committables, state files

The directory is a local path or a filesystem URI (`file://`, `s3://`, ...: `runtime/checkpoint_fs.py`). The
manifest is written last and is the commit point: renamed from a temporary name where the filesystem renames
atomically, written as one object on object stores. A folder without `_manifest.json` is a torn checkpoint and is
never restored. Sinks commit their pending output
only after that rename (two-phase commit), and a restore re-commits what the manifest lists (idempotently).

The manifest records the size and CRC32 of every file of the checkpoint and a SHA-256 of its own body, so a
flipped byte, a truncated file or an edited position is found on restore instead of restoring wrong state;
`newest_valid` then falls back to the newest retained checkpoint that is intact. `_history.json` beside the
checkpoints says that the job once completed a checkpoint or savepoint (its sinks hold committed output), so
a run that finds nothing to restore there refuses to start over silently.

Parallel subtasks (worker processes, Ray actors) write their own state parts into the checkpoint's folder
(`prepare` makes it first) and report each part's size and CRC32; the coordinator checks the parts are there and
commits the manifest, which covers them like its own files. At a restore the job's process reads the manifest
and its own files and leaves each part as a PartRef: the subtask restoring from it reads it from the folder
itself and checks its size and CRC32, so a part missing or damaged on a shared directory is found as for any
file, and no part passes through the job's process.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import zlib
from dataclasses import dataclass

import pyarrow as pa

from sqlstream.core.errors import CheckpointError, storage_error
from sqlstream.runtime.checkpoint_fs import Files, join

MANIFEST = "_manifest.json"
HISTORY = "_history.json"
LOG = logging.getLogger("sqlstream.checkpoint")


def _canonical(manifest: dict) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def seal_manifest(manifest: dict, files: dict[str, bytes], written: dict[str, list[int]] | None = None) -> bytes:
    """The manifest file's bytes: the manifest with every file's [size, crc32] (those of `files`, and `written`'s
    for the files others wrote into the folder) and a SHA-256 of the whole."""
    checksums = {name: [len(data), zlib.crc32(data)] for name, data in files.items()}
    body = {**manifest, "checksums": {**checksums, **(written or {})}}
    body.pop("checksum", None)
    return json.dumps({**body, "checksum": hashlib.sha256(_canonical(body)).hexdigest()}).encode()


def open_manifest(raw: bytes, location: str) -> dict:
    """The manifest of a checkpoint folder, or CheckpointError saying why it cannot be trusted."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{MANIFEST} is truncated or not JSON") from None
    if not isinstance(body, dict) or "checksum" not in body:
        raise CheckpointError(f"{MANIFEST} has no checksum (damaged, or written by an older sqlstream)")
    claimed = body.pop("checksum")
    if hashlib.sha256(_canonical(body)).hexdigest() != claimed:
        raise CheckpointError(f"{MANIFEST} does not match its checksum (it was changed or damaged)")
    return body


def verify_file(manifest: dict, name: str, data: bytes) -> None:
    size, crc = manifest["checksums"].get(name, (None, None))
    if size is None:
        raise CheckpointError(f"{name} is not covered by the manifest's checksums")
    if len(data) != size:
        raise CheckpointError(f"{name} has {len(data)} bytes, the checkpoint wrote {size}")
    if zlib.crc32(data) != crc:
        raise CheckpointError(f"{name} does not match its checksum (damaged)")


class CheckpointStorage:
    """Checkpoints as folders under a root: a local path or a filesystem URI (`runtime/checkpoint_fs.py`)."""

    def __init__(self, root: str):
        self.root = root
        try:
            self.files = Files(root)
        except ValueError as e:
            raise CheckpointError(f"Checkpoint directory: {e}") from None
        try:
            self.files.make_folder()
        except OSError as e:
            raise storage_error(e, "checkpoints", root) from None

    @property
    def local_folder(self) -> str:
        """A folder on this machine for what only the job's process uses (its lock, its log): the root itself
        when it is local, else one named after it in this user's temporary folder."""
        if self.files.is_local or self.files.fs.type_name == "local":
            return self.files.path
        import hashlib
        import tempfile
        uid = os.getuid() if hasattr(os, "getuid") else 0
        folder = os.path.join(tempfile.gettempdir(), f"sqlstream-{uid}", "jobs",
                              hashlib.sha256(self.root.encode()).hexdigest()[:16])
        os.makedirs(folder, exist_ok=True)
        return folder

    def location(self, name: str) -> str:
        return join(self.root, name)

    def prepare(self, name: str) -> str:
        """The empty folder of checkpoint `name`, for files written by others before `write` (subtasks' parts)."""
        folder = self.location(name)
        try:
            if self.files.size(f"{name}/{MANIFEST}") is not None:
                raise CheckpointError(f"Cannot write {name}: '{folder}' already holds a completed checkpoint")
            if self.files.exists(name):
                self.files.delete_folder(name)  # a torn leftover of an earlier attempt with the same number
            self.files.make_folder(name)
        except OSError as e:
            raise storage_error(e, name, self.root) from None
        return folder

    def write(self, name: str, files: dict[str, bytes], manifest: dict,
              written: dict[str, list[int]] | None = None) -> str:
        """Write a checkpoint's files and then its manifest (the commit point). `written`: files already in the
        folder `prepare` made, with their [size, crc32], checked to be there before the manifest names them."""
        folder = self.location(name)
        fname = MANIFEST
        if written is None:
            self.prepare(name)
        into = self.files.child(name)
        try:
            for fname, (size, _) in (written or {}).items():
                found = into.size(fname)
                if found != size:
                    raise CheckpointError(f"Cannot write {name}: {fname} " + (
                        f"has {found} bytes in '{folder}', its writer wrote {size}" if found is not None else
                        f"is missing in '{folder}' (its writer wrote {size} bytes: is the folder shared by every "
                        f"machine of the job?)"))
            for fname, data in files.items():
                into.write(fname, data)
            fname = MANIFEST
            into.commit(MANIFEST, seal_manifest(manifest, files, written))
        except OSError as e:
            raise storage_error(e, f"{name} ({fname})", self.root) from None
        return folder

    def note_history(self, **facts) -> None:
        """Record that this job completed a checkpoint or savepoint (its sinks hold committed output)."""
        try:
            history = self.history() or {}
            history.update(facts)
            self.files.commit(HISTORY, json.dumps(history).encode())
        except OSError as e:
            raise storage_error(e, HISTORY, self.root) from None

    def history(self) -> dict | None:
        """What `note_history` recorded, or None for a job that never completed a checkpoint here."""
        try:
            return json.loads(self.files.read(HISTORY))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # damaged, but it exists: the job ran here

    def other_jobs_with_output(self, directory: str) -> list[str]:
        """The other jobs whose folders in the checkpoint `directory` (this job's folder's parent) say they
        completed a checkpoint (`note_history`): their sinks hold committed output."""
        mine = self.root.rstrip("/").rsplit("/", 1)[-1]
        try:
            here = Files(directory)
            return sorted(name for name in here.names() if name != mine and here.exists(join(name, HISTORY)))
        except (OSError, ValueError):  # a directory that cannot be listed: nothing to say about other jobs
            return []

    def newest_valid(self) -> tuple[str | None, dict, dict[str, bytes], list[tuple[str, str]]]:
        """(location, manifest, files) of the newest checkpoint that reads back intact, and the newer ones
        skipped with the reason; (None, {}, {}, skipped) when none is intact."""
        skipped = []
        for location in reversed(self.completed()):
            try:
                manifest, files = read_checkpoint(location)
            except CheckpointError as e:
                skipped.append((location, str(e)))
                continue
            return location, manifest, files, skipped
        return None, {}, {}, skipped

    def numbers(self) -> dict[int, bool]:
        """Every checkpoint folder's number, and whether it completed (holds a manifest)."""
        found = {}
        for d in self.files.names():
            m = re.fullmatch(r"chk-(\d+)", d)
            if m:
                found[int(m.group(1))] = self.files.size(f"{d}/{MANIFEST}") is not None
        return found

    def completed(self) -> list[str]:
        """Completed checkpoint folders, oldest first."""
        return [self.location(f"chk-{n}") for n, done in sorted(self.numbers().items()) if done]

    def latest(self) -> str | None:
        done = self.completed()
        return done[-1] if done else None

    def read(self, location: str) -> tuple[dict, dict[str, bytes]]:
        return read_checkpoint(location)

    def retain(self, keep: int) -> None:
        numbers = self.numbers()
        done = sorted(n for n, complete in numbers.items() if complete)
        newest = done[-1] if done else None
        dropped = set(done[:-keep]) if keep > 0 else set()
        for n, complete in numbers.items():  # completed ones beyond `keep`, torn ones older than the newest
            if n in dropped or not complete and newest is not None and n < newest:
                self.files.delete_folder(f"chk-{n}")


class PartRef:
    """A state part a subtask wrote into a checkpoint's folder, not read yet: the subtask restoring from it reads
    it itself (`subtask_state.load_part`), checked against the manifest's size and CRC32."""

    def __init__(self, folder: str, name: str, size: int, crc: int) -> None:
        self.folder, self.name, self.size, self.crc = folder, name, size, crc

    def __len__(self) -> int:
        return self.size

    def read(self) -> bytes:
        try:
            data = Files(self.folder).read(self.name)
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint '{self.folder}' cannot be restored: {self.name} is missing") from None
        except OSError as e:
            raise CheckpointError(f"checkpoint '{self.folder}' cannot be read: {e}") from None
        try:
            verify_file({"checksums": {self.name: [self.size, self.crc]}}, self.name, data)
        except CheckpointError as e:
            raise CheckpointError(f"checkpoint '{self.folder}' cannot be restored: {e}") from None
        return data


PART = re.compile(r".*\.subtask-\d+\.arrow")  # a subtask's part: read by the subtask restoring from it


def read_checkpoint(location: str) -> tuple[dict, dict[str, bytes]]:
    """(manifest, state files) of a completed checkpoint or savepoint folder, every checksum verified; subtasks'
    parts are PartRefs (checked to be there with their size) that the restoring subtasks read themselves.

    Raises CheckpointError naming the folder and what is wrong with it.
    """
    folder = Files(location)
    try:
        try:
            raw = folder.read(MANIFEST)
        except FileNotFoundError:
            raise CheckpointError(f"no {MANIFEST} (not a completed checkpoint)") from None
        manifest = open_manifest(raw, location)
        files: dict = {}
        for fname in manifest.get("state_files", []):
            if PART.fullmatch(fname):
                size, crc = manifest["checksums"].get(fname, (None, None))
                found = folder.size(fname)
                if found is None:
                    raise CheckpointError(f"{fname} is missing")
                if size is None or found != size:
                    verify_file(manifest, fname, b"\0" * found)  # says which: not covered, or another size
                files[fname] = PartRef(location, fname, size, crc)
                continue
            try:
                files[fname] = folder.read(fname)
            except FileNotFoundError:
                raise CheckpointError(f"{fname} is missing") from None
            verify_file(manifest, fname, files[fname])
    except CheckpointError as e:
        raise CheckpointError(f"checkpoint '{location}' cannot be restored: {e}") from None
    except OSError as e:
        raise CheckpointError(f"checkpoint '{location}' cannot be read: {e.strerror or e} "
                              f"({e.filename or location})") from None
    return manifest, files


def pack(snapshot: dict) -> tuple[dict, dict[str, bytes]]:
    """Split a Dataflow.snapshot() into a JSON manifest part and named state files."""
    files: dict[str, bytes] = {}
    ops: dict[str, dict[str, str]] = {}
    for uid, tables in snapshot["operators"].items():
        ops[uid] = {}
        for table, data in tables.items():
            fname = f"{uid}.{table}.arrow"
            files[fname] = data
            ops[uid][table] = fname
    for uid, tables in snapshot.get("written", {}).items():
        for table, (fname, _, _) in tables.items():
            ops.setdefault(uid, {})[table] = fname
    manifest = {k: v for k, v in snapshot.items() if k not in ("operators", "written")}
    manifest["operators"] = ops
    manifest["state_files"] = sorted([*files, *written_files(snapshot)])
    return manifest, files


def written_files(snapshot: dict) -> dict[str, list[int]]:
    """The files others wrote into the checkpoint's folder (subtasks' parts): name -> [size, crc32]."""
    return {fname: [size, crc] for tables in snapshot.get("written", {}).values()
            for fname, size, crc in tables.values()}


def pack_committables(committables: dict, files: dict[str, bytes]) -> dict:
    """Sink committables as JSON; Arrow tables in them (messages a sink stages, write-ahead) become IPC files."""
    def walk(value, path: str):
        if isinstance(value, pa.Table):
            fname = f"{path}.arrow"
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, value.schema) as w:
                w.write_table(value)
            files[fname] = sink.getvalue().to_pybytes()
            return {"$arrow": fname}
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(value)]
        return value
    return {uid: walk(c, f"{uid}.committable") for uid, c in committables.items()}


def unpack_committables(committables: dict, files: dict[str, bytes]) -> dict:
    def walk(value):
        if isinstance(value, dict):
            if set(value) == {"$arrow"}:
                return pa.ipc.open_stream(files[value["$arrow"]]).read_all()
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value
    return {uid: walk(c) for uid, c in (committables or {}).items()}


def unpack(manifest: dict, files: dict[str, bytes]) -> dict:
    snap = {k: v for k, v in manifest.items() if k not in ("operators", "state_files", "committables", "checksums")}
    snap["operators"] = {uid: {t: files[f] for t, f in tables.items()} for uid, tables in manifest["operators"].items()}
    return snap


HISTORY_SIZE = 10


@dataclass(frozen=True)
class CompletedCheckpoint:
    """One checkpoint or savepoint that completed: when it was triggered, how long it took, how large it is."""

    id: int
    kind: str
    location: str
    triggered: float  # epoch seconds
    duration_ms: int
    size_bytes: int


class CheckpointCoordinator:
    """Triggers periodic checkpoints of a job and commits its sinks once a checkpoint is durable."""

    def __init__(self, job, storage: CheckpointStorage, interval_ms: int, retained: int = 1,
                 first_id: int = 1, log=None):
        self.job, self.storage = job, storage
        self.interval = interval_ms / 1000.0
        self.retained = max(1, retained)
        self.next_id = first_id
        self.last = time.monotonic()
        self.log = log
        self.completed = 0
        self.history: list[CompletedCheckpoint] = []  # newest last, at most HISTORY_SIZE: what DESCRIBE JOB/REST show

    @property
    def latest(self) -> "CompletedCheckpoint | None":
        return self.history[-1] if self.history else None

    def maybe_checkpoint(self) -> None:
        if self.interval > 0 and time.monotonic() - self.last >= self.interval:
            self.checkpoint()

    def checkpoint(self, savepoint_dir: str | None = None) -> str:
        """Take a checkpoint (or a savepoint into `savepoint_dir`): snapshot, prepare sinks, write, commit.

        The job's metrics count it as completed or failed (a savepoint too, as Flink counts it).
        """
        metrics = getattr(self.job, "metrics", None)
        try:
            location = self._checkpoint(savepoint_dir)
        except BaseException as e:
            if metrics is not None:
                metrics.checkpoint_failed()
            LOG.error("%s %d failed: %s", "savepoint" if savepoint_dir else "checkpoint", self.next_id - 1, e,
                      extra={"file_only": True})  # the job's failure says it on the terminal
            raise
        done = self.history[-1]
        if metrics is not None:
            metrics.checkpoint_completed(done.duration_ms, done.size_bytes)
        LOG.info("%s %d completed in %d ms (%d bytes): %s", done.kind, done.id, done.duration_ms,
                 done.size_bytes, location)
        return location

    def _checkpoint(self, savepoint_dir: str | None) -> str:
        cid = self.next_id
        self.next_id += 1
        started, started_wall = time.monotonic(), time.time()
        if savepoint_dir:
            # savepoints of every job under a checkpoint dir share one folder: the job id keeps their names apart
            storage, name = CheckpointStorage(savepoint_dir), f"savepoint-{self.job.fingerprint[:8]}-{cid}"
        else:
            storage, name = self.storage, f"chk-{cid}"
        snap = self.job.snapshot(parts_dir=storage.prepare(name))
        committables = {uid: w.prepare_commit(cid) for uid, w in self.job.sink_writers().items()}
        manifest, files = pack(snap)
        stored = pack_committables(committables, files)
        written = written_files(snap)
        manifest["state_files"] = sorted([*files, *written])
        manifest.update({"checkpoint_id": cid, "job": self.job.fingerprint, "committables": stored,
                         "timestamp": time.time(), "kind": "savepoint" if savepoint_dir else "checkpoint"})
        location = storage.write(name, files, manifest, written)
        if savepoint_dir:
            self.storage.note_history(checkpoint=cid, savepoint=location)
        elif not self.completed:
            self.storage.note_history(checkpoint=cid)
        for uid, w in self.job.sink_writers().items():
            w.commit(committables.get(uid))
        if not savepoint_dir:
            self.storage.retain(self.retained)
        self.last = time.monotonic()
        self.completed += 1
        self.history.append(CompletedCheckpoint(cid, "savepoint" if savepoint_dir else "checkpoint", location,
                                                started_wall, round((self.last - started) * 1000),
                                                sum(len(data) for data in files.values()) +
                                                sum(size for size, _ in written.values())))
        del self.history[:-HISTORY_SIZE]
        return location
