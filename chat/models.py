"""Evaluators, the matchmaking queue, blind conversations, their messages and the judgments."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from competitions.models import Bot, Competition


class Evaluator(models.Model):
    """A user's standing in one competition's evaluator pool."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="evaluators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evaluations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    consented_at = models.DateTimeField(null=True, blank=True)
    onboarding_passed_at = models.DateTimeField(null=True, blank=True)
    onboarding_failures = models.PositiveIntegerField(default=0)
    suspended_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["competition", "user"], name="evaluator_unique_per_competition"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.competition.slug}"

    @property
    def is_ready(self) -> bool:
        return (
            self.status == self.Status.ACTIVE
            and self.consented_at is not None
            and self.onboarding_passed_at is not None
        )


class PartnerKind(models.TextChoices):
    BOT = "bot", _("Bot")
    HUMAN = "human", _("Human")


class MatchRequest(models.Model):
    """An evaluator waiting for a partner. Pairing claims rows with select_for_update(skip_locked)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        MATCHED = "matched", _("Matched")
        CANCELLED = "cancelled", _("Cancelled")

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="match_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="match_requests")
    language = models.CharField(max_length=5)
    wants_human = models.BooleanField(default=False)
    hold_seconds = models.FloatField(
        default=0.0, help_text="A match is shown no sooner than this after the request (docs/blinding.md)."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    conversation = models.ForeignKey("Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="waiting"),
                name="matchrequest_one_waiting_per_user",
            ),
        ]
        indexes = [models.Index(fields=["competition", "status", "language", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.status}"


class ConversationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Conversation.Status.ACTIVE)

    def for_user(self, user):
        return self.filter(models.Q(evaluator_a=user) | models.Q(evaluator_b=user))


class Conversation(models.Model):
    """A blind chat. Side "a" is an evaluator; side "b" is a bot or, in a control chat, a second evaluator."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        BOT_FAILED = "bot_failed", _("Ended: bot failed")

    class EndReason(models.TextChoices):
        TIME = "time", _("Time limit reached")
        TURNS = "turns", _("Turn limit reached")
        LEFT = "left", _("A side left")
        BOT_FAILED = "bot_failed", _("Bot failed")
        MODERATION = "moderation", _("Ended by moderation")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bot_conversation_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The opaque id the bot sees."
    )
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="conversations")
    language = models.CharField(max_length=5)
    partner_kind = models.CharField(max_length=10, choices=PartnerKind.choices)
    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.PROTECT, related_name="conversations")
    evaluator_a = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversations_as_a"
    )
    evaluator_b = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="conversations_as_b"
    )
    alias_a = models.CharField(max_length=40, help_text="How side b sees side a.")
    alias_b = models.CharField(max_length=40, help_text="How side a sees side b.")
    first_speaker = models.CharField(max_length=1, choices=[("a", "a"), ("b", "b")])
    fell_back_to_bot = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    end_reason = models.CharField(max_length=12, choices=EndReason.choices, blank=True)
    ended_by = models.CharField(
        max_length=1, blank=True, choices=[("a", "a"), ("b", "b")], help_text="The side that left, if one did."
    )
    last_seq = models.PositiveIntegerField(default=0)
    # The bot's turn is claimed on this row so that it runs once per user message across processes.
    bot_replied_to_seq = models.PositiveIntegerField(default=0, help_text="Last seq the bot has answered.")
    bot_turn_started_at = models.DateTimeField(null=True, blank=True, help_text="Set while a bot turn is in flight.")
    # Renewed every CHAT_BOT_TURN_HEARTBEAT_SECONDS by the process running the turn: a claim whose heartbeat stops
    # (the process died) is taken over by another process's sweep (chat/bot_turns.py).
    bot_turn_heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the process running the bot turn."
    )
    started_at = models.DateTimeField(default=timezone.now)
    deadline_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(partner_kind="bot", bot__isnull=False, evaluator_b__isnull=True)
                    | models.Q(partner_kind="human", bot__isnull=True, evaluator_b__isnull=False)
                ),
                name="conversation_partner_matches_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(evaluator_a=models.F("evaluator_b")),
                name="conversation_no_self_pairing",
            ),
        ]
        indexes = [
            models.Index(fields=["competition", "status"]),
            models.Index(fields=["bot", "status"]),
            # The leaderboard's chats per bot read from this alone (an index-only scan): 0.05 s for 900,000 chats.
            models.Index(
                fields=["competition", "bot", "status"],
                name="conversation_bot_chats",
                condition=models.Q(partner_kind="bot"),
            ),
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    def side_of(self, user) -> str | None:
        if user.pk == self.evaluator_a_id:
            return "a"
        if self.evaluator_b_id is not None and user.pk == self.evaluator_b_id:
            return "b"
        return None

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_bot_chat(self) -> bool:
        return self.partner_kind == PartnerKind.BOT

    def partner_alias_for(self, side: str) -> str:
        """The neutral name a side sees its partner under."""
        return self.alias_b if side == "a" else self.alias_a

    def seconds_left(self, now=None) -> int:
        now = now or timezone.now()
        return max(0, int((self.deadline_at - now).total_seconds()))

    def is_past_deadline(self, now=None) -> bool:
        return (now or timezone.now()) >= self.deadline_at

    @property
    def is_too_short_to_judge(self) -> bool:
        """Fewer messages than the competition counts: a judgment would be discarded, so none is asked for."""
        return self.last_seq < self.competition.min_turns_to_count


class Message(models.Model):
    """A chat message, saved before it is delivered. (conversation, seq) orders and de-duplicates."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    side = models.CharField(max_length=1, choices=[("a", "a"), ("b", "b")])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_msg_id = models.CharField(max_length=64, blank=True)
    text = models.TextField(help_text="As written. Never shown to the partner when flagged.")
    delivered_text = models.TextField(help_text="What the partner saw (masked when flagged).")
    flagged = models.BooleanField(default=False)
    moderation_labels = models.JSONField(default=list, blank=True)
    bot_latency_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["conversation", "side", "client_msg_id"],
                condition=~models.Q(client_msg_id=""),
                name="message_unique_client_id",
            ),
        ]
        indexes = [models.Index(fields=["flagged", "created_at"])]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class Report(models.Model):
    """An evaluator's report of their partner, for organizers to review."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Report on {self.conversation_id}"


class Judgment(models.Model):
    """An evaluator's verdict on their partner. Final once saved."""

    class Verdict(models.TextChoices):
        HUMAN = "human", _("Human")
        BOT = "bot", _("Bot")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="judgments")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments")
    # Denormalised from the conversation so that aggregation over millions of rows needs no join.
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="judgments")
    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.PROTECT, related_name="judgments")
    partner_kind = models.CharField(max_length=10, choices=PartnerKind.choices)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    confidence = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    ratings = models.JSONField(help_text="{criterion key: 1..5}")
    reason = models.TextField()
    message_count = models.PositiveIntegerField(default=0, help_text="Messages in the chat when it was judged.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "evaluator"], name="judgment_one_per_evaluator"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=1) & models.Q(confidence__lte=5),
                name="judgment_confidence_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["competition", "bot"]),
            models.Index(fields=["competition", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} judged {self.conversation_id}: {self.verdict}"

    @property
    def is_correct(self) -> bool:
        return self.verdict == self.partner_kind


class GameRequest(models.Model):
    """A person waiting for a three-party game; pairing claims rows with select_for_update(skip_locked)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        MATCHED = "matched", _("Matched")
        CANCELLED = "cancelled", _("Cancelled")
        FELL_BACK = "fell_back", _("Fell back to a chat")

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="game_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_requests")
    language = models.CharField(max_length=5)
    hold_seconds = models.FloatField(
        default=0.0,
        help_text="Alone this long, the person falls back to a chat with a bot; a drawn match hold (docs/blinding.md).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    game = models.ForeignKey("Game", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="waiting"), name="gamerequest_one_waiting_per_user"
            ),
        ]
        indexes = [models.Index(fields=["competition", "status", "language", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.status} (game)"


class GameQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(models.Q(interrogator=user) | models.Q(witness=user))

    def live(self):
        """Games whose clock still runs (their conversations may have ended early)."""
        return self.filter(deadline_at__gt=timezone.now()).filter(
            models.Q(human_conversation__status="active") | models.Q(bot_conversation__status="active")
        )


class Game(models.Model):
    """A three-party game: two conversations with one interrogator (side "a" of both) that share a clock.

    ``human_conversation`` pairs the interrogator with the human witness (side "b"); ``bot_conversation`` pairs
    them with a bot. ``human_on_left`` is drawn per game; nothing else tells the panes apart.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="games")
    language = models.CharField(max_length=5)
    interrogator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    bot = models.ForeignKey(Bot, on_delete=models.PROTECT, related_name="games")
    human_conversation = models.OneToOneField(Conversation, on_delete=models.PROTECT, related_name="game_as_human")
    bot_conversation = models.OneToOneField(Conversation, on_delete=models.PROTECT, related_name="game_as_bot")
    human_on_left = models.BooleanField()
    started_at = models.DateTimeField(default=timezone.now)
    deadline_at = models.DateTimeField(help_text="The one clock; both conversations end at it.")
    witness_effort = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The witness's rating of the interrogator's effort, 1 to 5."
    )
    witness_answered_at = models.DateTimeField(null=True, blank=True)

    objects = GameQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(interrogator=models.F("witness")), name="game_no_self_pairing"),
            models.CheckConstraint(
                condition=models.Q(witness_effort__isnull=True)
                | (models.Q(witness_effort__gte=1) & models.Q(witness_effort__lte=5)),
                name="game_witness_effort_1_5",
            ),
        ]
        indexes = [models.Index(fields=["competition", "bot"])]

    def __str__(self) -> str:
        return f"game {self.public_id}"

    def role_of(self, user) -> str | None:
        if user.pk == self.interrogator_id:
            return "interrogator"
        if user.pk == self.witness_id:
            return "witness"
        return None

    def panes(self) -> tuple[Conversation, Conversation]:
        """(left, right) as the interrogator sees them."""
        if self.human_on_left:
            return self.human_conversation, self.bot_conversation
        return self.bot_conversation, self.human_conversation

    def side_of_conversation(self, conversation_id: int) -> str:
        left, _right = self.panes()
        return "left" if conversation_id == left.pk else "right"

    @property
    def is_over(self) -> bool:
        return not (self.human_conversation.is_active or self.bot_conversation.is_active)

    def seconds_left(self, now=None) -> int:
        now = now or timezone.now()
        return max(0, int((self.deadline_at - now).total_seconds()))


