"""Per-export pseudonyms: HMAC-SHA256 of "<kind>:<id>" under a random per-export salt.

The same salt gives the same pseudonym for the same person inside one export (so a reader can group
an evaluator's judgments), while two exports cannot be linked and nothing leads back to a database id.
HMAC is spelled out with its two pads so that Postgres can compute the identical value in plain SQL
(sha256() exists since PG 11; pgcrypto's hmac() may not be installed).
"""

import hashlib
import hmac
import secrets

SALT_BYTES = 32
DIGEST_CHARS = 16
PREFIXES = {"conversation": "C-", "evaluator": "E-", "bot": "B-", "team": "T-"}
_BLOCK = 64


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def hmac_pads(salt: bytes) -> tuple[bytes, bytes]:
    """The (inner, outer) keys of HMAC-SHA256 for a key of at most one block."""
    if len(salt) > _BLOCK:
        raise ValueError("The salt must fit in one SHA-256 block (64 bytes).")
    key = salt.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class Pseudonymizer:
    def __init__(self, salt: bytes) -> None:
        self.salt = salt

    def __call__(self, kind: str, ident: object) -> str:
        digest = hmac.new(self.salt, f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()
        return PREFIXES[kind] + digest[:DIGEST_CHARS]


def hmac_sha256_via_pads(salt: bytes, message: bytes) -> str:
    """HMAC computed the way the SQL does it; equal to hmac.new(salt, message, sha256)."""
    inner, outer = hmac_pads(salt)
    return hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).hexdigest()
