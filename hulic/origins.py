"""The websocket Origin check: a chat socket is accepted only from the site's own pages.

Channels' AllowedHostsOriginValidator compares the Origin's host name with ALLOWED_HOSTS and ignores its scheme and
port, so a page on ``http://localhost:9999`` (another program on the evaluator's machine) could open an evaluator's
chat with their cookie. Here the Origin must name the same scheme, host and port as the site itself, the way Django's
CSRF check judges an Origin: the request's own origin (the scheme it arrived with, as SECURE_PROXY_SSL_HEADER
reports it behind a proxy, and its Host header, which must be in ALLOWED_HOSTS), or one of CSRF_TRUSTED_ORIGINS.
"""

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def _arrived_secure(scope) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        name, secure_value = proxy_header
        forwarded = _header(scope, name.removeprefix("HTTP_").replace("_", "-").lower().encode())
        return forwarded is not None and forwarded.split(",")[0].strip() == secure_value
    return False


def _allowed_hosts() -> list[str]:
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


def site_origins(scope) -> list[str]:
    """The origins a socket on this request may come from (patterns as OriginValidator reads them)."""
    trusted = [origin.replace("://*.", "://.") for origin in settings.CSRF_TRUSTED_ORIGINS]
    host = _header(scope, b"host")
    if host is None:
        return trusted
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return trusted
    scheme = "https" if _arrived_secure(scope) else "http"
    return [f"{scheme}://{host}", *trusted]


class SiteOriginValidator(OriginValidator):
    """Refuses a websocket whose Origin (scheme, host and port) is not one of site_origins; a missing Origin too."""

    def __init__(self, application):
        super().__init__(application, allowed_origins=[])

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        parsed = urlparse(origin) if origin else None
        if parsed is not None and any(self.match_allowed_origin(parsed, site) for site in site_origins(scope)):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
