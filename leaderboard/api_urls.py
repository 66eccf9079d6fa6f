from django.urls import path

from . import api

urlpatterns = [
    path("competitions/<slug:slug>/leaderboard/", api.LeaderboardApi.as_view(), name="api-leaderboard"),
    path(
        "competitions/<slug:slug>/leaderboard/bots/<int:bot_id>/",
        api.BotScoresApi.as_view(),
        name="api-leaderboard-bot",
    ),
]
