"""The outbound policy: which addresses the server's own HTTP requests may reach.

A workflow step that makes a request (the webhook step) acts with the server's
network position, not its user's: without a policy, any API key holder could
reach the server's loopback services, the private network behind it and the
cloud metadata endpoint, and read their answers (server-side request forgery).

So every request goes through :func:`send`, which

* resolves the host **once** and refuses when any of its addresses is not a
  public one (:func:`is_internal`): loopback, private (RFC 1918, ``fc00::/7``),
  link-local (``169.254/16``, ``fe80::/10``, the cloud metadata addresses
  ``169.254.169.254`` and ``fd00:ec2::254``), carrier-grade NAT ``100.64/10``,
  multicast, unspecified (``0.0.0.0``, ``::``), reserved and documentation
  ranges, and IPv6 forms that embed such an IPv4 address;
* connects to the address it checked (the URL is rewritten to the IP; ``Host``
  and the TLS server name stay the host's), so a second DNS answer cannot
  swap in another address (DNS rebinding);
* follows redirects itself, checking every hop the same way;
* ignores proxy variables (a proxy would resolve the name itself).

A refusal is :class:`OutboundRefused`, whose message is always exactly
:data:`REFUSED`: it is decided before any connection is attempted, so it says
nothing about whether anything listens there.

``TLDW_OUTBOUND_ALLOW`` (comma-separated host names, addresses or CIDR ranges)
admits what an administrator trusts: an allowed host name may resolve to
anything; an allowed range admits its addresses whatever name led there.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

REFUSED = "blocked by the outbound policy"
MAX_REDIRECTS = 5
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Ranges refused even where Python's ``is_global`` would say otherwise.
ALWAYS_INTERNAL: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "169.254.169.254/32",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "fd00:ec2::254/128",
        "ff00::/8",
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})


class OutboundRefused(Exception):
    """The outbound policy refuses this request; the message is always :data:`REFUSED`."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_internal(address: IPAddress) -> bool:
    """Whether *address* is anything but a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_internal(embedded):
            return True
    if any(address in network for network in ALWAYS_INTERNAL if network.version == address.version):
        return True
    return not address.is_global or address.is_multicast


def _parse_allowed(entry: str) -> IPNetwork | str:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return entry.lower().rstrip(".")


@dataclass(frozen=True)
class OutboundPolicy:
    """Internal addresses are refused unless their host or range is in *allow*."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def allowing(cls, entries: Iterable[str] = ()) -> OutboundPolicy:
        parsed = [_parse_allowed(e.strip()) for e in entries if e.strip()]
        return cls(
            allowed_networks=tuple(p for p in parsed if not isinstance(p, str)),
            allowed_hosts=frozenset(p for p in parsed if isinstance(p, str)),
        )

    def admits_address(self, address: IPAddress) -> bool:
        if not is_internal(address):
            return True
        return any(
            address in network
            for network in self.allowed_networks
            if network.version == address.version
        )

    def address_for(self, url: httpx.URL) -> IPAddress:
        """The one address to connect to for *url*, or :class:`OutboundRefused`.

        Every address the host resolves to must be admitted: a name that also
        points inside is refused, whichever address would have been used.
        """
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise OutboundRefused()
        host = _host(url)
        addresses = resolve(host, url.port or (443 if url.scheme == "https" else 80))
        if host in self.allowed_hosts:
            return addresses[0]
        if not all(self.admits_address(a) for a in addresses):
            raise OutboundRefused()
        return addresses[0]


def _host(url: httpx.URL) -> str:
    """The host as it is resolved and compared (ASCII, IDNA-encoded, lower case, no root dot)."""
    return url.raw_host.decode("ascii").lower().rstrip(".")


class ResolutionFailed(httpx.ConnectError):
    """The host name has no address (a connection error: retried like one)."""


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses of *host* (an IP literal is its own), in the resolver's order."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ResolutionFailed(f"could not resolve host {host!r}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        # Scoped IPv6 addresses come back as 'fe80::1%eth0'; the scope is not part of it.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ResolutionFailed(f"could not resolve host {host!r}")
    return addresses


def client(timeout: float, *, verify: ssl.SSLContext | bool = True) -> httpx.Client:
    """An HTTP client for :func:`send`: no redirects of its own, no proxies from the
    environment; *verify* as httpx takes it (the system's CAs by default)."""
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify)


def _pinned_request(
    http: httpx.Client,
    policy: OutboundPolicy,
    method: str,
    url: httpx.URL,
    json: Any,
    headers: Mapping[str, str],
) -> httpx.Request:
    address = policy.address_for(url)
    extensions = {"sni_hostname": _host(url)} if url.scheme == "https" else {}
    return http.build_request(
        method,
        url.copy_with(host=str(address)),
        json=json,
        headers={**headers, "Host": url.netloc.decode("ascii")},
        extensions=extensions,
    )


def _after_redirect(method: str, status: int) -> str:
    """The method of the request a redirect asks for (303, and 301/302 after a POST: GET)."""
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


def send(
    http: httpx.Client,
    policy: OutboundPolicy,
    method: str,
    url: str,
    *,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    max_redirects: int = MAX_REDIRECTS,
) -> httpx.Response:
    """Send one request under *policy*, following up to *max_redirects* redirects.

    Raises :class:`OutboundRefused` (before connecting) when the URL or any
    redirect target is refused, :class:`httpx.TooManyRedirects`, or the
    client's own :class:`httpx.HTTPError`. The response's body is read.
    """
    target = httpx.URL(url)
    headers = dict(headers or {})
    for _ in range(max_redirects + 1):
        request = _pinned_request(http, policy, method, target, json, headers)
        response = http.send(request)
        location = response.headers.get("Location")
        if not (response.is_redirect and location):
            return response
        response.close()
        new_method = _after_redirect(method, response.status_code)
        if new_method != method:
            method, json = new_method, None
        # Relative to the URL as named (the request's URL holds the pinned address).
        following = target.join(location)
        if (following.scheme, following.raw_host, following.port) != (
            target.scheme,
            target.raw_host,
            target.port,
        ):
            # Credentials meant for one origin are not handed to another.
            headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIALS}
        target = following
    raise httpx.TooManyRedirects(f"more than {max_redirects} redirects")


__all__ = [
    "REFUSED",
    "OutboundPolicy",
    "OutboundRefused",
    "ResolutionFailed",
    "client",
    "is_internal",
    "resolve",
    "send",
]
