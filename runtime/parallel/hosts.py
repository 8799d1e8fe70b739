"""Where subtasks run: worker processes on this machine (a Ray actor host runs the same `SubtaskUnit`s).

A host has three calls: `start(unit)` -> (channel, handle), `stop(handle)`, `describe_end(handle)` (and may have
`release(handle)`: let a subtask that ended after STOP exit without waiting for it). Local workers
are forked from a fork server: a clean single-threaded process started once per job process with the runtime
imported (not the user's main module), so a worker costs a fork and inherits neither the job's threads nor locks
another thread of the job held at the fork (forking the job's process itself could copy an allocator's lock held
by a channel's reader thread, and the worker then hung or crashed). The unit reaches the worker pickled, as it
reaches a remote host.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
from contextlib import contextmanager

from sqlstream.runtime.parallel.channel import PipeChannel
from sqlstream.runtime.parallel.subtask import SubtaskUnit, worker_main


# numpy.ma and pyarrow.acero (its group_by): pyarrow imports them on first use, in every worker if not here
PRELOAD = ["sqlstream.runtime.parallel.subtask", "numpy.ma", "pyarrow.acero"]
# what a subtask reading a divided source or writing a sink runs besides its operators
RUNTIME = ["sqlstream.runtime.executor", "sqlstream.runtime.parallel.source_share", "sqlstream.runtime.parallel.peers",
           "sqlstream.runtime.parallel.subtask_sink"]

# the built-in sources subtasks divide, cheap to import (~60 ms): preloaded even when the fork server starts
# before the session's tables are defined
SOURCES = ["sqlstream.connectors.nexmark", "sqlstream.connectors.datagen", "sqlstream.connectors.filesystem",
           "sqlstream.connectors.formats.json", "sqlstream.connectors.formats.csv"]


def _context(unit: SubtaskUnit):
    """The fork server's context; the server, started with a process's first job, imports what that job's
    subtasks run (the operators' and source's modules) once, so no worker pays for importing them."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD + unit.modules())
    return ctx


def warm_up(modules: list[str] = ()) -> None:
    """Start the fork server now, before the job that needs it is planned (`sqlstream run --parallelism N`:
    before the session is made; else at the first CREATE statement or the planning), so its start (a
    fresh interpreter importing the runtime: ~0.5 s of CPU) overlaps them instead of delaying the first
    subtask. It preloads every operator's module (which operators a region runs is not known yet) and
    `modules`; a worker imports what is missing. Once running, the server serves every later job."""
    from sqlstream.runtime.operators.registry import OPERATORS
    ops = [f"sqlstream.runtime.operators.{where.split(':')[0]}" for where in OPERATORS.values()]
    preload = list(dict.fromkeys(PRELOAD + ops + RUNTIME + SOURCES + list(modules)))
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(preload)
    from multiprocessing import forkserver
    if not _fork_server_from_here(preload):
        forkserver.ensure_running()