class GameVerdict(models.Model):
    """The interrogator's one, final verdict: which pane held the human. The bot wins when it is picked."""

    class Side(models.TextChoices):
        LEFT = "left", _("Left")
        RIGHT = "right", _("Right")

    game = models.OneToOneField(Game, on_delete=models.CASCADE, related_name="verdict")
    # Denormalised so that the scores read one table.
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="game_verdicts")
    bot = models.ForeignKey(Bot, on_delete=models.PROTECT, related_name="game_verdicts")
    interrogator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    picked_side = models.CharField(max_length=5, choices=Side.choices, help_text="The pane picked as the human.")
    bot_picked_as_human = models.BooleanField(help_text="True when the interrogator picked the bot: the bot wins.")
    confidence = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(100)])
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(confidence__lte=100), name="gameverdict_confidence_0_100"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="gameverdict_reason_required"),
        ]
        indexes = [models.Index(fields=["competition", "bot"])]

    def __str__(self) -> str:
        return f"verdict on {self.game_id}: {self.picked_side}"


class JudgmentExclusion(models.Model):
    """An organizer's correction: a judgment taken out of the results, with who, when and why.

    The judgment row itself is deleted (so every count, tally and export leaves it out by construction); its
    content is kept here in full, and the evaluator is not asked to judge the chat again.
    """

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="judgment_exclusions")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="judgment_exclusions")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    judgment = models.JSONField(help_text="The excluded judgment as it was (verdict, confidence, ratings, reason…).")
    reason = models.TextField()
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="judgment_exclusions_made"
    )
    excluded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-excluded_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "evaluator"], name="judgment_exclusion_one_per_evaluator"),
        ]

    def __str__(self) -> str:
        return f"{self.evaluator} on {self.conversation_id}: excluded"


class PresenceSample(models.Model):
    """How a human partner of a control chat typed one message, or how long they took to leave: timings, no text.

    Bots' typing indicators, reply release and failure endings are played from these (chat.presence).
    """

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        OPENING = "opening", _("Opening message")
        LEAVE = "leave", _("Leaving")

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="presence_samples")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    chars = models.PositiveIntegerField(default=0)
    read_s = models.FloatField(help_text="Partner's message (or chat start) to first typing; to leaving for LEAVE.")
    intervals_s = models.JSONField(default=list, blank=True, help_text="Between typing frames.")
    gap_s = models.FloatField(null=True, blank=True, help_text="Last typing frame to the message.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["competition", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.read_s:.1f}s"
