"""The login lockout's counting (a clock of our own), and registration closed by default."""

from __future__ import annotations

from pathlib import Path

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.users.lockout import LoginLockout
from tldw_Server_API.tests.api.conftest import multi_user_clients


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_nth_failure_locks_for_the_lockout_from_the_last_failure() -> None:
    clock = Clock()
    lockout = LoginLockout(3, 60, clock)
    assert lockout.failed("user:a", "ip:1") is None
    assert lockout.failed("user:a", "ip:1") is None
    clock.now += 10
    assert lockout.failed("user:a", "ip:1") == 60
    clock.now += 59.5
    assert lockout.retry_after("user:a") == 1
    assert lockout.retry_after("user:b") is None
    clock.now += 1
    assert lockout.retry_after("user:a", "ip:1") is None  # over: counting starts again
    assert lockout.failed("user:a") is None


def test_failures_older_than_the_window_are_forgotten_and_success_clears() -> None:
    clock = Clock()
    lockout = LoginLockout(2, 30, clock)
    lockout.failed("user:a")
    clock.now += 31
    assert lockout.failed("user:a") is None  # the first one has expired
    lockout.failed("ip:1")
    lockout.succeeded("user:a", "ip:1")
    assert lockout.failed("user:a") is None and lockout.failed("ip:1") is None


def test_registration_is_closed_unless_enabled(settings: Settings, tmp_path: Path) -> None:
    assert Settings().enable_registration is False
    body = {"username": "newbie", "email": "n@example.org", "password": "Str0ng!pass"}
    with multi_user_clients(settings, tmp_path) as (alice, _):
        response = alice.post("/api/v1/auth/register", json=body)
    assert response.status_code == 403
    assert response.json()["detail"] == "Registration is currently disabled"
