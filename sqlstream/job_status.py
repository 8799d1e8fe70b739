"""What a job is doing, in the shape of Flink's REST API: the one view read by DESCRIBE JOB and the web UI."""
from __future__ import annotations

import time

from sqlstream.plan import logical as L
from sqlstream.planner.explain import describe
from sqlstream.runtime.event_time import MAX_WM, MIN_WM
from sqlstream.runtime.executor import readable_names


def timestamp(ms: int | float | None) -> str | None:
    """Epoch ms as 'yyyy-MM-dd HH:mm:ss.SSS' UTC (None for no watermark yet)."""
    if ms is None or ms <= MIN_WM or ms >= MAX_WM:
        return None
    secs, millis = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(secs)) + f".{millis:03d}"


def vertices(job) -> list[dict]:
    """Every source, operator and sink of a running job with its metrics, in the physical plan's order (inputs
    first), each input edge with its distribution and changelog mode."""
    if job is None:
        return []
    specs = job.plan.operators
    measured = _measured(job)
    found = [_vertex(job, spec, specs, measured) for spec in specs]
    late = getattr(job, "late_rows", None)
    if late is not None:  # the late-rows table, fed by every operator that drops late rows
        droppers = [spec.uid for spec in specs if getattr(job.ops.get(id(spec.node)), "late_rows", None) is not None]
        found.append({"id": "late-rows", "name": f"Sink(table=[{late.table}]) of late rows", "operator": "LateRows",
                      "short_name": f"Late rows: {late.table}", "kind": "sink", "parallelism": 1,
                      "status": "RUNNING", "changelog_mode": "I",
                      "inputs": [{"id": uid, "ship_strategy": "late rows", "changelog_mode": "I"} for uid in droppers],
                      "metrics": {"numRecordsIn": late.rows, "watermark": None, "numLateRecordsDropped": 0,
                                  "stateSizeBytes": 0}})
    return found


# what the job's metrics registry reports per operator, under Flink's names, shown as they are
MEASURED = ("numRecordsIn", "numRecordsOut", "numRecordsInPerSecond", "numRecordsOutPerSecond",
            "currentInputWatermark", "numLateRecordsDropped", "busyTimeMsPerSecond", "backPressuredTimeMsPerSecond",
            "idleTimeMsPerSecond", "stateSizeBytes", "stateSizeRows")


def _measured(job) -> tuple[dict, dict]:
    """The job's metrics (if it keeps them) by operator id: its operators' values and its source splits'."""
    metrics = getattr(job, "metrics", None)
    if metrics is None or not hasattr(metrics, "snapshot"):
        return {}, {}
    snap = metrics.snapshot()
    splits: dict[str, list] = {}
    for split in snap.get("splits", []):
        splits.setdefault(split["operator_id"], []).append(split)
    return {o["operator_id"]: o for o in snap.get("operators", [])}, splits


def _vertex(job, spec, specs: list, measured: tuple[dict, dict]) -> dict:
    node = spec.node
    nid = id(node)
    by_operator, by_source = measured
    reported = by_operator.get(spec.uid)
    op = job.ops.get(nid)
    # without a metrics registry, ask the operator itself (a read from this thread; the registry's values are
    # sampled by the job's own thread)
    metrics = dict(op.metrics()) if op is not None and reported is None else {}
    backend = job.state.get(nid) if reported is None else None
    inputs = []
    names = readable_names(node)  # the producers' columns as the query named them, not `$f0`
    offset = 0
    for edge in spec.inputs:
        producer = specs[edge.source]
        width = len(producer.node.names)
        inputs.append({"id": producer.uid, "ship_strategy": edge.distribution.describe(names[offset:offset + width]),
                       "changelog_mode": edge.changelog})
        offset += width
    kind = "source" if isinstance(node, L.Scan) else "sink" if isinstance(node, L.Sink) else "operator"
    wm = job.out_wm.get(nid, MIN_WM)
    if kind == "sink":
        wm = min([job.out_wm.get(id(c), MIN_WM) for c in node.inputs()] or [MIN_WM])
    vertex = {
        "id": spec.uid, "name": spec.description or describe(node), "short_name": short_name(node), "kind": kind,
        "operator": spec.name, "parallelism": spec.parallelism, "status": "RUNNING", "inputs": inputs,
        "changelog_mode": spec.changelog,
        "metrics": {
            "currentOutputWatermark": None if wm <= MIN_WM else wm,
            "watermark": timestamp(wm),
            "numLateRecordsDropped": int(metrics.get("late_records_dropped", 0)),
            "stateSizeBytes": int(metrics.get("state_bytes", backend.size_bytes() if backend is not None and
                                              backend.tables else 0)),
        },
    }
    if reported is not None:
        vertex["metrics"].update({k: reported[k] for k in MEASURED if k in reported})
    if spec.uid in by_source:
        vertex["splits"] = by_source[spec.uid]
    return vertex


