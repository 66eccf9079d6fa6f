from django.urls import path

from . import api

urlpatterns = [
    path("competitions/<slug:slug>/review/", api.ReviewBoardApi.as_view(), name="api-review-board"),
]
