// A workflow run's page, live: polls the API (the session cookie authenticates it) for the
// run, its steps, artifacts and new events while the run is going, and redraws them; it stops
// once the run has ended. Every value is set as text, never as HTML.
"use strict";
(function () {
  const POLL_MS = 1000;
  const section = document.getElementById("run");
  if (!section) return;
  const runId = section.dataset.runId;
  const terminal = section.dataset.terminal.split(",");
  const waiting = section.dataset.waiting.split(",");
  const base = "/api/v1/workflows/runs/" + encodeURIComponent(runId);
  const events = document.getElementById("run-events");
  let lastSeq = Number(events.dataset.lastSeq || 0);

  function text(id, value) {
    const element = document.getElementById(id);
    if (element) element.textContent = value;
  }

  function shown(value) {
    return value === null || value === undefined ? "" : JSON.stringify(value);
  }

  function row(cells, numeric) {
    const tr = document.createElement("tr");
    cells.forEach((value, i) => {
      const td = document.createElement("td");
      if (numeric.includes(i)) td.className = "num";
      td.textContent = value === null || value === undefined ? "" : String(value);
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(tableId, rows) {
    const body = document.querySelector("#" + tableId + " tbody");
    body.replaceChildren(...rows);
  }

  async function get(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname));
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error(path + " answered " + response.status);
    return response.json();
  }

  function showRun(run) {
    text("run-status", run.status);
    text("run-reason", run.status_reason || "-");
    text("run-ended", run.ended_at || "-");
    text("run-outputs", run.outputs === null || run.outputs === undefined ? "-" : JSON.stringify(run.outputs));
    const error = document.getElementById("run-error-text");
    error.textContent = run.error || "";
    error.hidden = !run.error;
    document.getElementById("decision").hidden = !waiting.includes(run.status);
    document.getElementById("cancel-form").hidden = terminal.includes(run.status);
  }

  function showSteps(steps) {
    fill("run-steps", steps.map((s) => row(
      [s.step_id, s.type, s.attempt, s.status, s.started_at || "-", s.ended_at || "-", s.error || shown(s.outputs)], [2])));
  }

  function showArtifacts(artifacts) {
    fill("run-artifacts", artifacts.map((a) => row(
      [a.type, a.uri, a.size_bytes, a.mime_type, a.created_at], [2])));
  }

  function addEvents(list) {
    const body = events.querySelector("tbody");
    for (const e of list) {
      body.appendChild(row([e.event_seq, e.event_type, e.created_at, shown(e.payload)], [0]));
      lastSeq = Math.max(lastSeq, e.event_seq);
    }
  }

  async function poll() {
    const problem = document.getElementById("live-error");
    let ended = false;
    try {
      // The run first, then the rest: read after it, they hold at least what it says was
      // done, so the last poll (the run ended) shows every step, event and artifact.
      const run = await get(base);
      const [steps, found, artifacts] = await Promise.all([
        get(base + "/steps"), get(base + "/events?after_seq=" + lastSeq), get(base + "/artifacts"),
      ]);
      showRun(run);
      showSteps(steps.steps);
      addEvents(found.events);
      showArtifacts(artifacts.artifacts);
      ended = terminal.includes(run.status);
      section.dataset.ended = ended ? "yes" : "no";
      problem.hidden = true;
    } catch (error) {
      problem.textContent = "Could not refresh: " + error.message;
      problem.hidden = false;
    }
    if (!ended) window.setTimeout(poll, POLL_MS);
  }

  if (section.dataset.ended !== "yes") window.setTimeout(poll, POLL_MS);
})();
