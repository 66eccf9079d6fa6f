"""Competitions, teams and their bots (webhook endpoints)."""

import base64
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .translated import localized

DEFAULT_CRITERIA = [
    {"key": "human_likeness", "label": "Human-likeness", "label_ko": "사람다움"},
    {"key": "fluency", "label": "Fluency", "label_ko": "유창성"},
    {"key": "engagement", "label": "Engagement", "label_ko": "몰입도"},
    {"key": "appropriateness", "label": "Appropriateness / ethics", "label_ko": "적절성 / 윤리"},
]
SUPPORTED_LANGUAGES = ("en", "ko")


def default_criteria() -> list[dict]:
    return [dict(item) for item in DEFAULT_CRITERIA]


def default_exclusion_rules() -> dict:
    # leaderboard.rater_quality is pure (no Django import), so importing it here makes no cycle.
    from leaderboard.rater_quality import ExclusionRules

    return ExclusionRules().as_dict()


def default_languages() -> list[str]:
    return list(SUPPORTED_LANGUAGES)


def default_onboarding_questions() -> list[dict]:
    return [
        {
            "question": "Your partner may be a bot or a human. What do you judge after the chat?",
            "question_ko": "상대는 봇일 수도, 사람일 수도 있습니다. 채팅이 끝나면 무엇을 판정하나요?",
            "choices": ["Whether the partner was a human or a bot", "How fast the partner typed"],
            "choices_ko": ["상대가 사람인지 봇인지", "상대의 타자 속도"],
            "answer": 0,
        },
        {
            "question": "May you tell your partner who you are or ask for their real name?",
            "question_ko": "상대에게 내가 누구인지 말하거나 상대의 실명을 물어봐도 되나요?",
            "choices": ["Yes", "No"],
            "choices_ko": ["예", "아니요"],
            "answer": 1,
        },
    ]


class CompetitionQuerySet(models.QuerySet):
    def visible(self):
        return self.exclude(phase=Competition.Phase.DRAFT)

    def evaluating(self):
        return self.filter(phase=Competition.Phase.EVALUATION)


