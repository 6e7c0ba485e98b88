"""The login lockout: its counting in the Users database (a clock of our own), shared by
every process on one database; the client's address behind trusted proxies; registration
closed by default."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.schemas.users import login_failures
from tldw_Server_API.app.core.users.addresses import client_address, parse_networks
from tldw_Server_API.app.core.users.lockout import LoginLockout
from tldw_Server_API.tests.api.conftest import multi_user_clients
from tldw_Server_API.tests.api.signin_server import SignInServer, signin_server


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_the_nth_failure_locks_for_the_lockout_from_the_last_failure(
    registry: DatabaseRegistry,
) -> None:
    clock = Clock()
    lockout = LoginLockout(registry.users(), 3, 60, clock)
    assert lockout.failed("user:a", "ip:1") is None
    assert lockout.failed("user:a", "ip:1") is None
    clock.advance(10)
    assert lockout.failed("user:a", "ip:1") == 60
    clock.advance(59.5)
    assert lockout.retry_after("user:a") == 1
    assert lockout.retry_after("user:b") is None
    clock.advance(1)
    assert lockout.retry_after("user:a", "ip:1") is None  # over: counting starts again
    assert lockout.failed("user:a") is None


def test_failures_older_than_the_window_are_forgotten_and_success_clears(
    registry: DatabaseRegistry,
) -> None:
    clock = Clock()
    lockout = LoginLockout(registry.users(), 2, 30, clock)
    lockout.failed("user:a")
    clock.advance(31)
    assert lockout.failed("user:a") is None  # the first one has expired
    lockout.failed("ip:1")
    lockout.succeeded("user:a", "ip:1")
    assert lockout.failed("user:a") is None and lockout.failed("ip:1") is None


def test_processes_on_one_users_database_count_failures_together(
    settings: Settings,
) -> None:
    clock = Clock()
    first, second = DatabaseRegistry(settings), DatabaseRegistry(settings)
    try:
        one = LoginLockout(first.users(), 2, 60, clock)
        other = LoginLockout(second.users(), 2, 60, clock)
        assert one.failed("user:carol") is None
        assert other.failed("user:carol") == 60  # the second failure, at the other process
        assert one.retry_after("user:carol") == 60
    finally:
        first.close()
        second.close()


def test_expired_counts_are_deleted_and_keys_are_stored_as_digests(
    registry: DatabaseRegistry,
) -> None:
    clock = Clock()
    lockout = LoginLockout(registry.users(), 5, 30, clock)
    lockout.failed("user:my-secret-typed-as-a-name")
    clock.advance(31)
    lockout.failed("user:b")
    with registry.users().begin(write=False) as conn:
        keys = conn.execute(select(login_failures.c.key_hash)).scalars().all()
        count = conn.execute(select(func.count()).select_from(login_failures)).scalar_one()
    assert count == 1
    assert all(len(k) == 64 and "secret" not in k for k in keys)


# -- the client's address ---------------------------------------------------------------------

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"])


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("10.0.0.5", ["203.0.113.9"], ()) == "10.0.0.5"


def test_an_untrusted_peers_forwarded_for_is_ignored() -> None:
    assert client_address("198.51.100.2", ["203.0.113.9"], PROXIES) == "198.51.100.2"


def test_the_right_most_untrusted_entry_is_the_client() -> None:
    # The client forged the left entry; our proxies appended the two on the right.
    forwarded = ["1.2.3.4, 203.0.113.9", "10.1.1.1"]
    assert client_address("10.0.0.5", forwarded, PROXIES) == "203.0.113.9"


def test_forwarded_entries_with_ports_and_ipv6() -> None:
    assert client_address("10.0.0.5", ["203.0.113.9:4711"], PROXIES) == "203.0.113.9"
    assert client_address("fd00::1", ["[2001:db8::7]:443"], PROXIES) == "2001:db8::7"


def test_an_entry_that_is_no_address_stops_at_the_trusted_hop_before_it() -> None:
    assert client_address("10.0.0.5", ["unknown, 10.2.2.2"], PROXIES) == "10.2.2.2"


def test_all_trusted_entries_give_the_left_most_and_no_header_the_peer() -> None:
    assert client_address("10.0.0.5", ["10.3.3.3, 10.2.2.2"], PROXIES) == "10.3.3.3"
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"


def test_a_range_with_host_bits_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.1/8'")):
        parse_networks(["10.0.0.1/8"])
    assert parse_networks([" 192.0.2.1 "]) == (ip_network("192.0.2.1/32"),)


# -- over a socket: a server that trusts 127.0.0.2 as its proxy -------------------------------
# (Not 127.0.0.1: uvicorn itself believes X-Forwarded-For from there, FORWARDED_ALLOW_IPS.)

PROXY, STRANGER = "127.0.0.2", "127.0.0.3"
TRUSTING = {"TLDW_TRUSTED_PROXIES": PROXY, "TLDW_LOGIN_MAX_FAILURES": "3"}


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInServer]:
    with signin_server(tmp_path_factory.mktemp("proxied"), TRUSTING) as server:
        yield server


def _fail_from(server: SignInServer, source: str, forwarded: str, name: str) -> int:
    """A failed login of *name* sent from the local address *source* with *forwarded*."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        response = client.post(
            f"{server.url}/api/v1/auth/login",
            data={"username": name, "password": "wrong-password"},
            headers={"X-Forwarded-For": forwarded},
        )
    return response.status_code


@pytest.mark.slow
def test_a_trusted_proxys_forwarded_for_names_the_locked_out_client(
    proxied: SignInServer,
) -> None:
    codes = [_fail_from(proxied, PROXY, "198.51.100.7", f"p{n}") for n in range(3)]
    assert codes == [401, 401, 429]
    # Another client behind the same proxy is not locked out.
    assert _fail_from(proxied, PROXY, "198.51.100.8", "p9") == 401


@pytest.mark.slow
def test_a_forged_left_entry_does_not_escape_the_lockout(proxied: SignInServer) -> None:
    forged = [f"203.0.113.{n}, 198.51.100.20" for n in range(3)]
    codes = [_fail_from(proxied, PROXY, f, f"q{n}") for n, f in enumerate(forged)]
    assert codes == [401, 401, 429]


@pytest.mark.slow
def test_a_forwarded_for_forged_by_an_untrusted_peer_is_ignored(proxied: SignInServer) -> None:
    # STRANGER is no trusted proxy: its header is ignored, so its failures all count
    # against its own address, whatever client each claims to forward.
    codes = [_fail_from(proxied, STRANGER, f"198.51.100.{30 + n}", f"r{n}") for n in range(3)]
    assert codes == [401, 401, 429]


def test_registration_is_closed_unless_enabled(settings: Settings, tmp_path: Path) -> None:
    assert Settings().enable_registration is False
    body = {"username": "newbie", "email": "n@example.org", "password": "Str0ng!pass"}
    with multi_user_clients(settings, tmp_path) as (alice, _):
        response = alice.post("/api/v1/auth/register", json=body)
    assert response.status_code == 403
    assert response.json()["detail"] == "Registration is currently disabled"
