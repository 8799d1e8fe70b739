"""The job's memory settings (`runtime/memory.py`): numpy's arrays go without the huge-page advice, unless the
environment says otherwise (NUMPY_MADVISE_HUGEPAGE, as numpy reads it)."""
import os
import subprocess
import sys

import pytest

PROBE = ("from sqlstream.runtime.memory import tune_allocator\n"
         "try:\n    from numpy._core import multiarray\n"
         "except ImportError:\n    from numpy.core import multiarray\n"
         "tune_allocator()\nprint(multiarray._get_madvise_hugepage())")


@pytest.mark.parametrize("env, advised", [(None, "False"), ("1", "True")])
def test_numpy_arrays_go_without_huge_pages_unless_the_environment_asks(env, advised):
    environ = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if env is not None:
        environ["NUMPY_MADVISE_HUGEPAGE"] = env
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environ, check=True)
    assert out.stdout.strip() == advised
