"""Reads for the chat pages, the consumer and matchmaking."""

from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from chat.models import (
    Conversation,
    Evaluator,
    Judgment,
    JudgmentExclusion,
    MatchRequest,
    Message,
    PartnerKind,
    PresenceSample,
)
from chat.presence import PresenceProfile, TurnTiming
from competitions.models import Bot, Competition


def conversation_for_participant(*, public_id, user) -> Conversation | None:
    """The conversation if the user is one of its two evaluators, else None (authorisation in one place)."""
    if not user.is_authenticated:
        return None
    return Conversation.objects.for_user(user).select_related("competition").filter(public_id=public_id).first()


def messages_after(*, conversation_id: int, after_seq: int) -> list[Message]:
    return list(Message.objects.filter(conversation_id=conversation_id, seq__gt=after_seq).order_by("seq"))


def active_conversation_for(*, user) -> Conversation | None:
    return Conversation.objects.active().for_user(user).select_related("competition").first()


def unjudged_conversation_for(*, user, competition: Competition | None = None) -> Conversation | None:
    """The user's last ended chat that still needs their judgment.

    Bot-failed chats too: a failed bot must look like a human who left, and a human who left is judged
    (the judgment is kept but never scored). Chats too short to count (fewer messages than the competition's
    ``min_turns_to_count``) need none, whoever the partner was: their judgments would be discarded.
    """
    ended = Conversation.objects.for_user(user).filter(
        status__in=(Conversation.Status.ENDED, Conversation.Status.BOT_FAILED),
        last_seq__gte=F("competition__min_turns_to_count"),
    )
    ended = ended.exclude(judgment_exclusions__evaluator=user)
    # A three-party game's conversations are judged by the game's verdict (unfinished_game_for), not one by one.
    ended = ended.filter(game_as_human__isnull=True, game_as_bot__isnull=True)
    if competition is not None:
        ended = ended.filter(competition=competition)
    return ended.exclude(judgments__evaluator=user).order_by("-ended_at").first()


def waiting_request_for(*, user, competition: Competition) -> MatchRequest | None:
    return MatchRequest.objects.filter(user=user, competition=competition, status=MatchRequest.Status.WAITING).first()


def evaluator_for(*, user, competition: Competition) -> Evaluator | None:
    if not user.is_authenticated:
        return None
    return Evaluator.objects.filter(user=user, competition=competition).first()


def competitions_for_evaluation(*, user) -> list[tuple[Competition, Evaluator | None]]:
    competitions = list(Competition.objects.evaluating().order_by("title"))
    evaluators = {e.competition_id: e for e in Evaluator.objects.filter(user=user, competition__in=competitions)}
    return [(c, evaluators.get(c.pk)) for c in competitions]


def judgment_for(*, conversation: Conversation, user) -> Judgment | None:
    return Judgment.objects.filter(conversation=conversation, evaluator=user).first()


def judgment_excluded(*, conversation: Conversation, user) -> bool:
    return JudgmentExclusion.objects.filter(conversation=conversation, evaluator=user).exists()


def evaluator_chat_count(*, competition: Competition, user) -> int:
    """Every chat the user has had in the competition, whatever the partner and however it ended."""
    return Conversation.objects.for_user(user).filter(competition=competition).count()


def bots_available_for(*, competition: Competition, user) -> QuerySet[Bot]:
    """Live bots this evaluator may chat with, the ones that most need judgments first.

    Excludes the evaluator's own teams' bots and bots they have already met ``max_chats_per_evaluator_per_bot``
    times. The bot of their previous chat comes last rather than being left out: left out, a competition's only
    bot would be "unavailable" right after a bot chat and not after a control chat, telling the two apart
    (docs/blinding.md).
    """
    bots = Bot.objects.live().filter(competition=competition).exclude(team__memberships__user=user)
    previous = (
        Conversation.objects.filter(competition=competition, evaluator_a=user, partner_kind="bot")
        .order_by("-started_at")
        .values_list("bot_id", flat=True)
        .first()
    )
    chats_with_user = (
        Conversation.objects.filter(bot=OuterRef("pk"), evaluator_a=user)
        .exclude(status=Conversation.Status.BOT_FAILED)
        .values("bot")
        .annotate(n=Count("pk"))
        .values("n")
    )
    judged = Judgment.objects.filter(bot=OuterRef("pk")).values("bot").annotate(n=Count("pk")).values("n")
    zero = Value(0, output_field=IntegerField())
    return (
        bots.annotate(
            chats_with_user=Coalesce(Subquery(chats_with_user, output_field=IntegerField()), zero),
            judged_count=Coalesce(Subquery(judged, output_field=IntegerField()), zero),
            is_previous=Case(When(pk=previous, then=Value(1)), default=zero, output_field=IntegerField()),
        )
        .filter(chats_with_user__lt=competition.max_chats_per_evaluator_per_bot)
        .order_by("is_previous", "judged_count", "?")
    )


def flagged_messages() -> QuerySet[Message]:
    return Message.objects.filter(Q(flagged=True)).select_related("conversation")


def waiting_game_request_for(*, user, competition: Competition):
    from chat.models import GameRequest

    return GameRequest.objects.filter(user=user, competition=competition, status=GameRequest.Status.WAITING).first()


