"""The API's rate limits (issue 10), with rates read from settings when a request arrives.

DRF's own classes copy `DEFAULT_THROTTLE_RATES` once, at import; these read `API_THROTTLE_RATES` on every request,
so the rates are one setting that a deployment (and a test) can change. A scope missing from the setting is not
limited. Counters live in the default cache (Redis in production: shared by every process).
"""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class RateFromSettings:
    scope: str | None

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)


class AnonThrottle(RateFromSettings, AnonRateThrottle):
    """Anonymous callers, per client address."""


class UserThrottle(RateFromSettings, UserRateThrottle):
    """Signed-in callers, per user."""


class ScopedThrottle(RateFromSettings, ScopedRateThrottle):
    """Views that name a `throttle_scope` (sign-in: "auth"), per user or client address."""
