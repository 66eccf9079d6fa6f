"""Pseudonyms: exact format, salt-size limit at, below and above one SHA-256 block, HMAC pads equal to the library."""

import hashlib
import hmac
import re

import pytest

from exports.pseudonyms import Pseudonymizer, hmac_pads, hmac_sha256_via_pads, new_salt


def test_a_new_salt_is_32_random_bytes():
    salts = {new_salt() for _ in range(20)}
    assert len(salts) == 20
    assert {len(salt) for salt in salts} == {32}


@pytest.mark.parametrize(
    ("kind", "prefix"), [("conversation", "C-"), ("evaluator", "E-"), ("bot", "B-"), ("team", "T-")]
)
def test_each_kind_gets_its_prefix_and_16_hex_digits_of_the_hmac(kind, prefix):
    salt = b"s" * 32
    expected = hmac.new(salt, f"{kind}:42".encode(), hashlib.sha256).hexdigest()[:16]
    assert Pseudonymizer(salt)(kind, 42) == prefix + expected
    assert re.fullmatch(prefix + r"[0-9a-f]{16}", Pseudonymizer(new_salt())(kind, 42))


def test_an_unknown_kind_is_refused():
    with pytest.raises(KeyError):
        Pseudonymizer(new_salt())("user", 1)


@pytest.mark.parametrize("size", [0, 1, 32, 63, 64])
def test_pads_equal_the_standard_hmac_for_any_salt_up_to_one_block(size):
    salt = bytes(range(1, size + 1))
    for message in (b"", b"evaluator:42", "team:ü".encode()):
        assert hmac_sha256_via_pads(salt, message) == hmac.new(salt, message, hashlib.sha256).hexdigest()


def test_a_salt_longer_than_one_block_is_refused():
    with pytest.raises(ValueError) as refused:
        hmac_pads(b"x" * 65)
    assert str(refused.value) == "The salt must fit in one SHA-256 block (64 bytes)."


def test_the_pads_are_the_key_padded_with_zeros_xored_with_0x36_and_0x5c():
    inner, outer = hmac_pads(b"\x01")
    assert inner == bytes([0x37]) + bytes([0x36]) * 63
    assert outer == bytes([0x5D]) + bytes([0x5C]) * 63