def short_name(node: L.Node) -> str:
    """A vertex's name in the graph, as Flink's web UI names them ('Source: orders', 'Sink: totals')."""
    if isinstance(node, L.Scan):
        return f"Source: {node.table}"
    if isinstance(node, L.Sink):
        return f"Sink: {node.table}"
    return type(node).__name__ if node is not None else "Operator"


def vertex_detail(info, vertex_id: str) -> dict | None:
    """Flink's /jobs/<id>/vertices/<vid>: the vertex with its one subtask's metrics."""
    job = info.job.dataflow
    found = next((v for v in vertices(job) if v["id"] == vertex_id), None)
    if found is None:
        return None
    now = time.time()
    subtask = {"subtask": 0, "status": info.status if info.status != "RUNNING" else found["status"],
               "attempt": 0, "host": "localhost", "start-time": int(info.started * 1000),
               "duration": int(((info.ended or now) - info.started) * 1000), "metrics": found["metrics"]}
    return {**found, "maxParallelism": 1, "now": int(now * 1000), "subtasks": [subtask]}


def vertex_watermarks(vertex: dict) -> list[dict]:
    """Flink's /jobs/<id>/vertices/<vid>/watermarks: each subtask's input watermark (ms, as a string)."""
    m = vertex["metrics"]
    wm = m.get("currentInputWatermark", m.get("currentOutputWatermark"))
    return [{"id": "0.currentInputWatermark", "value": str(MIN_WM if wm is None else wm)}]


def vertex_backpressure(vertex: dict) -> dict:
    """Flink's /jobs/<id>/vertices/<vid>/backpressure: the share of each second its output waited downstream,
    and Flink's level for it (ok up to 10%, low up to 50%, high above)."""
    m = vertex["metrics"]
    if "backPressuredTimeMsPerSecond" not in m:
        return {"status": "deprecated", "subtasks": []}
    ratio = m["backPressuredTimeMsPerSecond"] / 1000
    level = "ok" if ratio <= 0.1 else "low" if ratio <= 0.5 else "high"
    return {"status": "ok", "backpressure-level": level, "end-timestamp": int(time.time() * 1000),
            "subtasks": [{"subtask": 0, "attempt-number": 0, "backpressure-level": level, "ratio": ratio,
                          "busyRatio": m.get("busyTimeMsPerSecond", 0) / 1000,
                          "idleRatio": m.get("idleTimeMsPerSecond", 0) / 1000}]}


def checkpoints(coordinator) -> dict:
    """Flink's /jobs/<id>/checkpoints: counts, the latest completed checkpoint and savepoint, the history."""
    history = list(getattr(coordinator, "history", [])) if coordinator is not None else []
    completed = getattr(coordinator, "completed", 0) if coordinator is not None else 0
    registry = getattr(coordinator.job, "metrics", None) if coordinator is not None else None
    failed = getattr(registry, "failed_checkpoints", 0) or 0

    def entry(c) -> dict:
        return {"id": c.id, "status": "COMPLETED", "is_savepoint": c.kind == "savepoint",
                "trigger_timestamp": int(c.triggered * 1000), "end_to_end_duration": c.duration_ms,
                "state_size": c.size_bytes, "checkpointed_size": c.size_bytes, "external_path": c.location}
    latest_checkpoint = next((entry(c) for c in reversed(history) if c.kind == "checkpoint"), None)
    latest_savepoint = next((entry(c) for c in reversed(history) if c.kind == "savepoint"), None)
    sizes = [c.size_bytes for c in history] or [0]
    durations = [c.duration_ms for c in history] or [0]
    return {
        "enabled": coordinator is not None,
        "counts": {"restored": 0, "total": completed + failed, "in_progress": 0, "completed": completed,
                   "failed": failed},
        "summary": {"state_size": _summary(sizes), "end_to_end_duration": _summary(durations)},
        "latest": {"completed": latest_checkpoint, "savepoint": latest_savepoint, "failed": None, "restored": None},
        "history": [entry(c) for c in reversed(history)],
    }


