"""Standard Webhooks signatures (https://www.standardwebhooks.com/): pure functions, no Django.

A request carries three headers: ``webhook-id`` (unique per message), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (space-separated ``v1,<base64 HMAC-SHA256>`` entries over ``"{id}.{timestamp}.{body}"``).
The HMAC key is the base64-decoded part of the secret after ``whsec_``.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the format's prefix, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    """The request is not an authentic, fresh webhook from the holder of the secret."""


def secret_key(secret: str) -> bytes:
    """The raw HMAC key of a ``whsec_...`` secret (the prefix is optional, as in the reference libraries)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("A signing secret is 'whsec_' followed by base64.") from error


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def sign(*, key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message."""
    signed_content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed_content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(
    *,
    secret: str,
    body: bytes,
    msg_id: str | None = None,
    timestamp: int | None = None,
    also_secrets: Sequence[str] = (),
) -> dict:
    """The three ``webhook-*`` headers for ``body``, with a fresh id and the current time unless given.

    ``also_secrets`` add signatures (space-separated, after the one of ``secret``): during a rotation the old
    secret signs too, so a bot that verifies with either accepts the request.
    """
    msg_id = msg_id or new_message_id()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signatures = [
        sign(key=secret_key(key), msg_id=msg_id, timestamp=timestamp, body=body) for key in (secret, *also_secrets)
    ]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise WebhookVerificationError unless one of the ``v1`` signatures matches and the timestamp is fresh.

    ``headers`` keys are matched case-insensitively. A timestamp outside ``tolerance_seconds`` either way is
    refused so that a captured request cannot be replayed later.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    signature_header = lowered.get("webhook-signature")
    if not msg_id or not raw_timestamp or not signature_header:
        raise WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as error:
        raise WebhookVerificationError("webhook-timestamp is not an integer.") from error
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance window (possible replay).")
    expected = sign(key=secret_key(secret), msg_id=msg_id, timestamp=timestamp, body=body).encode()
    for candidate in signature_header.split():
        version, _, _ = candidate.partition(",")
        if version == SIGNATURE_VERSION and hmac.compare_digest(candidate.encode(), expected):
            return
    raise WebhookVerificationError("No matching signature.")
