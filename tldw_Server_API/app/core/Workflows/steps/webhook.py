"""The webhook step: one HTTP request per attempt, under the outbound policy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field, field_validator

from ... import outbound
from ..templates import TemplateError
from .base import StepConfig, StepContext, StepFailed, StepType

MAX_BODY_CHARS = 20_000
#: The config keys that, in older definitions, set the webhook's own retries: they are
#: now a spelling of the step's retry policy (see :meth:`WebhookStep.configured_retry`).
RETRY_KEYS = ("max_attempts", "backoff_seconds", "max_backoff_seconds")


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


class WebhookStep(StepType[WebhookConfig]):
    """POST (or PUT/PATCH) JSON to a URL the outbound policy admits.

    Each attempt sends one request (following redirects, each hop checked by the
    policy). Connection errors, timeouts, 5xx, 408, 425 and 429 fail the attempt
    as retryable: the step's retry policy decides whether another follows, and
    when. A refusal by the outbound policy and other 4xx answers fail the step at
    once. The output holds the status code, the attempt number and the response
    body (JSON when it parses).

    Retries: the step's ``retry`` wins; else the config's ``max_attempts``,
    ``backoff_seconds``, ``max_backoff_seconds`` when given (older definitions
    say it that way); else the definition's ``retry``; else 3 attempts, 0.5 s
    backoff doubling up to 30 s.
    """

    name = "webhook"
    Config = WebhookConfig
    #: The config's own defaults for those keys, as a retry policy: one set of numbers.
    default_retry: ClassVar[Mapping[str, Any] | None] = {
        key: WebhookConfig.model_fields[key].default for key in RETRY_KEYS
    }
    templated = ("url", "payload", "headers")

    def configured_retry(self, config: WebhookConfig) -> Mapping[str, Any] | None:
        assert isinstance(config, WebhookConfig)
        if not config.model_fields_set.intersection(RETRY_KEYS):
            return None
        return {key: getattr(config, key) for key in RETRY_KEYS}

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
        policy = outbound.OutboundPolicy.allowing(ctx.registry.settings.outbound_allow)
        ctx.signals.check()
        try:
            with outbound.client(config.timeout_seconds) as http:
                response = outbound.send(
                    http, policy, config.method, url, json=payload, headers=headers
                )
        except outbound.OutboundRefused as exc:
            raise StepFailed(str(exc), retryable=False) from None
        except (httpx.TooManyRedirects, httpx.InvalidURL) as exc:
            raise StepFailed(f"webhook {config.method} {url}: {exc}", retryable=False) from None
        except httpx.HTTPError as exc:
            raise StepFailed(
                f"webhook {config.method} {url} failed: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise StepFailed(
                f"webhook {config.method} {url} failed: HTTP {response.status_code}: "
                f"{response.text[:500]}",
                retryable=_retryable_status(response.status_code),
            )
        return {
            "status_code": response.status_code,
            "attempts": ctx.attempt,
            "body": _body(response),
        }


def _body(response: httpx.Response) -> Any:
    text = response.text
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text[:MAX_BODY_CHARS]
