// The list of workflow runs, live: polls the API (the session cookie authenticates it) for
// the page of runs shown (same status filter, page size and offset) every 2 seconds and
// redraws its rows and count, so runs move on and new ones appear without a reload. Every
// value is set as text, never as HTML.
"use strict";
(function () {
  const POLL_MS = 2000;
  const section = document.getElementById("runs-list");
  if (!section) return;
  const table = document.getElementById("runs");
  const query = new URLSearchParams({ limit: section.dataset.limit, offset: section.dataset.offset });
  if (section.dataset.status) query.set("status", section.dataset.status);
  const url = "/api/v1/workflows/runs?" + query.toString();

  // "2025-10-08T12:34:56.789Z" as the page writes it: "2025-10-08 12:34:56".
  function when(instant) {
    return instant ? instant.replace("T", " ").slice(0, 19) : "-";
  }

  function cell(className, ...children) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.append(...children);
    return td;
  }

  function row(run) {
    const tr = document.createElement("tr");
    tr.dataset.run = run.run_id;
    const link = document.createElement("a");
    link.href = "/workflows/runs/" + encodeURIComponent(run.run_id);
    const code = document.createElement("code");
    code.textContent = run.run_id.slice(0, 8);
    link.append(code);
    const version = document.createElement("span");
    version.className = "tag";
    version.textContent = "v" + run.definition_version;
    const name = ((run.definition_snapshot || {}).name || "") + " ";
    tr.append(
      cell("", link),
      cell("", name, version),
      cell("run-status", run.status),
      cell("", when(run.created_at)),
      cell("run-ended", when(run.ended_at)),
    );
    return tr;
  }

  async function poll() {
    const problem = document.getElementById("live-error");
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.status === 401) {
        window.location.assign("/signin?next=" + encodeURIComponent(window.location.pathname));
        return;
      }
      if (!response.ok) throw new Error("the server answered " + response.status);
      const found = await response.json();
      table.querySelector("tbody").replaceChildren(...found.runs.map(row));
      table.hidden = found.runs.length === 0;
      document.getElementById("result-count").textContent =
        found.total + (found.total === 1 ? " run" : " runs");
      problem.hidden = true;
    } catch (error) {
      problem.textContent = "Could not refresh: " + error.message;
      problem.hidden = false;
    }
    window.setTimeout(poll, POLL_MS);
  }

  window.setTimeout(poll, POLL_MS);
})();
