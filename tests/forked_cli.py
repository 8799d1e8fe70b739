"""`python -m sqlstream.cli ARGS` run to its end, as a process forked from a server that imported the engine once.

A fresh interpreter spends about half a CPU second importing pyarrow, numpy, sqlglot and sqlstream before a
command does anything; the suite runs hundreds of short commands. The server (one per test process, started on
first use) imports what `sqlstream.cli` imports at start-up, then forks one child per command: the command still
runs in a process of its own, with its own standard streams, working folder, environment, signals and exit code,
and only the import is shared. The server runs nothing between forks (none of its own threads), so each fork
copies an interpreter at rest.

Tests of the process itself (signals, kills, start-up imports, a terminal) keep starting real processes."""
from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(args: list[str], cwd: str | Path = REPO, env: dict[str, str] | None = None, input: str | bytes | None = None,
        text: bool = False, timeout: float | None = None) -> subprocess.CompletedProcess:
    """What `subprocess.run([sys.executable, "-m", "sqlstream.cli", *args], cwd=.., env=.., input=..,
    capture_output=True, text=.., timeout=..)` returns (its stdin is empty without `input`)."""
    with tempfile.TemporaryDirectory(prefix="sqlstream-forked-") as folder:
        stdin, stdout, stderr = (os.path.join(folder, n) for n in ("in", "out", "err"))
        data = input.encode() if isinstance(input, str) else (input or b"")
        Path(stdin).write_bytes(data)
        request = {"args": [str(a) for a in args], "cwd": str(cwd), "env": dict(os.environ if env is None else env),
                   "stdin": stdin, "stdout": stdout, "stderr": stderr}
        code = _server().call(request, timeout)
        out, err = Path(stdout).read_bytes(), Path(stderr).read_bytes()
    if code is None:
        raise subprocess.TimeoutExpired(["sqlstream", *args], timeout, out, err)
    if text:
        out, err = out.decode(), err.decode()
    return subprocess.CompletedProcess(["sqlstream", *args], code, out, err)


class _Server:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "from tests.forked_cli import serve; serve()"], cwd=REPO,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        # unbuffered: a buffered readline() of the pid line could take the exit code's line too, and select()
        # would then wait on a pipe already read

    def call(self, request: dict, timeout: float | None) -> int | None:
        """The command's exit code, None if it ran longer than `timeout` seconds (it is killed then)."""
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        pid = json.loads(self._line(None))["pid"]
        line = self._line(timeout)
        if line is None:
            os.kill(pid, 9)
            self._line(None)
            return None
        return json.loads(line)["code"]

    def _line(self, timeout: float | None) -> bytes | None:
        if timeout is not None and not select.select([self.proc.stdout], [], [], timeout)[0]:
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the forked-CLI server ended (exit code {self.proc.wait()})")
        return line

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


_servers: dict[int, _Server] = {}


def _server() -> _Server:
    """This process's server (a forked test process starts its own)."""
    server = _servers.get(os.getpid())
    if server is None or server.proc.poll() is not None:
        server = _servers[os.getpid()] = _Server()
        atexit.register(server.stop)
    return server


def serve() -> None:
    """The server's loop: a request per line on stdin; for each, the child's pid, then its exit code, on stdout."""
    requests, replies = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as sqlstream.cli.main sets before numpy is imported
    from sqlstream import cli
    cli._import_engine()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            _child(request)  # never returns
        replies.write(json.dumps({"pid": pid}).encode() + b"\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
        replies.flush()


def _child(request: dict) -> None:
    """Becomes `python -m sqlstream.cli ARGS` as started in the request's folder and environment, then exits the
    way that process would: through SystemExit, so that the interpreter flushes its streams and runs its exit
    handlers."""
    os.chdir(request["cwd"])
    zone = os.environ.get("TZ")
    os.environ.clear()
    os.environ.update(request["env"])
    if os.environ.get("TZ") != zone:
        time.tzset()
    # `-m` puts the working folder first on the path, then PYTHONPATH's entries
    sys.path[0] = os.getcwd()
    for entry in reversed([e for e in request["env"].get("PYTHONPATH", "").split(os.pathsep) if e]):
        if entry not in sys.path:
            sys.path.insert(1, entry)
    for fd, path, flags in ((0, request["stdin"], os.O_RDONLY), (1, request["stdout"], os.O_WRONLY | os.O_CREAT),
                            (2, request["stderr"], os.O_WRONLY | os.O_CREAT)):
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    # the streams as the interpreter opens them (the server's were opened the same way, on pipes)
    sys.stdin = open(0, "r", encoding=sys.__stdin__.encoding, errors=sys.__stdin__.errors, closefd=False)
    sys.stdout = open(1, "w", encoding=sys.__stdout__.encoding, errors=sys.__stdout__.errors, closefd=False)
    sys.stderr = open(2, "w", encoding=sys.__stderr__.encoding, errors=sys.__stderr__.errors, buffering=1,
                      closefd=False)
    from sqlstream import cli
    sys.argv = [cli.__file__, *request["args"]]
    sys.exit(cli.main())
