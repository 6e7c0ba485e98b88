"""The outbound policy: which addresses the server's own requests may reach, checked after DNS
resolution and on every redirect, before any connection is attempted."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tldw_Server_API.app.core import outbound
from tldw_Server_API.app.core.config import ConfigError, load_settings, to_environment
from tldw_Server_API.app.core.outbound import REFUSED, OutboundPolicy, OutboundRefused, is_internal

INTERNAL = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "224.0.0.251",
    "239.255.255.250",
    "255.255.255.255",
    "::",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fd00:ec2::254",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
]
PUBLIC = ["93.184.215.14", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert is_internal(ip)
    assert not OutboundPolicy().admits_address(ip)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_admitted(address: str) -> None:
    assert OutboundPolicy().admits_address(ipaddress.ip_address(address))


def test_an_allowed_range_admits_its_addresses_only() -> None:
    policy = OutboundPolicy.allowing(["10.0.0.0/8", "fd00::/8"])

    assert policy.admits_address(ipaddress.ip_address("10.20.30.40"))
    assert policy.admits_address(ipaddress.ip_address("fd00::5"))
    assert not policy.admits_address(ipaddress.ip_address("192.168.0.1"))
    assert not policy.admits_address(ipaddress.ip_address("127.0.0.1"))


def test_a_name_is_checked_after_resolution() -> None:
    with pytest.raises(OutboundRefused) as refused:
        OutboundPolicy().address_for(httpx.URL("http://localhost:9/x"))
    assert str(refused.value) == REFUSED
    allowed = OutboundPolicy.allowing(["localhost"]).address_for(httpx.URL("http://LOCALHOST./"))
    assert allowed.is_loopback


def test_other_schemes_are_refused() -> None:
    with pytest.raises(OutboundRefused):
        OutboundPolicy.allowing(["127.0.0.1"]).address_for(httpx.URL("ftp://127.0.0.1/"))


def test_the_allow_list_is_read_from_tldw_outbound_allow(tmp_path: Any) -> None:
    env = {"TLDW_OUTBOUND_ALLOW": " hooks.internal , 10.0.0.0/8,fd00::1 "}

    settings = load_settings(env=env, config_file=tmp_path / "none.txt")

    assert settings.outbound_allow == ("hooks.internal", "10.0.0.0/8", "fd00::1")
    assert load_settings(env={}, config_file=tmp_path / "none.txt").outbound_allow == ()


def test_a_malformed_allow_list_entry_is_a_config_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="TLDW_OUTBOUND_ALLOW"):
        load_settings(env={"TLDW_OUTBOUND_ALLOW": "10.0.0.0/99"}, config_file=tmp_path / "x")


# -- requests over real local servers ------------------------------------------------------------


@dataclass
class Local:
    """A local HTTP server: what it received, and a function answering each request."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)


Answer = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str]]]


