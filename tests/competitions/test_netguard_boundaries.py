"""The address guard at the edges: ranges Python counts as global, range boundaries, exact refusals."""

import ipaddress

import pytest

from competitions import netguard


def fixed_resolver(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        resolve.asked.append((host, port))
        return list(addresses)

    resolve.asked = []
    return resolve


async def check(url: str, *, allowed=(), resolver=netguard.system_resolver) -> netguard.CheckedEndpoint:
    return await netguard.check_endpoint(url, allowed_networks=netguard.parse_networks(allowed), resolver=resolver)


@pytest.mark.parametrize("address", ["fec0::1", "feff:ffff::1"])
async def test_site_local_ipv6_is_refused_although_python_counts_it_as_global(address):
    assert ipaddress.IPv6Address(address).is_global, "the premise: only the explicit site-local check stops it"
    with pytest.raises(netguard.BlockedEndpoint, match="not allowed"):
        await check("http://bot.example/", resolver=fixed_resolver(address))


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", False),  # last link-local address
        ("fec0::", False),  # first site-local address
        ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", False),  # last site-local address
        ("2606:4700::1", True),
        ("fbff:ffff::1", False),  # unallocated space: not global
        ("224.0.0.0", False),  # first multicast address, which Python counts as global
        ("239.255.255.255", False),  # last multicast address
        ("223.255.255.254", True),  # last address below multicast
        ("100.63.255.255", True),  # just below the carrier-grade NAT range
        ("100.64.0.0", False),
        ("100.127.255.255", False),
        ("100.128.0.0", True),  # just above it
        ("ff0e::1", False),  # global-scope IPv6 multicast, which Python counts as global
    ],
)
def test_public_range_boundaries(address, public):
    assert netguard.is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("address", ["224.0.0.1", "ff0e::1"])
async def test_multicast_counted_as_global_is_still_refused(address):
    with pytest.raises(netguard.BlockedEndpoint, match="multicast"):
        await check("http://bot.example/", resolver=fixed_resolver(address))


def test_networks_given_with_host_bits_are_accepted_as_their_network():
    assert netguard.parse_networks(["127.0.0.1/8", "::1/64"]) == [
        ipaddress.IPv4Network("127.0.0.0/8"),
        ipaddress.IPv6Network("::/64"),
    ]


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("http://bot.example/", 80),
        ("https://bot.example/", 443),
        ("HTTPS://bot.example/", 443),
        ("http://bot.example:443/", 443),
        ("https://bot.example:80/", 80),
    ],
)
async def test_default_ports_follow_the_scheme_and_are_what_the_resolver_is_asked(url, port):
    resolver = fixed_resolver("93.184.215.14")
    checked = await check(url, resolver=resolver)
    assert checked.endpoint.port == port
    assert resolver.asked == [("bot.example", port)]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://bot.example/", "The endpoint must be an http:// or https:// URL."),
        ("http://user@bot.example/", "The endpoint URL must not contain a user name or password."),
        ("http://:secret@bot.example/", "The endpoint URL must not contain a user name or password."),
        ("http://user:secret@bot.example/", "The endpoint URL must not contain a user name or password."),
        ("http:///nohost", "The endpoint URL has no host."),
    ],
)
async def test_refusals_tell_the_team_exactly_why(url, message):
    with pytest.raises(netguard.BlockedEndpoint) as refused:
        await check(url, resolver=fixed_resolver("93.184.215.14"))
    assert str(refused.value) == message


async def test_an_unparsable_resolver_answer_is_refused_with_the_answer_named():
    with pytest.raises(netguard.BlockedEndpoint) as refused:
        await check("http://bot.example/", resolver=fixed_resolver("not-an-address"))
    assert str(refused.value) == "The resolver gave an invalid address 'not-an-address'."


async def test_an_unresolvable_host_is_refused_with_the_resolver_error():
    with pytest.raises(netguard.BlockedEndpoint) as refused:
        await check("http://no-such-host.invalid/")
    assert str(refused.value).startswith("The host 'no-such-host.invalid' could not be resolved (")


async def test_a_scoped_link_local_address_is_checked_without_its_zone():
    checked = await check("http://bot.example/", allowed=["fe80::/10"], resolver=fixed_resolver("fe80::1%eth0"))
    assert checked.address == "fe80::1%eth0"
    with pytest.raises(netguard.BlockedEndpoint, match=r"fe80::1 is a loopback"):
        await check("http://bot.example/", resolver=fixed_resolver("fe80::1%eth0"))


def test_teredo_gives_the_client_address_not_the_server():
    teredo = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:f5ff:fffe")
    assert netguard.embedded_ipv4(teredo) == ipaddress.IPv4Address("10.0.0.1")


@pytest.mark.parametrize(
    "address",
    ["2002:c0a8:101::1", "64:ff9b::a00:1", "64:ff9b::7f00:1"],
)
def test_public_looking_ipv6_carrying_a_private_ipv4_is_refused_with_the_inner_address(address):
    refusal = netguard.address_refusal(address, [])
    assert refusal is not None
    assert "non-public IPv4" in refusal or "loopback" in refusal


def test_nat64_gives_the_last_32_bits():
    assert netguard.embedded_ipv4(ipaddress.IPv6Address("64:ff9b::5db8:d70e")) == ipaddress.IPv4Address("93.184.215.14")


def test_an_allow_list_of_the_other_ip_version_does_not_match():
    assert netguard.address_refusal("::1", netguard.parse_networks(["0.0.0.0/0"])) is not None
    assert netguard.address_refusal("127.0.0.1", netguard.parse_networks(["::/0"])) is not None
