from django.urls import path

from . import three_party_views, views

urlpatterns = [
    path("c/<slug:slug>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("c/<slug:slug>/leaderboard.csv", views.leaderboard_csv, name="leaderboard-csv"),
    path("c/<slug:slug>/leaderboard/bots/<int:bot_id>/", views.bot_scores, name="leaderboard-bot"),
    path("c/<slug:slug>/analysis-plan.json", views.analysis_plan, name="leaderboard-plan"),
    path("c/<slug:slug>/leaderboard/evaluators/", views.evaluator_scores, name="leaderboard-evaluators"),
    path(
        "c/<slug:slug>/leaderboard/three-party/",
        three_party_views.three_party_leaderboard,
        name="leaderboard-three-party",
    ),
    path(
        "c/<slug:slug>/leaderboard-three-party.csv",
        three_party_views.three_party_csv,
        name="leaderboard-three-party-csv",
    ),
]
