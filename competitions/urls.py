from django.urls import path

from . import views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/api-token/", views.api_token, name="api-token"),
    path("competitions/<slug:slug>/", views.competition_detail, name="competition-detail"),
    path("teams/", views.team_list, name="team-list"),
    path("teams/<slug:slug>/", views.team_detail, name="team-detail"),
    path("teams/<slug:slug>/invitations/", views.team_invite, name="team-invite"),
    path("teams/<slug:slug>/bots/new/", views.bot_register, name="bot-register"),
    path("teams/<slug:slug>/bots/<int:bot_id>/", views.bot_detail, name="bot-detail"),
    path("teams/<slug:slug>/bots/<int:bot_id>/endpoint/", views.bot_update_endpoint, name="bot-update-endpoint"),
    path("teams/<slug:slug>/bots/<int:bot_id>/rotate-secret/", views.bot_rotate_secret, name="bot-rotate-secret"),
    path("teams/<slug:slug>/bots/<int:bot_id>/check/", views.bot_check, name="bot-check"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
