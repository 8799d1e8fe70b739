"""The interactive shell: statements through prompt-toolkit's pipe input, completion, and an end-to-end
session in a real terminal (tmux) covering the shell tour of the README."""
import io
import os
import re
import shutil
import subprocess
import uuid

import pytest

from sqlstream.completion import SqlCompleter
from sqlstream.session import Session, parse_script
from sqlstream.shell import Shell, statement_complete
from tests.cli_job import wait_until

ORDERS = ("CREATE TABLE orders (order_id BIGINT, user_id STRING, amount DOUBLE, ts TIMESTAMP(3), "
          "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'filesystem', "
          "'path' = 'sql_examples/data/orders.json', 'format' = 'json');")


def test_statement_complete():
    assert not statement_complete("SELECT 1")
    assert statement_complete("SELECT 1;")
    assert not statement_complete("SELECT ';'")
    assert not statement_complete("SELECT 1; -- done\nSELECT")
    assert statement_complete("SELECT 1 -- a comment; not the end\n;")
    assert statement_complete("quit")


def run_shell(text: str, tmp_path) -> str:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    out = io.StringIO()
    shell = Shell(out=out, history=str(tmp_path / "history"))
    with create_pipe_input() as pipe:
        pipe.send_text(text)
        shell.loop(input=pipe, output=DummyOutput())
    return out.getvalue()


def test_pipe_session_multiline_statements_and_results(tmp_path):
    out = run_shell(ORDERS.replace(", ts", ",\n ts") + "\r"
                    "SET 'sql-client.execution.result-mode' = 'tableau';\r"
                    "SELECT user_id, COUNT(*) AS n\rFROM orders GROUP BY user_id HAVING COUNT(*) > 30;\r"
                    "SHOW TABLES;\rQUIT;\r", tmp_path)
    assert "[INFO] Execute statement succeeded." in out
    assert "| +U |         u001 |          31 |" in out, "HAVING lets the first qualifying update through"
    assert "| orders " in out
    assert out.rstrip().endswith("Goodbye!")
    assert (tmp_path / "history").exists()


def test_errors_show_a_caret_and_the_session_goes_on(tmp_path):
    out = run_shell("SELECT a FROM t WHERE;\rSELECT nope FROM nowhere;\rSHOW VIEWS;\rQUIT;\r", tmp_path)
    assert "[ERROR] SQL parse error at line 1, column 17" in out
    assert "SELECT a FROM t WHERE;\n                ^" in out
    assert "Object 'nowhere' not found" in out
    assert "view name" in out


def test_changelog_mode_and_help(tmp_path):
    out = run_shell(ORDERS + "\rSET 'sql-client.execution.result-mode' = 'changelog';\r"
                    "SELECT user_id, COUNT(*) AS n FROM orders WHERE user_id = 'u010' GROUP BY user_id;\rHELP;\rQUIT;\r",
                    tmp_path)
    assert " +I | u010 | 1" in out and " -U | u010 | 1" in out and " +U | u010 | 2" in out
    assert "STOP JOB '<id>'" in out


def test_completion_knows_the_catalog():
    s = Session()
    for st in parse_script(ORDERS + "CREATE VIEW big AS SELECT order_id, amount FROM orders WHERE amount > 100;"):
        s.execute(st)
    c = SqlCompleter(s)
    assert ("amount", "column of orders") in c.candidates("SELECT amo", "amo")
    assert ("orders", "table") in c.candidates("SELECT * FROM ord", "ord")
    assert ("big", "view") in c.candidates("SELECT * FROM b", "b")
    assert ("o.user_id", "column") in c.candidates("SELECT * FROM orders o WHERE o.us", "o.us")
    assert ("DATE_FORMAT", "function") in c.candidates("SELECT DATE_F", "DATE_F")
    options = [k for k, _ in c.candidates("CREATE TABLE x (a INT) WITH ('connector' = 'kafka', 'scan.st", "'scan.st")]
    assert "'scan.startup.mode'" in options and "'scan.startup.timestamp-millis'" in options
    assert [k for k, _ in c.candidates("CREATE TABLE x (a INT) WITH ('conn", "'conn")] == ["'connector'"]


