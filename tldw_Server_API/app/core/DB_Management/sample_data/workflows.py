"""workflows.db: definitions, runs, their steps and events, in either step-table name."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .corpus import (
    T0,
    T1,
    flag,
    hex_digits,
    json_text,
    make_sentence,
    make_title,
    make_words,
    stamp,
    time_of,
    uuid4,
)
from .sink import Plan, Sink

_RUN_STATUSES = (
    "queued",
    "running",
    "paused",
    "waiting_human",
    "waiting_approval",
    "succeeded",
    "failed",
    "cancelled",
)
_RUN_STATUS_CUM = tuple(itertools.accumulate((8, 7, 3, 5, 4, 55, 12, 6)))
_WORKFLOW_NAMES = (
    "daily-digest",
    "podcast-transcribe",
    "paper-triage",
    "meeting-notes",
    "web-clipper",
    "study-cards",
    "inbox-zero",
    "rss-summaries",
    "video-chapters",
    "citation-check",
    "translate-École",
    "weekly-report",
)
# Step types our server registers (``Workflows/steps``) and can run from the run alone, and
# types it does not register that current servers do: users' definitions use both.
_RUNNABLE_STEPS = ("log", "delay", "prompt")
_FOREIGN_STEPS = ("llm", "tts", "summarize", "notify")
# The first definitions: one runnable, one that waits for a human, one that uses types our
# server lacks and waits for an approval; later ones are drawn, one in four with a type our
# server lacks.
_RECIPES: tuple[tuple[str, ...], ...] = (
    ("log", "prompt", "log"),
    ("log", "wait_for_human", "prompt", "delay"),
    ("prompt", "summarize", "wait_for_approval", "log"),
)
_TERMINAL_EVENT = {
    "succeeded": "run_completed",
    "failed": "run_failed",
    "cancelled": "run_cancelled",
    "paused": "run_paused",
    "waiting_human": "waiting_human",
    "waiting_approval": "waiting_approval",
}


@dataclass(frozen=True)
class _Definition:
    """One version of a workflow as its row holds it."""

    wid: int
    tenant: str
    name: str
    version: int
    steps: list[dict]

    def step_index(self, kind: str) -> int | None:
        return next((i for i, step in enumerate(self.steps) if step["type"] == kind), None)


class _WorkflowGenerator:
    """Definitions, then runs in every status with their step runs, events and artifacts."""

    def __init__(self, sink: Sink, rng: random.Random, size: int, steps_table: str) -> None:
        self.sink, self.rng, self.size, self.steps_table = sink, rng, size, steps_table
        self.n = 0
        self.definitions: list[_Definition] = []
        self.last_step_run_id: str | None = None  # artifacts belong to a run's last step
        sink.table(
            "workflows",
            "id, tenant_id, name, version, owner_id, visibility, description, tags, "
            "definition_json, created_at, updated_at, is_active",
        )
        sink.table(
            "workflow_runs",
            "run_id, tenant_id, workflow_id, status, status_reason, user_id, inputs_json, "
            "outputs_json, error, duration_ms, created_at, started_at, ended_at, "
            "definition_version, definition_snapshot_json, idempotency_key, cancel_requested",
        )
        sink.table(
            steps_table,
            "step_run_id, tenant_id, run_id, step_id, name, type, status, attempt, started_at, "
            "ended_at, inputs_json, outputs_json, error, locked_by, locked_at, lock_expires_at, "
            "heartbeat_at",
        )
        sink.table(
            "workflow_events",
            "tenant_id, run_id, step_run_id, event_seq, event_type, payload_json, created_at",
        )
        sink.table(
            "workflow_artifacts",
            "artifact_id, tenant_id, run_id, step_run_id, type, uri, size_bytes, mime_type, "
            "checksum_sha256, metadata_json, created_at",
        )

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def write_definitions(self) -> None:
        """A few named workflows, some with several versions (UNIQUE(tenant, name, version))."""
        rng = self.rng
        wid = 0
        count = max(3, min(self.size // 25, len(_WORKFLOW_NAMES)))
        for index, name in enumerate(_WORKFLOW_NAMES[:count]):
            tenant = "default" if rng.random() < 0.85 else "acme"
            types = (
                _RECIPES[index]
                if index < len(_RECIPES)
                else self._drawn_step_types(foreign=index % 4 == 3)
            )
            for version in range(1, 2 + int(rng.random() * 3)):
                wid += 1
                versioned = types + ("log",) * (version - 1)  # later versions log more
                steps = [
                    self._step_definition(k, kind, len(versioned))
                    for k, kind in enumerate(versioned, 1)
                ]
                definition = {
                    "name": name,
                    "version": version,
                    "inputs": {"query": "string"},
                    "steps": steps,
                }
                t = T0 + 86400.0 * (wid * 7 + rng.random())
                row = (
                    wid,
                    tenant,
                    name,
                    version,
                    str(1 + int(rng.random() * 3)),
                    rng.choice(("private", "private", "team", "public")),
                    make_sentence(rng),
                    json_text(sorted(set(make_words(rng, 2)))),
                    json_text(definition),
                    stamp(t, self._tick()),
                    stamp(t + 86400.0 * rng.random() * 30, self._tick()),
                    flag(rng.random() < 0.9, wid),
                )
                self.sink.add("workflows", row)
                self.definitions.append(_Definition(wid, tenant, name, version, steps))

    def _drawn_step_types(self, *, foreign: bool) -> tuple[str, ...]:
        """Two to five steps our server can run, one of them replaced when *foreign* by a type
        only newer servers have."""
        rng = self.rng
        types = [rng.choice(_RUNNABLE_STEPS) for _ in range(2 + int(rng.random() * 4))]
        if foreign:
            types[int(rng.random() * len(types))] = rng.choice(_FOREIGN_STEPS)
        return tuple(types)

    def _step_definition(self, k: int, kind: str, count: int) -> dict:
        """Step *k* of *count*: id, type, name, config, and the optional keys users' files have."""
        rng = self.rng
        step: dict[str, Any] = {
            "id": f"s{k}",
            "type": kind,
            "name": make_title(rng),
            "config": self._config(kind),
        }
        if rng.random() < 0.3:
            step["retry"] = {"max_attempts": 1 + int(rng.random() * 3), "backoff_seconds": 1}
        if rng.random() < 0.3:
            step["timeout_seconds"] = 30 * (1 + int(rng.random() * 10))
        if rng.random() < 0.2:
            step["on_success"] = f"s{k + 1}" if k < count else "end"
        if rng.random() < 0.15:
            step["on_failure"] = "end"
        return step

    def _config(self, kind: str) -> dict:
        """A configuration our step type accepts, or what a newer server's type took."""
        rng = self.rng
        configs: dict[str, Callable[[], dict[str, Any]]] = {
            "log": lambda: {
                "message": f"{make_sentence(rng, 3, 6)} {{{{ inputs.query }}}}",
                "level": rng.choice(("info", "info", "debug", "warning")),
            },
            "delay": lambda: {"seconds": round(0.05 + rng.random() * 0.45, 2)},
            "prompt": lambda: {"template": "Summarise what we know about {{ inputs.query }}."},
            "wait_for_human": lambda: {"prompt": "Check the draft for {{ inputs.query }}"},
            "wait_for_approval": lambda: {"approvers": ["1"], "message": "Publish the triage?"},
            "llm": lambda: {
                "model": "gpt-4o-mini",
                "prompt": "{{ inputs.query }}",
                "temperature": 0.2,
            },
            "tts": lambda: {
                "voice": "alloy",
                "text": "{{ steps.s1.output.text }}",
                "format": "mp3",
            },
            "summarize": lambda: {"max_words": 200, "style": "bullets"},
            "notify": lambda: {"channel": "email", "to": "me@example.org"},
        }
        return configs[kind]()

    def write_run(self, ordinal: int) -> None:
        """One run: its status decides how far its steps got; events are numbered 1, 2, 3..."""
        rng = self.rng
        status = (
            _RUN_STATUSES[ordinal - 1]
            if ordinal <= len(_RUN_STATUSES)
            else rng.choices(_RUN_STATUSES, cum_weights=_RUN_STATUS_CUM)[0]
        )
        definition = self._definition_for(status, ordinal)
        tenant, steps = definition.tenant, definition.steps
        run_id = uuid4(rng)
        t = time_of(rng, ordinal, self.size)
        if status not in ("succeeded", "failed", "cancelled"):
            t = T1 - rng.random() * 86400 * 3  # unfinished runs are recent ones
        self.last_step_run_id = None
        events = _EventLog(self, tenant, run_id)
        events.add(None, "run_created", {"status": "queued"}, t)
        started = None if status == "queued" else t + 0.5 + rng.random() * 30
        at = started or t
        if started is not None:
            events.add(None, "run_started", {}, started)
            at = self._steps(tenant, run_id, status, steps, events, started)
        ended = at if status in ("succeeded", "failed", "cancelled") else None
        if status in _TERMINAL_EVENT:
            events.add(None, _TERMINAL_EVENT[status], {"status": status}, at)
        self._run_row(run_id, definition, status, t, started, ended)
        if status == "succeeded" and rng.random() < 0.4:
            self._artifacts(tenant, run_id, self.last_step_run_id, ended or at)

    def _definition_for(self, status: str, ordinal: int) -> _Definition:
        """A run waiting for a human or an approval runs a definition with such a step; the
        first run (queued) one our server can run."""
        if ordinal == 1:
            return self.definitions[0]
        waits_on = {"waiting_human": "wait_for_human", "waiting_approval": "wait_for_approval"}
        if status in waits_on:
            candidates = [d for d in self.definitions if d.step_index(waits_on[status]) is not None]
            return self.rng.choice(candidates)
        return self.rng.choice(self.definitions)

    def _run_row(
        self,
        run_id: str,
        definition: _Definition,
        status: str,
        t: float,
        started: float | None,
        ended: float | None,
    ) -> None:
        rng = self.rng
        tenant, wid, version = definition.tenant, definition.wid, definition.version
        reasons = {
            "paused": "paused by user",
            "cancelled": "cancelled by user",
            "failed": "step_failed",
            "waiting_human": "awaiting input",
            "waiting_approval": "awaiting reviewer",
        }
        row = (
            run_id,
            tenant,
            wid,
            status,
            reasons.get(status),
            str(1 + int(rng.random() * 5)),
            json_text(
                {"query": " ".join(make_words(rng, 3)), "media_id": 1 + int(rng.random() * 200)}
            ),
            json_text({"summary": make_sentence(rng)}) if status == "succeeded" else None,
            "StepError: webhook returned HTTP 502" if status == "failed" else None,
            int((ended - started) * 1000) if ended and started else None,
            stamp(t, self._tick()),
            stamp(started, self._tick()) if started else None,
            stamp(ended, self._tick()) if ended else None,
            version,
            self._snapshot(definition, status),
            f"idem-{hex_digits(rng, 16)}" if rng.random() < 0.3 else None,
            int(status == "cancelled" and rng.random() < 0.9),
        )
        self.sink.add("workflow_runs", row)

    def _snapshot(self, definition: _Definition, status: str) -> str | None:
        """The definition as the run took it. Queued runs always have one, and it has no
        ``name``: older servers copied only what running needs. Others: most have one,
        half of those without the name."""
        rng = self.rng
        if status != "queued" and rng.random() >= 0.8:
            return None
        snapshot: dict = {"version": definition.version, "steps": definition.steps}
        if status != "queued" and rng.random() < 0.5:
            snapshot = {"name": definition.name, **snapshot}
        return json_text(snapshot)

    def _steps(
        self,
        tenant: str,
        run_id: str,
        status: str,
        steps: list[dict],
        events: _EventLog,
        at: float,
    ) -> float:
        """Step runs as far as *status* implies; returns the time the run got to."""
        rng = self.rng
        waits_on = {"waiting_human": "wait_for_human", "waiting_approval": "wait_for_approval"}
        waiting = [i for i, s in enumerate(steps) if s["type"] == waits_on.get(status)]
        if status == "succeeded":
            done, current = len(steps), None
        elif waiting:  # parked on the step that waits
            done, current = waiting[0], status
        else:
            done = int(rng.random() * len(steps))
            current = {
                "failed": "failed",
                "cancelled": "cancelled",
                "running": "running",
                "waiting_human": "waiting_human",
                "waiting_approval": "waiting_approval",
            }.get(status)
        for index, step in enumerate(steps[: done + (current is not None)]):
            step_status = "succeeded" if index < done else str(current)
            at = self._step(tenant, run_id, step, step_status, events, at)
        return at

    def _step(
        self, tenant: str, run_id: str, step: dict, status: str, events: _EventLog, at: float
    ) -> float:
        rng = self.rng
        step_run_id = self.last_step_run_id = uuid4(rng)
        attempt = 1 if rng.random() < 0.1 else 0
        events.add(step_run_id, "step_started", {"step_id": step["id"], "attempt": attempt}, at)
        end = at + 0.2 + rng.random() * 40
        finished = status in ("succeeded", "failed", "cancelled")
        live = status == "running"
        row = (
            step_run_id,
            tenant,
            run_id,
            step["id"],
            step["name"],
            step["type"],
            status,
            attempt,
            stamp(at, self._tick()),
            stamp(end, self._tick()) if finished else None,
            json_text({"step": step["id"], "config": step["config"]}),
            json_text({"ok": True, "chars": int(rng.random() * 5000)})
            if status == "succeeded"
            else None,
            "HTTP 502 from webhook" if status == "failed" else None,
            "worker-2" if live else None,
            stamp(at, self._tick()) if live else None,
            stamp(at + 300, self._tick()) if live else None,
            stamp(at + 25, self._tick()) if live else None,
        )
        self.sink.add(self.steps_table, row)
        if finished:
            kind = {"succeeded": "step_completed", "failed": "step_failed"}.get(
                status, "step_cancelled"
            )
            events.add(step_run_id, kind, {"step_id": step["id"]}, end)
        return end if finished else at + 1

    def _artifacts(self, tenant: str, run_id: str, step_run_id: str | None, t: float) -> None:
        rng = self.rng
        for _ in range(1 + int(rng.random() * 2)):
            artifact_id = uuid4(rng)
            kind, mime, ext = rng.choice(
                (
                    ("report", "text/markdown", "md"),
                    ("audio", "audio/mpeg", "mp3"),
                    ("export", "application/json", "json"),
                )
            )
            row = (
                artifact_id,
                tenant,
                run_id,
                step_run_id,
                kind,
                f"file:///var/lib/tldw/artifacts/{run_id}/{artifact_id}.{ext}",
                int(rng.random() * 5_000_000),
                mime,
                hex_digits(rng, 64),
                json_text({"created_by": "workflow", "encoding": "utf-8"}),
                stamp(t, self._tick()),
            )
            self.sink.add("workflow_artifacts", row)


class _EventLog:
    """The events of one run, numbered from 1 without gaps (UNIQUE(run_id, event_seq))."""

    def __init__(self, gen: _WorkflowGenerator, tenant: str, run_id: str) -> None:
        self.gen, self.tenant, self.run_id, self.seq = gen, tenant, run_id, 0

    def add(self, step_run_id: str | None, event_type: str, payload: dict, t: float) -> None:
        self.seq += 1
        when = stamp(t, self.gen._tick())
        row = (
            self.tenant,
            self.run_id,
            step_run_id,
            self.seq,
            event_type,
            json_text(payload),
            when,
        )
        self.gen.sink.add("workflow_events", row)


def generate_workflows(sink: Sink, rng: random.Random, size: int, plan: Plan) -> None:
    gen = _WorkflowGenerator(sink, rng, size, plan.steps_table)
    gen.write_definitions()
    for ordinal in range(1, size + 1):
        gen.write_run(ordinal)
