"""Transcript review: organizers' settings, review items and their assignments, the reviews, gold items and strikes,
and the computed figures.

A review item is one unit reviewers judge: one finished chat (single) or two side by side (pairwise). Each item is
assigned to up to k reviewers, so that agreement can be measured; gold items are shared items with a known answer.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import Conversation
from competitions.models import Competition

from . import stats


class ReviewKind(models.TextChoices):
    SINGLE = "single", _("Single transcript")
    PAIRWISE = "pairwise", _("Pair of transcripts")


class Verdict(models.TextChoices):
    BOT = "bot", _("Bot")
    HUMAN = "human", _("Human")


class ReviewSettings(models.Model):
    """How a competition runs transcript review. The gold rate and strike limit are the declared rule: they cannot
    change once a review has been recorded."""

    competition = models.OneToOneField(Competition, on_delete=models.CASCADE, related_name="review_settings")
    enabled = models.BooleanField(default=False, help_text="Evaluators may review finished chats.")
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Who may review. Empty: every evaluator of the competition who consented and passed onboarding.",
    )
    reviews_per_transcript = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)], help_text="Reviewers per item (k)."
    )
    reviews_per_reviewer = models.PositiveIntegerField(
        default=150,
        help_text="The most items one reviewer is given. With gold at 1 in 10, about 150 items (15 checks) are needed "
        "for the strike rule to stop nearly every random clicker (bench/review.py).",
    )
    pairwise_share = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of items that are pairs of transcripts.",
    )
    gold_rate = models.FloatField(
        default=0.1,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.5)],
        help_text="Share of items that are gold items (known answer): 0.1 is one in ten.",
    )
    strike_limit = models.PositiveSmallIntegerField(
        default=3, help_text="A reviewer who fails more gold items than this stops counting (all their reviews)."
    )
    attention_check_every = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(50)],
        help_text="Attention checks in the evaluate flow: one active single gold item in each block of this many "
        "judged chats, at a position the evaluator cannot predict, shown as a review item before the next chat. "
        "0: none. Part of the locked analysis plan: it cannot change once evaluation has opened.",
    )
    attention_checks_per_evaluator = models.PositiveSmallIntegerField(
        default=6,
        validators=[MaxValueValidator(50)],
        help_text="The most attention checks one evaluator meets in the evaluate flow. The leaderboard's rule "
        "'failed attention checks' needs at least gold_min of them (analysis plan). In bench/stats_validity.py, one "
        "check per 2 chats and at most 6 brought interval coverage back to 93-96.5% with 20% bad evaluators.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gold_rate__gte=0) & models.Q(gold_rate__lte=0.5),
                name="reviewsettings_gold_rate_range",
            ),
            models.CheckConstraint(
                condition=models.Q(pairwise_share__gte=0) & models.Q(pairwise_share__lte=1),
                name="reviewsettings_pairwise_share_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Review settings of {self.competition}"

    @property
    def attention_checks_on(self) -> bool:
        return self.attention_check_every > 0 and self.attention_checks_per_evaluator > 0

    def attention_check_plan(self) -> dict | None:
        """The attention checks as declared in the analysis plan; None when there are none (the plan says nothing)."""
        if not self.attention_checks_on:
            return None
        return {
            "every_judged_chats": self.attention_check_every,
            "per_evaluator": self.attention_checks_per_evaluator,
            "items": "active single gold items of transcript review, one in each block of every_judged_chats judged "
            "chats at a keyed random position; answered and failed gold items (evaluate flow and review page) feed "
            "the failed_checks rule of exclusion_rules",
        }

    def clean(self) -> None:
        if self.pk is None:
            stored = None
        else:
            stored = (
                ReviewSettings.objects.filter(pk=self.pk)
                .values("gold_rate", "strike_limit", "attention_check_every", "attention_checks_per_evaluator")
                .first()
            )
        if stored is None:
            stored = {"attention_check_every": 0, "attention_checks_per_evaluator": 0, **self._declared_rule()}
        checks_changed = (stored["attention_check_every"], stored["attention_checks_per_evaluator"]) != (
            self.attention_check_every,
            self.attention_checks_per_evaluator,
        )
        if (
            checks_changed
            and (stored["attention_check_every"] or self.attention_check_every)
            and Competition.objects.filter(
                pk=self.competition_id, phase__in=[Competition.Phase.EVALUATION, Competition.Phase.CLOSED]
            ).exists()
        ):
            raise ValidationError(
                "The attention checks are part of the analysis plan locked when evaluation opened: they cannot "
                "change now."
            )
        rule_changed = {
            "gold_rate": stored["gold_rate"],
            "strike_limit": stored["strike_limit"],
        } != self._declared_rule()
        if (
            rule_changed
            and ReviewAssignment.objects.filter(item__competition_id=self.competition_id, status="done").exists()
        ):
            raise ValidationError("The gold rate and strike limit were declared to reviewers: they cannot change now.")

    def _declared_rule(self) -> dict:
        return {"gold_rate": self.gold_rate, "strike_limit": self.strike_limit}


class GoldItem(models.Model):
    """A transcript (or pair) whose answer is known. Proposed ones wait for an organizer's approval."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    class Source(models.TextChoices):
        ORGANIZER = "organizer", _("Marked by an organizer")
        UNANIMOUS = "unanimous", _("Proposed from unanimous reviews")

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="gold_items")
    kind = models.CharField(max_length=10, choices=ReviewKind.choices)
    first = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    answer_verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True, help_text="Single items.")
    answer_conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Pairwise items: the chat whose witness is the more human.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ORGANIZER)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="single", second__isnull=True, answer_conversation__isnull=True)
                    & ~models.Q(answer_verdict="")
                )
                | models.Q(kind="pairwise", second__isnull=False, answer_conversation__isnull=False, answer_verdict=""),
                name="golditem_answer_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["first"], condition=models.Q(kind="single"), name="golditem_one_single_per_chat"
            ),
            models.UniqueConstraint(
                fields=["first", "second"], condition=models.Q(kind="pairwise"), name="golditem_one_per_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"Gold {self.kind} #{self.pk}"

    def clean(self) -> None:
        if self.kind == ReviewKind.PAIRWISE and self.answer_conversation_id not in (self.first_id, self.second_id):
            raise ValidationError({"answer_conversation": "The answer must be one of the pair's two chats."})

    def is_answered_by(self, *, verdict: str = "", chosen_id: int | None = None) -> bool:
        if self.kind == ReviewKind.SINGLE:
            return verdict == self.answer_verdict
        return chosen_id == self.answer_conversation_id

    @property
    def expected_label(self) -> str:
        if self.kind == ReviewKind.SINGLE:
            return self.answer_verdict
        return str(self.answer_conversation.public_id)


class ReviewItem(models.Model):
    """What reviewers judge: one chat, or two (first, second in a fixed order; each assignment randomises sides)."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="review_items")
    kind = models.CharField(max_length=10, choices=ReviewKind.choices)
    first = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    gold = models.OneToOneField(GoldItem, null=True, blank=True, on_delete=models.CASCADE, related_name="review_item")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="single", second__isnull=True)
                | (models.Q(kind="pairwise", second__isnull=False) & ~models.Q(first=models.F("second"))),
                name="reviewitem_shape_matches_kind",
            ),
            # One ordinary item per chat and per pair of chats: two reviewers opening the same item at once join it.
            models.UniqueConstraint(
                fields=["first"],
                condition=models.Q(kind="single", gold__isnull=True),
                name="reviewitem_one_single_per_chat",
            ),
            models.UniqueConstraint(
                fields=["first", "second"],
                condition=models.Q(kind="pairwise", gold__isnull=True),
                name="reviewitem_one_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["competition", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} item #{self.pk}"

    @property
    def conversation_ids(self) -> list[int]:
        return [self.first_id] if self.second_id is None else [self.first_id, self.second_id]


class ReviewAssignment(models.Model):
    """One item given to one reviewer; at most one pending per reviewer."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_assignments")
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="review_assignments")
    swapped = models.BooleanField(default=False, help_text="Pairwise: the item's second chat is shown on the left.")
    attention_check = models.BooleanField(
        default=False, help_text="Given in the evaluate flow between two chats (a gold item), not on the review page."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="reviewassignment_once_per_reviewer"),
            models.UniqueConstraint(
                fields=["reviewer", "competition"],
                condition=models.Q(status="pending"),
                name="reviewassignment_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["competition", "reviewer", "status"])]

    def __str__(self) -> str:
        return f"{self.item} for {self.reviewer}"

    @property
    def left_right(self) -> tuple[int, int | None]:
        """The chat ids shown on the left and the right (single items: the chat and None)."""
        if self.item.second_id is None:
            return self.item.first_id, None
        if self.swapped:
            return self.item.second_id, self.item.first_id
        return self.item.first_id, self.item.second_id


class SingleReview(models.Model):
    assignment = models.OneToOneField(ReviewAssignment, on_delete=models.CASCADE, related_name="single_review")
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="single_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="single_reviews")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="single_reviews")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    confidence = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__gte=1) & models.Q(confidence__lte=5), name="singlereview_confidence_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.conversation_id}: {self.verdict}"


