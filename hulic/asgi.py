"""One ASGI application serving HTTP (Django) and websockets (Channels)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hulic.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from hulic.lifespan import lifespan  # noqa: E402
from hulic.origins import SiteOriginValidator  # noqa: E402


def tune_garbage_collection() -> None:
    """Keep the collector's pauses out of the chat's latency.

    The modules, settings and caches loaded so far live as long as the process: frozen, the collector never scans
    them again. Rarer young-generation collections (ASGI_GC_THRESHOLDS) then leave full collections, which took
    100-370 ms with 2,000 sockets open and set the chat's p99, out of a steady load; memory stays flat
    (bench/ws_load.py prints the server's RSS).
    """
    gc.freeze()
    gc.set_threshold(*settings.ASGI_GC_THRESHOLDS)


tune_garbage_collection()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        "lifespan": lifespan,
    }
)