# ---- end to end in a terminal ---------------------------------------------------------------------------
needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    def __init__(self, tmp_path):
        self.sock = str(tmp_path / "tmux.sock")
        self.name = "s" + uuid.uuid4().hex[:6]
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        subprocess.run(["tmux", "-S", self.sock, "new-session", "-d", "-s", self.name, "-x", "160", "-y", "50",
                        f"cd {repo} && sqlstream --history {tmp_path}/hist; sleep 3600"], check=True)

    def keys(self, *keys: str, literal: bool = False) -> None:
        args = ["tmux", "-S", self.sock, "send-keys", "-t", self.name] + (["-l"] if literal else []) + list(keys)
        subprocess.run(args, check=True)

    def type(self, text: str) -> None:
        self.keys(text.replace(";", "\\;"), literal=True)
        self.keys("Enter")

    def screen(self, history: bool = False) -> str:
        """The visible screen, or with `history` everything the pane has shown."""
        return subprocess.run(["tmux", "-S", self.sock, "capture-pane", "-t", self.name, "-p"] +
                              (["-S", "-"] if history else []), capture_output=True, text=True).stdout

    def wait_until(self, condition, what: str, history: bool = False) -> str:
        """The first screen for which `condition` holds."""
        seen = []
        wait_until(lambda: condition(seen.append(self.screen(history)) or seen[-1]), what,
                   describe=lambda: f"; screen:\n{seen[-1]}")
        return seen[-1]

    def wait_for(self, text: str) -> str:
        return self.wait_until(lambda screen: text in screen, f"{text!r} on the screen")

    def prompts(self) -> int:
        """How many prompts the shell has shown so far."""
        return sum(line.startswith("Flink SQL>") for line in self.screen(history=True).splitlines())

    def wait_for_prompt(self, after: int) -> str:
        """Wait until the shell waits for input at a prompt newer than the first `after` ones. Keys typed
        while a statement still runs would be echoed by the terminal into the shell's drawing."""
        def waiting(screen: str) -> bool:
            lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
            return lines[-1] == "Flink SQL>" and sum(line.startswith("Flink SQL>") for line in lines) > after
        return self.wait_until(waiting, "a new prompt", history=True)

    def statement(self, text: str) -> str:
        """Type the (last line of a) statement at the waiting prompt; the screen once the shell waits again."""
        before = self.prompts()
        self.type(text)
        return self.wait_for_prompt(before)

    def shell_cpu_seconds(self) -> float:
        """CPU time used so far by the sqlstream process in the pane (unlike wall-clock time, the same on a
        busy machine)."""
        pane = subprocess.run(["tmux", "-S", self.sock, "display", "-p", "-t", self.name, "#{pane_pid}"],
                              capture_output=True, text=True, check=True).stdout.strip()
        child = open(f"/proc/{pane}/task/{pane}/children").read().split()[0]
        fields = open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True)


def table_rows(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if line.startswith("| ")]


