"""SSRF guard for bot endpoints: pure, no Django.

An endpoint's host is resolved once and EVERY address is checked; the caller then connects to the checked address
(pinning), so a DNS answer that changes between the check and the connection (rebinding) cannot reach an internal
service. Odd spellings of an address ("2130706433", "0x7f000001", "0177.0.0.1", "127.1") are normalised by
getaddrinfo before the check.
"""

import asyncio
import ipaddress
import socket
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedEndpoint(Exception):
    """The endpoint URL or one of its addresses is not allowed; the message is shown to the team."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int


@dataclass(frozen=True)
class CheckedEndpoint:
    endpoint: Endpoint
    address: str
    """The checked address to connect to (the first one the resolver gave)."""


def parse_networks(cidrs: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def parse_endpoint(url: str) -> Endpoint:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BlockedEndpoint(f"Not a valid URL: {error}.") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BlockedEndpoint("The endpoint must be an http:// or https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise BlockedEndpoint("The endpoint URL must not contain a user name or password.")
    if not parts.hostname:
        raise BlockedEndpoint("The endpoint URL has no host.")
    return Endpoint(scheme=scheme, host=parts.hostname, port=port or (443 if scheme == "https" else 80))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a transition scheme (mapped, 6to4, Teredo client, NAT64) carries inside ``address``."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast; ``is_global`` alone lets multicast through, hence the extra flags."""
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or not address.is_global
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def address_refusal(address: str, allowed_networks: Iterable[IPNetwork]) -> str | None:
    """Why ``address`` may not be called, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip.version == network.version and ip in network for network in allowed_networks):
        return None
    if not is_public(ip):
        return f"{ip} is a loopback, private, link-local, multicast or reserved address."
    inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if inner is not None and not is_public(inner):
        return f"{ip} carries the non-public IPv4 address {inner}."
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with getaddrinfo off the event loop; numeric spellings come back normalised."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise BlockedEndpoint(f"The host {host!r} could not be resolved ({error.strerror}).") from error
    return list(dict.fromkeys(info[4][0] for info in infos))


async def check_endpoint(
    url: str, *, allowed_networks: Iterable[IPNetwork], resolver: Resolver = system_resolver
) -> CheckedEndpoint:
    """Resolve the endpoint's host and refuse it unless every address is public or allow-listed."""
    endpoint = parse_endpoint(url)
    networks = list(allowed_networks)
    addresses = await resolver(endpoint.host, endpoint.port)
    if not addresses:
        raise BlockedEndpoint(f"The host {endpoint.host!r} has no address.")
    for address in addresses:
        try:
            refusal = address_refusal(address, networks)
        except ValueError as error:
            raise BlockedEndpoint(f"The resolver gave an invalid address {address!r}.") from error
        if refusal:
            raise BlockedEndpoint(f"Endpoint host {endpoint.host!r} is not allowed: {refusal}")
    return CheckedEndpoint(endpoint=endpoint, address=addresses[0])
