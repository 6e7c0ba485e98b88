"""Password sign-in as tldw_server's clients use it, over a real socket, on both backends.

One multi-user server per backend for the module (accounts alice and bob made
with the ``users`` command; an API key for alice): login, refresh, logout and
``me`` answer tldw_server's shapes; forged, expired and revoked tokens are
refused; one user's token never reaches another's data; API keys keep working.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.signin_server import (
    ACCESS_MINUTES,
    ALICE_KEY,
    PASSWORDS,
    SECRET,
    SignInServer,
    backend_env,
    signin_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

TOKEN_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_server: PgTarget,
) -> Iterator[SignInServer]:
    tmp_path: Path = tmp_path_factory.mktemp(f"signin-{request.param}")
    with (
        backend_env(request.param, pg_server) as backend,
        signin_server(tmp_path, backend | {"ENABLE_REGISTRATION": "true"}) as s,
    ):
        yield s


def resigned(token: str, secret: str = SECRET, **claims: object) -> str:
    """*token*'s claims with *claims* changed, signed with *secret*."""
    payload = jwt.decode(token, options={"verify_signature": False}) | claims
    return jwt.encode(payload, secret, algorithm="HS256")


# -- login ------------------------------------------------------------------------------------


def test_login_answers_tldw_servers_token_shape(server: SignInServer) -> None:
    response = server.login("alice", PASSWORDS["alice"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == TOKEN_FIELDS
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == ACCESS_MINUTES * 60
    assert body["access_token"] != body["refresh_token"]


def test_the_access_token_is_an_hs256_jwt_signed_with_jwt_secret_key(
    server: SignInServer,
) -> None:
    claims = jwt.decode(server.tokens("bob")["access_token"], SECRET, algorithms=["HS256"])
    assert claims["username"] == "bob"
    assert claims["exp"] - claims["iat"] == ACCESS_MINUTES * 60


def test_the_username_is_case_insensitive(server: SignInServer) -> None:
    assert server.login("BoB", PASSWORDS["bob"]).status_code == 200


def test_a_wrong_password_and_an_unknown_name_get_one_generic_401(server: SignInServer) -> None:
    wrong = server.login("alice", "not-her-password")
    unknown = server.login("nobody-by-this-name", "not-her-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Incorrect username or password"}
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_a_username_no_database_can_hold_gets_the_generic_401(server: SignInServer) -> None:
    response = server.login("ali\x00ce", PASSWORDS["alice"])
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect username or password"}


def test_login_without_a_password_field_is_a_422_naming_it(server: SignInServer) -> None:
    response = server.call("POST", "/api/v1/auth/login", data={"username": "alice"})
    assert response.status_code == 422
    assert "password" in response.text


# -- using the access token --------------------------------------------------------------------


def test_an_access_token_opens_the_routes_of_its_user(server: SignInServer) -> None:
    token = server.tokens("bob")["access_token"]
    for path in ("/api/v1/media", "/api/v1/notes", "/api/v1/chats", "/api/v1/characters"):
        assert server.call("GET", path, token).status_code == 200, path


def test_me_names_the_account_and_never_its_hash(server: SignInServer) -> None:
    response = server.call("GET", "/api/v1/auth/me", server.tokens("bob")["access_token"])
    assert response.status_code == 200
    me = response.json()
    assert me["username"] == "bob" and me["user_id"] == "bob"
    assert me["auth_method"] == "jwt" and me["is_active"] is True
    assert isinstance(me["id"], int) and me["created_at"].endswith("Z")
    assert me["last_login"] is not None
    assert "hash" not in response.text and "$argon2" not in response.text


def test_a_token_of_one_user_never_reaches_another_users_data(server: SignInServer) -> None:
    bob = server.tokens("bob")["access_token"]
    alice = server.tokens("alice")["access_token"]
    note = server.call(
        "POST", "/api/v1/notes", bob, json={"title": "bob's secret", "content": "only bob"}
    )
    assert note.status_code == 201, note.text
    note_id = note.json()["id"]
    assert server.call("GET", f"/api/v1/notes/{note_id}", alice).status_code == 404
    alice_notes = server.call("GET", "/api/v1/notes", alice).text
    assert "bob's secret" not in alice_notes
    assert server.call("GET", f"/api/v1/notes/{note_id}", bob).status_code == 200


def test_an_api_key_and_a_password_of_one_user_id_reach_the_same_data(
    server: SignInServer,
) -> None:
    created = server.call(
        "POST",
        "/api/v1/notes",
        json={"title": "written with the key", "content": "x"},
        headers={"X-API-KEY": ALICE_KEY},
    )
    assert created.status_code == 201, created.text
    token = server.tokens("alice")["access_token"]
    read = server.call("GET", f"/api/v1/notes/{created.json()['id']}", token)
    assert read.status_code == 200 and read.json()["title"] == "written with the key"


def test_api_keys_keep_working_as_either_header(server: SignInServer) -> None:
    for headers in ({"X-API-KEY": ALICE_KEY}, {"Authorization": f"Bearer {ALICE_KEY}"}):
        me = server.call("GET", "/api/v1/auth/me", headers=headers)
        assert me.status_code == 200, headers
        assert me.json()["user_id"] == "alice" and me.json()["auth_method"] == "api_key"


# -- refused tokens ---------------------------------------------------------------------------


def test_an_expired_access_token_is_refused_saying_so(server: SignInServer) -> None:
    token = server.tokens("bob")["access_token"]
    past = int(time.time()) - 3600
    expired = resigned(token, iat=past - 60, exp=past)
    response = server.call("GET", "/api/v1/media", expired)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_token_signed_with_another_secret_is_refused(server: SignInServer) -> None:
    token = server.tokens("bob")["access_token"]
    forged = resigned(token, secret="another-secret-of-enough-length-0123456789")
    assert server.call("GET", "/api/v1/media", forged).status_code == 401


def test_a_token_claiming_another_account_is_refused(server: SignInServer) -> None:
    bob = server.tokens("bob")["access_token"]
    alice_id = jwt.decode(server.tokens("alice")["access_token"], SECRET, algorithms=["HS256"])
    # Signed with the right secret, but bob's session is not alice's account's.
    crossed = resigned(bob, sub=alice_id["sub"])
    assert server.call("GET", "/api/v1/media", crossed).status_code == 401


def test_an_unsigned_token_is_refused(server: SignInServer) -> None:
    token = server.tokens("bob")["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert server.call("GET", "/api/v1/media", unsigned).status_code == 401


# -- refresh and logout -----------------------------------------------------------------------


def refresh(server: SignInServer, refresh_token: str) -> httpx.Response:
    return server.call("POST", "/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def test_refresh_answers_new_tokens_that_work(server: SignInServer) -> None:
    first = server.tokens("bob")
    response = refresh(server, first["refresh_token"])
    assert response.status_code == 200
    renewed = response.json()
    assert set(renewed) == TOKEN_FIELDS and renewed["token_type"] == "bearer"
    assert renewed["refresh_token"] != first["refresh_token"]
    assert server.call("GET", "/api/v1/media", renewed["access_token"]).status_code == 200


def test_a_refresh_token_works_once(server: SignInServer) -> None:
    first = server.tokens("bob")
    assert refresh(server, first["refresh_token"]).status_code == 200
    again = refresh(server, first["refresh_token"])
    assert again.status_code == 401


def test_a_reused_refresh_token_ends_its_session(server: SignInServer) -> None:
    first = server.tokens("bob")
    renewed = refresh(server, first["refresh_token"]).json()
    refresh(server, first["refresh_token"])  # a copy of the old token is presented
    assert server.call("GET", "/api/v1/media", renewed["access_token"]).status_code == 401
    assert refresh(server, renewed["refresh_token"]).status_code == 401


def test_an_unknown_refresh_token_is_a_401(server: SignInServer) -> None:
    assert refresh(server, "never-issued").status_code == 401


def test_logout_ends_the_session_and_its_refresh_token(server: SignInServer) -> None:
    tokens = server.tokens("bob")
    response = server.call("POST", "/api/v1/auth/logout", tokens["access_token"])
    assert response.status_code == 200 and response.json() == {"message": "Successfully logged out"}
    assert server.call("GET", "/api/v1/media", tokens["access_token"]).status_code == 401
    assert refresh(server, tokens["refresh_token"]).status_code == 401


def test_logout_leaves_the_other_sessions_of_the_account(server: SignInServer) -> None:
    laptop, phone = server.tokens("bob"), server.tokens("bob")
    server.call("POST", "/api/v1/auth/logout", laptop["access_token"])
    assert server.call("GET", "/api/v1/media", phone["access_token"]).status_code == 200


def test_logout_with_an_api_key_ends_nothing_and_says_so(server: SignInServer) -> None:
    key = {"X-API-KEY": ALICE_KEY}
    response = server.call("POST", "/api/v1/auth/logout", headers=key)
    assert response.status_code == 200
    assert "API key has no session" in response.json()["message"]
    assert server.call("GET", "/api/v1/media", headers=key).status_code == 200


# -- the command while the server runs --------------------------------------------------------


def test_a_new_password_ends_every_session_of_the_account(server: SignInServer) -> None:
    done = server.users("add", "carol", password="carol-password-1")
    assert done.returncode == 0, done.stderr
    login = server.login("carol", "carol-password-1")
    assert login.status_code == 200
    token = login.json()["access_token"]
    assert server.users("passwd", "carol", password="carol-password-2").returncode == 0
    assert server.call("GET", "/api/v1/media", token).status_code == 401
    assert server.login("carol", "carol-password-1").status_code == 401
    assert server.login("carol", "carol-password-2").status_code == 200


def test_an_account_added_while_the_server_runs_signs_in_and_writes(
    server: SignInServer,
) -> None:
    assert server.users("add", "dora", password="dora-password-1").returncode == 0
    token = server.login("dora", "dora-password-1").json()["access_token"]
    created = server.call(
        "POST",
        "/api/v1/media/add",
        token,
        data={"media_type": "document", "title": "t"},
        files=[("files", ("t.txt", b"c", "text/plain"))],
    )
    assert created.status_code == 200, created.text
    assert server.call("GET", "/api/v1/media/", token).json()["pagination"]["total"] == 1


def test_a_disabled_account_cannot_sign_in(server: SignInServer) -> None:
    assert server.users("add", "erin", password="erin-password-1").returncode == 0
    token = server.login("erin", "erin-password-1").json()["access_token"]
    assert server.users("disable", "erin").returncode == 0
    assert server.login("erin", "erin-password-1").json() == {
        "detail": "Incorrect username or password"
    }
    assert server.call("GET", "/api/v1/media", token).status_code == 401


# -- probes -----------------------------------------------------------------------------------


def test_health_and_ready_answer_outside_api_v1_without_credentials(
    server: SignInServer,
) -> None:
    health = server.call("GET", "/health")
    assert health.status_code == 200 and health.json() == {"status": "healthy"}
    ready = server.call("GET", "/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


# -- registration and the login lockout -------------------------------------------------------


def test_registration_makes_an_account_that_signs_in_and_owns_its_data(
    server: SignInServer,
) -> None:
    body = {"username": "Grace_1", "email": "Grace@Example.org", "password": "Str0ng!pass"}
    response = server.call("POST", "/api/v1/auth/register", json=body | {"referrer": "x"})
    assert response.status_code == 200, response.text
    made = response.json()
    assert set(made) == {
        "message",
        "user_id",
        "username",
        "email",
        "requires_verification",
        "api_key",
    }
    assert made["username"] == "grace_1" and made["email"] == "grace@example.org"
    assert isinstance(made["user_id"], int) and made["requires_verification"] is False
    token = server.login("GRACE_1", body["password"])
    assert token.status_code == 200, token.text
    me = server.call("GET", "/api/v1/auth/me", token.json()["access_token"]).json()
    assert me["id"] == made["user_id"] and me["user_id"] == "grace_1"
    again = server.call("POST", "/api/v1/auth/register", json=body)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"username": "ab", "email": "a@b.cd", "password": "Str0ng!pass"}, 422, "body.username"),
        ({"username": "a b", "email": "a@b.cd", "password": "Str0ng!pass"}, 422, "body.username"),
        ({"username": "Admin", "email": "a@b.cd", "password": "Str0ng!pass"}, 422, "body.username"),
        ({"username": "henry", "email": "not-mail", "password": "Str0ng!pass"}, 422, "body.email"),
        ({"username": "henry", "email": "a@b.cd", "password": "Sh0rt!"}, 422, "body.password"),
        ({"username": "henry", "email": "a@b.cd"}, 422, "body.password"),
        ({"username": "henry", "email": "a@b.cd", "password": "alllowercase1!"}, 400, "the"),
    ],
)
def test_bad_registrations_are_refused(
    server: SignInServer, body: dict[str, str], status: int, named: str
) -> None:
    response = server.call("POST", "/api/v1/auth/register", json=body)
    assert response.status_code == status, response.text
    assert response.json()["detail"].startswith(named), response.json()["detail"]


def test_a_refused_registration_makes_nothing(server: SignInServer) -> None:
    body = {"username": "ivy", "email": "ivy@example.org", "password": "weakpassword"}
    assert server.call("POST", "/api/v1/auth/register", json=body).status_code == 400
    strong = body | {"password": "Str0ng!pass"}
    assert server.call("POST", "/api/v1/auth/register", json=strong).status_code == 200


def test_repeated_failed_logins_are_locked_out_with_retry_after(server: SignInServer) -> None:
    assert server.users("add", "frank", password="frank-password-1").returncode == 0
    # Other tests' failed logins (from this same address) are cleared by a successful one.
    assert server.login("alice", PASSWORDS["alice"]).status_code == 200
    answers = [server.login("frank", f"wrong-{n}") for n in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    locked = server.login("frank", "frank-password-1")  # the right password waits too
    assert locked.status_code == 429
    assert locked.json() == {
        "detail": "Too many failed login attempts. Account temporarily locked."
    }
    assert 1 <= int(locked.headers["retry-after"]) <= 900
    # Another account from the same address signs in (and clears the address's count).
    assert server.login("alice", PASSWORDS["alice"]).status_code == 200
    assert server.login("alice", "not-her-password").status_code == 401
    # Leave the address's count at zero for the module's other tests.
    assert server.login("alice", PASSWORDS["alice"]).status_code == 200


def _new_code(server: SignInServer, *args: str) -> str:
    made = server.users("code", *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.split("\t")[0]


def test_a_registration_code_is_used_up_by_registering(server: SignInServer) -> None:
    code = _new_code(server)
    body = {"email": "k@example.org", "password": "Str0ng!pass", "registration_code": code}
    first = server.call("POST", "/api/v1/auth/register", json=body | {"username": "kim"})
    assert first.status_code == 200, first.text
    again = server.call("POST", "/api/v1/auth/register", json=body | {"username": "kim2"})
    assert again.status_code == 400
    assert again.json() == {"detail": "Invalid registration code."}


def test_an_unknown_registration_code_is_refused_and_makes_nothing(server: SignInServer) -> None:
    body = {"username": "lee", "email": "l@example.org", "password": "Str0ng!pass"}
    wrong = server.call("POST", "/api/v1/auth/register", json=body | {"registration_code": "x"})
    assert wrong.status_code == 400
    assert server.call("POST", "/api/v1/auth/register", json=body).status_code == 200


def test_a_refused_registration_uses_no_code(server: SignInServer) -> None:
    code = _new_code(server)
    body = {"email": "m@example.org", "password": "Str0ng!pass", "registration_code": code}
    taken = server.call("POST", "/api/v1/auth/register", json=body | {"username": "alice"})
    assert taken.status_code == 409
    made = server.call("POST", "/api/v1/auth/register", json=body | {"username": "mia"})
    assert made.status_code == 200, made.text
