"""The shipped Grafana dashboard queries only metrics the Prometheus endpoint exports (and test_prometheus
checks a running job's scrape has every one of them), with labels the endpoint sets."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client")
from sqlstream.prometheus import exported_names  # noqa: E402

DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana-dashboard.json"
LABELS = {"host", "job_id", "job_name", "task_id", "task_name", "subtask_index", "operator_id", "operator_name",
          "split"}


def queries() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    found = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    found += [v["definition"] for v in board["templating"]["list"] if v.get("definition")]
    return found


def test_every_queried_metric_is_exported():
    names = {m for q in queries() for m in re.findall(r"\bflink_\w+", q)}
    assert names and names <= exported_names(), sorted(names - exported_names())


def test_the_panels_cover_what_a_job_is_watched_for():
    names = {m for q in queries() for m in re.findall(r"\bflink_\w+", q)}
    for wanted in ("numRecordsOutPerSecond", "watermarkLag", "numLateRecordsDropped", "lastCheckpointDuration",
                   "pendingRecords", "backPressuredTimeMsPerSecond"):
        assert any(n.endswith(wanted) for n in names), wanted


def test_legends_and_filters_use_exported_labels():
    board = json.loads(DASHBOARD.read_text())
    for panel in board["panels"]:
        for target in panel["targets"]:
            used = set(re.findall(r"\{\{(\w+)\}\}", target.get("legendFormat", "")))
            used |= set(re.findall(r"(\w+)=~?\"", target["expr"]))
            assert used <= LABELS, (panel["title"], used - LABELS)
