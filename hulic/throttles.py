"""The API's rate limits (issue 10), with rates read from settings when a request arrives.

DRF's own classes copy `DEFAULT_THROTTLE_RATES` once, at import; these read `API_THROTTLE_RATES` on every request,
so the rates are one setting that a deployment (and a test) can change. A scope missing from the setting is not
limited. Counters live in the default cache (Redis in production: shared by every process). While the cache is
unreachable a request is let through, with one log line per interval: a rate limit must not turn a Redis outage
into errors for every API call (a saved judgment answers 201, docs/operations.md).
"""

import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from hulic.log_throttle import ThrottledLog

quiet_log = ThrottledLog(logging.getLogger(__name__))


class RateFromSettings:
    scope: str | None

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError) as error:
            quiet_log.warning(
                "api-throttle-cache", "the rate-limit cache is unreachable; letting requests through", error=error
            )
            return True


class AnonThrottle(RateFromSettings, AnonRateThrottle):
    """Anonymous callers, per client address."""


class UserThrottle(RateFromSettings, UserRateThrottle):
    """Signed-in callers, per user."""


class ScopedThrottle(RateFromSettings, ScopedRateThrottle):
    """Views that name a `throttle_scope` (sign-in: "auth"), per user or client address."""
