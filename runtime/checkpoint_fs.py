"""The files of checkpoints and savepoints, on a local path or behind a filesystem URI.

A location is a local path (or folder) or a URI: `file://`, `s3://`, `gs://`, `hdfs://`, `abfs://` through
pyarrow.fs, any other scheme through fsspec (when installed). The job's process and the parallel subtasks (worker
processes here, Ray actors on other machines) reach checkpoints the same way, so a subtask writes and reads its
own state parts where the job's process commits the manifest.

How a checkpoint commits: its manifest appears last. Where the filesystem renames atomically (a local path, a
`file://` URI, HDFS) the manifest is written under a temporary name and renamed; local files and their folder
are fsynced first. An object store has no rename (a "move" copies), but an object is written whole or not at all
and a listing shows it as soon as it is written (S3, GCS and Azure Blob are strongly consistent), so there the
manifest is written directly, last, under its own name: a folder without it is a torn checkpoint in both cases,
and the newest folder with a manifest is the latest checkpoint (no separate pointer to keep in step).
"""
from __future__ import annotations

import os

RENAMING = ("local", "hdfs")  # pyarrow filesystems whose rename is atomic
ARROW_SCHEMES = ("file", "local", "s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss")  # pyarrow opens these


def is_uri(location: str) -> bool:
    return "://" in location


def join(location: str, name: str) -> str:
    """The location of `name` inside folder `location` (a URI's options, `?endpoint_override=..`, stay last)."""
    if not is_uri(location):
        return os.path.join(location, name)
    base, sep, options = location.partition("?")
    return f"{base.rstrip('/')}/{name}{sep}{options}"


class Files:
    """A folder of files: read, write, list, delete; `commit` writes a file so that it appears whole or not."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.is_local = not is_uri(location)
        if self.is_local:
            self.path = os.path.abspath(location)
            self.renames = True
            return
        self.fs, self.path = _filesystem(location)
        wrapped = getattr(getattr(self.fs, "handler", None), "fs", None)  # an fsspec filesystem
        self.renames = self.fs.type_name in RENAMING or wrapped is not None and "file" in _protocols(wrapped)

    def child(self, name: str) -> "Files":
        return Files(join(self.location, name))

    def _p(self, name: str) -> str:
        return os.path.join(self.path, name) if self.is_local else f"{self.path.rstrip('/')}/{name}" if name else \
            self.path

    def read(self, name: str) -> bytes:
        """A file's bytes; FileNotFoundError when it is not there."""
        if self.is_local:
            with open(self._p(name), "rb") as f:
                return f.read()
        from pyarrow import fs
        if self.fs.get_file_info(self._p(name)).type != fs.FileType.File:
            raise FileNotFoundError(2, "No such file", join(self.location, name))
        with self.fs.open_input_stream(self._p(name)) as f:
            return f.read()

    def write(self, name: str, data: bytes) -> None:
        """Write a file (fsynced where it is local)."""
        if self.is_local:
            _write_synced(self._p(name), data)
            return
        with self.fs.open_output_stream(self._p(name)) as out:
            out.write(data)
        if self.fs.type_name == "local":
            _fsync(self._p(name))

    def commit(self, name: str, data: bytes) -> None:
        """Write a file that appears whole or not at all: a temporary file renamed, or one object written."""
        if not self.renames:
            self.write(name, data)
            return
        self.write(name + ".tmp", data)
        if self.is_local:
            os.replace(self._p(name + ".tmp"), self._p(name))
            _fsync(self.path)
        else:
            self.fs.move(self._p(name + ".tmp"), self._p(name))
            if self.fs.type_name == "local":
                _fsync(self.path)

    def size(self, name: str) -> int | None:
        """A file's size, None when it is not there."""
        if self.is_local:
            try:
                return os.path.getsize(self._p(name))
            except FileNotFoundError:
                return None
        from pyarrow import fs
        info = self.fs.get_file_info(self._p(name))
        return info.size if info.type == fs.FileType.File else None

    def exists(self, name: str = "") -> bool:
        if self.is_local:
            return os.path.exists(self._p(name))
        from pyarrow import fs
        return self.fs.get_file_info(self._p(name)).type != fs.FileType.NotFound

    def is_folder(self, name: str = "") -> bool:
        if self.is_local:
            return os.path.isdir(self._p(name))
        from pyarrow import fs
        return self.fs.get_file_info(self._p(name)).type == fs.FileType.Directory

    def names(self, name: str = "") -> list[str]:
        """The entries of the folder (or of its subfolder `name`); [] when it is not there."""
        if self.is_local:
            return os.listdir(self._p(name)) if os.path.isdir(self._p(name)) else []
        from pyarrow import fs
        try:
            infos = self.fs.get_file_info(fs.FileSelector(self._p(name), allow_not_found=True))
        except FileNotFoundError:
            return []
        return [info.base_name for info in infos]

    def make_folder(self, name: str = "") -> None:
        if self.is_local:
            os.makedirs(self._p(name), exist_ok=True)
        else:
            self.fs.create_dir(self._p(name), recursive=True)

    def delete_folder(self, name: str) -> None:
        """Remove a folder and what it holds (nothing when it is not there)."""
        if self.is_local:
            import shutil
            shutil.rmtree(self._p(name), ignore_errors=True)
            return
        try:
            self.fs.delete_dir(self._p(name))
        except (FileNotFoundError, OSError):
            pass


def _filesystem(uri: str):
    """(pyarrow FileSystem, path) of a URI: pyarrow's own filesystems, else fsspec's wrapped for pyarrow."""
    import pyarrow as pa
    from pyarrow import fs
    try:
        return fs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as e:
        if uri.split("://", 1)[0].lower() in ARROW_SCHEMES:
            raise ValueError(f"cannot open '{_without_secret(uri)}': {e}") from None
        try:
            import fsspec
        except ImportError:
            raise ValueError(f"cannot open '{_without_secret(uri)}': {e} (other schemes need fsspec: pip install fsspec)") from None
        try:
            filesystem, path = fsspec.core.url_to_fs(uri)
        except (ImportError, ValueError) as e2:
            raise ValueError(f"cannot open '{_without_secret(uri)}': {e2}") from None
        return fs.PyFileSystem(fs.FSSpecHandler(filesystem)), path


def _without_secret(uri: str) -> str:
    """The URI without the key in its user part (s3://KEY:SECRET@bucket/..)."""
    scheme, _, rest = uri.partition("://")
    user, at, host = rest.partition("@")
    return f"{scheme}://{user.split(':')[0]}:***@{host}" if at and ":" in user else uri


def _protocols(filesystem) -> tuple:
    protocol = getattr(filesystem, "protocol", ())
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _write_synced(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
