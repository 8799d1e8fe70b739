"""The REST API and web UI of the shell's jobs: Flink-shaped JSON, and the page in a real headless Chromium."""
import io
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sqlstream.shell import Shell
from tests.cli_job import wait_until
from tests.ports import free_port

ARTIFACTS = Path(os.environ.get("SQLSTREAM_TEST_ARTIFACTS", Path(__file__).parent.parent / "build" / "test-artifacts"))
RUNNING_JOB = ("CREATE TABLE gen (v INT, ts AS LOCALTIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) "
               "WITH ('connector' = 'datagen', 'rows-per-second' = '500', 'fields.v.min' = '1', 'fields.v.max' = '9');"
               "CREATE TABLE counts (v INT, c BIGINT) WITH ('connector' = 'blackhole');"
               "INSERT INTO counts SELECT v, COUNT(*) FROM TABLE(TUMBLE(TABLE gen, DESCRIPTOR(ts), "
               "INTERVAL '1' SECOND)) GROUP BY window_start, window_end, v;")


def failing_job(tmp_path: Path) -> str:
    bad = tmp_path / "bad.json"
    bad.write_text('{"v": 1}\n{"v": oops}\n')
    return (f"CREATE TABLE src (v INT) WITH ('connector' = 'filesystem', 'path' = '{bad}', 'format' = 'json');"
            f"CREATE TABLE sink (v INT) WITH ('connector' = 'blackhole');INSERT INTO sink SELECT v FROM src;")


@pytest.fixture
def shell_with_jobs(tmp_path):
    """A shell serving its web UI, with a failed job and a running, checkpointing window aggregation."""
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"), web=True)
    shell.execute_text(failing_job(tmp_path))
    failed = next(iter(shell.jobs.jobs.values()))
    wait_until(lambda: failed.status == "FAILED", "the bad job to fail")
    shell.execute_text(f"SET 'execution.checkpointing.dir' = '{tmp_path}/ck';"
                       f"SET 'execution.checkpointing.interval' = '200ms';" + RUNNING_JOB)
    running = list(shell.jobs.jobs.values())[-1]
    try:
        yield shell, failed, running
    finally:
        shell.quit()


