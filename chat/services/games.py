"""Three-party games: matchmaking for an interrogator, a human witness and a bot, the shared clock, the verdict.

A game is two ordinary conversations (chat's models, protocol and bot turns) plus a ``Game`` row that ties them to
one clock and one verdict. Pairing uses the two-party queue's locking (``queueing``): the caller's own request row
first, a partner's row with SKIP LOCKED, so any number of processes can pair at once without double-booking anyone.
"""

import random
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from chat import selectors
from chat.models import Conversation, Game, GameRequest, GameVerdict, MatchRequest, PartnerKind
from competitions.models import Bot, Competition

from . import queueing
from .conversations import conversation_end, conversation_end_if_expired
from .errors import AlreadyInChat, ChatError, JudgmentInvalid, JudgmentNotAllowed
from .matchmaking import ALIASES, _check_can_start, _check_free, match_attempt, match_hold_draw

MAX_REASON_CHARS = 2000
PARTNERS_TRIED = 5


class GameVerdictPending(ChatError):
    """The person still owes the verdict (interrogator) or the effort answer (witness) of their last game."""

    code = "judgment_pending"

    def __init__(self, game: Game) -> None:
        super().__init__("Finish your last game first.")
        self.game = game


def _check_free_for_game(*, user) -> None:
    _check_free(user=user)
    pending = selectors.unfinished_game_for(user=user)
    if pending is not None:
        raise GameVerdictPending(pending)


def game_request_start(*, competition: Competition, user, language: str, rng: random.Random | None = None):
    """Queue the person for a three-party game (or return their waiting request) and try to pair them at once."""
    rng = rng or random.Random()
    _check_can_start(competition=competition, user=user, language=language)
    _check_free_for_game(user=user)
    request = queueing.request_enqueue(
        model=GameRequest,
        user=user,
        competition=competition,
        check_free=lambda: _check_free_for_game(user=user),
        language=language,
        hold_seconds=match_hold_draw(competition=competition, rng=rng),
    )
    if request is None:
        return game_request_start(competition=competition, user=user, language=language, rng=rng)
    return game_attempt(game_request_id=request.pk, rng=rng)


def game_request_cancel(*, game_request: GameRequest) -> bool:
    return queueing.request_cancel(game_request)


def game_attempt(*, game_request_id: int, rng: random.Random | None = None) -> GameRequest:
    """Try to start a game for one waiting request. Safe to call from any number of processes at once.

    Locked and claimed like the two-party queue (``queueing``). In mode "both", alone past its hold (a recent human
    pairing's wait, as two-party requests are held), the request falls back to a two-party chat with a bot: the
    lobby's wait is drawn like any chat's, so it does not tell that the chat is with a bot (docs/blinding.md).
    """
    rng = rng or random.Random()
    with queueing.waiting_request_locked(GameRequest, game_request_id) as request:
        if request is None:
            return GameRequest.objects.get(pk=game_request_id)
        competition = request.competition
        for partner in queueing.partners_claimable(request)[:PARTNERS_TRIED]:
            preferred = roles_assign(competition=competition, first=partner, second=request, rng=rng)
            # The other way round when the preferred interrogator has no bot left to meet (per-bot caps).
            for interrogator, witness in (preferred, preferred[::-1]):
                bot = bot_for_game(competition=competition, interrogator=interrogator.user, witness=witness.user)
                if bot is not None:
                    _start_game(interrogator=interrogator, witness=witness, bot=bot, rng=rng)
                    request.refresh_from_db()
                    return request
        if not queueing.hold_over(request) or competition.mode == "three_party":
            # In a games-only competition every two-party chat would be with a bot, and the person would know it
            # (no control chats to hide among): the lobby keeps waiting for players instead (docs/blinding.md).
            return request
        # Nobody came to play: the lobby falls back to a two-party chat with a bot, as two-party matchmaking does.
        request.status = GameRequest.Status.FELL_BACK
        request.save(update_fields=["status"])
        MatchRequest.objects.filter(user=request.user, status=MatchRequest.Status.WAITING).update(
            status=MatchRequest.Status.CANCELLED
        )
        fallback = MatchRequest.objects.create(
            competition=competition, user=request.user, language=request.language, wants_human=False
        )
    match_attempt(match_request_id=fallback.pk, rng=rng)
    return request


def roles_assign(*, competition: Competition, first: GameRequest, second: GameRequest, rng: random.Random):
    """(interrogator, witness): the person furthest below the organizer's interrogator share interrogates."""

    def deficit(request: GameRequest) -> float:
        counts = Game.objects.filter(competition=competition).aggregate(
            asked=Count("pk", filter=Q(interrogator=request.user_id)),
            total=Count("pk", filter=Q(interrogator=request.user_id) | Q(witness=request.user_id)),
        )
        return competition.interrogator_share * (counts["total"] + 1) - counts["asked"]

    first_deficit, second_deficit = deficit(first), deficit(second)
    if first_deficit == second_deficit:
        return (first, second) if rng.random() < 0.5 else (second, first)
    return (first, second) if first_deficit > second_deficit else (second, first)


def bot_for_game(*, competition: Competition, interrogator, witness) -> Bot | None:
    """A bot the interrogator may meet (two-party rules: own-team ban, per-bot cap) that is not the witness's own."""
    return (
        selectors.bots_available_for(competition=competition, user=interrogator)
        .exclude(team__memberships__user=witness)
        .first()
    )


