"""Part files of the filesystem sink: Flink's rolling policy for row formats, and committing part files.

A part file is written hidden (`.<name>.inprogress`) and becomes visible by a rename when a checkpoint that
lists it completes. As in Flink's row formats, an in-progress file stays open across checkpoints until the
rolling policy rolls it: a checkpoint records the file's length at that checkpoint, and a restore truncates the
file to that length and commits it, so a visible file holds exactly what completed checkpoints committed.
With auto-compaction every checkpoint rolls its files, and the rolled files of one checkpoint (per partition
folder) are merged into files of at least `compaction.file-size` once the checkpoint is complete.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

from sqlstream.connectors.options import Options, parse_duration_ms
from sqlstream.core.errors import OptionError

MIB = 1024 * 1024
UNITS = {"": 1, "b": 1, "bytes": 1, "k": 1024, "kb": 1024, "kibibytes": 1024, "m": MIB, "mb": MIB,
         "mebibytes": MIB, "g": 1024 * MIB, "gb": 1024 * MIB, "gibibytes": 1024 * MIB,
         "t": 1024 * 1024 * MIB, "tb": 1024 * 1024 * MIB, "tebibytes": 1024 * 1024 * MIB}
COMPACTED_PREFIX = "compacted-"


def parse_memory_size(table: str, key: str, text: str) -> int:
    """Flink's MemorySize: '128MB', '1 kb', '4096' (bytes); units are powers of 1024."""
    m = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in UNITS or int(m.group(1)) <= 0:
        raise OptionError(f"Table '{table}': option '{key}' must be a positive memory size such as '128MB', "
                          f"'512 kb' or '1048576' (bytes); got '{text}'")
    return int(m.group(1)) * UNITS[m.group(2).lower()]


def _duration(opts: Options, key: str, default: str) -> int:
    text = opts.get(key, default)
    try:
        ms = parse_duration_ms(text)
    except OptionError:
        ms = 0
    if ms <= 0:
        raise OptionError(f"Table '{opts.table}': option '{key}' must be a positive duration such as '30 min', "
                          f"'10 s' or '500 ms'; got '{text}'")
    return ms


@dataclass(frozen=True)
class RollingPolicy:
    """Flink's TableRollingPolicy: when an in-progress part file is closed and a new one started.

    Row formats roll on size (checked after each write and at each checkpoint) and on processing time (open
    longer than the rollover interval, or no write for the inactivity interval, checked every check interval
    and at each checkpoint); auto-compaction also rolls every file at every checkpoint.
    """

    file_size: int = 128 * MIB
    rollover_ms: int = 30 * 60_000
    inactivity_ms: int = 30 * 60_000
    check_ms: int = 60_000
    roll_on_checkpoint: bool = False
    compaction_size: int | None = None  # auto-compaction's target file size

    @classmethod
    def from_options(cls, opts: Options) -> RollingPolicy:
        size_text = opts.get("sink.rolling-policy.file-size", "128MB")
        size = parse_memory_size(opts.table, "sink.rolling-policy.file-size", size_text)
        compaction = opts.get_bool("auto-compaction", False)
        target = opts.get("compaction.file-size")
        return cls(file_size=size,
                   rollover_ms=_duration(opts, "sink.rolling-policy.rollover-interval", "30 min"),
                   inactivity_ms=_duration(opts, "sink.rolling-policy.inactivity-interval", "30 min"),
                   check_ms=_duration(opts, "sink.rolling-policy.check-interval", "1 min"),
                   roll_on_checkpoint=compaction,
                   compaction_size=(parse_memory_size(opts.table, "compaction.file-size", target)
                                    if target is not None else size) if compaction else None)

    def on_event(self, part: PartFile) -> bool:
        return part.size > self.file_size

    def on_checkpoint(self, part: PartFile) -> bool:
        return self.roll_on_checkpoint or part.size > self.file_size

    def on_processing_time(self, part: PartFile, now_ms: float) -> bool:
        return now_ms - part.created_ms >= self.rollover_ms or now_ms - part.written_ms >= self.inactivity_ms


@dataclass
class PartFile:
    """One part file being written: hidden until committed under `name` plus the committing checkpoint."""

    folder: str
    name: str
    handle: object
    created_ms: float
    written_ms: float
    size: int = 0

    @property
    def in_progress(self) -> str:
        return os.path.join(self.folder, f".{self.name}.inprogress")

    def final(self, checkpoint_id: int, prefix: str = "") -> str:
        suffix = f"-chk{checkpoint_id}" if checkpoint_id >= 0 else ""
        return os.path.join(self.folder, f"{prefix}{self.name}{suffix}")


def compaction_bins(sizes: list[int], target: int) -> list[list[int]]:
    """Flink's BinPacking for compaction: consecutive files fill a bin until it holds `target` bytes."""
    bins, current, weight = [], [], 0
    for i, size in enumerate(sizes):
        current.append(i)
        weight += size
        if weight >= target:
            bins.append(current)
            current, weight = [], 0
    if current:
        bins.append(current)
    return bins


def commit_file(sources: list[str], final: str) -> None:
    """Make `final` visible from its hidden sources: a rename, or a merge (compaction) of several.

    Idempotent, so a restore can repeat it: once `final` exists, leftover sources are only removed."""
    if not os.path.exists(final):
        if len(sources) == 1:
            if os.path.exists(sources[0]):
                os.replace(sources[0], final)
                return
            raise FileNotFoundError(sources[0])
        merged = os.path.join(os.path.dirname(final), f".{os.path.basename(final)}.compacting")
        with open(merged, "wb") as out:
            for src in sources:
                with open(src, "rb") as f:
                    while chunk := f.read(1 << 22):
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(merged, final)
    for src in sources:
        if os.path.exists(src):
            os.remove(src)


def recover_in_progress(path: str, length: int, final: str) -> None:
    """Commit an in-progress file a checkpoint recorded, cut to the length it had at that checkpoint.

    A restore that fell back past the checkpoint that committed the file finds it where `hide_rolled_back`
    put it. Once `final` exists there is nothing left to do."""
    if os.path.exists(final):
        return
    if not os.path.exists(path):
        stem = os.path.basename(path)[:-len(".inprogress")]
        hidden = sorted(glob.glob(os.path.join(glob.escape(os.path.dirname(path)),
                                               glob.escape(stem) + "-chk*.inprogress")))
        if not hidden:
            return  # already committed under a later name (a restore from an older savepoint)
        path = hidden[0]
    with open(path, "r+b") as f:
        f.truncate(length)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path, final)


def hide_rolled_back(path: str) -> None:
    """A committed part file of a checkpoint a restore fell back past: hidden again, so that the in-progress
    file it grew from can still be recovered to the restored checkpoint's length (then the rest is removed)."""
    folder, name = os.path.split(path)
    os.replace(path, os.path.join(folder, f".{name}.inprogress"))
