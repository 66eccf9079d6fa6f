"""Participants' API for teams and bots: one view per operation, each with its own serializers.

Every lookup goes through a selector scoped to the requesting user, so other teams' objects
answer 404. Typed service errors become {"detail": message} with a fitting status code.
"""

import re

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from hulic.api_errors import ApiErrorSerializer, error_body
from hulic.throttles import AnonThrottle, ScopedThrottle

from . import accounts, selectors, services
from .models import Bot, Team
from .serializers import (
    BotCreateInputSerializer,
    BotEndpointInputSerializer,
    BotHealthOutputSerializer,
    BotListFilterSerializer,
    BotOutputSerializer,
    CompetitionOutputSerializer,
    InvitationCreateInputSerializer,
    InvitationOutputSerializer,
    QueuedOutputSerializer,
    RotateSecretInputSerializer,
    SecretOutputSerializer,
    TeamCreateInputSerializer,
    TeamDetailOutputSerializer,
    TeamOutputSerializer,
)

ERROR_STATUS = {
    services.NotTeamMember: status.HTTP_403_FORBIDDEN,
    services.NotTeamOwner: status.HTTP_403_FORBIDDEN,
    services.TeamNameTaken: status.HTTP_409_CONFLICT,
    services.BotNameTaken: status.HTTP_409_CONFLICT,
    services.AlreadyTeamMember: status.HTTP_409_CONFLICT,
    services.BotDisabled: status.HTTP_409_CONFLICT,
    services.CompetitionNotAcceptingBots: status.HTTP_409_CONFLICT,
    services.InvitationNotUsable: status.HTTP_410_GONE,
    services.InvalidEndpoint: status.HTTP_400_BAD_REQUEST,
}
ERRORS = OpenApiResponse(ApiErrorSerializer, description="The request broke a rule; `code` and `detail` say which.")


def error_code(exc: services.CompetitionsError) -> str:
    """The error's class name in snake case: BotNameTaken is "bot_name_taken"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def error_response(exc: services.CompetitionsError) -> Response:
    return Response(
        error_body(code=error_code(exc), detail=str(exc.message)),
        status=ERROR_STATUS.get(type(exc), status.HTTP_400_BAD_REQUEST),
    )


def member_team(request: Request, slug: str) -> Team:
    return get_object_or_404(selectors.teams_for_user(user=request.user), slug=slug)


def member_bot(request: Request, bot_id: int) -> Bot:
    return get_object_or_404(selectors.bots_for_user(user=request.user), pk=bot_id)


class AuthTokenApi(ObtainAuthToken):
    """DRF's token sign-in, limited: `auth` throttle scope per address, and django-axes' lockout after failures."""

    throttle_classes = [AnonThrottle, ScopedThrottle]
    throttle_scope = "auth"
    # The API's parsers (hulic.api_parsers), not the view's own list: a deeply nested body is a 400 here too.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # axes flags the request it was handed (DRF's wrapper), which its middleware never sees.
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": accounts.lockout_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            raise


class HealthCheckThrottle(UserRateThrottle):
    """Each check makes an outbound call: keep a script from flooding the queue."""

    scope = "bot_check"
    rate_limit = 30
    rate = f"{rate_limit}/min"


class CompetitionListApi(APIView):
    @extend_schema(
        operation_id="competition_list", tags=["competitions"], responses=CompetitionOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        """Competitions you can see, newest first."""
        competitions = selectors.competitions_visible(user=request.user)
        return Response(CompetitionOutputSerializer(competitions, many=True).data)


class TeamListApi(APIView):
    @extend_schema(operation_id="team_list", tags=["teams"], responses=TeamOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Your teams."""
        return Response(TeamOutputSerializer(selectors.teams_for_user(user=request.user), many=True).data)


