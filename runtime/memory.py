"""The memory settings for a streaming job, in the job's process and in each parallel subtask's worker.

Batches allocate and free the same few megabytes over and over; glibc's defaults give large freed blocks back to
the kernel, so every batch pays page faults again (half the time of a stateless job; a worker of a nexmark TUMBLE
count took ~100k page faults and 0.2-0.3 s of system CPU over 5M events without them, 12k and 0.1 s with them).
Large blocks are kept in the heap instead, with up to 128 MB of free heap held for reuse.

numpy asks the kernel for transparent huge pages for every array of 4 MB or more; where the kernel then
compacts memory to find them (its default, `defrag` = madvise), a growing state paid for that on its first touch
of every 2 MB: nexmark q7 and a TUMBLE count over 10M generated events spent 10-25% more CPU with them.

Environment settings (MALLOC_MMAP_THRESHOLD_, .., NUMPY_MADVISE_HUGEPAGE) win; other C libraries are left alone."""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20
_done = False


def tune_allocator() -> bool:
    """Applies the settings once per process; True if glibc took them."""
    global _done
    if _done:
        return True
    _done = True
    _without_huge_pages()
    if any(k.startswith("MALLOC_") and k.endswith("_") for k in os.environ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on, without ldconfig's help
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _without_huge_pages() -> None:
    """numpy's arrays from now on without the huge-page advice (numpy 1.20+ has the switch)."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1
        from numpy.core import multiarray
    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is not None:
        switch(False)
