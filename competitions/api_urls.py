from django.urls import path

from . import api

urlpatterns = [
    path("auth/token/", api.AuthTokenApi.as_view(), name="api-token-obtain"),
    path("competitions/", api.CompetitionListApi.as_view(), name="api-competition-list"),
    path("teams/", api.TeamListApi.as_view(), name="api-team-list"),
    path("teams/create/", api.TeamCreateApi.as_view(), name="api-team-create"),
    path("teams/<slug:slug>/", api.TeamDetailApi.as_view(), name="api-team-detail"),
    path("teams/<slug:slug>/invitations/", api.InvitationCreateApi.as_view(), name="api-invitation-create"),
    path("invitations/<str:token>/accept/", api.InvitationAcceptApi.as_view(), name="api-invitation-accept"),
    path("bots/", api.BotListApi.as_view(), name="api-bot-list"),
    path("bots/create/", api.BotCreateApi.as_view(), name="api-bot-create"),
    path("bots/<int:bot_id>/", api.BotDetailApi.as_view(), name="api-bot-detail"),
    path("bots/<int:bot_id>/endpoint/", api.BotUpdateEndpointApi.as_view(), name="api-bot-update-endpoint"),
    path("bots/<int:bot_id>/rotate-secret/", api.BotRotateSecretApi.as_view(), name="api-bot-rotate-secret"),
    path("bots/<int:bot_id>/check/", api.BotCheckApi.as_view(), name="api-bot-check"),
    path("bots/<int:bot_id>/health/", api.BotHealthApi.as_view(), name="api-bot-health"),
]
