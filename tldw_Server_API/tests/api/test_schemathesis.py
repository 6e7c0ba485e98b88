"""The whole API against its own OpenAPI schema, with generated requests (schemathesis).

For every operation, schemathesis sends requests built from the schema (valid
ones, and invalid ones that must be refused with a 4xx) to the real app on each
backend, in multi-user mode with a real API key, and checks each answer: no
server error (5xx), a status the schema declares, a body that matches the
declared schema for that status, invalid data refused, valid data accepted.

The budget is bounded and deterministic (``derandomize``: the same requests on
every run), a few examples per operation, so the run is repeatable in CI.

Nothing is excluded: no route is destructive beyond the caller's own data, and
``?mode=sync`` runs wait at most their own bounded ``timeout`` (no workflow
workers run here, so a sync run answers when its timeout ends: the generated
timeout is capped below).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.factory import create_app
from tldw_Server_API.tests.api.conftest import fresh_installation, with_key

KEY = "schemathesis-key-0123456789abcdef"
USER = "fuzzer"
HEADERS = {"X-API-KEY": KEY}
#: Generated examples per operation and phase: enough to reach every parameter's edges,
#: small enough for a run of well under two minutes per backend on two cores.
EXAMPLES_PER_OPERATION = 8
#: Longest ``timeout`` a generated sync workflow run may wait (seconds).
SYNC_TIMEOUT_CAP = 0.2


#: Checks left out for one operation, each with the reason.
EXCLUDED_CHECKS: dict[str, tuple[Any, ...]] = {
    # A definition's rules beyond JSON Schema (each step's config by its type, on_success
    # naming an existing step) answer 422 with `errors`; the schema states the shape only.
    "POST /api/v1/workflows": (positive_data_acceptance,),
    # A multipart form: it must name at least one file or URL (a rule JSON Schema cannot
    # state for a form), and every form value is text on the wire, so a generated "number"
    # for urls arrives as a text URL (reported per item) and a generated string for files
    # is not a file.
    "POST /api/v1/media/add": (positive_data_acceptance, negative_data_rejection),
    # tldw_server's rules across fields, which JSON Schema does not state: a note needs a
    # title or auto_title (400), a message non-blank content or an image, an edit content
    # or pinned (422), a registration a name that is not reserved and a password of every
    # kind of character (422, 400).
    "POST /api/v1/notes/": (positive_data_acceptance,),
    "POST /api/v1/chats/{chat_id}/messages": (positive_data_acceptance,),
    "PUT /api/v1/messages/{message_id}": (positive_data_acceptance,),
    "POST /api/v1/auth/register": (positive_data_acceptance,),
}


def multi_user_settings(settings: Settings, keys_dir: Path) -> Settings:
    keys_file = keys_dir / "api_keys.json"
    keys_file.write_text(json.dumps({KEY: USER}), encoding="utf-8")
    return with_key(settings, auth_mode="multi_user", api_keys_file=keys_file)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_schema(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_server: PgTarget,
) -> Iterator[Any]:
    """The app's schema, loaded from the app itself, on a fresh installation of each backend."""
    root = tmp_path_factory.mktemp(f"schemathesis-{request.param}")
    with fresh_installation(request.param, root / "Databases", pg_server) as settings:
        app = create_app(multi_user_settings(settings, root))
        try:
            yield schemathesis.openapi.from_asgi("/openapi.json", app)
        finally:
            shutdown_lifespans()  # closes this app's databases before the next backend


def failures_of(operation: Any, mode: GenerationMode) -> list[str]:
    """Every distinct failure schemathesis finds in *operation* (one line each)."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't minimise
    )
    def check(case: Any) -> None:
        excluded = EXCLUDED_CHECKS.get(operation.label, ())
        if case.query and "timeout" in case.query:
            timeout = case.query["timeout"]
            if isinstance(timeout, int | float) and not isinstance(timeout, bool):
                case.query["timeout"] = min(timeout, SYNC_TIMEOUT_CAP)
        if mode is GenerationMode.NEGATIVE and [] in (case.query or {}).values():
            # An empty list as a query value is sent as no parameter at all: the request on
            # the wire is a valid one, which the server rightly accepts.
            return
        response = case.call(headers=HEADERS)
        try:
            case.validate_response(response, headers=HEADERS, excluded_checks=list(excluded))
        except FailureGroup as group:
            sent = f"query={case.query!r} body={case.body!r}"[:400]
            answer = f"{response.status_code} {response.text[:400]}"
            for failure in group.exceptions:
                found.append(f"{operation.label} ({mode}): {failure.title}: {sent} -> {answer}")

    try:
        check()
    except Unsatisfiable:
        # Negative mode on an operation with nothing to make invalid (no parameter, no body).
        assert mode is GenerationMode.NEGATIVE, operation.label
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_its_schema_says(api_schema: Any, mode: GenerationMode) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30  # the schema was read whole
    for operation in operations:
        failures.extend(failures_of(operation, mode))
    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} failure(s):\n" + "\n".join(unique)
