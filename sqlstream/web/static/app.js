// The jobs page: polls the REST API and redraws the job list, the selected job's graph, operators and checkpoints.
"use strict";

let selected = null;
let refreshMs = 1000;
let shape = "";                // the drawn graph's vertices and edges: the layout is redone only when it changes
const previous = {};           // vertex id -> {t, in, out}: rates where the job reports counts but not rates

const $ = (sel) => document.querySelector(sel);
const fmt = (n) => n === undefined || n === null ? "" : (typeof n === "number" && !Number.isInteger(n) ? n.toFixed(1) : String(n));
const bytes = (n) => n === undefined || n === null ? "" : n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
const time = (ms) => ms > 0 ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "";
const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;

async function get(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// a row's cells, set in place: a cell under the pointer stays the same element across redraws
function cells(row, values) {
  while (row.cells.length > values.length) row.deleteCell(-1);
  values.forEach(([text, cls], i) => {
    const td = row.cells[i] || row.insertCell();
    if (td.textContent !== text) td.textContent = text;
    td.className = cls || "";
  });
}

// Each job keeps its row from one redraw to the next (moved only when the order changes): the browser sends no
// click when the element pressed is removed before the release, so rows replaced every second lost clicks.
function drawJobs(jobs) {
  const body = $("#jobs tbody");
  const kept = new Map([...body.rows].map((tr) => [tr.dataset.jid, tr]));
  jobs.forEach((j, i) => {
    let tr = kept.get(j.jid);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.jid = j.jid;
      tr.addEventListener("click", () => { selected = j.jid; shape = ""; refresh(); });
    }
    kept.delete(j.jid);
    if (body.rows[i] !== tr) body.insertBefore(tr, body.rows[i] || null);
    tr.classList.toggle("selected", j.jid === selected);
    cells(tr, [[j.jid], [j.name], [j.state, `state ${j.state}`], [time(j["start-time"])], [seconds(j.duration), "num"],
      [fmt(j["rows-in"]), "num rows-in"], [fmt(j["rows-out"]), "num rows-out"],
      [j.error ? j.error.split("\n")[0].slice(0, 80) : ""]]);
  });
  for (const gone of kept.values()) gone.remove();
}

function rates(v, now) {
  const m = v.metrics;
  const seen = previous[v.id];
  let inRate = m.numRecordsInPerSecond, outRate = m.numRecordsOutPerSecond;
  if (seen && now > seen.t) {
    if (inRate === undefined && m.numRecordsIn !== undefined) inRate = (m.numRecordsIn - seen.in) * 1000 / (now - seen.t);
    if (outRate === undefined && m.numRecordsOut !== undefined) outRate = (m.numRecordsOut - seen.out) * 1000 / (now - seen.t);
  }
  previous[v.id] = {t: now, in: m.numRecordsIn, out: m.numRecordsOut};
  return [inRate, outRate];
}

function label(v, inRate, outRate) {
  const m = v.metrics;
  const lines = [v.short_name];
  if (inRate !== undefined || outRate !== undefined) lines.push(`in ${fmt(inRate ?? 0)}/s  out ${fmt(outRate ?? 0)}/s`);
  if (m.watermark) lines.push(`watermark ${m.watermark}`);
  if (m.busyTimeMsPerSecond !== undefined) lines.push(`busy ${fmt(m.busyTimeMsPerSecond / 10)}%  backpressured ${fmt((m.backPressuredTimeMsPerSecond ?? 0) / 10)}%`);
  if (m.stateSizeBytes) lines.push(`state ${bytes(m.stateSizeBytes)}`);
  if (m.numLateRecordsDropped) lines.push(`late rows ${m.numLateRecordsDropped}`);
  if (v.splits && v.splits.length) {
    const pending = v.splits.map((s) => s.pendingRecords).filter((p) => p !== null && p !== undefined);
    if (pending.length) lines.push(`pending ${pending.reduce((a, b) => a + b, 0)}`);
    const idle = v.splits.filter((s) => s.idle).length;
    lines.push(`${v.splits.length} split${v.splits.length > 1 ? "s" : ""}${idle ? `, ${idle} idle` : ""}`);
  }
  return lines.join("\n");
}

