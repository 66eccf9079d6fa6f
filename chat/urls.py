from django.urls import path

from chat import game_views, views

urlpatterns = [
    path("evaluate/", views.evaluate, name="evaluate"),
    path("evaluate/<slug:slug>/", views.evaluate_competition, name="evaluate-competition"),
    path("evaluate/<slug:slug>/match/", views.match_status, name="match-status"),
    path("evaluate/<slug:slug>/history/", views.evaluator_history, name="evaluator-history"),
    path("chat/<uuid:public_id>/", views.chat_room, name="chat-room"),
    path("chat/<uuid:public_id>/judge/", views.chat_judge, name="chat-judge"),
    path("chat/<uuid:public_id>/report/", views.chat_report, name="chat-report"),
    path("evaluate/<slug:slug>/game-match/", game_views.game_status, name="game-status"),
    path("game/<uuid:public_id>/", game_views.game_room, name="game-room"),
    path("game/<uuid:public_id>/finish/", game_views.game_finish, name="game-finish"),
    path("game/<uuid:public_id>/verdict/", game_views.game_verdict, name="game-verdict"),
]
