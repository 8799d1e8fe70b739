"""The shell's history file: readable by its owner only, with the secrets statements set masked."""
from __future__ import annotations

import os

from prompt_toolkit.history import FileHistory

from sqlstream.core.secrets import mask_sql, secret_spans

MODE = 0o600


class PrivateHistory(FileHistory):
    """prompt_toolkit's file history, kept at mode 0600 (an existing file's mode is fixed too, and secrets an
    older version stored in it are masked), each statement stored with its secret option values masked."""

    def __init__(self, filename: str) -> None:
        fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, MODE)
        try:
            os.fchmod(fd, MODE)
        finally:
            os.close(fd)
        _mask_stored(filename)
        super().__init__(filename)

    def store_string(self, string: str) -> None:
        super().store_string(mask_sql(string))


def _mask_stored(filename: str) -> None:
    """Rewrite the file if an entry in it shows a secret (entries are runs of '+'-prefixed lines)."""
    with open(filename, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    out, entry, changed = [], [], False

    def flush() -> None:
        nonlocal changed
        if entry:
            text = "\n".join(ln[1:] for ln in entry)
            if secret_spans(text):
                changed = True
                out.extend("+" + ln for ln in mask_sql(text).split("\n"))
            else:
                out.extend(entry)
            entry.clear()
    for ln in lines:
        if ln.startswith("+"):
            entry.append(ln)
        else:
            flush()
            out.append(ln)
    flush()
    if changed:
        tmp = f"{filename}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(out))
        os.replace(tmp, filename)
