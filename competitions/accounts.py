"""Limits on signing in and signing up (issue 10): the lockout answer and the sign-up rate per client address."""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

SIGNUP_WINDOW_SECONDS = 3600


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed sign-in attempts. For your security, signing in to this account from here is blocked "
        "for %(minutes)d minutes. Try again later, or reset your password."
    ) % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: JSON for the API, the lockout page otherwise (both 429)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    return render(request, "registration/locked_out.html", {"message": lockout_message()}, status=429)


def _signup_key(request: HttpRequest) -> str:
    window = int(time.time() // SIGNUP_WINDOW_SECONDS)
    return f"signups:{request.META.get('REMOTE_ADDR', '')}:{window}"


def signup_limit_reached(request: HttpRequest) -> bool:
    """True once SIGNUPS_PER_HOUR accounts were created from this client address in the current hour."""
    return cache.get(_signup_key(request), 0) >= settings.SIGNUPS_PER_HOUR


def signup_count(request: HttpRequest) -> None:
    key = _signup_key(request)
    cache.add(key, 0, timeout=SIGNUP_WINDOW_SECONDS)
    cache.incr(key)
