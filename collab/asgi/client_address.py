"""The client address behind trusted reverse proxies (``NEXUS_TRUSTED_PROXIES``).

Only when the TCP peer is a trusted proxy are ``Forwarded`` (RFC 7239, its ``for=``) or, without
it, ``X-Forwarded-For`` read; the client is the right-most address of the chain that is not a
trusted proxy itself. Anyone can send these headers, so from any other peer they are ignored,
and a chain a trusted proxy sent that cannot be read leaves the peer's address (logged at debug).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class MalformedForwarding(ValueError):
    """A forwarding header that is not a chain of IP addresses."""


def _canonical(address: _IPAddress) -> _IPAddress:
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; compare and key them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_networks(spec: str) -> tuple[_Network, ...]:
    """``"10.0.0.0/8, 192.0.2.7, ::1"`` as networks (a bare address is a /32 or /128).

    Raises ``ValueError`` naming the entry that is neither an address nor a network."""
    networks: list[_Network] = []
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"trusted proxy {entry!r} is neither an IP address nor a CIDR network"
            ) from None
    return tuple(networks)


class TrustedProxies:
    """The proxies whose forwarding headers are believed; empty: none (the default)."""

    def __init__(self, networks: Sequence[_Network] = ()) -> None:
        self.networks = tuple(networks)

    def trusts(self, address: _IPAddress) -> bool:
        address = _canonical(address)
        return any(address in network for network in self.networks)

    def client_address(
        self, peer: str, forwarded: Sequence[str] = (), x_forwarded_for: Sequence[str] = ()
    ) -> str:
        """The address limits and logs should use for a connection from ``peer`` that carried
        these header lines (each header's lines in the order received)."""
        try:
            peer_ip = _canonical(ipaddress.ip_address(peer))
        except ValueError:
            return peer  # not an IP (a Unix socket, a test client): nothing to trust
        if not self.networks or not self.trusts(peer_ip):
            return str(peer_ip)
        try:
            if forwarded:
                chain = forwarded_chain(", ".join(forwarded))
            elif x_forwarded_for:
                chain = x_forwarded_for_chain(", ".join(x_forwarded_for))
            else:
                return str(peer_ip)
        except MalformedForwarding as exc:
            log.debug("ignoring forwarding header from %s: %s", peer_ip, exc)
            return str(peer_ip)
        for hop in reversed(chain):
            if not self.trusts(hop):
                return str(hop)
        return str(chain[0])  # every hop a proxy of ours: the first is the client


@functools.lru_cache(maxsize=8)
def trusted_proxies(spec: str) -> TrustedProxies:
    """The ``TrustedProxies`` of a ``NEXUS_TRUSTED_PROXIES`` value, parsed once per value."""
    return TrustedProxies(parse_networks(spec))


def _node_address(node: str) -> _IPAddress:
    """An address of a forwarding chain: ``a.b.c.d``, ``a.b.c.d:port``, ``[v6]``,
    ``[v6]:port`` or a bare IPv6 address."""
    text = node.strip()
    if text.startswith("["):
        end = text.find("]")
        rest = text[end + 1 :]
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            raise MalformedForwarding(f"bad bracketed address {node!r}")
        text = text[1:end]
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        text, port = text.split(":")
        if not port.isdigit():
            raise MalformedForwarding(f"bad port in {node!r}")
    try:
        return _canonical(ipaddress.ip_address(text))
    except ValueError:
        raise MalformedForwarding(f"{node[:64]!r} is not an IP address") from None


def x_forwarded_for_chain(value: str) -> list[_IPAddress]:
    """``X-Forwarded-For: client, proxy1, proxy2`` as addresses, left to right."""
    return [_node_address(node) for node in value.split(",")]


def forwarded_chain(value: str) -> list[_IPAddress]:
    """The ``for=`` addresses of an RFC 7239 ``Forwarded`` value, left to right.

    Every element must carry a ``for=`` that is an IP address: an obfuscated node
    (``_hidden``), ``unknown`` or a missing ``for`` make the chain unusable, since the hop it
    stands for cannot be keyed."""
    chain: list[_IPAddress] = []
    for element in _split_elements(value):
        params: dict[str, str] = {}
        for pair in element:
            name, sep, raw = pair.partition("=")
            if not sep or not name.strip():
                raise MalformedForwarding(f"bad forwarded-pair {pair[:64]!r}")
            params[name.strip().lower()] = _unquote(raw.strip())
        if "for" not in params:
            raise MalformedForwarding("a Forwarded element without for=")
        chain.append(_node_address(params["for"]))
    return chain


def _split_elements(value: str) -> list[list[str]]:
    """Elements (split at commas) of pairs (split at semicolons), outside quoted strings."""
    elements: list[list[str]] = []
    pairs: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char in ",;":
            pairs.append("".join(current))
            current = []
            if char == ",":
                elements.append(pairs)
                pairs = []
            continue
        current.append(char)
    if quoted:
        raise MalformedForwarding("unterminated quoted string in Forwarded")
    pairs.append("".join(current))
    elements.append(pairs)
    return [[pair for pair in element if pair.strip()] for element in elements]


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        inner = raw[1:-1]
        out: list[str] = []
        chars = iter(inner)
        for char in chars:
            out.append(next(chars, "") if char == "\\" else char)
        return "".join(out)
    if '"' in raw:
        raise MalformedForwarding(f"stray quote in {raw[:64]!r}")
    return raw