class Competition(models.Model):
    class Phase(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REGISTRATION = "registration", _("Registration")
        EVALUATION = "evaluation", _("Evaluation")
        CLOSED = "closed", _("Closed")

    class EvaluatorPool(models.TextChoices):
        OPEN = "open", _("Open to everyone")
        INVITE = "invite", _("By invitation")

    class ParticipantDownloads(models.TextChoices):
        NONE = "none", _("Nothing")
        OWN_CHATS = "own_chats", _("Their own bots' chats")

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    rules = models.TextField(blank=True, help_text="Markdown.")
    terms = models.TextField(blank=True, help_text="Markdown. Evaluators consent to these before their first chat.")
    # Korean versions of the texts above (competitions/translated.py): shown on Korean pages, English if empty.
    description_ko = models.TextField(blank=True, help_text="Korean. Empty: the English text is shown.")
    rules_ko = models.TextField(blank=True, help_text="Korean. Empty: the English text is shown.")
    terms_ko = models.TextField(blank=True, help_text="Korean. Empty: the English text is shown.")
    license = models.CharField(max_length=100, default="CC BY 4.0", help_text="License of the released dataset.")
    languages = models.JSONField(default=default_languages, help_text='Chat languages, e.g. ["en", "ko"].')
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.DRAFT)
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    evaluation_opens_at = models.DateTimeField(null=True, blank=True)
    evaluation_closes_at = models.DateTimeField(null=True, blank=True)

    chat_time_limit_seconds = models.PositiveIntegerField(
        default=300, help_text="Five minutes, as in the published Turing-test studies."
    )
    max_turns = models.PositiveIntegerField(default=30, help_text="Messages in a chat, both sides together.")
    min_turns_to_count = models.PositiveIntegerField(
        default=4, help_text="Chats with fewer messages are too short to judge and are excluded from scores."
    )
    max_message_chars = models.PositiveIntegerField(default=300)
    control_chat_share = models.FloatField(
        default=0.2,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of chats that pair two humans (control chats).",
    )
    human_partner_wait_seconds = models.PositiveIntegerField(
        default=20, help_text="How long to wait for a human partner before falling back to a bot."
    )
    max_chats_per_evaluator_per_bot = models.PositiveIntegerField(default=3)
    mode = models.CharField(
        max_length=12,
        choices=[
            ("two_party", _("Two-party chats")),
            ("three_party", _("Three-party games")),
            ("both", _("Both")),
        ],
        default="two_party",
        help_text="Two-party chats, three-party games (an interrogator, a human witness and a bot), or both.",
    )
    three_party_share = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text='In mode "both", the share of starts that join a three-party game.',
    )
    interrogator_share = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.05), MaxValueValidator(0.95)],
        help_text="Three-party: the share of a person's games in which they are the interrogator.",
    )
    criteria = models.JSONField(default=default_criteria, help_text='Rating criteria: [{"key": ..., "label": ...}].')
    onboarding_questions = models.JSONField(
        default=default_onboarding_questions,
        blank=True,
        help_text='Check questions: [{"question": ..., "choices": [...], "answer": index}].',
    )
    evaluator_pool = models.CharField(max_length=10, choices=EvaluatorPool.choices, default=EvaluatorPool.OPEN)
    leaderboard_public_during_evaluation = models.BooleanField(default=False)
    # Live per-bot numbers name the partner of a chat that just ended in a quiet competition: the public sees a
    # copy published on this schedule until the competition closes (leaderboard/publication.py, docs/blinding.md).
    leaderboard_publication_hours = models.PositiveIntegerField(
        choices=[(6, _("Every 6 hours")), (12, _("Every 12 hours")), (24, _("Daily")), (168, _("Weekly"))],
        default=24,
        help_text="While the leaderboard is public before closing, its numbers are published this often (UTC).",
    )
    max_chats_per_evaluator = models.PositiveIntegerField(
        default=0,
        help_text="Chats of any kind (bot or control) per evaluator; 0: as many as the per-bot limit allows.",
    )
    leaderboard_bots_per_team = models.PositiveIntegerField(
        default=3,
        help_text="The public leaderboard shows at most this many bots of one team (its best placed); 0: no cap.",
    )
    # Off by default: telling evaluators the truth after each chat trains them on tells other than the
    # conversation and makes later verdicts depend on earlier ones (docs/blinding.md).
    reveal_partner_after_judgment = models.BooleanField(default=False)
    participant_downloads = models.CharField(
        max_length=20, choices=ParticipantDownloads.choices, default=ParticipantDownloads.NONE
    )
    include_bot_names_in_exports = models.BooleanField(default=False)
    dataset_published = models.BooleanField(
        default=False, help_text="Publish the public dataset release (only once the competition is closed)."
    )
    equivalence_margin = models.FloatField(
        default=0.10,
        validators=[MinValueValidator(0.01), MaxValueValidator(0.5)],
        help_text="A bot within this many points (0.10 = 10 points) of the human baseline counts as indistinguishable "
        "when the equivalence test (TOST) says so. Part of the analysis plan, locked when evaluation opens.",
    )
    min_judgments_to_rank = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1)],
        help_text="A bot is ranked and tested against the baseline once it has this many counted judgments.",
    )
    exclusion_rules = models.JSONField(
        default=default_exclusion_rules,
        blank=True,
        help_text="Response-pattern rules that exclude an evaluator (leaderboard.rater_quality.ExclusionRules). "
        "Part of the analysis plan, locked when evaluation opens.",
    )
    matchmaking_paused = models.BooleanField(default=False)
    show_example_chats_to_teams = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CompetitionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(control_chat_share__gte=0) & models.Q(control_chat_share__lte=1),
                name="competition_control_share_in_unit_interval",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("competition-detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        unknown = [lang for lang in self.languages or [] if lang not in SUPPORTED_LANGUAGES]
        if not self.languages or unknown:
            raise ValidationError({"languages": f"Choose from {', '.join(SUPPORTED_LANGUAGES)}."})
        keys = [c.get("key") for c in self.criteria or [] if isinstance(c, dict)]
        if not keys or len(keys) != len(set(keys)) or len(keys) != len(self.criteria):
            raise ValidationError({"criteria": 'Give a list of {"key", "label"} with unique keys.'})
        if self.dataset_published and self.phase != self.Phase.CLOSED:
            raise ValidationError({"dataset_published": "Publish the dataset only once the competition is closed."})

    def localized(self, field: str, language: str | None = None) -> str:
        """A text the organizer wrote (description, rules, terms) in the language, English if not translated."""
        return localized({field: getattr(self, field), f"{field}_ko": getattr(self, f"{field}_ko", "")}, field,
                         language or get_language())  # fmt: skip

    @property
    def localized_description(self) -> str:
        return self.localized("description")

    @property
    def localized_rules(self) -> str:
        return self.localized("rules")

    @property
    def localized_terms(self) -> str:
        return self.localized("terms")

    @property
    def localized_criteria(self) -> list[dict]:
        """The criteria with each label in the current language (English where not translated)."""
        language = get_language()
        return [{**c, "label": localized(c, "label", language) or c["key"]} for c in self.criteria]

    @property
    def criteria_keys(self) -> list[str]:
        return [c["key"] for c in self.criteria]

    def draws_three_party(self, draw: float) -> bool:
        """Whether a start with this uniform draw in [0, 1) joins a three-party game."""
        if self.mode == "three_party":
            return True
        return self.mode == "both" and draw < self.three_party_share

    @property
    def is_evaluating(self) -> bool:
        return self.phase == self.Phase.EVALUATION

    @property
    def accepts_bots(self) -> bool:
        return self.phase in (self.Phase.REGISTRATION, self.Phase.EVALUATION)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("team-detail", kwargs={"slug": self.slug})

    def has_member(self, user) -> bool:
        return user.is_authenticated and self.memberships.filter(user=user).exists()


class TeamMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(24)


class TeamInvitation(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Invitation to {self.team}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


def new_signing_secret() -> str:
    """A Standard Webhooks secret: "whsec_" + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class BotQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status=Bot.Status.VERIFIED)


class Bot(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending health check")
        VERIFIED = "verified", _("Verified (live)")
        FAILING = "failing", _("Failing")
        DISABLED = "disabled", _("Disabled")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="bots")
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="bots")
    name = models.CharField(max_length=100)
    endpoint_url = models.URLField(max_length=500)
    signing_secret = models.CharField(max_length=100, default=new_signing_secret)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    is_baseline = models.BooleanField(
        default=False, help_text="A baseline bot (e.g. ELIZA): scored and shown, but not a competitor."
    )
    version = models.PositiveIntegerField(default=1)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_failure_reason = models.TextField(blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    previous_signing_secret = models.CharField(
        max_length=100, blank=True, help_text="The secret before the last rotation, still signing until the time below."
    )
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BotQuerySet.as_manager()

    class Meta:
        ordering = ["competition", "name"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "name"], name="bot_unique_name_per_competition"),
        ]
        indexes = [models.Index(fields=["competition", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"

    def rotate_secret(self, *, grace: timedelta, revoke_old: bool = False) -> str:
        """A new secret; the current one keeps signing alongside it for ``grace`` unless ``revoke_old``.

        Only the secret just replaced gets a grace period: one rotated out earlier stops at once.
        """
        now = timezone.now()
        keep_old = not revoke_old and grace > timedelta(0)
        self.previous_signing_secret = self.signing_secret if keep_old else ""
        self.previous_secret_valid_until = now + grace if keep_old else None
        self.signing_secret = new_signing_secret()
        self.secret_rotated_at = now
        self.save(
            update_fields=[
                "signing_secret",
                "previous_signing_secret",
                "previous_secret_valid_until",
                "secret_rotated_at",
                "updated_at",
            ]
        )
        return self.signing_secret

    def previous_secret_in_grace(self, now=None) -> str:
        """The old secret if it still signs requests (during the grace period after a rotation), else ""."""
        until = self.previous_secret_valid_until
        if not self.previous_signing_secret or until is None or (now or timezone.now()) >= until:
            return ""
        return self.previous_signing_secret


class BotVersion(models.Model):
    """The endpoint history of a bot: a new row each time its endpoint changes."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    endpoint_url = models.URLField(max_length=500)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bot", "-number"]
        constraints = [models.UniqueConstraint(fields=["bot", "number"], name="botversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.bot.name} v{self.number}"


class BotCall(models.Model):
    """One call to a bot (health probe or chat turn) and how it went."""

    class Purpose(models.TextChoices):
        HEALTH = "health", _("Health check")
        TURN = "turn", _("Chat turn")

    class Failure(models.TextChoices):
        TIMEOUT = "timeout", _("Timed out")
        REFUSED = "refused", _("Connection refused or failed")
        HTTP_STATUS = "http_status", _("HTTP error status")
        REDIRECT = "redirect", _("Redirect (not followed)")
        BAD_JSON = "bad_json", _("Not valid JSON")
        BAD_SHAPE = "bad_shape", _('JSON without a string "reply"')
        EMPTY = "empty", _("Empty reply")
        TOO_LONG = "too_long", _("Reply too long")
        OVER_CHAT_LIMIT = "over_chat_limit", _("Reply longer than the chat's character limit")
        TOO_LARGE = "too_large", _("Response body too large")
        BAD_ENCODING = "bad_encoding", _("Not valid UTF-8")
        BAD_TEXT = "bad_text", _("Reply with characters that cannot be stored (NUL, lone surrogate)")
        BLOCKED = "blocked", _("Endpoint address not allowed")
        ERROR = "error", _("Other error")

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="calls")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    ok = models.BooleanField()
    latency_ms = models.FloatField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    failure_kind = models.CharField(max_length=20, choices=Failure.choices, blank=True)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["bot", "-created_at"]),
            # The portable median reply latency (SQLite, the embedded default) fetches each bot's middle values
            # through this index; on Postgres the leaderboard reads the latency histograms (leaderboard.tallies).
            models.Index(
                fields=["bot", "latency_ms"],
                name="botcall_answered_turn_latency",
                condition=models.Q(purpose="turn", ok=True, latency_ms__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bot.name} {self.purpose} {'ok' if self.ok else self.failure_kind}"
