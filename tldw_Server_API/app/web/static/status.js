// The Status page's live part: polls the API (the session cookie authenticates it) every
// few seconds and draws the last minutes of each figure as a small SVG line chart.
"use strict";
(function () {
  const POLL_MS = 2000;
  const KEEP = 150; // samples: five minutes at one every two seconds
  const SVG = "http://www.w3.org/2000/svg";
  const series = { heartbeat: [], workers: [], queue: [], throughput: [] };

  function text(id, value) {
    const element = document.getElementById(id);
    if (element) element.textContent = value;
  }

  function number(value, digits) {
    return value === null || value === undefined ? "-" : Number(value).toFixed(digits);
  }

  function push(name, value) {
    const points = series[name];
    points.push(value === null || value === undefined ? null : Number(value));
    if (points.length > KEEP) points.shift();
  }

  function draw(name) {
    const svg = document.getElementById("chart-" + name);
    if (!svg) return;
    const points = series[name];
    const values = points.filter((v) => v !== null);
    const top = Math.max(1, ...values);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const line = document.createElementNS(SVG, "polyline");
    const coords = [];
    points.forEach((v, i) => {
      if (v === null) return;
      const x = 300 - (points.length - 1 - i) * (300 / (KEEP - 1));
      const y = 75 - (v / top) * 65;
      coords.push(x.toFixed(1) + "," + y.toFixed(1));
    });
    line.setAttribute("points", coords.join(" "));
    svg.appendChild(line);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", "4");
    label.setAttribute("y", "12");
    label.textContent = "max " + (Number.isInteger(top) ? top : top.toFixed(1));
    svg.appendChild(label);
  }

  function showHealth(health) {
    text("health-status", health.status + (health.reason ? ": " + health.reason : ""));
    for (const db of health.databases) {
      const row = document.querySelector('tr[data-database="' + CSS.escape(db.name) + '"] .health');
      if (row) row.textContent = db.ok ? "yes (" + number(db.latency_ms, 1) + " ms)" : "NO: " + db.error;
    }
  }

  function showWorkflows(s) {
    text("heartbeat-at", s.runtime.heartbeat_at || "never");
    text("heartbeat-age", s.runtime.heartbeat_age_seconds === null ? "-" : number(s.runtime.heartbeat_age_seconds, 1) + " s");
    text("live-workers", String(s.live_workers));
    text("queue-depth", String(s.queue.queued));
    const finished = s.recent.succeeded + s.recent.failed + s.recent.cancelled;
    const perMinute = finished / (s.recent.window_seconds / 60);
    text("throughput", number(perMinute, 1));
    push("heartbeat", s.runtime.heartbeat_age_seconds);
    push("workers", s.live_workers);
    push("queue", s.queue.queued);
    push("throughput", perMinute);
    Object.keys(series).forEach(draw);
    const configured = s.pool.configured || {};
    const current = s.pool.status || {};
    text("pool-size", String(configured.pool_size ?? "-"));
    text("pool-overflow", String(configured.max_overflow ?? "-"));
    text("pool-timeout", String(configured.timeout ?? "-"));
    text("pool-in-use", String(current.checkedout ?? "-"));
    text("pool-idle", String(current.checkedin ?? "-"));
    const note = document.getElementById("pool-note");
    if (note) note.hidden = Boolean(s.pool.applies);
  }

  async function get(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign("/signin?next=/status");
      throw new Error("signed out");
    }
    if (!response.ok && response.status !== 503) throw new Error(path + " answered " + response.status);
    return response.json();
  }

  async function poll() {
    const problem = document.getElementById("status-error");
    try {
      const [health, workflows] = await Promise.all([get("/api/v1/health"), get("/api/v1/workflows/status")]);
      showHealth(health);
      showWorkflows(workflows);
      problem.hidden = true;
    } catch (error) {
      problem.textContent = "Could not refresh: " + error.message;
      problem.hidden = false;
    }
  }

  poll();
  setInterval(poll, POLL_MS);
})();
