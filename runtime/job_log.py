"""A job's log records (a Kafka broker it waits for, librdkafka's messages) go to the job's error stream: the
terminal for `sqlstream run`, the job's own log for a background job of the shell. Connectors log on the
job's thread, so the thread tells which job a record belongs to.

With a log file (`sqlstream run --log-file`, or `job.log` in the job's checkpoint folder), every record of the
job from INFO up goes there too, with its time: the job's start and end, checkpoints, restores, restarts,
watermark stalls and errors. A record logged with extra=FILE_ONLY (what the terminal already shows in other
words, such as a failure) goes only to the file."""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import TextIO

from sqlstream.core.secrets import redact

LOGGER = "sqlstream"
FILE_ONLY = {"file_only": True}


class _JobStreamHandler(logging.Handler):
    def __init__(self, stream: TextIO, thread: int):
        super().__init__(logging.WARNING)
        self.stream, self.thread = stream, thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread and not getattr(record, "file_only", False)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(redact(f"{record.levelname}: {record.getMessage()}") + "\n")
            self.stream.flush()
        except Exception:  # a closed stream must not fail the job
            self.handleError(record)


class _JobFileHandler(logging.FileHandler):
    def __init__(self, path: str, thread: int):
        super().__init__(path, encoding="utf-8", delay=False)
        self.setLevel(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


@contextlib.contextmanager
def job_log(stream: TextIO, log_file: str | None = None):
    """While the block runs, warnings logged on this thread under `sqlstream` are written to `stream`, and
    every record from INFO up to `log_file` (appended), if given."""
    thread = threading.get_ident()
    handlers: list[logging.Handler] = [_JobStreamHandler(stream, thread)]
    if log_file is not None:
        try:
            handlers.append(_JobFileHandler(log_file, thread))
        except OSError as e:
            from sqlstream.core.errors import StorageError
            raise StorageError(f"cannot write the job's log file '{log_file}': {e.strerror}") from None
    logger = logging.getLogger(LOGGER)
    level = logger.level
    if log_file is not None and (level == logging.NOTSET or level > logging.INFO):
        logger.setLevel(logging.INFO)
    for h in handlers:
        logger.addHandler(h)
    try:
        yield
    finally:
        for h in handlers:
            logger.removeHandler(h)
            h.close()
        if log_file is not None and not any(isinstance(h, _JobFileHandler) for h in logger.handlers):
            logger.setLevel(level)
