"""Stored results of the leaderboard computation. Pages and the API read these rows; only the recompute writes them."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from competitions.models import Bot, Competition


class LeaderboardSnapshot(models.Model):
    """Competition-wide figures of the latest computation: baseline, exclusions, the plan they were computed with."""

    competition = models.OneToOneField(Competition, on_delete=models.CASCADE, related_name="leaderboard")
    computed_at = models.DateTimeField()
    duration_ms = models.FloatField(default=0)
    plan_sha256 = models.CharField(max_length=64, blank=True, help_text="The analysis plan the figures follow.")
    equivalence_margin = models.FloatField(default=0.10)
    min_judgments_to_rank = models.PositiveIntegerField(default=30)
    criteria = models.JSONField(default=list, help_text="The criteria at computation time: [{key, label}].")
    judgments_total = models.PositiveIntegerField(default=0)
    judgments_counted = models.PositiveIntegerField(default=0)
    excluded_short_judgments = models.PositiveIntegerField(default=0)
    excluded_bot_failed_judgments = models.PositiveIntegerField(default=0)
    excluded_evaluator_judgments = models.PositiveIntegerField(default=0)
    excluded_flagged_judgments = models.PositiveIntegerField(
        default=0, help_text="Judgments by evaluators excluded by the declared response-pattern rules."
    )
    bot_failed_chats = models.PositiveIntegerField(default=0)
    evaluators_total = models.PositiveIntegerField(default=0)
    evaluators_counted = models.PositiveIntegerField(default=0, help_text="Evaluators with counted judgments.")
    evaluators_suspended = models.PositiveIntegerField(default=0)
    evaluators_not_onboarded = models.PositiveIntegerField(default=0)
    evaluators_flagged = models.PositiveIntegerField(default=0, help_text="Excluded by the response-pattern rules.")
    baseline_judgments = models.PositiveIntegerField(default=0)
    baseline_evaluators = models.PositiveIntegerField(default=0)
    baseline_judged_human = models.FloatField(default=0)
    baseline_design_effect = models.FloatField(default=1)
    baseline_rate = models.FloatField(null=True, blank=True)
    baseline_low = models.FloatField(null=True, blank=True)
    baseline_high = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Leaderboard of {self.competition_id} at {self.computed_at:%Y-%m-%d %H:%M}"

    @property
    def excluded_judgments(self) -> int:
        return (
            self.excluded_short_judgments
            + self.excluded_bot_failed_judgments
            + self.excluded_evaluator_judgments
            + self.excluded_flagged_judgments
        )


class BotScore(models.Model):
    """One bot's figures in the latest computation."""

    class Verdict(models.TextChoices):
        DISTINGUISHABLE = "distinguishable", _("Distinguishable from humans")
        INDISTINGUISHABLE = "indistinguishable", _("Indistinguishable from humans within the margin")
        NOT_ENOUGH_DATA = "not_enough_data", _("Not enough data yet")

    bot = models.OneToOneField(Bot, on_delete=models.CASCADE, related_name="score")
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="bot_scores")
    computed_at = models.DateTimeField()
    position = models.PositiveIntegerField(help_text="Display order: rank, then rate; unranked bots last.")
    rank = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty for baselines and bots with fewer than the minimum judgments."
    )
    rank_low = models.PositiveIntegerField(null=True, blank=True, help_text="Bootstrap 95% interval of the rank.")
    rank_high = models.PositiveIntegerField(null=True, blank=True)
    chats = models.PositiveIntegerField(default=0, help_text="Finished chats (ended or bot failed).")
    failed_chats = models.PositiveIntegerField(default=0)
    failure_rate = models.FloatField(null=True, blank=True)
    judgments = models.PositiveIntegerField(default=0, help_text="Counted judgments = judged chats.")
    evaluators = models.PositiveIntegerField(default=0, help_text="Evaluators behind the counted judgments.")
    judged_human = models.FloatField(default=0, help_text="Human verdicts among the counted judgments.")
    design_effect = models.FloatField(default=1, help_text="Clustered variance / binomial variance (at least 1).")
    pass_rate = models.FloatField(null=True, blank=True)
    pass_low = models.FloatField(null=True, blank=True)
    pass_high = models.FloatField(null=True, blank=True)
    difference = models.FloatField(null=True, blank=True, help_text="Judged-human rate minus the human baseline's.")
    difference_low = models.FloatField(null=True, blank=True)
    difference_high = models.FloatField(null=True, blank=True)
    p_less = models.FloatField(null=True, blank=True, help_text="One-sided: judged human less often than humans.")
    p_less_holm = models.FloatField(null=True, blank=True)
    p_equivalent = models.FloatField(null=True, blank=True, help_text="TOST within ±margin.")
    p_equivalent_holm = models.FloatField(null=True, blank=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, default=Verdict.NOT_ENOUGH_DATA)
    more_judgments = models.PositiveIntegerField(
        null=True, blank=True, help_text="About how many more judgments a verdict needs (power 80%)."
    )
    mean_confidence = models.FloatField(null=True, blank=True)
    criteria = models.JSONField(default=dict, blank=True, help_text="{key: {n, evaluators, mean, low, high}}")
    median_latency_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["competition", "position"]
        indexes = [models.Index(fields=["competition", "position"])]

    def __str__(self) -> str:
        return f"{self.bot_id}: {self.pass_rate}"


