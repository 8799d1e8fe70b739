"""Subtasks as Ray actors: a host for the parallel runtime's subtask units that places them across a Ray cluster.

A host has three calls, as the local worker-process host: `start(unit)` -> (channel, handle), `stop(handle)` and
`describe_end(handle)`. Here each unit runs in a Ray actor pinned to a node (round-robin over the cluster's alive
nodes, `NodeAffinitySchedulingStrategy`), and the channel carries the same messages as the local pipe, every
message one actor call: Arrow batches travel as Ray objects (through the object store between nodes), and each
call returns the messages the subtask answered with. Ray is the cluster manager, scheduler and transport; nothing
here listens on a socket. Ray is imported only when a job runs on Ray.

The subtask loop (`serve(unit, channel)`) runs in a thread of the actor, reading a queue the actor's calls fill;
an actor runs its calls one at a time, in the order the job sent them, so the subtask sees its messages in order.
A node that dies takes its actors with it: the channel's `receive` then raises EOFError and `describe_end` says
which node was lost, so the job fails and restarts from its last checkpoint as with a killed worker process.
"""
from __future__ import annotations

import os
import queue
import signal
import threading
from collections import deque

BATCH, STOP, DONE, FAILED = "batch", "stop", "done", "failed"  # the subtask protocol's message kinds
_CLOSED = object()


TARGETS = ("local", "ray")  # 'execution.target': this process, or a Ray cluster


def host_of(config: dict):
    """The host a job's subtasks run on: a RayActorHost for 'execution.target' = 'ray' (joining 'ray.address',
    default: the RAY_ADDRESS environment variable or the local cluster), None for worker processes here."""
    target = str(config.get("execution.target") or "local").strip().lower()
    if target not in TARGETS:
        from sqlstream.core.errors import ValidationError
        raise ValidationError(f"Configuration 'execution.target' must be one of {', '.join(TARGETS)}, got "
                              f"'{config.get('execution.target')}'")
    if target == "local":
        return None
    try:
        _import_ray()
    except ImportError:
        from sqlstream.core.errors import ValidationError
        raise ValidationError("'execution.target' = 'ray' needs Ray: pip install 'sqlstream[ray]'") from None
    return RayActorHost(config.get("ray.address"))


def _import_ray():
    """Ray, imported so that the job keeps SIGTERM: Ray's core worker would otherwise install its C++ failure
    signal handler, which takes SIGTERM too and aborts the process (read from the environment at import)."""
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    import ray
    return ray


def connect(address: str | None) -> None:
    """Join the Ray cluster at `address` ('HOST:PORT', 'ray://HOST:PORT' or 'auto') unless already connected.

    In the main thread `ray.init` replaces the process's SIGTERM handler with one that exits at once; the job's
    own handler (stop with a savepoint, as at parallelism 1) is put back."""
    ray = _import_ray()
    if ray.is_initialized():
        return
    kept = _sigterm_handler()
    ray.init(address=address or "auto", log_to_driver=False, ignore_reinit_error=True)
    if kept is not None:
        signal.signal(signal.SIGTERM, kept)


def _sigterm_handler():
    """The SIGTERM handler in force, where this thread may set one (the main thread), else None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.getsignal(signal.SIGTERM)


class _QueueChannel:
    """The actor's side of a channel: the subtask loop reads `inbox` and writes its answers to `outbox`."""

    def __init__(self) -> None:
        self.inbox: queue.Queue = queue.Queue()
        self.outbox: queue.Queue = queue.Queue()

    def send_batch(self, tag, batch) -> None:
        self.outbox.put((BATCH, tag, batch))

    def send_marker(self, kind: str, *payload) -> None:
        self.outbox.put((kind, *payload))

    def receive(self) -> tuple:
        msg = self.inbox.get()
        if msg is _CLOSED:
            raise EOFError("the channel was closed")
        return msg

    def close(self) -> None:
        self.inbox.put(_CLOSED)


class SubtaskActor:
    """Runs one subtask unit; `call(message)` hands it one message and returns what it answered."""

    def __init__(self, unit, serve) -> None:
        self.channel = _QueueChannel()
        self.thread = threading.Thread(target=self._run, args=(unit, serve), daemon=True, name="sqlstream-subtask")
        self.thread.start()

    def _run(self, unit, serve) -> None:
        try:
            serve(unit, self.channel)
        finally:
            self.channel.outbox.put(_CLOSED)

    def call(self, message: tuple) -> list[tuple]:
        self.channel.inbox.put(message)
        if message[0] == STOP:
            return []
        answers = []
        while True:
            msg = self.channel.outbox.get()
            if msg is _CLOSED:
                return answers
            answers.append(msg)
            if msg[0] in (DONE, FAILED):
                return answers

    def node(self) -> str:
        import ray
        return ray.get_runtime_context().get_node_id()


class RayChannel:
    """The job's side: each message is one call of the subtask's actor; `receive` gives the answers in order."""

    def __init__(self, actor) -> None:
        self.actor = actor
        self.pending: queue.Queue = queue.Queue()  # the calls not yet read, in the order they were made
        self.answers: deque = deque()

    def send_batch(self, tag, batch) -> None:
        self.pending.put(self.actor.call.remote((BATCH, tag, batch)))

    def send_marker(self, kind: str, *payload) -> None:
        ref = self.actor.call.remote((kind, *payload))
        if kind != STOP:
            self.pending.put(ref)

    def receive(self) -> tuple:
        """The next answer; EOFError once the actor (or its node) is gone or the channel was closed."""
        import ray
        while not self.answers:
            ref = self.pending.get()
            if ref is _CLOSED:
                raise EOFError("the channel was closed")
            try:
                self.answers.extend(ray.get(ref))
            except ray.exceptions.RayError as e:
                raise EOFError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
        return self.answers.popleft()

    def close(self) -> None:
        self.pending.put(_CLOSED)


class RayActorHost:
    """Starts each subtask unit as a Ray actor, spreading them over the cluster's nodes round-robin.

    `serve` is the subtask loop (by default the parallel runtime's); `address` the cluster to join (None: the
    one this process is connected to, else 'auto')."""

    def __init__(self, address: str | None = None, serve=None) -> None:
        import ray
        connect(address)
        self.serve = serve
        self.nodes = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"])
        self.started = 0
        self.actor_class = ray.remote(num_cpus=0, max_restarts=0)(SubtaskActor)

    def start(self, unit):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        serve = self.serve
        if serve is None:
            from sqlstream.runtime.parallel.subtask import serve
        node = self.nodes[self.started % len(self.nodes)]
        self.started += 1
        actor = self.actor_class.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote(unit, serve)
        return RayChannel(actor), (actor, node)

    def stop(self, handle) -> None:
        import ray
        actor, _ = handle
        ray.kill(actor, no_restart=True)

    def describe_end(self, handle) -> str:
        import ray
        actor, node = handle
        alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        if node not in alive:
            return f"(a Ray actor) was lost with its Ray node {node[:12]}"
        try:
            ray.get(actor.node.remote(), timeout=5)
        except ray.exceptions.RayError as e:
            return f"(a Ray actor on node {node[:12]}) died: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        return f"(a Ray actor on node {node[:12]}) stopped answering"