@pytest.fixture
def local_server() -> Iterator[Callable[..., Local]]:
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Answer | None = None, host: str = "127.0.0.1") -> Local:
        local = Local(url="")

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                local.received.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "host": self.headers.get("Host"),
                        "authorization": self.headers.get("Authorization"),
                        "body": self.rfile.read(length),
                    }
                )
                status, headers = answer(self) if answer else (200, {})
                reply = b'{"secret": "internal admin page"}'
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer((host, 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        local.url = f"http://{host}:{server.server_address[1]}"
        return local

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(policy: OutboundPolicy, url: str, **kwargs: Any) -> Any:
    with outbound.client(5.0) as http:
        return outbound.send(http, policy, "POST", url, json={"x": 1}, **kwargs)


def test_a_local_server_receives_nothing_by_default(local_server: Callable[..., Local]) -> None:
    admin = local_server()

    with pytest.raises(OutboundRefused) as refused:
        post(OutboundPolicy(), f"{admin.url}/internal/admin")

    assert str(refused.value) == REFUSED
    assert admin.received == []


def test_open_and_closed_ports_are_refused_alike(local_server: Callable[..., Local]) -> None:
    admin = local_server()
    answers = []
    for url in (f"{admin.url}/internal/admin", f"http://127.0.0.1:{closed_port()}/internal/admin"):
        with pytest.raises(OutboundRefused) as refused:
            post(OutboundPolicy(), url)
        answers.append(str(refused.value))

    assert answers == [REFUSED, REFUSED]
    assert admin.received == []


def test_the_allow_list_admits_the_local_server(local_server: Callable[..., Local]) -> None:
    hook = local_server()

    response = post(OutboundPolicy.allowing(["127.0.0.1/32"]), f"{hook.url}/hook")

    assert response.status_code == 200
    assert [r["path"] for r in hook.received] == ["/hook"]
    assert hook.received[0]["body"] == b'{"x":1}'


def test_an_allowed_name_is_connected_to_at_its_checked_address_with_its_host_header(
    local_server: Callable[..., Local],
) -> None:
    hook = local_server()
    port = hook.url.rsplit(":", 1)[1]

    response = post(OutboundPolicy.allowing(["localhost"]), f"http://localhost:{port}/hook")

    assert response.status_code == 200
    assert hook.received[0]["host"] == f"localhost:{port}"


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(
    local_server: Callable[..., Local],
) -> None:
    inside = local_server(host="127.0.0.2")
    allowed = local_server(lambda _: (307, {"Location": f"{inside.url}/internal/admin"}))

    with pytest.raises(OutboundRefused) as refused:
        post(OutboundPolicy.allowing(["127.0.0.1"]), f"{allowed.url}/hook")

    assert str(refused.value) == REFUSED
    assert len(allowed.received) == 1
    assert inside.received == []


def test_a_redirect_to_the_metadata_address_is_refused(local_server: Callable[..., Local]) -> None:
    allowed = local_server(lambda _: (302, {"Location": "http://169.254.169.254/latest/"}))

    with pytest.raises(OutboundRefused):
        post(OutboundPolicy.allowing(["127.0.0.1"]), f"{allowed.url}/hook")


def test_redirects_between_admitted_hosts_are_followed_without_credentials_crossing(
    local_server: Callable[..., Local],
) -> None:
    final = local_server(host="127.0.0.2")
    first = local_server(lambda _: (307, {"Location": f"{final.url}/next"}))
    policy = OutboundPolicy.allowing(["127.0.0.0/8"])

    response = post(policy, f"{first.url}/hook", headers={"Authorization": "Bearer s3cret"})

    assert response.status_code == 200
    assert first.received[0]["authorization"] == "Bearer s3cret"
    assert [(r["method"], r["path"], r["authorization"]) for r in final.received] == [
        ("POST", "/next", None)
    ]


def test_a_worker_process_inherits_the_allow_list(tmp_path: Any) -> None:
    settings = load_settings(
        env={"TLDW_OUTBOUND_ALLOW": "a.example,10.0.0.0/8"}, config_file=tmp_path / "x"
    )

    child = load_settings(env=to_environment(settings), config_file=tmp_path / "x")

    assert child.outbound_allow == ("a.example", "10.0.0.0/8")


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1", "[::ffff:7f00:1]"])
def test_other_spellings_of_loopback_are_refused_once_resolved(host: str) -> None:
    with pytest.raises(OutboundRefused):
        OutboundPolicy().address_for(httpx.URL(f"http://{host}:9/"))


@pytest.fixture
def tls_localhost(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext, list[str]]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only ``localhost``: its port, a
    client context trusting that certificate, and the Host headers it received."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    new_certificate = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    names = ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
    files = ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        ["openssl", *new_certificate, *names, *files],
        check=True,
        capture_output=True,
    )
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hosts.append(str(self.headers.get("Host")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1]), ssl.create_default_context(cafile=str(cert)), hosts
    finally:
        server.shutdown()
        server.server_close()


def test_https_to_a_pinned_address_verifies_the_hosts_certificate(
    tls_localhost: tuple[int, ssl.SSLContext, list[str]],
) -> None:
    port, trust, hosts = tls_localhost
    policy = OutboundPolicy.allowing(["localhost"])

    with outbound.client(5.0, verify=trust) as http:
        response = outbound.send(http, policy, "POST", f"https://localhost:{port}/hook")

    assert response.status_code == 204
    assert hosts == [f"localhost:{port}"]