def _fork_server_from_here(preload: list[str]) -> bool:
    """Start the fork server as a fork of this process while it has one thread (Linux), instead of a fresh
    interpreter: it inherits the modules imported so far (Python, numpy, pyarrow, the runtime), so it serves its
    first worker within milliseconds and imports only what is missing, beside this process, where a fresh
    interpreter took ~0.3 s of CPU (and the job's first worker waited for it). It keeps none of this process's
    descriptors but the standard ones, and runs multiprocessing's own server loop. False where another thread
    runs (a lock one of them held would be copied held) or the server already runs."""
    import threading
    from multiprocessing import connection, forkserver, resource_tracker
    server = getattr(forkserver, "_forkserver", None)
    if (not sys.platform.startswith("linux") or threading.active_count() > 1 or not _known_server(forkserver)
            or server._forkserver_pid is not None):
        return False
    import signal
    import socket
    with server._lock:
        resource_tracker.ensure_running()
        listener = socket.socket(socket.AF_UNIX)
        address = connection.arbitrary_address("AF_UNIX")
        listener.bind(address)
        os.chmod(address, 0o600)
        listener.listen()
        alive_r, alive_w = os.pipe()  # every client holds the write end: the server ends when all are gone
        for stream in (sys.stdout, sys.stderr):  # else a worker leaving flushes a copy of what was buffered here
            if stream is not None:
                stream.flush()
        pid = os.fork()
        if pid == 0:  # the server
            code = 0
            try:
                fd = listener.detach()
                low = 3
                for keep in sorted((fd, alive_r)):
                    os.closerange(low, keep)
                    low = keep + 1
                os.closerange(low, 1 << 16)
                for sig in signal.valid_signals():  # the job's own handlers are not the server's nor its workers'
                    if callable(signal.getsignal(sig)):
                        signal.signal(sig, signal.SIG_DFL)
                forkserver.main(fd, alive_r, preload)
            except SystemExit:
                pass
            except BaseException:  # noqa: BLE001 -- a server that cannot serve ends; the clients see it gone
                code = 1
            finally:
                os._exit(code)
        os.close(alive_r)
        listener.close()
        server._forkserver_address = address
        server._forkserver_alive_fd = alive_w
        server._forkserver_pid = pid
    return True



def _known_server(forkserver) -> bool:
    """Whether multiprocessing's fork server has the private parts `_fork_server_from_here` sets and calls (as in
    CPython 3.10-3.14); another version starts its server the documented way."""
    import inspect
    server = getattr(forkserver, "_forkserver", None)
    if not all(hasattr(server, a) for a in ("_lock", "_forkserver_address", "_forkserver_alive_fd",
                                            "_forkserver_pid")):
        return False
    params = list(inspect.signature(forkserver.main).parameters.values())
    return [p.name for p in params[:3]] == ["listener_fd", "alive_r", "preload"] and all(
        p.default is not inspect.Parameter.empty or p.kind is p.VAR_KEYWORD for p in params[3:])

@contextmanager
def _main_module_without_file():
    """A worker imports the job's main module again from its file (multiprocessing's rule, so that functions
    defined there unpickle); a program read from stdin ('<stdin>') has no file, and the worker failed on it.
    Such a worker starts without the main module, as under `python -c`."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or os.path.isfile(path):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


class LocalProcessHost:
    """Each subtask in a worker process of its own, connected by a duplex pipe."""

    def start(self, unit: SubtaskUnit, peer_conns: dict | None = None):
        ctx = _context(unit)
        ours, theirs = ctx.Pipe(duplex=True)
        process = ctx.Process(target=worker_main, args=(unit, theirs, peer_conns), daemon=True,
                              name=f"sqlstream-subtask-{unit.index}")
        with _main_module_without_file():
            process.start()
        theirs.close()  # the worker's end lives only in the worker: its death is an EOF here
        return PipeChannel(ours), process

    def start_connected(self, units: list[SubtaskUnit]) -> list:
        """Start a region's subtasks with a duplex pipe between every two of them (the exchange between
        subtasks, `peers.py`), each pipe's ends held only by its two workers."""
        ctx = _context(units[0])
        ends: list[dict] = [{} for _ in units]
        for i in range(len(units)):
            for j in range(i + 1, len(units)):
                ends[i][j], ends[j][i] = ctx.Pipe(duplex=True)
        started = [self.start(unit, ends[i]) for i, unit in enumerate(units)]
        for mine in ends:
            for conn in mine.values():
                conn.close()
        return started

    def stop(self, process) -> None:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()

    def release(self, process) -> None:
        """A worker that closed its channel after STOP ends on its own: joined by a thread of its own, so the job
        does not wait for the process to exit."""
        import threading
        threading.Thread(target=self.stop, args=(process,), daemon=True, name="sqlstream-subtask-reaper").start()

    def describe_end(self, process) -> str:
        process.join(timeout=1)
        code = process.exitcode
        if code is None:
            return f"{process.pid} stopped answering"
        if code < 0:
            import signal
            try:
                return f"{process.pid} was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"{process.pid} was killed by signal {-code}"
        return f"{process.pid} exited with code {code}"
