"""Writes for competitions, teams and bots.

Each service checks its business rule and raises a typed exception (a subclass of
CompetitionsError) that views and the API map to a clear message.
"""

import re
import string
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from .models import Bot, BotVersion, Competition, Team, TeamInvitation, TeamMembership
from .tasks import bot_health_check_task

INVITATION_LIFETIME = timedelta(days=7)
# What RFC 3986 allows in a URL, less the single quote: letters, digits, -._~ and the delimiters :/?#[]@!$&()*+,;=,
# and % when it starts a %XX escape. Anything else (quotes, <>, spaces, backslashes, control and non-ASCII
# characters) is refused rather than guessed at: such a URL is shown on pages and in the admin, and parsers disagree
# on what it means.
URL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&()*+,;=%")
BAD_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
PHASE_ORDER = [
    Competition.Phase.DRAFT,
    Competition.Phase.REGISTRATION,
    Competition.Phase.EVALUATION,
    Competition.Phase.CLOSED,
]


class CompetitionsError(Exception):
    """Base of the errors a participant or organizer can cause; ``message`` is safe to show."""

    message = _("That is not allowed.")

    def __init__(self, message=None):
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class TeamNameTaken(CompetitionsError):
    message = _("A team with that name already exists.")


class NotTeamMember(CompetitionsError):
    message = _("Only members of the team may do this.")


class NotTeamOwner(CompetitionsError):
    message = _("Only the team's owner may invite members.")


class InvitationNotUsable(CompetitionsError):
    message = _("This invitation has expired or has already been used.")


class AlreadyTeamMember(CompetitionsError):
    message = _("You are already a member of this team.")


class CompetitionNotAcceptingBots(CompetitionsError):
    message = _("This competition does not accept bots now (only during registration and evaluation).")


class BotNameTaken(CompetitionsError):
    message = _("A bot with that name is already registered in this competition.")


class InvalidEndpoint(CompetitionsError):
    message = _("The endpoint must be an http:// or https:// URL with a host name.")


class BotDisabled(CompetitionsError):
    message = _("This bot was disabled by the organizers.")


class PhaseTransitionNotAllowed(CompetitionsError):
    message = _("Phases go in order: draft, registration, evaluation, closed.")


def endpoint_url_check(endpoint_url: str) -> str:
    """Return the URL stripped of surrounding spaces, or raise InvalidEndpoint.

    Only the shape is checked here; where the host resolves to is checked at call time
    (competitions.netguard), because DNS answers can change after registration.
    """
    url = (endpoint_url or "").strip()
    invalid = sorted({character for character in url if character not in URL_CHARACTERS})
    if BAD_PERCENT_ESCAPE.search(url):
        invalid.append("%")
    if invalid:
        shown = " ".join(_url_character_name(character) for character in invalid)
        raise InvalidEndpoint(
            _(
                "The endpoint URL contains characters that are not allowed in a URL: %(characters)s. "
                "Percent-encode them (a space is %%20) and write a non-ASCII host name in its xn-- form."
            )
            % {"characters": shown}
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidEndpoint from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint
    if parts.username or parts.password:
        raise InvalidEndpoint(_("The endpoint URL must not contain a user name or password."))
    if port == 0:
        raise InvalidEndpoint
    if len(url) > Bot._meta.get_field("endpoint_url").max_length:
        raise InvalidEndpoint(_("The endpoint URL is too long."))
    return url


def _url_character_name(character: str) -> str:
    if character == "%":
        return str(_("a percent sign not followed by two hex digits"))
    if character.isprintable() and not character.isspace():
        return character
    return f"U+{ord(character):04X}"


def _unique_team_slug(name: str) -> str:
    base = slugify(name)[:40] or "team"
    slug, suffix = base, 2
    while Team.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def team_create(*, name: str, owner) -> Team:
    name = name.strip()
    if Team.objects.filter(name__iexact=name).exists():
        raise TeamNameTaken
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=_unique_team_slug(name))
            TeamMembership.objects.create(team=team, user=owner, role=TeamMembership.Role.OWNER)
    except IntegrityError as exc:
        # Two people created the same name (or slug) at once; the unique constraint decided.
        raise TeamNameTaken from exc
    return team


def team_invite(*, team: Team, invited_by, email: str = "") -> TeamInvitation:
    if not team.memberships.filter(user=invited_by, role=TeamMembership.Role.OWNER).exists():
        raise NotTeamOwner
    return TeamInvitation.objects.create(
        team=team, invited_by=invited_by, email=email, expires_at=timezone.now() + INVITATION_LIFETIME
    )


def invitation_accept(*, token: str, user) -> TeamMembership:
    invitation = TeamInvitation.objects.select_related("team").filter(token=token).first()
    if invitation is None:
        raise InvitationNotUsable
    if invitation.team.has_member(user):
        raise AlreadyTeamMember
    now = timezone.now()
    with transaction.atomic():
        # Claim the invitation atomically so a link used twice at once admits one person.
        claimed = TeamInvitation.objects.filter(pk=invitation.pk, accepted_at=None, expires_at__gt=now).update(
            accepted_at=now, accepted_by=user
        )
        if claimed != 1:
            raise InvitationNotUsable
        membership, _created = TeamMembership.objects.get_or_create(
            team=invitation.team, user=user, defaults={"role": TeamMembership.Role.MEMBER}
        )
    return membership


def _queue_health_check(bot: Bot) -> None:
    bot_health_check_task.delay_on_commit(bot.id)


