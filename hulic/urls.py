from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from competitions import views as competition_views
from hulic.views import healthz

admin.site.site_header = "HuLiC organizers"
admin.site.site_title = "HuLiC admin"
admin.site.index_title = "Run competitions"

api_patterns = [
    path("", include("competitions.api_urls")),
    path("", include("chat.api_urls")),
    path("", include("leaderboard.api_urls")),
    path("", include("exports.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
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
