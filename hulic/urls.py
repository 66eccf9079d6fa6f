from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from competitions import views as competition_views
from hulic.views import healthz

CDN = "https://cdn.jsdelivr.net"

# The API's documentation pages are drf-spectacular's: Swagger UI and Redoc from a CDN, with an inline start-up
# script and style. They show the schema only, so they alone get a policy that admits those.
api_docs_csp = csp_update(
    {
        "script-src": [CDN, UNSAFE_INLINE],
        "style-src": [CDN, "https://fonts.googleapis.com", UNSAFE_INLINE],
        "font-src": ["https://fonts.gstatic.com"],
        "img-src": [CDN],
        "worker-src": ["blob:"],
    }
)

admin.site.site_header = "HuLiC organizers"
admin.site.site_title = "HuLiC admin"
admin.site.index_title = "Run competitions"

api_patterns = [
    path("", include("competitions.api_urls")),
    path("", include("chat.api_urls")),
    path("", include("leaderboard.api_urls")),
    path("", include("exports.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs_csp(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("redoc/", api_docs_csp(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
]

urlpatterns = [
    path("", competition_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_patterns)),
    path("", include("competitions.urls")),
    path("", include("chat.urls")),
    path("", include("leaderboard.urls")),
    path("", include("exports.urls")),
]