class PairwiseReview(models.Model):
    class Side(models.TextChoices):
        LEFT = "left", _("Left")
        RIGHT = "right", _("Right")

    assignment = models.OneToOneField(ReviewAssignment, on_delete=models.CASCADE, related_name="pairwise_review")
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="pairwise_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pairwise_reviews")
    chosen = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="+", help_text="The chat whose witness sounds more human."
    )
    other = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    chosen_side = models.CharField(max_length=5, choices=Side.choices, help_text="As shown to the reviewer.")
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.reviewer} chose {self.chosen_id} over {self.other_id}"


class Strike(models.Model):
    """A failed gold item: the evidence organizers see."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="review_strikes")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_strikes")
    assignment = models.OneToOneField(ReviewAssignment, on_delete=models.CASCADE, related_name="strike")
    expected = models.CharField(max_length=64)
    given = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["competition", "reviewer"])]

    def __str__(self) -> str:
        return f"Strike for {self.reviewer}: expected {self.expected}, gave {self.given}"


def reviewer_is_stopped(*, competition_id: int, reviewer_id: int, limit: int) -> bool:
    strikes = Strike.objects.filter(competition_id=competition_id, reviewer_id=reviewer_id).count()
    return stats.reviewer_stopped(strikes=strikes, limit=limit)


class ReviewSnapshot(models.Model):
    """The latest review figures of a competition, recomputed from the reviews by a Celery task."""

    competition = models.OneToOneField(Competition, on_delete=models.CASCADE, related_name="review_snapshot")
    computed_at = models.DateTimeField()
    duration_ms = models.FloatField(default=0)
    witnesses = models.JSONField(default=list, help_text="Bradley–Terry rows, best first.")
    win_rates = models.JSONField(default=list, help_text="[i][j]: share of i's comparisons with j that i won.")
    pairwise_counted = models.PositiveIntegerField(default=0)
    single_counted = models.PositiveIntegerField(default=0)
    single_correct = models.PositiveIntegerField(default=0)
    excluded_stopped = models.PositiveIntegerField(default=0, help_text="Reviews of reviewers past the strike limit.")
    reviewers_counted = models.PositiveIntegerField(default=0)
    reviewers_stopped = models.PositiveIntegerField(default=0)
    replicates = models.PositiveIntegerField(default=0)
    alpha_verdicts = models.FloatField(null=True, blank=True)
    alpha_verdicts_low = models.FloatField(null=True, blank=True)
    alpha_verdicts_high = models.FloatField(null=True, blank=True)
    alpha_verdicts_units = models.PositiveIntegerField(default=0)
    alpha_pairwise = models.FloatField(null=True, blank=True)
    alpha_pairwise_low = models.FloatField(null=True, blank=True)
    alpha_pairwise_high = models.FloatField(null=True, blank=True)
    alpha_pairwise_units = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Review figures of {self.competition}"