@needs_tmux
def test_end_to_end_in_a_terminal(tmp_path):
    term = Terminal(tmp_path)
    try:
        term.wait_for("Flink SQL>")
        startup = term.shell_cpu_seconds()
        assert startup < 3, f"the prompt took {startup:.2f} s of CPU"
        # a multi-line CREATE TABLE
        term.type("CREATE TABLE gen (")
        term.type("  id BIGINT, v INT, reading DOUBLE,")
        term.type("  ts AS LOCALTIMESTAMP, WATERMARK FOR ts AS ts")
        term.statement(") WITH ('connector' = 'datagen', 'rows-per-second' = '200', 'fields.v.min' = '1', "
                       "'fields.v.max' = '3');")
        term.wait_for("[INFO] Execute statement succeeded.")
        # completion of a column name from the catalog
        term.keys("SELECT rea", literal=True)
        term.keys("Tab")
        term.wait_for("Flink SQL> SELECT reading")
        term.keys("C-u")
        # a windowed SELECT over datagen in table mode, updated in place, then cancelled with Ctrl-C
        before = term.prompts()
        term.type("SELECT window_start, v, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE gen, DESCRIPTOR(ts), "
                  "INTERVAL '1' SECOND)) GROUP BY window_start, window_end, v;")
        first = table_rows(term.wait_for("rows in result"))
        term.wait_until(lambda screen: "Ctrl-C to stop" in screen and table_rows(screen) != first,
                        "the table view updates its rows")
        term.keys("C-c")
        term.wait_for("Query cancelled")
        term.wait_for_prompt(before)
        # a background INSERT, listed by SHOW JOBS and stopped by STOP JOB
        term.statement("CREATE TABLE sink (v INT, c BIGINT) WITH ('connector' = 'blackhole');")
        screen = term.statement("INSERT INTO sink SELECT v, COUNT(*) FROM gen GROUP BY v;")
        job = screen.split("Job ID: ")[-1].split()[0]
        assert f"| {job} | insert-into_sink | RUNNING" in term.statement("SHOW JOBS;")
        assert f"Job '{job}' stopped" in term.statement(f"STOP JOB '{job}';")
        assert f"| {job} | insert-into_sink | CANCELED" in term.statement("SHOW JOBS;")
        # a syntax error with its caret
        screen = term.statement("SELECT v FROM gen WHERE;")
        assert "[ERROR] SQL parse error at line 1, column 19" in screen
        assert "SELECT v FROM gen WHERE;\n                  ^" in screen
        term.type("QUIT;")
        term.wait_for("Goodbye!")
    finally:
        term.close()


def test_describe_masks_secrets(tmp_path):
    out = run_shell("CREATE TABLE k (a INT) WITH ('connector' = 'kafka', 'topic' = 't', "
                    "'properties.bootstrap.servers' = 'b:9092', 'properties.sasl.jaas.config' = 'user=x password=y', "
                    "'properties.ssl.key.password' = 'hunter2', 'format' = 'json');\rDESCRIBE k;\rQUIT;\r", tmp_path)
    assert "'properties.sasl.jaas.config' = '******'" in out
    assert "'properties.ssl.key.password' = '******'" in out
    assert "'topic' = 't'" in out
    assert "hunter2" not in out and "password=y" not in out


def started(shell: Shell, job_id: str) -> None:
    """Wait until a background job has read rows (it is running, not just submitted)."""
    info = shell.jobs.jobs[job_id]
    wait_until(lambda: info.job.counters.rows_in > 0,
               f"job {job_id} to read rows")


GEN_JOB = ("CREATE TABLE gen (v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '100');"
           "CREATE TABLE sink (v INT, c BIGINT) WITH ('connector' = 'blackhole');"
           "INSERT INTO sink SELECT v, COUNT(*) FROM gen GROUP BY v;")


def test_stop_job_with_savepoint_from_the_shell(tmp_path):
    from sqlstream.jobs import JobManager
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))
    shell.execute_text(f"SET 'execution.checkpointing.dir' = '{tmp_path}/ck';" + GEN_JOB)
    job_id = next(iter(shell.jobs.jobs))
    started(shell, job_id)
    assert isinstance(shell.jobs, JobManager)
    shell.execute_text(f"STOP JOB '{job_id}' WITH SAVEPOINT;")
    out = shell.out.getvalue()
    assert f"Job '{job_id}' stopped; savepoint written to {tmp_path}/ck/savepoints/savepoint-" in out
    assert shell.jobs.jobs[job_id].status == "CANCELED"


