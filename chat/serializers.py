"""Input and output shapes of the evaluator API. Nothing here may name the bot: outputs are blind."""

from rest_framework import serializers

from chat.models import Judgment


class MatchStartInputSerializer(serializers.Serializer):
    language = serializers.CharField(max_length=5)


class MatchOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["waiting", "matched", "idle", "unavailable"],
        help_text="unavailable: no partner can be offered now; the request was cancelled (`reason` says why).",
    )
    reason = serializers.ChoiceField(
        choices=["chats_used_up", "no_partner"], allow_null=True, help_text="Why, when unavailable; else null."
    )
    chat_id = serializers.UUIDField(allow_null=True, help_text="The conversation's public id once matched.")
    ws_path = serializers.CharField(allow_null=True, help_text="Websocket path (docs/chat-protocol.md).")


class JudgmentInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Judgment.Verdict.choices)
    confidence = serializers.IntegerField(min_value=1, max_value=5)
    ratings = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5))
    reason = serializers.CharField(max_length=2000)


class JudgmentOutputSerializer(serializers.Serializer):
    verdict = serializers.CharField()
    confidence = serializers.IntegerField()
    ratings = serializers.DictField(child=serializers.IntegerField())
    reason = serializers.CharField()
    partner_kind = serializers.CharField(
        allow_null=True, help_text="The partner's true kind, when the competition reveals it after judging."
    )
