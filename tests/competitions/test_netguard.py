"""The address guard, with the system resolver for literal spellings and injected resolvers for names."""

import ipaddress

import pytest

from competitions import netguard

LOOPBACK = netguard.parse_networks(["127.0.0.0/8", "::1/128"])


def fixed_resolver(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def check(url: str, *, allowed=(), resolver=netguard.system_resolver) -> netguard.CheckedEndpoint:
    return await netguard.check_endpoint(url, allowed_networks=netguard.parse_networks(allowed), resolver=resolver)


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "[::1]",
        "[fd00::1]",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[2002:a00:1::1]",
        "[64:ff9b::a9fe:a9fe]",
        "[ff02::1]",
        "[::]",
    ],
)
async def test_non_public_addresses_are_refused(host):
    with pytest.raises(netguard.BlockedEndpoint, match="not allowed"):
        await check(f"http://{host}:8080/bot")


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1"])
async def test_odd_spellings_of_loopback_are_normalised_and_refused(host):
    with pytest.raises(netguard.BlockedEndpoint, match=r"127\.0\.0\.1"):
        await check(f"http://{host}/")


async def test_decimal_spelling_of_a_private_address_is_refused():
    with pytest.raises(netguard.BlockedEndpoint, match=r"10\.0\.0\.1"):
        await check("http://167772161/")


async def test_hostname_resolving_to_loopback_is_refused():
    with pytest.raises(netguard.BlockedEndpoint, match="localhost"):
        await check("http://localhost:9000/")


async def test_every_address_is_checked_not_just_the_first():
    resolver = fixed_resolver("93.184.215.14", "127.0.0.1")
    with pytest.raises(netguard.BlockedEndpoint, match=r"127\.0\.0\.1"):
        await check("https://rebind.example/", resolver=resolver)


async def test_public_address_is_allowed_and_pinned():
    checked = await check("https://bot.example/hook", resolver=fixed_resolver("93.184.215.14", "2606:2800:21f::1"))
    assert checked.address == "93.184.215.14"
    assert checked.endpoint == netguard.Endpoint(scheme="https", host="bot.example", port=443)


async def test_allow_listed_networks_are_allowed():
    checked = await check("http://localhost:9000/", allowed=["127.0.0.0/8", "::1/128"])
    assert checked.address in ("127.0.0.1", "::1")


async def test_ipv4_mapped_loopback_follows_the_ipv4_allow_list():
    checked = await check("http://[::ffff:127.0.0.1]:9000/", allowed=["127.0.0.0/8"])
    assert checked.address == "::ffff:127.0.0.1"


async def test_allow_list_does_not_open_other_private_ranges():
    with pytest.raises(netguard.BlockedEndpoint):
        await check("http://10.0.0.1/", allowed=["127.0.0.0/8"])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://bot.example/", "http"),
        ("file:///etc/passwd", "http"),
        ("gopher://127.0.0.1:70/", "http"),
        ("http://user:pass@bot.example/", "user name"),
        ("http:///nohost", "no host"),
        ("http://bot.example:99999/", "valid URL"),
    ],
)
async def test_malformed_or_non_http_urls_are_refused(url, message):
    with pytest.raises(netguard.BlockedEndpoint, match=message):
        await check(url, resolver=fixed_resolver("93.184.215.14"))


async def test_resolver_with_no_address_is_refused():
    with pytest.raises(netguard.BlockedEndpoint, match="no address"):
        await check("http://bot.example/", resolver=fixed_resolver())


def test_embedded_ipv4_is_found_in_transition_addresses():
    assert str(netguard.embedded_ipv4(ipaddress.IPv6Address("::ffff:10.1.2.3"))) == "10.1.2.3"
    assert str(netguard.embedded_ipv4(ipaddress.IPv6Address("2002:c0a8:101::1"))) == "192.168.1.1"
    assert str(netguard.embedded_ipv4(ipaddress.IPv6Address("64:ff9b::a00:1"))) == "10.0.0.1"
    assert netguard.embedded_ipv4(ipaddress.IPv6Address("2606:2800:21f::1")) is None
