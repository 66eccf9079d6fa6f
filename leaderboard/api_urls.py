from django.urls import path

from . import api, three_party_views

urlpatterns = [
    path("competitions/<slug:slug>/leaderboard/", api.LeaderboardApi.as_view(), name="api-leaderboard"),
    path(
        "competitions/<slug:slug>/leaderboard/bots/<int:bot_id>/",
        api.BotScoresApi.as_view(),
        name="api-leaderboard-bot",
    ),
    path(
        "competitions/<slug:slug>/leaderboard/three-party/",
        three_party_views.ThreePartyLeaderboardApi.as_view(),
        name="api-leaderboard-three-party",
    ),
]
