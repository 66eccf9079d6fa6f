"""The API's rate limits keep their counters in Redis: an unreachable Redis must not turn every API call into a 500."""

import socket

from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from hulic.throttles import AnonThrottle


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_rate_limit_cache_lets_requests_through(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    settings.API_THROTTLE_RATES = {"anon": "1/min"}
    request = Request(APIRequestFactory().get("/api/v1/competitions/"))

    decisions = [AnonThrottle().allow_request(request, view=None) for _ in range(3)]

    assert decisions == [True, True, True]


def test_a_reachable_cache_still_limits(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits"}}
    settings.API_THROTTLE_RATES = {"anon": "1/min"}
    request = Request(APIRequestFactory().get("/api/v1/competitions/"))

    decisions = [AnonThrottle().allow_request(request, view=None) for _ in range(2)]

    assert decisions == [True, False]
