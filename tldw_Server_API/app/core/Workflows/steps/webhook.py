"""The webhook step: an HTTP request with retries and exponential backoff."""

from __future__ import annotations

import json
from typing import Any, Literal

import httpx
from pydantic import Field, field_validator

from ..templates import TemplateError
from .base import StepConfig, StepContext, StepFailed, StepType
from .basic import _template_problems

MAX_BODY_CHARS = 20_000


class WebhookConfig(StepConfig):
    url: str
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    #: The JSON body (templated); by default the run's id, step id and inputs.
    payload: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    max_attempts: int = Field(default=3, ge=1, le=20)
    backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    max_backoff_seconds: float = Field(default=30.0, ge=0, le=3600)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if "{{" not in value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value


def _retryable_status(code: int) -> bool:
    return code >= 500 or code in (408, 425, 429)


class WebhookStep(StepType):
    """POST (or PUT/PATCH) JSON to a URL.

    Connection errors, timeouts, 5xx, 408, 425 and 429 are retried up to
    ``max_attempts`` times, waiting ``backoff_seconds * 2**(n-1)`` (at most
    ``max_backoff_seconds``) before attempt ``n + 1``; other 4xx answers fail
    the step at once. Each failed attempt is logged as a ``webhook_attempt_failed``
    event. The output holds the status code, the number of attempts and the
    response body (JSON when it parses).
    """

    name = "webhook"
    Config = WebhookConfig

    def check(self, config: WebhookConfig) -> list[str]:
        return _template_problems(config.url, config.payload, config.headers)

    def run(self, ctx: StepContext, config: WebhookConfig) -> dict[str, Any]:
        try:
            url = ctx.render(config.url)
            payload = (
                ctx.render_value(config.payload)
                if config.payload is not None
                else {"run_id": ctx.run_id, "step_id": ctx.step_id, "inputs": dict(ctx.inputs)}
            )
            headers = {k: ctx.render(v) for k, v in config.headers.items()}
        except TemplateError as exc:
            raise StepFailed(str(exc), retryable=False) from None
        if not url.lower().startswith(("http://", "https://")):
            raise StepFailed(f"webhook url {url!r} is not http(s)", retryable=False)
        headers.setdefault("Idempotency-Key", f"{ctx.run_id}:{ctx.step_id}")
        last_error = ""
        with httpx.Client(timeout=config.timeout_seconds, follow_redirects=False) as client:
            for attempt in range(1, config.max_attempts + 1):
                ctx.signals.check()
                try:
                    response = client.request(config.method, url, json=payload, headers=headers)
                except httpx.HTTPError as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                    retry = True
                else:
                    if response.status_code < 400:
                        return {
                            "status_code": response.status_code,
                            "attempts": attempt,
                            "body": _body(response),
                        }
                    last_error = f"HTTP {response.status_code}: {response.text[:500]}"
                    retry = _retryable_status(response.status_code)
                final = not retry or attempt == config.max_attempts
                delay = (
                    0.0
                    if final
                    else min(
                        config.max_backoff_seconds, config.backoff_seconds * 2 ** (attempt - 1)
                    )
                )
                ctx.event(
                    "webhook_attempt_failed",
                    {"attempt": attempt, "error": last_error, "retry_in_seconds": delay},
                )
                if final:
                    break
                ctx.sleep(delay)
        raise StepFailed(
            f"webhook {config.method} {url} failed after {attempt} attempt(s): {last_error}",
            retryable=retry,
        )


def _body(response: httpx.Response) -> Any:
    text = response.text
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text[:MAX_BODY_CHARS]
