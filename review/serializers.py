from rest_framework import serializers

from .models import ReviewSnapshot


class WitnessSerializer(serializers.Serializer):
    """A Bradley–Terry row: log-strength relative to the human witness, its 95% bootstrap interval, the rank."""

    witness = serializers.CharField(help_text='A bot id, or "human" for the human witness of control chats.')
    bot_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    team = serializers.CharField()
    is_baseline = serializers.BooleanField()
    is_human = serializers.BooleanField()
    comparisons = serializers.IntegerField()
    wins = serializers.IntegerField()
    strength = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    p_vs_human = serializers.FloatField(allow_null=True)
    p_vs_human_low = serializers.FloatField(allow_null=True)
    p_vs_human_high = serializers.FloatField(allow_null=True)


class ReviewSnapshotSerializer(serializers.ModelSerializer):
    witnesses = WitnessSerializer(many=True)
    win_rates = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)))

    class Meta:
        model = ReviewSnapshot
        exclude = ["id", "competition"]


class ReviewBoardSerializer(serializers.Serializer):
    competition = serializers.CharField()
    snapshot = ReviewSnapshotSerializer(allow_null=True)
