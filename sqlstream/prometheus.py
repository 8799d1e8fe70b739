"""Serves the running jobs' metrics on /metrics in the Prometheus text format, named and labelled as Flink's
Prometheus reporter names them (imported only when 'metrics.reporter.prom.port' or --metrics-port is set).

Flink's names are the metric's scope joined by '_' (flink_jobmanager_job_uptime,
flink_taskmanager_job_task_operator_numRecordsIn, flink_taskmanager_job_task_busyTimeMsPerSecond) and its scope
variables are labels (job_id, job_name, task_id, task_name, subtask_index, operator_id, operator_name). Every
value is a gauge, as Flink reports its counters. Each operator runs as its own task (nothing is chained), so a
task's id and name are its operator's. Per source split, the FLIP-33 source metrics are also reported with a
`split` label under flink_taskmanager_job_task_operator_split_*.
"""
from __future__ import annotations

import re
import socket
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily

from sqlstream.config import parse_ports
from sqlstream.core.errors import ValidationError
from sqlstream.runtime.metrics import live_jobs

JOB = "flink_jobmanager_job_"
TASK = "flink_taskmanager_job_task_"
OPERATOR = "flink_taskmanager_job_task_operator_"
SPLIT = "flink_taskmanager_job_task_operator_split_"
_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

JOB_METRICS = {
    "uptime": "Time the job has been running (ms)",
    "numRestarts": "Restarts of the job since it was submitted",
    "numberOfCompletedCheckpoints": "Checkpoints (and savepoints) completed",
    "numberOfFailedCheckpoints": "Checkpoints (and savepoints) that failed",
    "lastCheckpointDuration": "Time the last completed checkpoint took (ms)",
    "lastCheckpointSize": "Size of the last completed checkpoint's state (bytes)",
    "lastCheckpointRestoreTimestamp": "When the job last restored a checkpoint (epoch ms; -1: never)",
}
TASK_METRICS = {
    "busyTimeMsPerSecond": "Time per second the task is busy processing (ms)",
    "backPressuredTimeMsPerSecond": "Time per second the task waits for downstream to take its output (ms)",
    "idleTimeMsPerSecond": "Time per second the task waits for input (ms)",
}
OPERATOR_METRICS = {
    "numRecordsIn": "Records the operator received",
    "numRecordsOut": "Records the operator emitted",
    "numRecordsInPerSecond": "Records received per second",
    "numRecordsOutPerSecond": "Records emitted per second",
    "currentInputWatermark": "The last watermark the operator received (ms; the minimum over its inputs)",
    "currentOutputWatermark": "The last watermark the operator emitted (ms)",
    "numLateRecordsDropped": "Records dropped because they arrived after their window or interval closed",
    "stateSizeBytes": "Bytes of state the operator holds (sqlstream: Flink has no per-operator gauge)",
    "stateSizeRows": "Rows of state the operator holds, where it can tell (sqlstream: Flink has no such gauge)",
}
SOURCE_METRICS = {
    "currentEmitEventTimeLag": "Time from the last emitted record's event time to its emission (ms)",
    "watermarkLag": "Time the source's watermark is behind the wall clock (ms)",
    "pendingRecords": "Records not yet read by the source (Kafka: to the partition's high watermark)",
    "sourceIdleTime": "Time since the source last read a record (ms)",
}
SPLIT_METRICS = {**SOURCE_METRICS, "numRecordsIn": "Records read from the split",
                 "currentWatermark": "The split's watermark (ms)"}


def exported_names() -> set[str]:
    """Every metric name this endpoint can export (the Grafana dashboard's test checks against it)."""
    return ({JOB + n for n in JOB_METRICS} | {TASK + n for n in TASK_METRICS} |
            {OPERATOR + n for n in {**OPERATOR_METRICS, **SOURCE_METRICS}} | {SPLIT + n for n in SPLIT_METRICS})


