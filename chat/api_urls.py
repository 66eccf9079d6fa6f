from django.urls import path

from chat import api, game_api

urlpatterns = [
    path("evaluate/<slug:slug>/match/", api.MatchStartApi.as_view(), name="api-match-start"),
    path("evaluate/<slug:slug>/match/status/", api.MatchStatusApi.as_view(), name="api-match-status"),
    path("chats/<uuid:public_id>/judgment/", api.JudgmentCreateApi.as_view(), name="api-judgment-create"),
    path("evaluate/<slug:slug>/game/", game_api.GameStartApi.as_view(), name="api-game-start"),
    path("evaluate/<slug:slug>/game/status/", game_api.GameStatusApi.as_view(), name="api-game-status"),
    path("games/<uuid:public_id>/verdict/", game_api.GameVerdictApi.as_view(), name="api-game-verdict"),
    path("games/<uuid:public_id>/witness-answer/", game_api.WitnessAnswerApi.as_view(), name="api-game-witness-answer"),
]