def test_stop_with_savepoint_of_a_job_that_cannot_take_one_is_an_error_and_it_keeps_running(tmp_path):
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))
    shell.execute_text(GEN_JOB)
    job_id = next(iter(shell.jobs.jobs))
    started(shell, job_id)
    shell.execute_text(f"STOP JOB '{job_id}' WITH SAVEPOINT;")
    assert "[ERROR] Savepoint directory is not configured, can't stop job with savepoint" in shell.out.getvalue()
    # configured only after the job started: the job itself has nowhere to write it
    shell.execute_text(f"SET 'execution.checkpointing.dir' = '{tmp_path}/ck';STOP JOB '{job_id}' WITH SAVEPOINT;")
    out = shell.out.getvalue()
    assert f"[ERROR] Job '{job_id}' was not stopped: Savepoint directory is not configured" in out
    assert "stopped; savepoint written" not in out and not (tmp_path / "ck").exists()
    assert shell.jobs.jobs[job_id].status == "RUNNING" and shell.jobs.jobs[job_id].thread.is_alive()
    shell.execute_text(f"STOP JOB '{job_id}';")
    assert f"[INFO] Job '{job_id}' stopped" in shell.out.getvalue()
    assert shell.jobs.jobs[job_id].status == "CANCELED"


def test_a_failed_background_job_says_why_at_once_in_show_jobs_and_describe_job(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"v": 1}\n{"v": oops}\n')
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))
    shell.execute_text(f"CREATE TABLE src (v INT) WITH ('connector' = 'filesystem', 'path' = '{bad}', "
                       f"'format' = 'json');CREATE TABLE sink (v INT) WITH ('connector' = 'blackhole');"
                       f"INSERT INTO sink SELECT v FROM src;")
    job_id = next(iter(shell.jobs.jobs))
    info = shell.jobs.jobs[job_id]
    wait_until(lambda: not info.thread.is_alive(), "the job to end")
    out = shell.out.getvalue()
    assert f"[ERROR] Job '{job_id}' (insert-into_sink) failed: Failed to deserialize JSON" in out
    shell.execute_text("SHOW JOBS;")
    row = [ln for ln in shell.out.getvalue().splitlines() if ln.startswith(f"| {job_id} ")][-1]
    assert "| FAILED |" in row and "Failed to deserialize JSON" in row and "error" in shell.out.getvalue()
    shell.execute_text(f"DESCRIBE JOB '{job_id}';")
    lines = shell.out.getvalue().splitlines()
    header = [ln for ln in lines if ln.startswith("| job id ")][-1]
    assert [c.strip() for c in header.strip("|").split("|")][:4] == ["job id", "job name", "status", "start time"]
    row = [ln for ln in lines if ln.startswith(f"| {job_id} ")][-1]
    assert f"(at {bad}:2)" in row, "DESCRIBE JOB shows the whole reason"
    details = "\n".join(lines[lines.index(row):])
    assert "Plan:\nSink(table=[sink], connector=[blackhole], fields=[v])" in details
    assert re.search(r"\| 000-\w+ +\| TableSourceScan\(table=\[src\]", details)
    assert "Last checkpoint: none (checkpointing is off" in details
    assert details.rstrip().endswith(f"Error:\n{info.error}") and f"(at {bad}:2)" in info.error
    shell.execute_text("DESCRIBE JOB 'nope';")
    assert "[ERROR] Job 'nope' not found" in shell.out.getvalue()


def test_quitting_says_which_running_jobs_it_stops(tmp_path):
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))
    shell.execute_text(GEN_JOB)
    job_id = next(iter(shell.jobs.jobs))
    started(shell, job_id)
    assert shell.execute_text("QUIT;") is False
    shell.quit()
    out = shell.out.getvalue()
    assert f"[INFO] Stopping job '{job_id}' (insert-into_sink): it does not checkpoint: to keep a job's progress, " \
           f"SET 'execution.checkpointing.dir' before starting it" in out and out.rstrip().endswith("Goodbye!")
    assert shell.jobs.jobs[job_id].status == "CANCELED" and not shell.jobs.jobs[job_id].thread.is_alive()


