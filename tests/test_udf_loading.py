"""Python functions run with the job's rights, so sqlstream imports their code only where it was told to and only
when it is needed: CREATE FUNCTION imports nothing (a rejected or unused declaration runs no code), the module is
imported when a statement first calls the function, from 'python.files' (Flink's option) or the installed
packages, never implicitly from the current folder."""
import io
import json

import pytest

from sqlstream.core.errors import ValidationError
from sqlstream.script import ScriptRunner
from sqlstream.session import Session

MODULE = '''
import os
open(os.path.join(os.path.dirname(__file__), "imported-" + __name__), "a").write("x")
from sqlstream.core.udf import udf


@udf(result_type="INT")
def plus_one(x):
    return None if x is None else x + 1
'''


def write_module(folder, name: str, text: str = MODULE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(text)


def imported(folder, name: str) -> int:
    marker = folder / f"imported-{name}"
    return len(marker.read_text()) if marker.exists() else 0


def run(sql: str, session: Session | None = None) -> list[dict]:
    out = io.StringIO()
    ScriptRunner(session=session, out=out, err=io.StringIO(), fmt="jsonl").run(sql)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_create_function_imports_nothing_the_first_call_does(tmp_path):
    write_module(tmp_path / "lib", "udf_lazy")
    s = Session()
    run(f"SET 'python.files' = '{tmp_path}/lib/udf_lazy.py';"
        "CREATE FUNCTION plus_one AS 'udf_lazy.plus_one' LANGUAGE PYTHON;", s)
    assert imported(tmp_path / "lib", "udf_lazy") == 0
    rows = run("SELECT plus_one(41) AS v;", s)
    assert [r["v"] for r in rows] == [42]
    run("SELECT plus_one(1) AS v;", s)
    assert imported(tmp_path / "lib", "udf_lazy") == 1, "imported once, at first use"


def test_rejected_and_unused_declarations_run_no_code(tmp_path):
    write_module(tmp_path, "udf_rejected")
    s = Session()
    run(f"SET 'python.files' = '{tmp_path}';"
        "CREATE FUNCTION f AS 'udf_rejected.plus_one'; CREATE TABLE t (a INT) WITH ('connector' = 'datagen', "
        "'number-of-rows' = '3'); SELECT COUNT(*) AS n FROM t;", s)
    with pytest.raises(ValidationError, match="already exists"):
        run("CREATE FUNCTION f AS 'udf_rejected.plus_one';", s)
    with pytest.raises(ValidationError, match="needs AS 'module.function'"):
        run("CREATE FUNCTION g AS 'udf_rejected' LANGUAGE PYTHON;", s)
    run("CREATE FUNCTION h AS 'udf_rejected';", s)  # no LANGUAGE and no module path: a JVM class, as in Flink
    assert imported(tmp_path, "udf_rejected") == 0


def test_a_folder_in_python_files(tmp_path):
    write_module(tmp_path / "pkgs", "udf_folder")
    rows = run(f"SET 'python.files' = '{tmp_path}/pkgs/'; CREATE FUNCTION p AS 'udf_folder.plus_one';"
               "SELECT p(1) AS v;")
    assert [r["v"] for r in rows] == [2]


def test_a_missing_python_files_entry_is_named(tmp_path):
    with pytest.raises(ValidationError, match="'python.files' names '.*/nope.py', which does not exist"):
        run(f"SET 'python.files' = '{tmp_path}/nope.py'; CREATE FUNCTION p AS 'nope.plus_one'; SELECT p(1);")


def test_the_current_folder_is_not_imported_from(tmp_path, monkeypatch):
    write_module(tmp_path, "udf_in_cwd")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match="in the current folder, which Python functions are not imported "
                                              "from: SET 'python.files'"):
        run("CREATE FUNCTION p AS 'udf_in_cwd.plus_one'; SELECT p(1) AS v;")
    assert imported(tmp_path, "udf_in_cwd") == 0
    rows = run("SET 'python.files' = 'udf_in_cwd.py'; CREATE FUNCTION p AS 'udf_in_cwd.plus_one'; "
               "SELECT p(1) AS v;")
    assert [r["v"] for r in rows] == [2]


def test_an_unknown_module_says_where_it_was_looked_for():
    with pytest.raises(ValidationError, match="No module named 'no_such_udf_module' in 'python.files' or the "
                                              "installed packages"):
        run("CREATE FUNCTION p AS 'no_such_udf_module.f'; SELECT p(1);")


def test_a_module_failing_at_import_is_a_clear_error(tmp_path):
    write_module(tmp_path, "udf_broken", "raise RuntimeError('needs a licence server')\n")
    with pytest.raises(ValidationError, match="importing 'udf_broken' failed: RuntimeError: needs a licence "
                                              "server"):
        run(f"SET 'python.files' = '{tmp_path}'; CREATE FUNCTION p AS 'udf_broken.f'; SELECT p(1);")
    write_module(tmp_path, "udf_exits", "import sys\nsys.exit(3)\n")
    with pytest.raises(ValidationError, match="importing 'udf_exits' failed: SystemExit: 3"):
        run(f"SET 'python.files' = '{tmp_path}'; CREATE FUNCTION p AS 'udf_exits.f'; SELECT p(1);")


def test_installed_packages_are_importable_without_python_files(tmp_path, monkeypatch):
    write_module(tmp_path / "site-packages", "udf_installed")
    monkeypatch.syspath_prepend(str(tmp_path / "site-packages"))
    rows = run("CREATE FUNCTION p AS 'udf_installed.plus_one'; SELECT p(1) AS v;")
    assert [r["v"] for r in rows] == [2]


@pytest.mark.parametrize("parallelism", [2, 3])
def test_subtasks_import_the_functions_the_job_imported(tmp_path, parallelism):
    """A subtask's worker is forked from a process started before CREATE FUNCTION ran: it imports the function
    from where the job did, and each key's changes are those of parallelism 1."""
    write_module(tmp_path, "udf_parallel")
    job = (f"SET 'python.files' = '{tmp_path}/udf_parallel.py';"
           "CREATE TEMPORARY FUNCTION plus_one AS 'udf_parallel.plus_one' LANGUAGE PYTHON;"
           "CREATE TABLE t (i INT) WITH ('connector' = 'datagen', 'number-of-rows' = '20', "
           "'fields.i.kind' = 'sequence', 'fields.i.start' = '0', 'fields.i.end' = '19');"
           "SELECT k, plus_one(CAST(c AS INT)) AS c1 FROM (SELECT MOD(i, 2) AS k, COUNT(*) AS c FROM t "
           "GROUP BY MOD(i, 2));")

    def per_key(rows):
        return {k: [r for r in rows if r["k"] == k] for k in (0, 1)}
    single = run(job)
    assert per_key(run(f"SET 'parallelism.default' = '{parallelism}';" + job)) == per_key(single)
    assert [r["c1"] for r in single if r["op"] in ("+I", "+U")][-2:] == [11, 11]