def _summary(values: list[int]) -> dict:
    return {"min": min(values), "max": max(values), "avg": sum(values) // len(values)}


def exceptions(info) -> dict:
    """Flink's /jobs/<id>/exceptions: the failure of a failed job, with when it happened."""
    if info.error is None:
        return {"root-exception": None, "timestamp": None, "all-exceptions": [], "truncated": False,
                "exceptionHistory": {"entries": [], "truncated": False}}
    when = int((info.ended or time.time()) * 1000)
    entry = {"exceptionName": "JobExecutionException",
             "stacktrace": info.error, "timestamp": when, "taskName": None, "location": None,
             "concurrentExceptions": []}
    return {"root-exception": info.error, "timestamp": when, "all-exceptions": [], "truncated": False,
            "exceptionHistory": {"entries": [entry], "truncated": False}}


def job_detail(info) -> dict:
    """Flink's /jobs/<id>: the job's state and times, its vertices with metrics and its plan's edges."""
    job = info.job.dataflow
    stats = job.stats if job is not None else None
    ended = info.ended
    now = time.time()
    vs = vertices(job)
    if info.status != "RUNNING":
        for v in vs:
            v["status"] = info.status
    return {
        "jid": info.id, "name": info.name, "state": info.status, "isStoppable": info.status == "RUNNING",
        "start-time": int(info.started * 1000), "end-time": int(ended * 1000) if ended else -1,
        "duration": int(((ended or now) - info.started) * 1000), "now": int(now * 1000),
        "metrics": {"rows-in": stats.rows_in if stats else 0, "rows-out": stats.rows_out if stats else 0,
                    "late-records-dropped": sum(v["metrics"]["numLateRecordsDropped"] for v in vs),
                    **_job_metrics(job)},
        "vertices": vs,
        "plan": {"jid": info.id, "name": info.name, "type": "STREAMING",
                 "nodes": [{"id": v["id"], "description": v["name"], "operator": v["kind"],
                            "parallelism": v["parallelism"],
                            "inputs": [{"num": i, **edge} for i, edge in enumerate(v["inputs"])]} for v in vs]},
        "checkpoints": checkpoints(info.job.coordinator),
        "error": info.error,
    }


JOB_METRICS = ("uptime", "numRestarts", "numberOfCompletedCheckpoints", "numberOfFailedCheckpoints",
               "lastCheckpointDuration", "lastCheckpointSize", "lastCheckpointRestoreTimestamp")


def _job_metrics(job) -> dict:
    """The job-level values of the job's metrics registry, under Flink's names (none if it keeps no registry)."""
    registry = getattr(job, "metrics", None)
    if registry is None or not hasattr(registry, "snapshot"):
        return {}
    snap = registry.snapshot()
    return {k: snap[k] for k in JOB_METRICS if k in snap}


def job_overview(info) -> dict:
    """One row of Flink's /jobs/overview, with the job's rows in and out."""
    job = info.job.dataflow
    return {"jid": info.id, "name": info.name, "state": info.status, "start-time": int(info.started * 1000),
            "end-time": int(info.ended * 1000) if info.ended else -1,
            "duration": int(((info.ended or time.time()) - info.started) * 1000), "error": info.error,
            "rows-in": job.stats.rows_in if job is not None else 0,
            "rows-out": job.stats.rows_out if job is not None else 0}


def describe_text(info) -> str:
    """DESCRIBE JOB's sections after the job's row: the plan, each operator's metrics, the last checkpoint and
    the whole error of a failed job."""
    from sqlstream.planner.explain import explain
    detail = job_detail(info)
    parts = ["Plan:", "\n".join(explain(root) for root in info.plans)]
    shown = {k: v for k, v in detail["metrics"].items() if k in JOB_METRICS}
    if shown:
        parts.append("Metrics: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    if detail["vertices"]:
        shown = [(name, key) for name, key in OPERATOR_COLUMNS
                 if any(key in v["metrics"] for v in detail["vertices"])]
        rows = [[v["id"], v["name"][:60], v["parallelism"]] + [_cell(v["metrics"].get(key)) for _, key in shown]
                for v in detail["vertices"]]
        parts += ["Operators:", _table(["id", "operator", "parallelism"] + [name for name, _ in shown], rows)]
    ck = detail["checkpoints"]
    latest = ck["latest"]["completed"]
    if not ck["enabled"]:
        parts.append("Last checkpoint: none (checkpointing is off: SET 'execution.checkpointing.dir' and "
                     "'execution.checkpointing.interval' before starting the job)")
    elif latest is None:
        parts.append("Last checkpoint: none completed yet")
    else:
        parts.append(f"Last checkpoint: {latest['id']} at {timestamp(latest['trigger_timestamp'])} UTC, "
                     f"{latest['end_to_end_duration']} ms, {latest['state_size']} bytes, in {latest['external_path']} "
                     f"({ck['counts']['completed']} completed)")
    if info.error is not None:
        parts += ["Error:", info.error]
    return "\n".join(parts) + "\n"


# DESCRIBE JOB's operator columns: (heading, metric), each shown when the job reports that metric
OPERATOR_COLUMNS = [("rows in", "numRecordsIn"), ("rows out", "numRecordsOut"), ("rows in/s", "numRecordsInPerSecond"),
                    ("rows out/s", "numRecordsOutPerSecond"), ("watermark", "watermark"),
                    ("late rows dropped", "numLateRecordsDropped"), ("busy ms/s", "busyTimeMsPerSecond"),
                    ("backpressured ms/s", "backPressuredTimeMsPerSecond"), ("state bytes", "stateSizeBytes")]


def _cell(value) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _table(columns: list[str], rows: list[list]) -> str:
    cells = [[str(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lines = [border, "|" + "|".join(f" {c:<{w}} " for c, w in zip(columns, widths)) + "|", border]
    lines += ["|" + "|".join(f" {v:<{w}} " for v, w in zip(r, widths)) + "|" for r in cells]
    return "\n".join(lines + [border])