def get(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def served_at(shell: Shell) -> str:
    found = re.findall(r"\[INFO\] Web UI and REST API: (http://127\.0\.0\.1:\d+/)", shell.out.getvalue())
    assert len(found) == 1, shell.out.getvalue()
    return found[0]


def test_the_rest_api_answers_as_flinks_does(shell_with_jobs):
    shell, failed, running = shell_with_jobs
    url = served_at(shell)
    assert get(url + "jobs") == {"jobs": [{"id": failed.id, "status": "FAILED"}, {"id": running.id, "status": "RUNNING"}]}
    overview = get(url + "jobs/overview")["jobs"]
    assert [j["jid"] for j in overview] == [running.id, failed.id] and overview[1]["state"] == "FAILED"

    coordinator = lambda: running.job.coordinator  # noqa: E731
    wait_until(lambda: coordinator() is not None and coordinator().latest is not None, "a checkpoint")
    detail = get(url + f"jobs/{running.id}")
    assert detail["jid"] == running.id and detail["state"] == "RUNNING" and detail["isStoppable"]
    names = [v["short_name"] for v in detail["vertices"]]
    assert names[0] == "Source: gen" and names[-1] == "Sink: counts" and "WindowAggregate" in names
    window = next(v for v in detail["vertices"] if v["short_name"] == "WindowAggregate")
    assert window["inputs"][0]["ship_strategy"] == "hash[v]" and window["inputs"][0]["changelog_mode"] == "I"
    assert {"watermark", "numLateRecordsDropped", "stateSizeBytes", "numRecordsIn", "numRecordsOut",
            "numRecordsInPerSecond", "busyTimeMsPerSecond", "backPressuredTimeMsPerSecond"} <= set(window["metrics"])
    assert [s["table"] for s in detail["vertices"][0]["splits"]] == ["gen"]
    assert {"rows-in", "uptime", "numRestarts", "numberOfCompletedCheckpoints"} <= set(detail["metrics"])
    assert [n["id"] for n in detail["plan"]["nodes"]] == [v["id"] for v in detail["vertices"]]

    vertex = get(url + f"jobs/{running.id}/vertices/{window['id']}")
    assert vertex["id"] == window["id"] and vertex["subtasks"][0]["subtask"] == 0
    watermarks = url + f"jobs/{running.id}/vertices/{window['id']}/watermarks"
    wait_until(lambda: int(get(watermarks)[0]["value"]) > 1_700_000_000_000, "the window's input watermark")
    assert [w["id"] for w in get(watermarks)] == ["0.currentInputWatermark"]
    pressure = get(url + f"jobs/{running.id}/vertices/{window['id']}/backpressure")
    assert pressure["status"] == "ok" and pressure["backpressure-level"] in ("ok", "low", "high")
    assert 0 <= pressure["subtasks"][0]["ratio"] <= 1
    checkpoints = get(url + f"jobs/{running.id}/checkpoints")
    latest = checkpoints["latest"]["completed"]
    assert checkpoints["counts"]["completed"] >= 1 and latest["state_size"] > 0
    assert latest["external_path"].startswith(str(Path(coordinator().storage.root)))
    assert get(url + f"jobs/{running.id}/exceptions")["root-exception"] is None

    exceptions = get(url + f"jobs/{failed.id}/exceptions")
    assert exceptions["root-exception"] == failed.error and "Failed to deserialize JSON" in failed.error
    assert exceptions["exceptionHistory"]["entries"][0]["stacktrace"] == failed.error
    assert get(url + f"jobs/{failed.id}")["error"] == failed.error
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(url + "jobs/nope")
    assert missing.value.code == 404 and json.loads(missing.value.read()) == {"errors": ["Job nope not found"]}


def test_rest_port_puts_the_web_ui_on_that_port(tmp_path):
    port = free_port()
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"))  # off unless 'rest.port' is set
    try:
        shell.execute_text(failing_job(tmp_path))
        assert "Web UI" not in shell.out.getvalue() and shell.web_server is None
        shell.execute_text(f"SET 'rest.port' = '{port}';INSERT INTO sink SELECT v FROM src;")
        assert served_at(shell) == f"http://127.0.0.1:{port}/"
        assert len(get(f"http://127.0.0.1:{port}/jobs")["jobs"]) == 2
        shell.execute_text("SET 'rest.port' = 'x';")
        assert "[ERROR] Configuration 'rest.port' must be an integer from 0 to 65535, got 'x'" in shell.out.getvalue()
    finally:
        shell.quit()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("the browser test needs Debian's chromium package (apt-get install chromium; .ci/run installs "
                    "it), which is not installed here")
    return found


def test_the_page_shows_the_graph_live_counts_and_a_failed_jobs_exception_in_chromium(shell_with_jobs):
    from playwright.sync_api import expect, sync_playwright
    executable = chromium()
    shell, failed, running = shell_with_jobs
    url = served_at(shell)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            # the running job is selected: its operator graph, drawn by dagre-d3, names its operators
            expect(page.locator("#job-id")).to_have_text(running.id, timeout=30_000)
            graph = page.locator("#graph g.node")
            expect(graph.filter(has_text="Source: gen")).to_have_count(1, timeout=30_000)
            expect(graph.filter(has_text="WindowAggregate")).to_have_count(1)
            expect(graph.filter(has_text="Sink: counts")).to_have_count(1)
            expect(page.locator("#graph g.edgeLabel").filter(has_text="hash[")).to_have_count(1)
            # the records counts refresh by themselves: the job's and the window aggregation's
            window = next(v["id"] for v in get(url + f"jobs/{running.id}")["vertices"]
                          if v["short_name"] == "WindowAggregate")
            for cell in (f"#jobs tr[data-jid='{running.id}'] td.rows-in",
                         f"#operators tr[data-vertex='{window}'] td.records-in"):
                first = int(page.locator(cell).inner_text() or 0)
                page.wait_for_function(f"() => Number(document.querySelector(\"{cell}\").textContent) > {first}",
                                       timeout=30_000)
            expect(graph.filter(has_text="WindowAggregate")).to_contain_text("/s")  # its rates
            expect(page.locator("#checkpoints")).to_contain_text("last duration", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "web-ui-running-job.png"), full_page=True)
            # the failed job shows its exception once clicked, also when the list is redrawn (every second) while
            # the button is down: a click whose press and release straddled a redraw was lost (a lost click failed
            # this test under load)
            row = page.locator(f"#jobs tr[data-jid='{failed.id}']").bounding_box()
            page.mouse.move(row["x"] + 20, row["y"] + row["height"] / 2)
            page.mouse.down()
            rows_in = f"#jobs tr[data-jid='{running.id}'] td.rows-in"
            first = page.locator(rows_in).inner_text()
            page.wait_for_function(f"() => document.querySelector(\"{rows_in}\").textContent !== {first!r}",
                                   timeout=30_000)  # the list was redrawn
            page.mouse.up()
            expect(page.locator("#exception-text")).to_contain_text("Failed to deserialize JSON", timeout=30_000)
            expect(page.locator("#job-state")).to_have_text("FAILED")
            page.screenshot(path=str(ARTIFACTS / "web-ui-failed-job.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()


@pytest.mark.parametrize("asked_by", ["--web", "rest.port"])
def test_sqlstream_run_web_serves_the_running_job(tmp_path, asked_by):
    import signal
    from tests.cli_job import CliJob
    job = tmp_path / "job.sql"
    port = None
    if asked_by == "rest.port":
        port = free_port()
    job.write_text((f"SET 'rest.port' = '{port}';\n" if port else "") + RUNNING_JOB.replace(";", ";\n"))
    run = CliJob(job, *(["--web"] if asked_by == "--web" else []))
    try:
        run.wait_for(lambda: "Web UI and REST API: http://127.0.0.1:" in run.err, "the web UI's address")
        url = re.search(r"Web UI and REST API: (http://\S+/)", run.err).group(1)
        assert port is None or url == f"http://127.0.0.1:{port}/"
        jobs = get(url + "jobs/overview")["jobs"]
        assert len(jobs) == 1 and jobs[0]["name"] == "job.sql" and jobs[0]["state"] == "RUNNING"
        first = jobs[0]["rows-in"]
        run.wait_for(lambda: get(url + "jobs/overview")["jobs"][0]["rows-in"] > first, "rows in to grow")
        detail = get(url + f"jobs/{jobs[0]['jid']}")
        assert [v["short_name"] for v in detail["vertices"]][::len(detail["vertices"]) - 1] == ["Source: gen",
                                                                                              "Sink: counts"]
        run.signal(signal.SIGTERM)
        assert run.finish()[0] == 0
    finally:
        if not run.exited():
            run.kill()


def test_the_late_rows_table_is_a_vertex_fed_by_the_operators_that_drop_late_rows(tmp_path):
    shell = Shell(out=io.StringIO(), history=str(tmp_path / "h"), web=True)
    try:
        shell.execute_text("SET 'table.exec.late-rows.sink' = 'late';"
                           "CREATE TABLE late (v INT, late_operator STRING) WITH ('connector' = 'blackhole');"
                           + RUNNING_JOB)
        info = next(iter(shell.jobs.jobs.values()))
        wait_until(lambda: info.job.counters.rows_in > 0,
                   "the job to read rows")
        vertices = get(served_at(shell) + f"jobs/{info.id}")["vertices"]
        window = next(v for v in vertices if v["short_name"] == "WindowAggregate")
        late = vertices[-1]
        assert late["short_name"] == "Late rows: late" and late["inputs"] == [
            {"id": window["id"], "ship_strategy": "late rows", "changelog_mode": "I"}]
    finally:
        shell.quit()
