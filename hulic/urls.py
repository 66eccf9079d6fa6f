from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from competitions import views as competition_views
from hulic.api_errors import api_not_found
from hulic.views import LogoutPageView, favicon, healthz

# The API's documentation pages are drf-spectacular's Swagger UI and Redoc, served from the project
# (drf-spectacular-sidecar). They inject styles at run time and Redoc starts a blob worker; they show the schema only,
# so they alone get a policy that admits those. No script is admitted inline, and nothing from another host.
api_docs_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

admin.site.site_header = "HuLiC organizers"
admin.site.site_title = "HuLiC admin"
admin.site.index_title = "Run competitions"

api_patterns = [
    path("", include("competitions.api_urls")),
    path("", include("chat.api_urls")),
    path("", include("leaderboard.api_urls")),
    path("", include("exports.api_urls")),
    path("", include("review.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, not inline; the API docs keep their relaxed policy for the
    # styles Swagger UI and Redoc inject at run time and Redoc's blob worker.
    path("docs/", api_docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("redoc/", api_docs_csp(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    # Last: paths ending in "/" that nothing above matched (others are first given their slash by APPEND_SLASH).
    # [\s\S], not ".": a path with a newline in it (%0A) is an API path too.
    re_path(r"^(?P<path>[\s\S]*/)$", api_not_found),
]

urlpatterns = [
    path("", competition_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without a <link rel=icon> (the admin, API views).
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/logout/", LogoutPageView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_patterns)),
    path("", include("competitions.urls")),
    path("", include("chat.urls")),
    path("", include("leaderboard.urls")),
    path("", include("exports.urls")),
    path("", include("review.urls")),
]