def test_describe_job_shows_operators_and_the_last_checkpoint_and_quit_says_how_progress_is_kept(tmp_path):
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))
    shell.execute_text(f"SET 'execution.checkpointing.dir' = '{tmp_path}/ck';"
                       f"SET 'execution.checkpointing.interval' = '100ms';" + GEN_JOB)
    job_id = next(iter(shell.jobs.jobs))
    started(shell, job_id)
    job = shell.jobs.jobs[job_id].job
    wait_until(lambda: job.coordinator is not None and job.coordinator.latest is not None,
               "a checkpoint")
    shell.execute_text(f"DESCRIBE JOB '{job_id}';")
    out = shell.out.getvalue()
    assert "GroupAggregate" in out.split("Operators:")[1] and "state bytes" in out
    header = next(ln for ln in out.split("Operators:")[1].splitlines() if ln.startswith("| id "))
    assert [c.strip() for c in header.strip("|").split("|")][2:7] == \
        ["parallelism", "rows in", "rows out", "rows in/s", "rows out/s"]
    assert re.search(r"Metrics: uptime \d+, numRestarts 0, numberOfCompletedCheckpoints \d+", out)
    assert re.search(r"Last checkpoint: \d+ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC, \d+ ms, \d+ bytes, "
                     rf"in {tmp_path}/ck/", out)
    shell.quit()
    assert f"[INFO] Stopping job '{job_id}' (insert-into_sink): running it again resumes from its last checkpoint " \
           f"in {tmp_path}/ck/" in shell.out.getvalue()


def test_help_and_quit_are_statements_like_any_other(tmp_path):
    out = run_shell("SHOW VIEWS; HELP; QUIT;\rSHOW TABLES;\r", tmp_path)
    assert "view name" in out and "STOP JOB '<id>'" in out
    assert "table name" not in out, "nothing runs after QUIT"


def test_completion_offers_every_function_including_window_functions():
    s = Session()
    c = SqlCompleter(s)
    for prefix, name in [("TUM", "TUMBLE"), ("HO", "HOP"), ("SESS", "SESSION"), ("CUMU", "CUMULATE"),
                         ("TUMBLE_S", "TUMBLE_START"), ("ROW_N", "ROW_NUMBER")]:
        assert (name, "function") in c.candidates(f"SELECT * FROM TABLE({prefix}", prefix), name
    listed = set(s.function_names())
    completed = {w for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for w, _ in c.candidates(f"SELECT {ch}", ch)}
    assert listed <= completed, f"not completed: {sorted(listed - completed)}"


def test_materialized_view_pages_and_applies_the_changelog():
    import pyarrow as pa
    from sqlstream.core.changelog import make_batch
    from sqlstream.shell import MaterializedView
    view = MaterializedView(["k", "n"], io.StringIO(), watermark=lambda: "2024-03-01 09:00:00.000")
    view.write(make_batch(0, [pa.array([f"k{i:02d}" for i in range(30)]), pa.array(list(range(30)))], ["k", "n"]))
    view.write(make_batch(pa.array([1, 2, 3], pa.int8()), [pa.array(["k00", "k00", "k01"]), pa.array([0, 100, 1])],
                          ["k", "n"]))
    lines, total = view.render(offset=10, height=5)
    assert total == 29, "-U/+U replaced k00, -D removed k01"
    assert lines[3:8] == [f"| k{i:02d} | {i:>2} |" for i in range(12, 17)]
    assert "29 rows in result (rows 11-15)" in lines[-2] and "watermark 2024-03-01 09:00:00.000" in lines[-2]


@needs_tmux
def test_a_job_failing_under_the_prompt_is_reported_and_quit_names_running_jobs(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"v": 1}\n{"v": oops}\n')
    term = Terminal(tmp_path)
    try:
        term.wait_for("Flink SQL>")
        term.statement(f"CREATE TABLE src (v INT) WITH ('connector' = 'filesystem', 'path' = '{bad}', "
                       f"'format' = 'json');")
        term.statement("CREATE TABLE sink (v INT) WITH ('connector' = 'blackhole');")
        term.statement("INSERT INTO sink SELECT v FROM src;")
        term.wait_until(lambda screen: "failed: Failed to deserialize JSON" in screen, "the failure", history=True)
        term.statement("CREATE TABLE gen (v INT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');")
        screen = term.statement("INSERT INTO sink SELECT v FROM gen;")
        job = screen.split("Job ID: ")[-1].split()[0]  # the second job's id
        term.type("QUIT;")
        term.wait_until(lambda screen: f"[INFO] Stopping job '{job}' (insert-into_sink)" in screen and
                        "Goodbye!" in screen, "the jobs QUIT stops, then goodbye", history=True)
    finally:
        term.close()