class TeamCreateApi(APIView):
    @extend_schema(
        operation_id="team_create",
        tags=["teams"],
        request=TeamCreateInputSerializer,
        responses={201: TeamDetailOutputSerializer, 409: ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Create a team; you become its owner."""
        data = TeamCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            team = services.team_create(name=data.validated_data["name"], owner=request.user)
        except services.CompetitionsError as exc:
            return error_response(exc)
        return Response(TeamDetailOutputSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetailApi(APIView):
    @extend_schema(operation_id="team_detail", tags=["teams"], responses=TeamDetailOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """One of your teams with its members."""
        return Response(TeamDetailOutputSerializer(member_team(request, slug)).data)


class InvitationCreateApi(APIView):
    @extend_schema(
        operation_id="invitation_create",
        tags=["teams"],
        request=InvitationCreateInputSerializer,
        responses={201: InvitationOutputSerializer, 403: ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        """Create an invitation link (team owners only); share its token or accept_url."""
        team = member_team(request, slug)
        data = InvitationCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            invitation = services.team_invite(team=team, invited_by=request.user, email=data.validated_data["email"])
        except services.CompetitionsError as exc:
            return error_response(exc)
        return Response(
            InvitationOutputSerializer(invitation, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class InvitationAcceptApi(APIView):
    @extend_schema(
        operation_id="invitation_accept",
        tags=["teams"],
        request=None,
        responses={200: TeamDetailOutputSerializer, 409: ERRORS, 410: ERRORS},
    )
    def post(self, request: Request, token: str) -> Response:
        """Join the team that sent you this invitation."""
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except services.CompetitionsError as exc:
            return error_response(exc)
        return Response(TeamDetailOutputSerializer(membership.team).data)


class BotListApi(APIView):
    @extend_schema(
        operation_id="bot_list",
        tags=["bots"],
        parameters=[
            OpenApiParameter("team", str, description="Only this team's bots (slug)."),
            OpenApiParameter("competition", str, description="Only bots in this competition (slug)."),
        ],
        responses={200: BotOutputSerializer(many=True), 400: ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Bots of all your teams."""
        filters = BotListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        bots = selectors.bots_for_user(user=request.user).order_by("competition__slug", "name")
        if team := filters.validated_data.get("team"):
            bots = bots.filter(team__slug=team)
        if competition := filters.validated_data.get("competition"):
            bots = bots.filter(competition__slug=competition)
        return Response(BotOutputSerializer(bots, many=True).data)


class BotCreateApi(APIView):
    @extend_schema(
        operation_id="bot_create",
        tags=["bots"],
        request=BotCreateInputSerializer,
        responses={201: BotOutputSerializer, 400: ERRORS, 409: ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Register a bot. It is `pending` until a health check (queued now) passes."""
        data = BotCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = selectors.teams_for_user(user=request.user).filter(slug=data.validated_data["team"]).first()
        if team is None:
            raise ValidationError({"team": ["You are not a member of a team with this slug."]})
        competition = (
            selectors.competitions_visible(user=request.user).filter(slug=data.validated_data["competition"]).first()
        )
        if competition is None:
            raise ValidationError({"competition": ["No competition with this slug."]})
        try:
            bot = services.bot_register(
                team=team,
                competition=competition,
                name=data.validated_data["name"],
                endpoint_url=data.validated_data["endpoint_url"],
                created_by=request.user,
            )
        except services.CompetitionsError as exc:
            return error_response(exc)
        return Response(BotOutputSerializer(bot).data, status=status.HTTP_201_CREATED)


class BotDetailApi(APIView):
    @extend_schema(operation_id="bot_detail", tags=["bots"], responses=BotOutputSerializer)
    def get(self, request: Request, bot_id: int) -> Response:
        """One of your bots, signing secret included."""
        return Response(BotOutputSerializer(member_bot(request, bot_id)).data)


class BotUpdateEndpointApi(APIView):
    @extend_schema(
        operation_id="bot_update_endpoint",
        tags=["bots"],
        request=BotEndpointInputSerializer,
        responses={200: BotOutputSerializer, 400: ERRORS},
    )
    def post(self, request: Request, bot_id: int) -> Response:
        """Point the bot at a new endpoint: new version, back to `pending`, health check queued."""
        bot = member_bot(request, bot_id)
        data = BotEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bot = services.bot_update_endpoint(
                bot=bot,
                endpoint_url=data.validated_data["endpoint_url"],
                changed_by=request.user,
                note=data.validated_data["note"],
            )
        except services.CompetitionsError as exc:
            return error_response(exc)
        return Response(BotOutputSerializer(bot).data)


class BotRotateSecretApi(APIView):
    @extend_schema(
        operation_id="bot_rotate_secret",
        tags=["bots"],
        request=RotateSecretInputSerializer,
        responses=SecretOutputSerializer,
    )
    def post(self, request: Request, bot_id: int) -> Response:
        """Issue a new signing secret. The old one keeps signing too until `previous_secret_valid_until` (the grace
        period, 24 h by default), unless `revoke_old` is true (a leaked secret)."""
        bot = member_bot(request, bot_id)
        data = RotateSecretInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.bot_rotate_secret(bot=bot, revoke_old=data.validated_data["revoke_old"])
        return Response(SecretOutputSerializer(bot).data)


class BotCheckApi(APIView):
    throttle_classes = [HealthCheckThrottle]

    @extend_schema(
        operation_id="bot_check", tags=["bots"], request=None, responses={202: QueuedOutputSerializer, 409: ERRORS}
    )
    def post(self, request: Request, bot_id: int) -> Response:
        """Queue a health check now; read the outcome from the health endpoint."""
        bot = member_bot(request, bot_id)
        try:
            services.bot_health_check_request(bot=bot)
        except services.CompetitionsError as exc:
            return error_response(exc)
        return Response({"queued": True, "detail": "Health check queued."}, status=status.HTTP_202_ACCEPTED)


class BotHealthApi(APIView):
    @extend_schema(operation_id="bot_health", tags=["bots"], responses=BotHealthOutputSerializer)
    def get(self, request: Request, bot_id: int) -> Response:
        """Health record: status, last check, latency, failures and the recent calls with their reasons."""
        bot = member_bot(request, bot_id)
        health = {
            "status": bot.status,
            "last_checked_at": bot.last_checked_at,
            "last_latency_ms": bot.last_latency_ms,
            "consecutive_failures": bot.consecutive_failures,
            "last_failure_reason": bot.last_failure_reason,
            "success_rate": selectors.bot_call_success_rate(bot=bot),
            "recent_calls": selectors.bot_recent_calls(bot=bot),
            "versions": selectors.bot_versions(bot=bot),
        }
        return Response(BotHealthOutputSerializer(health).data)