function drawGraph(vertices, rateOf) {
  $("#graph-box").hidden = !vertices.length;  // a job that failed before it was built has no graph
  if (!vertices.length) return;
  const graph = new dagreD3.graphlib.Graph().setGraph({rankdir: "LR", nodesep: 20, ranksep: 50, marginx: 10, marginy: 10});
  for (const v of vertices) {
    graph.setNode(v.id, {label: label(v, ...rateOf[v.id]), rx: 4, ry: 4, padding: 8, id: `vertex-${v.id}`});
  }
  for (const v of vertices) {
    for (const edge of v.inputs) {
      graph.setEdge(edge.id, v.id, {label: `${edge.ship_strategy} [${edge.changelog_mode}]`, curve: d3.curveBasis,
        class: edge.ship_strategy === "late rows" ? "late-rows" : ""});
    }
  }
  const svg = d3.select("#graph");
  const inner = svg.select("g");
  new dagreD3.render()(inner, graph);
  const now = JSON.stringify(vertices.map((v) => [v.id, v.inputs.map((e) => e.id)]));
  if (now !== shape) {  // fit a new graph into the box once; later refreshes keep the layout's place
    shape = now;
    const width = svg.node().parentNode.getBoundingClientRect().width;
    const scale = Math.max(0.8, Math.min(1, (width - 20) / graph.graph().width));  // wider graphs scroll
    inner.attr("transform", `translate(10, 10) scale(${scale})`);
    svg.style("width", `${Math.max(width - 2, graph.graph().width * scale + 20)}px`);
    svg.style("height", `${graph.graph().height * scale + 20}px`);
  }
}

function drawOperators(vertices, rateOf) {
  $("#operators tbody").replaceChildren(...vertices.map((v) => {
    const m = v.metrics;
    const [inRate, outRate] = rateOf[v.id];
    const tr = document.createElement("tr");
    tr.dataset.vertex = v.id;
    cells(tr, [[v.id], [v.name], [fmt(m.numRecordsIn), "num records-in"], [fmt(m.numRecordsOut), "num records-out"],
      [fmt(inRate), "num"], [fmt(outRate), "num"], [m.watermark || ""], [fmt(m.busyTimeMsPerSecond), "num"],
      [fmt(m.backPressuredTimeMsPerSecond), "num"], [bytes(m.stateSizeBytes), "num"], [fmt(m.numLateRecordsDropped), "num late"]]);
    return tr;
  }));
}

function drawCheckpoints(c) {
  const latest = c.latest.completed;
  const rows = !c.enabled ? [["checkpoints", "off ('execution.checkpointing.dir' and 'execution.checkpointing.interval' not set)"]] : [
    ["completed", c.counts.completed], ["failed", c.counts.failed],
    ["last", latest ? `#${latest.id} at ${time(latest.trigger_timestamp)}` : "none yet"],
    ["last duration", latest ? `${latest.end_to_end_duration} ms` : ""], ["last size", latest ? bytes(latest.state_size) : ""],
    ["last path", latest ? latest.external_path : ""]];
  $("#checkpoints tbody").replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement("tr");
    cells(tr, [[k], [fmt(v)]]);
    return tr;
  }));
}

async function drawJob(jid) {
  const [job, exceptions] = await Promise.all([get(`/jobs/${jid}`), get(`/jobs/${jid}/exceptions`)]);
  $("#job").hidden = false;
  $("#job-id").textContent = job.jid;
  $("#job-name").textContent = job.name;
  const state = $("#job-state");
  state.textContent = job.state;
  state.className = `state ${job.state}`;
  const root = exceptions["root-exception"];
  $("#exception").hidden = !root;
  $("#exception-text").textContent = root || "";
  const now = job.now;
  const rateOf = {};
  for (const v of job.vertices) rateOf[v.id] = rates(v, now);
  drawGraph(job.vertices, rateOf);
  drawOperators(job.vertices, rateOf);
  drawCheckpoints(job.checkpoints);
}

async function refresh() {
  try {
    const overview = await get("/jobs/overview");
    const jobs = overview.jobs;
    if (!jobs.some((j) => j.jid === selected)) {
      const running = jobs.find((j) => j.state === "RUNNING");
      selected = running ? running.jid : (jobs.length ? jobs[0].jid : null);
      shape = "";
    }
    drawJobs(jobs);
    if (selected) await drawJob(selected);
    $("#updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    $("#updated").textContent = `not updated: ${e.message}`;
  }
}

get("/config").then((c) => { refreshMs = c["refresh-interval"] || refreshMs; }).finally(() => {
  refresh();
  setInterval(refresh, refreshMs);
});