def _start_game(*, interrogator: GameRequest, witness: GameRequest, bot: Bot, rng: random.Random) -> Game:
    competition = interrogator.competition
    now = timezone.now()
    deadline = now + timedelta(seconds=competition.chat_time_limit_seconds)
    interrogator_alias, human_alias, bot_alias = rng.sample(ALIASES, 3)
    common = {
        "competition": competition,
        "language": interrogator.language,
        "evaluator_a": interrogator.user,
        "alias_a": interrogator_alias,
        # The interrogator opens both conversations, so the bot never speaks first in one pane only.
        "first_speaker": "a",
        "started_at": now,
        "deadline_at": deadline,
    }
    human_conversation = Conversation.objects.create(
        partner_kind=PartnerKind.HUMAN, evaluator_b=witness.user, alias_b=human_alias, **common
    )
    bot_conversation = Conversation.objects.create(partner_kind=PartnerKind.BOT, bot=bot, alias_b=bot_alias, **common)
    game = Game.objects.create(
        competition=competition,
        language=interrogator.language,
        interrogator=interrogator.user,
        witness=witness.user,
        bot=bot,
        human_conversation=human_conversation,
        bot_conversation=bot_conversation,
        human_on_left=rng.random() < 0.5,
        started_at=now,
        deadline_at=deadline,
    )
    for request in (interrogator, witness):
        queueing.request_mark_matched(request, matched_at=now, game=game)
    return game


def game_poll(*, competition: Competition, user) -> tuple[str, Game | Conversation | None]:
    """What the waiting page shows: "waiting", "matched" with the game (or, after the lobby's fallback, the
    two-party chat), or "idle". Each poll is a pairing attempt."""
    waiting = selectors.waiting_game_request_for(user=user, competition=competition)
    if waiting is not None and game_attempt(game_request_id=waiting.pk).status == GameRequest.Status.WAITING:
        return "waiting", None
    game = selectors.current_game_for(user=user, competition=competition)
    if game is not None:
        return "matched", game
    chat = selectors.active_conversation_for(user=user)
    if chat is not None and chat.competition_id == competition.pk:
        return "matched", chat
    return "idle", None


def game_end_if_expired(*, game: Game) -> bool:
    """End both conversations once the shared clock has run out."""
    ended = False
    for conversation in (game.human_conversation, game.bot_conversation):
        ended |= conversation_end_if_expired(conversation=conversation)
    return ended


def game_finish_early(*, game: Game, user) -> None:
    """The interrogator is ready to decide before the clock runs out: both conversations end as if they left."""
    if game.role_of(user) != "interrogator":
        raise JudgmentNotAllowed("Only the interrogator can end the game.")
    for conversation in (game.human_conversation, game.bot_conversation):
        conversation_end(conversation=conversation, reason=Conversation.EndReason.LEFT, by_side="a")


def game_verdict_validate(*, picked_side, confidence, reason) -> dict[str, str]:
    errors: dict[str, str] = {}
    if picked_side not in GameVerdict.Side.values:
        errors["picked_side"] = "Choose the left or the right witness."
    if not isinstance(confidence, int) or isinstance(confidence, bool) or not 0 <= confidence <= 100:
        errors["confidence"] = "Give a confidence from 0 to 100."
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "Say briefly why."
    elif len(reason) > MAX_REASON_CHARS:
        errors["reason"] = f"At most {MAX_REASON_CHARS} characters."
    return errors


def game_verdict_record(*, game: Game, interrogator, picked_side: str, confidence: int, reason: str) -> GameVerdict:
    """Save the interrogator's one, final verdict of a game whose conversations have both ended."""
    if game.role_of(interrogator) != "interrogator":
        raise JudgmentNotAllowed("Only the interrogator gives the verdict.")
    game_end_if_expired(game=game)
    game.human_conversation.refresh_from_db(fields=["status"])
    game.bot_conversation.refresh_from_db(fields=["status"])
    if not game.is_over:
        raise JudgmentNotAllowed("The game has not ended yet.")
    errors = game_verdict_validate(picked_side=picked_side, confidence=confidence, reason=reason)
    if errors:
        raise JudgmentInvalid(errors)
    human_side = GameVerdict.Side.LEFT if game.human_on_left else GameVerdict.Side.RIGHT
    try:
        with transaction.atomic():
            return GameVerdict.objects.create(
                game=game,
                competition_id=game.competition_id,
                bot_id=game.bot_id,
                interrogator=interrogator,
                picked_side=picked_side,
                bot_picked_as_human=picked_side != human_side,
                confidence=confidence,
                reason=reason.strip(),
            )
    except IntegrityError as error:
        raise JudgmentNotAllowed("The verdict of this game is already given.") from error


def game_witness_answer(*, game: Game, witness, effort: int) -> bool:
    """The human witness's rating of the interrogator's effort (1 to 5); once, after the game."""
    if game.role_of(witness) != "witness":
        raise JudgmentNotAllowed("Only the human witness answers this question.")
    game_end_if_expired(game=game)
    game.human_conversation.refresh_from_db(fields=["status"])
    if game.human_conversation.is_active:
        raise JudgmentNotAllowed("The game has not ended yet.")
    if not isinstance(effort, int) or isinstance(effort, bool) or not 1 <= effort <= 5:
        raise JudgmentInvalid({"effort": "Choose from 1 to 5."})
    return bool(
        Game.objects.filter(pk=game.pk, witness_answered_at__isnull=True).update(
            witness_effort=effort, witness_answered_at=timezone.now()
        )
    )


__all__ = [
    "AlreadyInChat",
    "GameVerdictPending",
    "game_attempt",
    "game_end_if_expired",
    "game_finish_early",
    "game_poll",
    "game_request_cancel",
    "game_request_start",
    "game_verdict_record",
    "game_witness_answer",
]
