from django.urls import path

from chat import api

urlpatterns = [
    path("evaluate/<slug:slug>/match/", api.MatchStartApi.as_view(), name="api-match-start"),
    path("evaluate/<slug:slug>/match/status/", api.MatchStatusApi.as_view(), name="api-match-status"),
    path("chats/<uuid:public_id>/judgment/", api.JudgmentCreateApi.as_view(), name="api-judgment-create"),
]
