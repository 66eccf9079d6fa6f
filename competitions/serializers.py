"""Input and output serializers of the participants' API, one pair per operation (competitions.api)."""

from django.urls import reverse
from rest_framework import serializers

from .models import Bot, BotCall, BotVersion, Competition, Team, TeamInvitation
from .services import CompetitionsError, endpoint_url_check

# Outputs


class CompetitionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Competition
        fields = [
            "slug",
            "title",
            "phase",
            "languages",
            "registration_opens_at",
            "evaluation_opens_at",
            "evaluation_closes_at",
            "chat_time_limit_seconds",
            "max_turns",
            "max_message_chars",
            "control_chat_share",
            "criteria",
            "leaderboard_public_during_evaluation",
            "leaderboard_publication_hours",
            "participant_downloads",
        ]


class TeamMemberOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    joined_at = serializers.DateTimeField()


class TeamOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "created_at"]


class TeamDetailOutputSerializer(serializers.ModelSerializer):
    members = TeamMemberOutputSerializer(source="memberships", many=True)

    class Meta:
        model = Team
        fields = ["slug", "name", "created_at", "members"]


class InvitationOutputSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    accept_url = serializers.SerializerMethodField()

    class Meta:
        model = TeamInvitation
        fields = ["team", "email", "token", "expires_at", "accept_url"]

    def get_accept_url(self, invitation: TeamInvitation) -> str:
        path = reverse("api-invitation-accept", kwargs={"token": invitation.token})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class BotOutputSerializer(serializers.ModelSerializer):
    """A bot as its team sees it, signing secret included."""

    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    competition = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Bot
        fields = [
            "id",
            "name",
            "team",
            "competition",
            "endpoint_url",
            "signing_secret",
            "status",
            "version",
            "is_baseline",
            "last_checked_at",
            "last_latency_ms",
            "consecutive_failures",
            "last_failure_reason",
            "secret_rotated_at",
            "created_at",
        ]


class BotCallOutputSerializer(serializers.ModelSerializer):
    failure_label = serializers.CharField(source="get_failure_kind_display")

    class Meta:
        model = BotCall
        fields = ["created_at", "purpose", "ok", "latency_ms", "status_code", "failure_kind", "failure_label", "detail"]


class BotVersionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = BotVersion
        fields = ["number", "endpoint_url", "note", "created_at"]


class BotHealthOutputSerializer(serializers.Serializer):
    status = serializers.CharField()
    last_checked_at = serializers.DateTimeField(allow_null=True)
    last_latency_ms = serializers.FloatField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    last_failure_reason = serializers.CharField(allow_blank=True)
    success_rate = serializers.FloatField(allow_null=True, help_text="Share of the last 100 calls that succeeded.")
    recent_calls = BotCallOutputSerializer(many=True)
    versions = BotVersionOutputSerializer(many=True)


class RotateSecretInputSerializer(serializers.Serializer):
    revoke_old = serializers.BooleanField(
        default=False, help_text="End the old secret at once (it leaked) instead of after the grace period."
    )


class SecretOutputSerializer(serializers.Serializer):
    signing_secret = serializers.CharField()
    secret_rotated_at = serializers.DateTimeField()
    previous_secret_valid_until = serializers.DateTimeField(
        allow_null=True, help_text="Until then the old secret signs too (a second signature); null if it does not."
    )


class QueuedOutputSerializer(serializers.Serializer):
    queued = serializers.BooleanField()
    detail = serializers.CharField()


# Inputs


class TeamCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=Team._meta.get_field("name").max_length)


class InvitationCreateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="")


def endpoint_url_validate(value: str) -> str:
    try:
        return endpoint_url_check(value)
    except CompetitionsError as exc:
        raise serializers.ValidationError(str(exc.message)) from exc


class BotCreateInputSerializer(serializers.Serializer):
    team = serializers.SlugField(help_text="Slug of one of your teams.")
    competition = serializers.SlugField(help_text="Slug of a competition in registration or evaluation.")
    name = serializers.CharField(max_length=Bot._meta.get_field("name").max_length)
    endpoint_url = serializers.URLField(
        max_length=Bot._meta.get_field("endpoint_url").max_length, validators=[endpoint_url_validate]
    )


class BotEndpointInputSerializer(serializers.Serializer):
    endpoint_url = serializers.URLField(
        max_length=Bot._meta.get_field("endpoint_url").max_length, validators=[endpoint_url_validate]
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BotListFilterSerializer(serializers.Serializer):
    team = serializers.SlugField(required=False)
    competition = serializers.SlugField(required=False)
