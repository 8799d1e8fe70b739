"""One error hierarchy: every failure a user can cause is a SqlStreamError with a clear message."""
from __future__ import annotations


class SqlStreamError(Exception):
    """Base of all errors reported to users (never shown as a bare traceback); secret values never shown."""

    def __str__(self) -> str:
        from sqlstream.core.secrets import redact
        return redact(super().__str__())


class SqlError(SqlStreamError):
    """A statement that does not parse, naming the line, column and what was expected."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None,
                 expected: str | None = None, sql: str | None = None):
        self.line, self.col, self.expected, self.sql = line, col, expected, sql
        if sql:  # a secret option's value is not echoed (the offending token may be that value)
            from sqlstream.core.secrets import MASK, secret_values
            for value in sorted(secret_values(sql), key=len, reverse=True):
                if value:
                    message = message.replace(value, MASK)
        self.detail = message
        where = f"line {line}, column {col}: " if line is not None else ""
        super().__init__(f"SQL parse error at {where}{message}")

    def caret(self) -> str:
        """The offending source line with a caret under the column; secret option values masked."""
        if self.sql is None or self.line is None:
            return ""
        from sqlstream.core.secrets import mask_spans, secret_spans, shift_offset
        lines = self.sql.splitlines(keepends=True)
        if not 1 <= self.line <= len(lines):
            return ""
        start = sum(len(ln) for ln in lines[:self.line - 1])
        at = start + max(0, (self.col or 1) - 1)
        masked, shifts = mask_spans(self.sql, secret_spans(self.sql))
        line_start, at = shift_offset(start, shifts), shift_offset(at, shifts)
        line = masked[line_start:].splitlines()[0] if masked[line_start:] else ""
        return line + "\n" + " " * max(0, at - line_start) + "^"


class ValidationError(SqlStreamError):
    """A statement that parses but is invalid: unknown table/column, type mismatch, unsupported plan."""


class OptionError(SqlStreamError):
    """A bad WITH (...) option: unknown key (the valid ones are listed) or a bad value."""

    def __init__(self, message: str, valid: list[str] | None = None):
        self.valid = sorted(valid or [])
        if valid:
            message += "\nValid options are: " + ", ".join(self.valid)
        super().__init__(message)


class FormatError(SqlStreamError):
    """A record that cannot be decoded; names where it came from (file:line, topic/partition/offset)."""

    def __init__(self, message: str, location: str):
        self.location = location
        super().__init__(f"{message} (at {location})")


class ConnectorError(SqlStreamError):
    """A source or sink that cannot be opened or written (missing file, unreachable broker...)."""


class ExecutionError(SqlStreamError):
    """A failure while running a job (evaluation errors, overflow, ...)."""


class WorkerLostError(ExecutionError):
    """A process or cluster node running part of a job died (killed, lost with its machine): the job restarts
    from its last checkpoint, also when it happened while the job was starting."""


class CheckpointError(SqlStreamError):
    """A checkpoint folder that cannot be used: held by a running job, corrupt, or with nothing to restore."""


class StorageError(SqlStreamError):
    """A file or folder the job must write cannot be written (full disk, no permission, a file in the way)."""


def storage_error(e: OSError, writing: str, where: str) -> StorageError:
    """A StorageError saying what was being written, where, and why, from the OSError that stopped it."""
    import errno
    reasons = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
               errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
               errno.EROFS: "the file system is read-only",
               errno.ENOTDIR: "a file is in the way where a folder is needed",
               errno.EEXIST: "a file is in the way where a folder is needed",
               errno.EISDIR: "a folder is in the way where a file is needed"}
    reason = reasons.get(e.errno, e.strerror or str(e))
    path = f" ('{e.filename}')" if e.filename and str(e.filename) != where else ""
    return StorageError(f"Cannot write {writing} in '{where}': {reason}{path}")