class FlinkCollector:
    """A prometheus-client collector reading the live jobs' metric snapshots at each scrape."""

    def collect(self):
        jobs = [job.snapshot() for job in live_jobs()]
        host = socket.gethostname()
        job_labels = ["host", "job_id", "job_name"]
        task_labels = job_labels + ["task_id", "task_name", "subtask_index"]
        op_labels = task_labels + ["operator_id", "operator_name"]
        families = {}

        def family(prefix: str, name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
            if prefix + name not in families:
                families[prefix + name] = GaugeMetricFamily(prefix + name, doc, labels=labels)
            return families[prefix + name]
        for job in jobs:
            jl = [host, job["job_id"], job["job_name"]]
            for name, doc in JOB_METRICS.items():
                family(JOB, name, doc, job_labels).add_metric(jl, job[name])
            ops = {op["operator_id"]: op for op in job["operators"]}
            for op in job["operators"]:
                tl = jl + [op["operator_id"], op["operator_name"], str(op["subtask_index"])]
                ol = tl + [op["operator_id"], op["operator_name"]]
                for name, doc in TASK_METRICS.items():
                    family(TASK, name, doc, task_labels).add_metric(tl, op[name])
                for name, doc in OPERATOR_METRICS.items():
                    if op[name] is not None:
                        family(OPERATOR, name, doc, op_labels).add_metric(ol, op[name])
                for name, value in op["own"].items():
                    if _VALID.fullmatch(name) and name not in OPERATOR_METRICS and isinstance(value, (int, float)):
                        family(OPERATOR, name, f"{name} (counted by the operator)", op_labels).add_metric(ol, value)
            for uid, values in _per_source(job["splits"]).items():
                op = ops.get(uid)
                if op is None:
                    continue
                ol = jl + [uid, op["operator_name"], str(op["subtask_index"]), uid, op["operator_name"]]
                for name, value in values.items():
                    if value is not None:
                        family(OPERATOR, name, SOURCE_METRICS[name], op_labels).add_metric(ol, value)
            for split in job["splits"]:
                op = ops.get(split["operator_id"])
                if op is None:
                    continue
                sl = jl + [op["operator_id"], op["operator_name"], str(split["subtask_index"]), op["operator_id"],
                           op["operator_name"], split["split"]]
                for name, doc in SPLIT_METRICS.items():
                    if split[name] is not None:
                        family(SPLIT, name, doc, op_labels + ["split"]).add_metric(sl, split[name])
        yield from families.values()


def _per_source(splits: list[dict]) -> dict[str, dict]:
    """A source operator's FLIP-33 values over its splits: records pending in all, the lag of the newest emitted
    record, the watermark of the split furthest behind, idle since the last record of any split."""
    out: dict[str, dict] = {}
    for uid in dict.fromkeys(s["operator_id"] for s in splits):
        mine = [s for s in splits if s["operator_id"] == uid]
        pending = [s["pendingRecords"] for s in mine if s["pendingRecords"] is not None]
        lags = [s["watermarkLag"] for s in mine if s["watermarkLag"] is not None and not s.get("idle")]
        idle = [s["sourceIdleTime"] for s in mine if s["sourceIdleTime"] is not None]
        newest = min((s for s in mine if s["sourceIdleTime"] is not None), key=lambda s: s["sourceIdleTime"],
                     default=None)
        out[uid] = {"pendingRecords": sum(pending) if pending else None,
                    "currentEmitEventTimeLag": newest["currentEmitEventTimeLag"] if newest else None,
                    "watermarkLag": max(lags) if lags else None,
                    "sourceIdleTime": min(idle) if idle else None}
    return out


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # a scrape is not worth a line on the job's terminal
        pass


_served: dict[str, int] = {}  # the port spec this process serves /metrics for -> the port it bound
_lock = threading.Lock()


def serve(port_spec: str) -> int:
    """Serve /metrics on the first free port of `port_spec` ('9249' or a range '9249-9259', Flink's form) for
    the rest of the process; the port it serves. A second call with the same spec reuses the server."""
    with _lock:
        if port_spec in _served:
            return _served[port_spec]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(FlinkCollector())
        app = make_wsgi_app(registry)
        low, high = parse_ports(port_spec)
        errors = []
        for port in range(low, high + 1):
            try:
                server = make_server("", port, app, _Server, handler_class=_Quiet)
            except OSError as e:
                errors.append(f"{port}: {e.strerror}")
                continue
            threading.Thread(target=server.serve_forever, name="prometheus-metrics", daemon=True).start()
            _served[port_spec] = server.server_port
            return server.server_port
        raise ValidationError(f"Cannot serve metrics on 'metrics.reporter.prom.port' = '{port_spec}' "
                              f"({'; '.join(errors[:3])}): choose a free port or a range such as '9249-9259'")


__all__ = ["FlinkCollector", "serve", "exported_names"]
