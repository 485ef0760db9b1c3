/**
 * The live page: plain HTML and a script that redraws from /api/overview every second. Team names and
 * reasons are the participants' own words: they only ever go into the page as text, never as markup.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Pitwall</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232a; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
  .meta { color: #5b6673; } .empty { color: #8a94a0; font-style: italic; }
  table { border-collapse: collapse; background: #fff; min-width: 40rem; }
  th, td { text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
  th { font-weight: 600; color: #5b6673; }
  .bar { display: inline-block; width: 9rem; height: .7rem; background: #e3e6ea; border-radius: .35rem; overflow: hidden; vertical-align: middle; }
  .bar > span { display: block; height: 100%; background: #2f7de1; }
  .worker { white-space: nowrap; margin-right: 1rem; display: inline-block; }
  .participant { color: #9a5b00; } .platform { color: #b3261e; }
  .tiles { display: flex; gap: 1rem; } .tile { background: #fff; padding: .6rem 1rem; border-radius: .4rem; }
  .tile b { display: block; font-size: 1.4rem; }
</style>
</head>
<body>
<h1>Pitwall</h1>
<div class="meta">Updated <span id="updated">…</span></div>
<div class="tiles">
  <div class="tile"><b id="waiting-count">0</b>waiting</div>
  <div class="tile"><b id="running-count">0</b>running</div>
  <div class="tile"><b id="gpus">0</b>GPUs in use</div>
</div>
<h2>Running</h2><div id="running"></div>
<h2>Queue</h2><div id="waiting"></div>
<h2>Recent failures</h2><div id="failures"></div>
<h2>Leaderboard</h2><div id="leaderboard"></div>
<script>
"use strict";
function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children || []) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
function table(id, head, rows, empty) {
  const target = document.getElementById(id);
  if (rows.length === 0) { target.replaceChildren(el("div", { class: "empty" }, [empty])); return; }
  const thead = el("tr", {}, head.map((h) => el("th", {}, [h])));
  target.replaceChildren(el("table", {}, [thead, ...rows.map((cells) => el("tr", { "data-row": "" }, cells.map((c) => el("td", {}, [c]))))]));
}
function bar(done, total) {
  const fill = el("span", {});
  fill.style.width = (total > 0 ? Math.round((100 * done) / total) : 0) + "%";
  return el("span", { class: "bar", role: "progressbar", "aria-valuenow": String(done), "aria-valuemax": String(total) }, [fill]);
}
function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 120 ? seconds + " s" : seconds < 7200 ? Math.round(seconds / 60) + " min" : (seconds / 3600).toFixed(1) + " h";
}
function until(iso) {
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  return seconds <= 0 ? "over" : since(new Date(Date.now() - seconds * 1000).toISOString());
}
function render(state) {
  document.getElementById("updated").textContent = new Date(state.generatedAt).toLocaleTimeString();
  document.getElementById("waiting-count").textContent = state.waiting.length;
  document.getElementById("running-count").textContent = state.running.length;
  document.getElementById("gpus").textContent = state.workersRunning + (state.gpuCapacity === undefined ? "" : " / " + state.gpuCapacity);
  table("running", ["pk", "team", "attempt", "running for", "last progress", "time left", "cost so far", "workers"], state.running.map((s) => [
    s.submissionPk, s.teamName, s.attempt, since(s.since),
    s.lastProgressAt ? since(s.lastProgressAt) + " ago" : "none yet",
    s.deadline ? until(s.deadline) : "",
    s.cost && s.cost.gpuHours > 0 ? (s.cost.usd === undefined ? "" : "$" + s.cost.usd.toFixed(2) + ", ") + s.cost.gpuHours.toFixed(2) + " GPU-h" + (s.cost.interruptions ? ", " + s.cost.interruptions + " lost node(s)" : "") : "",
    el("div", {}, s.workers.map((w) => el("span", { class: "worker" }, ["w" + w.worker + " ", bar(w.done, w.total), " " + w.done + "/" + w.total]))),
  ]), "nothing running");
  table("waiting", ["position", "pk", "team", "status", "waiting for", "estimated start"], state.waiting.map((s) => [
    s.queue ? s.queue.position : "", s.submissionPk, s.teamName, s.queue ? "in Pitwall's queue" : s.status, since(s.since),
    s.queue && s.queue.estimatedStartAt ? new Date(s.queue.estimatedStartAt).toLocaleTimeString() : "",
  ]), "nobody waiting");
  table("failures", ["pk", "team", "class", "whose", "reason", "when"], state.failures.map((f) => [
    f.submissionPk, f.teamName, f.failureClass, el("span", { class: f.fault }, [f.fault]), f.reason, since(f.at) + " ago",
  ]), "no failures");
  table("leaderboard", ["rank", "team", "Driving score", "Route completion", "Infraction penalty"], state.leaderboard.map((e) => [
    e.rank, e.teamName, e.values["Driving score"] ?? "", e.values["Route completion"] ?? "", e.values["Infraction penalty"] ?? "",
  ]), "no results yet");
}
async function refresh() {
  try {
    const response = await fetch("/api/overview", { cache: "no-store" });
    if (response.ok) render(await response.json());
  } catch (error) {
    document.getElementById("updated").textContent = "(Pitwall is not answering)";
  }
  setTimeout(refresh, 1000);
}
refresh();
</script>
</body>
</html>
`;

/** The public status page: submission ids, places and progress, as /api/status gives them. */
export const PUBLIC_STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Evaluation queue</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232a; }
  table { border-collapse: collapse; } th, td { text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #e3e6ea; }
  .empty { color: #8a94a0; font-style: italic; }
</style>
</head>
<body>
<h1>Evaluation queue</h1>
<h2>Waiting</h2><div id="waiting"></div>
<h2>Running</h2><div id="running"></div>
<script>
"use strict";
function table(id, head, rows, empty) {
  const target = document.getElementById(id);
  if (rows.length === 0) { const e = document.createElement("div"); e.className = "empty"; e.textContent = empty; target.replaceChildren(e); return; }
  const t = document.createElement("table");
  [head, ...rows].forEach((cells, i) => {
    const tr = document.createElement("tr");
    for (const c of cells) { const cell = document.createElement(i === 0 ? "th" : "td"); cell.textContent = String(c); tr.append(cell); }
    t.append(tr);
  });
  target.replaceChildren(t);
}
async function refresh() {
  try {
    const s = await (await fetch("/api/status", { cache: "no-store" })).json();
    table("waiting", ["position", "submission", "estimated start", "team"], s.waiting.map((w) => [
      w.position ?? "", w.submissionPk, w.estimatedStartAt ? new Date(w.estimatedStartAt).toLocaleString() : "", w.team ?? ""]), "nobody waiting");
    table("running", ["submission", "routes", "team"], s.running.map((r) => [r.submissionPk, r.done + "/" + r.total, r.team ?? ""]), "nothing running");
  } catch (error) {}
  setTimeout(refresh, 5000);
}
refresh();
</script>
</body>
</html>
`;
