"""Inputs that used to hang or end in a traceback are refused at once with a clear message: batch sizes
and other numeric settings out of range, a SQL 'file' without end, a SQL file that is not UTF-8."""
import subprocess
from pathlib import Path

import pytest

from sqlstream.config import Config
from sqlstream.core.errors import ValidationError
from tests import forked_cli

REPO = Path(__file__).resolve().parent.parent
QUERY = """CREATE TABLE t (a INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
SELECT a FROM t;
"""


def cli(*args, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return forked_cli.run(list(args), cwd=REPO, input=stdin, timeout=timeout)


@pytest.mark.parametrize("size", ["-1", "0", "x"])
def test_batch_size_flag_out_of_range(tmp_path, size):
    job = tmp_path / "job.sql"
    job.write_text(QUERY)
    r = cli("run", str(job), "--batch-size", size)
    err = r.stderr.decode()
    assert r.returncode == 2 and "--batch-size" in err and "from 1 to 2147483647" in err, err


@pytest.mark.parametrize("key,value,expected", [
    ("sqlstream.batch-size", "0", "must be from 1 to 2147483647, got 0"),
    ("sqlstream.batch-size", "-1", "must be from 1 to 2147483647, got -1"),
    ("execution.checkpointing.num-retained", "many", "must be an integer from 1 to 2147483647, got 'many'"),
    ("parallelism.default", "0", "must be from 1 to 32768"),
    ("table.exec.state.ttl", "-1 s", "Cannot parse duration '-1 s'"),
    ("execution.checkpointing.interval", "soon", "Cannot parse duration 'soon'"),
])
def test_numeric_settings_are_checked_when_set(tmp_path, key, value, expected):
    with pytest.raises(ValidationError) as e:
        Config().set(key, value)
    assert expected in str(e.value) and key in str(e.value)
    job = tmp_path / "job.sql"
    job.write_text(f"SET '{key}' = '{value}';\n" + QUERY)
    r = cli("run", str(job))
    assert r.returncode == 1 and expected in r.stderr.decode() and "Traceback" not in r.stderr.decode()


def test_valid_settings_still_accepted():
    c = Config()
    c.set("sqlstream.batch-size", "1")
    c.set("execution.checkpointing.interval", "10 s")
    assert c.get_int("sqlstream.batch-size", 7) == 1


def test_endless_sql_file_is_refused_without_reading_it_all():
    r = cli("run", "/dev/zero", timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 1 and "is larger than 64 MB" in err and "Traceback" not in err, err


def test_sql_file_not_utf8(tmp_path):
    job = tmp_path / "job.sql"
    job.write_bytes(b"SELECT 1;\nSELECT '\xff\xfe';\n")
    r = cli("run", str(job))
    err = r.stderr.decode()
    assert r.returncode == 1 and "is not UTF-8 text: byte 0xff at line 2, column 9" in err, err
    assert "Traceback" not in err and "internal error" not in err
    r = cli(stdin=b"SELECT '\xe9';\n")
    err = r.stderr.decode()
    assert r.returncode == 1 and "standard input is not UTF-8 text" in err, err
