from django.urls import path

from exports import views

urlpatterns = [
    path("c/<slug:slug>/data/", views.competition_data, name="export-data"),
    path("c/<slug:slug>/data/request/", views.export_request, name="export-request"),
    path("c/<slug:slug>/data/<uuid:public_id>/download/", views.export_download, name="export-download"),
]