class BotDailyScore(models.Model):
    """A bot's judgments of one day (UTC), for its page's figures over time. Unweighted."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="daily_scores")
    day = models.DateField()
    judgments = models.PositiveIntegerField()
    judged_human = models.PositiveIntegerField()
    pass_rate = models.FloatField()
    pass_low = models.FloatField()
    pass_high = models.FloatField()

    class Meta:
        ordering = ["bot", "day"]
        constraints = [models.UniqueConstraint(fields=["bot", "day"], name="botdailyscore_unique_bot_day")]

    def __str__(self) -> str:
        return f"{self.bot_id} {self.day}"


class EvaluatorScore(models.Model):
    """An evaluator's judgments, accuracy (for information only: never a weight) and response-pattern flags."""

    class Exclusion(models.TextChoices):
        NONE = "", _("Counted")
        SUSPENDED = "suspended", _("Suspended")
        NOT_ONBOARDED = "not_onboarded", _("Onboarding not passed")
        FLAGGED = "flagged", _("Excluded by the declared rules")

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="evaluator_scores")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    judgments = models.PositiveIntegerField()
    correct = models.PositiveIntegerField()
    accuracy = models.FloatField()
    exclusion = models.CharField(max_length=20, choices=Exclusion.choices, blank=True)
    flags = models.JSONField(default=dict, blank=True, help_text="{flag: evidence} under the analysis plan's rules.")

    class Meta:
        ordering = ["competition", "-judgments"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "user"], name="evaluatorscore_unique_competition_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.competition_id}: {self.accuracy:.2f}"


