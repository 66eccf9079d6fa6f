"""Output shapes of the leaderboard API. The CSV uses the same flat row so the two never disagree."""

from rest_framework import serializers

from .models import LeaderboardSnapshot
from .selectors import LeaderboardRow

CSV_BASE_COLUMNS = [
    "position",
    "rank",
    "rank_low",
    "rank_high",
    "bot_id",
    "bot_name",
    "team_name",
    "is_baseline",
    "chats",
    "failed_chats",
    "failure_rate",
    "judgments",
    "evaluators",
    "judged_human",
    "design_effect",
    "pass_rate",
    "pass_low",
    "pass_high",
    "difference",
    "difference_low",
    "difference_high",
    "p_less",
    "p_less_holm",
    "p_equivalent",
    "p_equivalent_holm",
    "verdict",
    "more_judgments",
    "mean_confidence",
    "median_latency_ms",
]


def csv_header(criteria_keys: list[str]) -> list[str]:
    columns = list(CSV_BASE_COLUMNS)
    for key in criteria_keys:
        columns += [f"{key}_n", f"{key}_evaluators", f"{key}_mean", f"{key}_low", f"{key}_high"]
    return columns


def csv_row(row: LeaderboardRow) -> list:
    values = [getattr(row, column) for column in CSV_BASE_COLUMNS]
    for figure in row.criteria:
        values += [figure.n, figure.evaluators, figure.mean, figure.low, figure.high]
    return ["" if value is None else value for value in values]


class SnapshotSerializer(serializers.ModelSerializer):
    excluded_judgments = serializers.IntegerField(read_only=True)

    class Meta:
        model = LeaderboardSnapshot
        exclude = ["id", "competition"]


class CriterionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    n = serializers.IntegerField()
    evaluators = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)


class LeaderboardRowSerializer(serializers.Serializer):
    """Documents the row shape for the schema; rows are produced by `row_data`."""

    position = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)
    rank_low = serializers.IntegerField(allow_null=True)
    rank_high = serializers.IntegerField(allow_null=True)
    bot_id = serializers.IntegerField()
    bot_name = serializers.CharField()
    team_name = serializers.CharField()
    is_baseline = serializers.BooleanField()
    chats = serializers.IntegerField()
    failed_chats = serializers.IntegerField()
    failure_rate = serializers.FloatField(allow_null=True)
    judgments = serializers.IntegerField()
    evaluators = serializers.IntegerField()
    judged_human = serializers.FloatField()
    design_effect = serializers.FloatField()
    pass_rate = serializers.FloatField(allow_null=True)
    pass_low = serializers.FloatField(allow_null=True)
    pass_high = serializers.FloatField(allow_null=True)
    difference = serializers.FloatField(allow_null=True)
    difference_low = serializers.FloatField(allow_null=True)
    difference_high = serializers.FloatField(allow_null=True)
    p_less = serializers.FloatField(allow_null=True)
    p_less_holm = serializers.FloatField(allow_null=True)
    p_equivalent = serializers.FloatField(allow_null=True)
    p_equivalent_holm = serializers.FloatField(allow_null=True)
    verdict = serializers.ChoiceField(choices=["distinguishable", "indistinguishable", "not_enough_data"])
    verdict_label = serializers.CharField()
    more_judgments = serializers.IntegerField(allow_null=True)
    mean_confidence = serializers.FloatField(allow_null=True)
    median_latency_ms = serializers.FloatField(allow_null=True)
    criteria = CriterionSerializer(many=True)


class LeaderboardSerializer(serializers.Serializer):
    competition = serializers.CharField()
    published_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Before closing, the public sees numbers published on a schedule: the boundary they were "
        "published for (null before the first publication, and for live numbers).",
    )
    next_publication_at = serializers.DateTimeField(
        allow_null=True, help_text="When the public numbers are published next; null for live numbers."
    )
    snapshot = SnapshotSerializer(allow_null=True)
    rows = LeaderboardRowSerializer(many=True)


class DailyScoreSerializer(serializers.Serializer):
    day = serializers.DateField()
    judgments = serializers.IntegerField()
    judged_human = serializers.IntegerField()
    pass_rate = serializers.FloatField()
    pass_low = serializers.FloatField()
    pass_high = serializers.FloatField()


class BotScoresSerializer(serializers.Serializer):
    competition = serializers.CharField()
    row = LeaderboardRowSerializer(allow_null=True)
    daily = DailyScoreSerializer(many=True)
