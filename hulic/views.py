from django.contrib.auth.views import LogoutView
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static


def healthz(request):
    """Liveness for the container healthcheck: the database and the cache (Redis in production) answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means unhealthy, reported as text
        checks["database"] = f"error: {exc}"
    try:
        cache.set("healthz", "1", timeout=5)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "error: no round trip"
    except Exception as exc:
        checks["cache"] = f"error: {exc}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def favicon(request):
    """Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the admin, the API views)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def csrf_failure(request, reason: str = ""):
    """The CSRF failure page in the site's look: usually an expired form, so say how to carry on."""
    return render(request, "403_csrf.html", {"path": request.path}, status=403)


class LogoutPageView(LogoutView):
    """GET asks to confirm (a link or a typed URL must not log anyone out, and must not be a blank 405)."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return render(request, "registration/logout_confirm.html")