def bot_version_record(*, bot: Bot, created_by=None, note: str = "") -> BotVersion:
    """Record the bot's current endpoint as version ``bot.version`` and queue its health check (which checks
    again soon if it fails: ``competitions.tasks.bot_health_check_task``)."""
    version = BotVersion.objects.create(
        bot=bot, number=bot.version, endpoint_url=bot.endpoint_url, note=note, created_by=created_by
    )
    if bot.status != Bot.Status.DISABLED:
        _queue_health_check(bot)
    return version


def bot_register(*, team: Team, competition: Competition, name: str, endpoint_url: str, created_by) -> Bot:
    """Register a bot; it stays PENDING until a health check passes (queued after commit)."""
    if not (created_by.is_staff or team.has_member(created_by)):
        raise NotTeamMember
    if not competition.accepts_bots:
        raise CompetitionNotAcceptingBots
    url = endpoint_url_check(endpoint_url)
    name = name.strip()
    if Bot.objects.filter(competition=competition, name__iexact=name).exists():
        raise BotNameTaken
    try:
        with transaction.atomic():
            bot = Bot.objects.create(
                team=team, competition=competition, name=name, endpoint_url=url, status=Bot.Status.PENDING
            )
            bot_version_record(bot=bot, created_by=created_by, note="Registered")
    except IntegrityError as exc:
        raise BotNameTaken from exc
    return bot


def bot_update_endpoint(*, bot: Bot, endpoint_url: str, changed_by, note: str = "") -> Bot:
    """Point the bot at a new endpoint: a new version, back to PENDING, and a fresh health check.

    A disabled bot stays disabled: changing its endpoint must not undo an organizer's decision.
    """
    url = endpoint_url_check(endpoint_url)
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if url == locked.endpoint_url:
            return locked
        locked.endpoint_url = url
        locked.version += 1
        if locked.status != Bot.Status.DISABLED:
            locked.status = Bot.Status.PENDING
        locked.consecutive_failures = 0
        locked.last_failure_reason = ""
        locked.save(
            update_fields=[
                "endpoint_url",
                "version",
                "status",
                "consecutive_failures",
                "last_failure_reason",
                "updated_at",
            ]
        )
        bot_version_record(bot=locked, created_by=changed_by, note=note or "Endpoint changed")
    bot.refresh_from_db()
    return bot


def bot_rotate_secret(*, bot: Bot, revoke_old: bool = False) -> str:
    """Issue a new signing secret. The old one keeps signing beside it for BOT_SECRET_GRACE_HOURS, so the bot
    answers while its team installs the new one, unless ``revoke_old`` (a leaked secret) ends it at once."""
    grace = timedelta(hours=settings.BOT_SECRET_GRACE_HOURS)
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        secret = locked.rotate_secret(grace=grace, revoke_old=revoke_old)
    bot.refresh_from_db()
    return secret


def bot_health_check_request(*, bot: Bot) -> None:
    """Queue a health check now (the team's "check now" button)."""
    if bot.status == Bot.Status.DISABLED:
        raise BotDisabled
    _queue_health_check(bot)


def bot_disable(*, bot: Bot) -> Bot:
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.DISABLED, updated_at=timezone.now())
    bot.refresh_from_db()
    return bot


def bot_enable(*, bot: Bot) -> Bot:
    """Re-admit a disabled bot: it goes back to PENDING and is live again once a health check passes."""
    enabled = Bot.objects.filter(pk=bot.pk, status=Bot.Status.DISABLED).update(
        status=Bot.Status.PENDING, consecutive_failures=0, updated_at=timezone.now()
    )
    bot.refresh_from_db()
    if enabled:
        _queue_health_check(bot)
    return bot


def competition_set_phase(*, competition: Competition, phase: str) -> Competition:
    """Move a competition to the next phase (draft → registration → evaluation → closed).

    Stamps evaluation_opens_at / evaluation_closes_at when they were left empty, so the public
    page shows when evaluation really happened.
    """
    current = PHASE_ORDER.index(Competition.Phase(competition.phase))
    try:
        target = PHASE_ORDER.index(Competition.Phase(phase))
    except ValueError as exc:
        raise PhaseTransitionNotAllowed from exc
    if target != current + 1:
        raise PhaseTransitionNotAllowed
    now = timezone.now()
    competition.phase = phase
    fields = ["phase", "updated_at"]
    if phase == Competition.Phase.REGISTRATION and competition.registration_opens_at is None:
        competition.registration_opens_at = now
        fields.append("registration_opens_at")
    if phase == Competition.Phase.EVALUATION and competition.evaluation_opens_at is None:
        competition.evaluation_opens_at = now
        fields.append("evaluation_opens_at")
    if phase == Competition.Phase.CLOSED and competition.evaluation_closes_at is None:
        competition.evaluation_closes_at = now
        fields.append("evaluation_closes_at")
    with transaction.atomic():
        competition.save(update_fields=fields)
        if phase == Competition.Phase.EVALUATION:
            # The statistical settings are frozen the moment evaluation opens (issue 12): a later change is logged.
            from leaderboard.services import analysis_plan_record

            analysis_plan_record(competition=competition)
    return competition


def competition_matchmaking_set(*, competition: Competition, paused: bool) -> Competition:
    """Pause (or resume) the start of new chats; running chats go on."""
    competition.matchmaking_paused = paused
    competition.save(update_fields=["matchmaking_paused", "updated_at"])
    return competition


def competition_advance_phase(*, competition: Competition) -> Competition:
    current = PHASE_ORDER.index(Competition.Phase(competition.phase))
    if current + 1 >= len(PHASE_ORDER):
        raise PhaseTransitionNotAllowed(_("The competition is already closed."))
    return competition_set_phase(competition=competition, phase=PHASE_ORDER[current + 1])


def api_token_regenerate(*, user) -> Token:
    """Replace the user's API token; the old one stops working."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)
