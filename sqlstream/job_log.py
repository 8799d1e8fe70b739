"""A job's log records (a Kafka broker it waits for, librdkafka's messages) go to the job's error stream: the
terminal for `sqlstream run`, the job's own log for a background job of the shell. Connectors log on the
job's thread, so the thread tells which job a record belongs to."""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import TextIO

from sqlstream.core.secrets import redact

LOGGER = "sqlstream"


class _JobStreamHandler(logging.Handler):
    def __init__(self, stream: TextIO, thread: int):
        super().__init__(logging.WARNING)
        self.stream, self.thread = stream, thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(redact(f"{record.levelname}: {record.getMessage()}") + "\n")
            self.stream.flush()
        except Exception:  # a closed stream must not fail the job
            self.handleError(record)


@contextlib.contextmanager
def job_log(stream: TextIO):
    """While the block runs, warnings logged on this thread under `sqlstream` are written to `stream`."""
    handler = _JobStreamHandler(stream, threading.get_ident())
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
