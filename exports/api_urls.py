from django.urls import path

from exports import api

urlpatterns = [
    path("competitions/<slug:slug>/exports/", api.CompetitionExportsApi.as_view(), name="api-competition-exports"),
    path("exports/<uuid:public_id>/", api.ExportJobApi.as_view(), name="api-export-detail"),
    path("exports/<uuid:public_id>/download/", api.ExportDownloadApi.as_view(), name="api-export-download"),
]
