"""Checkpoints and savepoints: a consistent cut of a job written as Arrow IPC state files plus a manifest.

Layout under the checkpoint directory (one folder per job fingerprint):

    <dir>/<job>/chk-<n>/<operator uid>.<table>.arrow   operator state (Arrow IPC stream)
    <dir>/<job>/chk-<n>/_manifest.json                 positions, watermarks, sink committables, state files

The manifest is written last, to a temporary name, fsynced and renamed: the rename is the commit point, so a
folder without `_manifest.json` is a torn checkpoint and is never restored. Sinks commit their pending output
only after that rename (two-phase commit), and a restore re-commits what the manifest lists (idempotently).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from typing import Protocol

import pyarrow as pa

MANIFEST = "_manifest.json"


class CheckpointStorage(Protocol):
    """Where checkpoints live; local folders today, object stores can implement the same calls."""

    def write(self, name: str, files: dict[str, bytes], manifest: dict) -> str: ...

    def latest(self) -> str | None: ...

    def read(self, location: str) -> tuple[dict, dict[str, bytes]]: ...

    def retain(self, keep: int) -> None: ...


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


class LocalCheckpointStorage:
    """Checkpoints as folders on a local (or mounted) filesystem."""

    def __init__(self, root: str):
        if root.startswith("file://"):
            root = root[len("file://"):]
        self.root = root
        os.makedirs(root, exist_ok=True)

    def write(self, name: str, files: dict[str, bytes], manifest: dict) -> str:
        folder = os.path.join(self.root, name)
        if os.path.exists(folder):
            shutil.rmtree(folder)  # a torn leftover of an earlier attempt with the same number
        os.makedirs(folder)
        for fname, data in files.items():
            with open(os.path.join(folder, fname), "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        tmp = os.path.join(folder, MANIFEST + ".tmp")
        with open(tmp, "w") as f:
            json.dump(manifest, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(folder, MANIFEST))
        _fsync_dir(folder)
        return folder

    def completed(self) -> list[str]:
        """Completed checkpoint folders, oldest first."""
        if not os.path.isdir(self.root):
            return []
        found = []
        for d in os.listdir(self.root):
            m = re.fullmatch(r"chk-(\d+)", d)
            if m and os.path.exists(os.path.join(self.root, d, MANIFEST)):
                found.append((int(m.group(1)), os.path.join(self.root, d)))
        return [p for _, p in sorted(found)]

    def latest(self) -> str | None:
        done = self.completed()
        return done[-1] if done else None

    def read(self, location: str) -> tuple[dict, dict[str, bytes]]:
        return read_checkpoint(location)

    def retain(self, keep: int) -> None:
        done = self.completed()
        for old in done[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
        for d in os.listdir(self.root):  # torn checkpoints older than the newest completed one
            m = re.fullmatch(r"chk-(\d+)", d)
            if m and not os.path.exists(os.path.join(self.root, d, MANIFEST)) and done and \
                    int(m.group(1)) < int(os.path.basename(done[-1])[4:]):
                shutil.rmtree(os.path.join(self.root, d), ignore_errors=True)


def read_checkpoint(location: str) -> tuple[dict, dict[str, bytes]]:
    """(manifest, state files) of a completed checkpoint or savepoint folder."""
    if location.startswith("file://"):
        location = location[len("file://"):]
    path = os.path.join(location, MANIFEST)
    if not os.path.exists(path):
        raise FileNotFoundError(f"'{location}' holds no completed checkpoint (no {MANIFEST})")
    with open(path) as f:
        manifest = json.load(f)
    files = {}
    for fname in manifest.get("state_files", []):
        with open(os.path.join(location, fname), "rb") as f:
            files[fname] = f.read()
    return manifest, files


def pack(snapshot: dict) -> tuple[dict, dict[str, bytes]]:
    """Split a Job.snapshot() into a JSON manifest part and named state files."""
    files: dict[str, bytes] = {}
    ops: dict[str, dict[str, str]] = {}
    for uid, tables in snapshot["operators"].items():
        ops[uid] = {}
        for table, data in tables.items():
            fname = f"{uid}.{table}.arrow"
            files[fname] = data
            ops[uid][table] = fname
    manifest = {k: v for k, v in snapshot.items() if k != "operators"}
    manifest["operators"] = ops
    manifest["state_files"] = sorted(files)
    return manifest, files


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
    snap = {k: v for k, v in manifest.items() if k not in ("operators", "state_files", "committables")}
    snap["operators"] = {uid: {t: files[f] for t, f in tables.items()} for uid, tables in manifest["operators"].items()}
    return snap


class CheckpointCoordinator:
    """Triggers periodic checkpoints of a job and commits its sinks once a checkpoint is durable."""

    def __init__(self, job, storage: LocalCheckpointStorage, interval_ms: int, retained: int = 1,
                 first_id: int = 1, log=None):
        self.job, self.storage = job, storage
        self.interval = interval_ms / 1000.0
        self.retained = max(1, retained)
        self.next_id = first_id
        self.last = time.monotonic()
        self.log = log
        self.completed = 0

    def maybe_checkpoint(self) -> None:
        if self.interval > 0 and time.monotonic() - self.last >= self.interval:
            self.checkpoint()

    def checkpoint(self, savepoint_dir: str | None = None) -> str:
        """Take a checkpoint (or a savepoint into `savepoint_dir`): snapshot, prepare sinks, write, commit."""
        cid = self.next_id
        self.next_id += 1
        snap = self.job.snapshot()
        committables = {uid: w.prepare_commit(cid) for uid, w in self.job.sink_writers().items()}
        manifest, files = pack(snap)
        stored = pack_committables(committables, files)
        manifest["state_files"] = sorted(files)
        manifest.update({"checkpoint_id": cid, "job": self.job.fingerprint, "committables": stored,
                         "timestamp": time.time(), "kind": "savepoint" if savepoint_dir else "checkpoint"})
        if savepoint_dir:
            location = LocalCheckpointStorage(savepoint_dir).write(f"savepoint-{cid}", files, manifest)
        else:
            location = self.storage.write(f"chk-{cid}", files, manifest)
        for uid, w in self.job.sink_writers().items():
            w.commit(committables.get(uid))
        if not savepoint_dir:
            self.storage.retain(self.retained)
        self.last = time.monotonic()
        self.completed += 1
        return location
