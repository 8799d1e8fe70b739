"""Where subtasks run: worker processes on this machine (a Ray actor host runs the same `SubtaskUnit`s).

A host has three calls: `start(unit)` -> (channel, handle), `stop(handle)`, `describe_end(handle)`. Local workers
are forked from a fork server: a clean single-threaded process started once per job process with the runtime
imported (not the user's main module), so a worker costs a fork and inherits neither the job's threads nor locks
another thread of the job held at the fork (forking the job's process itself could copy an allocator's lock held
by a channel's reader thread, and the worker then hung or crashed). The unit reaches the worker pickled, as it
reaches a remote host.
"""
from __future__ import annotations

import multiprocessing as mp

from sqlstream.runtime.parallel.channel import PipeChannel
from sqlstream.runtime.parallel.subtask import SubtaskUnit, worker_main


PRELOAD = ["sqlstream.runtime.parallel.subtask", "numpy.ma"]  # numpy.ma: pyarrow imports it on first use


def _context(unit: SubtaskUnit):
    """The fork server's context; the server, started with a process's first job, imports what that job's
    subtasks run (the operators' and source's modules) once, so no worker pays for importing them."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD + unit.modules())
    return ctx


class LocalProcessHost:
    """Each subtask in a worker process of its own, connected by a duplex pipe."""

    def start(self, unit: SubtaskUnit):
        ctx = _context(unit)
        ours, theirs = ctx.Pipe(duplex=True)
        process = ctx.Process(target=worker_main, args=(unit, theirs), daemon=True,
                              name=f"sqlstream-subtask-{unit.index}")
        process.start()
        theirs.close()  # the worker's end lives only in the worker: its death is an EOF here
        return PipeChannel(ours), process

    def stop(self, process) -> None:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()

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