def _games_with_conversations():
    from chat.models import Game

    return Game.objects.select_related("competition", "human_conversation", "bot_conversation")


def game_for_participant(*, public_id, user):
    """The game if the user is its interrogator or its human witness, else None."""
    if not user.is_authenticated:
        return None
    return _games_with_conversations().for_user(user).filter(public_id=public_id).first()


def game_of_conversation(*, conversation: Conversation):
    return (
        _games_with_conversations()
        .filter(Q(human_conversation=conversation) | Q(bot_conversation=conversation))
        .first()
    )


def current_game_for(*, user, competition: Competition):
    """The user's game that is running, or that ended and still needs their verdict or answer."""
    return _games_with_conversations().for_user(user).filter(competition=competition).live().first() or (
        unfinished_game_for(user=user, competition=competition)
    )


def unfinished_game_for(*, user, competition: Competition | None = None):
    """The user's ended game still owing the interrogator's verdict or the witness's effort answer."""
    games = _games_with_conversations().filter(
        Q(interrogator=user, verdict__isnull=True) | Q(witness=user, witness_answered_at__isnull=True)
    )
    if competition is not None:
        games = games.filter(competition=competition)
    return games.exclude(human_conversation__status="active").exclude(bot_conversation__status="active").first()


@dataclass(frozen=True)
class HistoryEntry:
    conversation: Conversation
    partner_alias: str
    judgment: Judgment | None
    revealed_kind: str | None


@dataclass(frozen=True)
class EvaluatorHistory:
    entries: list[HistoryEntry]
    judged: int
    revealed: int
    right: int

    @property
    def right_percent(self) -> int | None:
        return round(100 * self.right / self.revealed) if self.revealed else None


def evaluator_history(*, user, competition: Competition) -> EvaluatorHistory:
    """An evaluator's own chats in a competition, newest first, with their judgments and, where the competition
    reveals partners, what each partner was. Never names a bot."""
    conversations = list(
        Conversation.objects.for_user(user).filter(competition=competition).order_by("-started_at")[:200]
    )
    judgments = {
        judgment.conversation_id: judgment
        for judgment in Judgment.objects.filter(evaluator=user, conversation__in=conversations)
    }
    reveal = competition.reveal_partner_after_judgment
    entries = []
    for conversation in conversations:
        judgment = judgments.get(conversation.pk)
        entries.append(
            HistoryEntry(
                conversation=conversation,
                partner_alias=conversation.partner_alias_for(conversation.side_of(user)),
                judgment=judgment,
                revealed_kind=judgment.partner_kind if judgment is not None and reveal else None,
            )
        )
    revealed = [entry.judgment for entry in entries if entry.revealed_kind is not None]
    return EvaluatorHistory(
        entries=entries,
        judged=len(judgments),
        revealed=len(revealed),
        right=sum(1 for judgment in revealed if judgment.is_correct),
    )


@dataclass(frozen=True)
class TranscriptLine:
    mine: bool
    text: str


def transcript_for(*, conversation: Conversation, side: str) -> list[TranscriptLine]:
    """The chat as this side saw it: their own words as written, the partner's as delivered (masked if flagged)."""
    return [
        TranscriptLine(mine=message.side == side, text=message.text if message.side == side else message.delivered_text)
        for message in conversation.messages.order_by("seq").only("side", "text", "delivered_text")
    ]


PRESENCE_SAMPLES = 500


def presence_profile_for(*, competition_id: int, scale: float) -> PresenceProfile:
    """The latest recorded human timings of a competition's control chats (chat.presence plays bots from them).

    One query (it runs before every bot turn): the latest samples of every kind together.
    """
    rows = (
        PresenceSample.objects.filter(competition_id=competition_id)
        .order_by("-created_at")
        .values_list("kind", "chars", "read_s", "intervals_s", "gap_s")[: 3 * PRESENCE_SAMPLES]
    )
    turns: dict[str, list[TurnTiming]] = {PresenceSample.Kind.REPLY: [], PresenceSample.Kind.OPENING: []}
    leaves: list[float] = []
    for kind, chars, read_s, intervals_s, gap_s in rows:
        if kind == PresenceSample.Kind.LEAVE:
            leaves.append(read_s)
        elif kind in turns:
            turns[kind].append(
                TurnTiming(chars=chars, read_s=read_s, intervals_s=tuple(intervals_s or ()), gap_s=gap_s or 0.0)
            )
    return PresenceProfile(
        replies=tuple(turns[PresenceSample.Kind.REPLY]),
        openings=tuple(turns[PresenceSample.Kind.OPENING]),
        leaves_s=tuple(leaves),
        scale=scale,
    )


def recent_human_match_waits(*, competition: Competition, limit: int = PRESENCE_SAMPLES) -> list[float]:
    """Seconds from request to match of the latest requests paired with a human (both sides of each pair)."""
    rows = (
        MatchRequest.objects.filter(
            competition=competition,
            status=MatchRequest.Status.MATCHED,
            conversation__partner_kind=PartnerKind.HUMAN,
            matched_at__isnull=False,
        )
        .order_by("-matched_at")
        .values_list("created_at", "matched_at")[:limit]
    )
    return [max(0.0, (matched - created).total_seconds()) for created, matched in rows]
