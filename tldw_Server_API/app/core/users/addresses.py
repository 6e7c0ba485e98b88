"""The client's address behind reverse proxies, for the login lockout.

A request's peer is the last hop: behind a reverse proxy every client has the
proxy's address. ``X-Forwarded-For`` names the hops before it, but any client can
send one, so it is believed only as far as trusted proxies wrote it: when the peer
is a trusted proxy (``TLDW_TRUSTED_PROXIES``), the header's entries are read from
the right, and the first one that is not itself a trusted proxy is the client.
Entries further left were written by the client or by a proxy nobody vouches for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """CIDR ranges or single addresses; a ``ValueError`` naming the first that is neither."""
    networks = []
    for entry in entries:
        try:
            networks.append(ip_network(entry.strip()))
        except ValueError:
            raise ValueError(
                f"{entry.strip()!r} is not an IP address or CIDR range (host bits must be zero)"
            ) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    """An ``X-Forwarded-For`` entry as an address: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port; IPv6 has several colons
        text = text.partition(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """The address to count a request's sign-in failures against.

    *peer* is the socket's remote address, *forwarded_for* every ``X-Forwarded-For``
    header of the request (in order). Without trusted proxies, or from a peer that is not
    one, the peer. Else the right-most entry that is not a trusted proxy; when an entry
    is no address, the trusted hop that forwarded it; when every entry is trusted, the
    left-most.
    """
    peer_text = peer or "-"
    if not trusted or not _trusted(_address(peer_text), trusted):
        return peer_text
    entries = [e for header in forwarded_for for e in header.split(",") if e.strip()]
    hop = peer_text
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            return hop
        if not _trusted(address, trusted):
            return str(address)
        hop = str(address)
    return hop


__all__ = ["Network", "client_address", "parse_networks"]