class AnalysisPlan(models.Model):
    """A version of a competition's analysis plan: the first is locked when evaluation opens; later ones are changes."""

    class Kind(models.TextChoices):
        LOCKED = "locked", _("Locked when evaluation opened")
        CHANGED = "changed", _("Changed after evaluation opened")

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="analysis_plans")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    plan = models.JSONField()
    sha256 = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["competition", "recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.competition_id} {self.kind} {self.sha256[:12]}"


# Running tallies, kept by database triggers (Postgres) in the same transaction as the rows they count, so a recompute
# reads a few thousand rows instead of every judgment. `python manage.py leaderboard_tallies --rebuild` recounts them.
# Foreign keys carry no database constraint (the triggers remove the tallies of a deleted competition or bot) and
# no index of their own beyond the unique keys: every index is one more write on each judgment saved.


class JudgmentTally(models.Model):
    """Judgments per partner (bot; empty = human partners), UTC day and state (counted or why not)."""

    class State(models.TextChoices):
        """The first reason a judgment does not count, if any. Internal: never shown, so not translated."""

        COUNTED = "counted"
        SHORT = "short"
        BOT_FAILED = "bot_failed"
        EXCLUDED_EVALUATOR = "excluded_evaluator"

    competition = models.ForeignKey(
        Competition, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    bot = models.ForeignKey(
        Bot, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    day = models.DateField()
    state = models.CharField(max_length=20, choices=State.choices)
    judgments = models.IntegerField(default=0)
    judged_human = models.IntegerField(default=0)
    confidence_sum = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["competition", "bot", "day", "state"], name="judgmenttally_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.competition_id}/{self.bot_id or 'humans'}/{self.day}/{self.state}: {self.judgments}"


class RatingTally(models.Model):
    """Counted ratings per partner and criterion: n, Σ and Σ² for the means and their intervals."""

    competition = models.ForeignKey(
        Competition, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    bot = models.ForeignKey(
        Bot, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    criterion = models.CharField(max_length=100)
    ratings = models.IntegerField(default=0)
    total = models.FloatField(default=0)
    total_sq = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["competition", "bot", "criterion"], name="ratingtally_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.competition_id}/{self.bot_id or 'humans'}/{self.criterion}: {self.ratings}"


class EvaluatorTally(models.Model):
    """One evaluator's judgments: all, too short, of bot-failed chats, and the valid ones with their correct verdicts
    and their response pattern (leaderboard.rater_quality.Pattern).

    The evaluator's own standing is not applied here: accuracy and flags are shown for excluded evaluators too. The
    pattern is counted with the competition's thresholds (`fast_seconds`, `silent_max_messages`) and first criterion;
    changing them recounts the competition. Straight-lining is told by the hashes of the ratings objects: they are
    all equal when judgments · Σh² = (Σh)², exact unless two different objects share a 64-bit hash.
    """

    competition = models.ForeignKey(
        Competition, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    judgments = models.IntegerField(default=0)
    short = models.IntegerField(default=0)
    bot_failed = models.IntegerField(default=0)
    valid = models.IntegerField(default=0)
    correct = models.IntegerField(default=0)
    valid_human = models.IntegerField(default=0, help_text="Human verdicts among the valid judgments.")
    fast = models.IntegerField(default=0, help_text="Valid judgments sent within fast_seconds of the chat's end.")
    silent = models.IntegerField(default=0, help_text="Valid judgments of chats with few messages of the evaluator's.")
    ratings_hash_sum = models.DecimalField(max_digits=60, decimal_places=0, default=0)
    ratings_hash_sum_sq = models.DecimalField(max_digits=60, decimal_places=0, default=0)
    human_verdict_rating_n = models.IntegerField(default=0, help_text="First-criterion ratings with a human verdict.")
    human_verdict_rating_sum = models.FloatField(default=0)
    bot_verdict_rating_n = models.IntegerField(default=0)
    bot_verdict_rating_sum = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["competition", "user"], name="evaluatortally_key")]

    def __str__(self) -> str:
        return f"{self.competition_id}/{self.user_id}: {self.judgments}"


class EvaluatorPartnerTally(models.Model):
    """Counted judgments of one evaluator per partner (bot; empty = human partners): the rows the cluster bootstrap
    resamples. Per criterion, in the order of the competition's criteria, the ratings' count and sum (changing the
    criteria recounts the competition)."""

    competition = models.ForeignKey(
        Competition, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    bot = models.ForeignKey(
        Bot, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    judgments = models.IntegerField(default=0)
    judged_human = models.IntegerField(default=0)
    confidence_sum = models.BigIntegerField(default=0)
    rating_counts = ArrayField(models.FloatField(), default=list)
    rating_sums = ArrayField(models.FloatField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["competition", "user", "bot"], name="evaluatorpartnertally_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.competition_id}/{self.user_id}/{self.bot_id or 'humans'}: {self.judgments}"


class ChatTally(models.Model):
    """A bot's finished two-party chats (ended or bot failed) and bot-failed ones; games' conversations are not."""

    competition = models.ForeignKey(
        Competition, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    bot = models.ForeignKey(Bot, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    finished = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot"], name="chattally_key")]

    def __str__(self) -> str:
        return f"{self.bot_id}: {self.finished} finished, {self.failed} failed"


class LatencyTally(models.Model):
    """A histogram of a bot's answered turn latencies, in buckets 1% wide, for the median without reading every call.

    Bucket b holds latencies l with floor(100 · ln(1 + l)) = b; its midpoint is within 0.5% of every value in it.
    """

    competition = models.ForeignKey(Competition, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    bot = models.ForeignKey(Bot, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    bucket = models.IntegerField()
    calls = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "bucket"], name="latencytally_key")]

    def __str__(self) -> str:
        return f"{self.bot_id}/{self.bucket}: {self.calls}"


class PublishedLeaderboard(models.Model):
    """The copy of the leaderboard the public sees before the competition closes (leaderboard/publication.py).

    Written only at scheduled boundaries (beat), never because of a chat or a judgment, so a public number that
    moves cannot be tied to one chat (docs/blinding.md, channel 5). Organizers read the live rows instead.
    """

    competition = models.OneToOneField(Competition, on_delete=models.CASCADE, related_name="published_leaderboard")
    period_start = models.DateTimeField(help_text="The scheduled boundary this copy was published for (UTC).")
    published_at = models.DateTimeField(help_text="When the beat task actually wrote it.")
    snapshot = models.JSONField(
        null=True, blank=True, help_text="The competition-wide figures at publication; empty if none computed yet."
    )
    rows = models.JSONField(default=list, help_text="The public rows at publication, without translated labels.")

    def __str__(self) -> str:
        return f"Published leaderboard of {self.competition_id} for {self.period_start:%Y-%m-%d %H:%M}"