def test_every_table_renderer_keeps_its_borders_whole_with_wide_values():
    import pyarrow as pa
    from sqlstream.core.changelog import make_batch
    from sqlstream.output import MAX_WIDTH, ResultWriter
    from sqlstream.session import format_rows
    from sqlstream.shell import MaterializedView
    from sqlstream.core.types import FlinkType

    def whole(text: str) -> list[str]:
        table = [ln for ln in text.splitlines() if ln.startswith(("+", "|"))]
        assert len({len(ln) for ln in table}) == 1, "\n".join(table)
        return table

    out = io.StringIO()
    writer = ResultWriter(["k", "x"], [FlinkType("STRING"), FlinkType("DOUBLE")], "table", out)
    writer.write(make_batch(0, [pa.array(["a"]), pa.array([1.5])], ["k", "x"]))
    writer.write(make_batch(0, [pa.array(["a much longer key than the first"]), pa.array([265.6698529411765])],
                            ["k", "x"]))
    writer.write(make_batch(0, [pa.array(["z" * 100]), pa.array([-1.2345678901234567e-100])], ["k", "x"]))
    writer.close()
    text = out.getvalue()
    lines = [ln for ln in text.splitlines() if ln.startswith(("+", "|"))]
    assert sum(ln.startswith("| op |") for ln in lines) == 3, "a wider value starts a section with wider columns"
    header = ""
    for i, ln in enumerate(lines):  # each row as wide as its header, each border as a row beside it
        header = ln if ln.startswith("| op |") else header
        neighbours = [lines[j] for j in (i - 1, i + 1) if 0 <= j < len(lines) and lines[j].startswith("|")]
        assert len(ln) == len(header) if ln.startswith("|") else len(ln) in {len(n) for n in neighbours}, \
            "\n".join(lines)
    assert "a much longer key than the first" in text and "265.6698529411765" in text
    assert "z" * (MAX_WIDTH - 3) + "..." in text and "-1.2345678901234567E-100" in text

    view = MaterializedView(["k"], io.StringIO())
    view.write(make_batch(0, [pa.array(["short", "y" * 80])], ["k"]))
    whole("\n".join(view.render(0, 10)[0]))
    view.refresh(final=True)
    whole(view.out.getvalue())

    out = io.StringIO()
    format_rows(["job id", "error"], [["j1", "first line\nsecond line"]], out)
    assert "first line second line" in "\n".join(whole(out.getvalue()))


def test_a_statement_set_typed_over_several_prompts_runs_its_inserts_as_one_job(tmp_path):
    out_dir = tmp_path / "out"
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))
    shell.execute_text(f"CREATE TABLE sink (id INT) WITH ('connector' = 'filesystem', 'path' = '{out_dir}', "
                       f"'format' = 'csv');")
    shell.execute_text("END;")
    shell.execute_text("BEGIN STATEMENT SET;")
    shell.execute_text("SELECT 1;")
    shell.execute_text("INSERT INTO sink VALUES (1), (2);")
    shell.execute_text("INSERT INTO sink SELECT 3;")
    assert not shell.jobs.jobs, "nothing runs before END"
    shell.execute_text("END;")
    out = shell.out.getvalue()
    assert "No Statement Set to submit. 'END' statement should be used after 'BEGIN STATEMENT SET'." in out
    assert "Only 'INSERT/CREATE TABLE AS' statement is allowed in Statement Set" in out
    assert out.count("Job ID: ") == 1 and len(shell.jobs.jobs) == 1
