"""The matchmaking queue. Pairing locks the rows it claims, so several processes can pair at once safely."""

import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from chat import selectors
from chat.models import Conversation, Evaluator, MatchRequest, PartnerKind
from chat.presence import match_wait_s
from competitions.models import Bot, Competition

from . import queueing
from .conversations import conversation_end_if_expired
from .errors import (
    AlreadyInChat,
    EvaluatorNotReady,
    EvaluatorSuspended,
    JudgmentPending,
    MatchmakingClosed,
    NoPartnerAvailable,
    NotInvited,
)

# Neutral names, the same pool for bots and humans, so the alias tells nothing about the partner.
ALIASES = (
    "Maple", "River", "Cedar", "Harbor", "Willow", "Meadow", "Aspen", "Birch", "Coral", "Delta",
    "Ember", "Fern", "Glade", "Hazel", "Indigo", "Juniper", "Kestrel", "Lark", "Moss", "Nova",
    "Onyx", "Pine", "Quill", "Reed", "Sage", "Tide", "Umber", "Vale", "Wren", "Yarrow",
)  # fmt: skip


def _check_can_start(*, competition: Competition, user, language: str) -> None:
    evaluator = Evaluator.objects.filter(competition=competition, user=user).first()
    if evaluator is None:
        raise NotInvited("Join the competition's evaluator pool first.")
    if evaluator.status == Evaluator.Status.SUSPENDED:
        raise EvaluatorSuspended(evaluator.suspended_reason)
    if not evaluator.is_ready:
        raise EvaluatorNotReady("Consent to the terms and pass the onboarding first.")
    if not competition.is_evaluating or competition.matchmaking_paused:
        raise MatchmakingClosed("Chats are not open right now.")
    if language not in (competition.languages or []):
        raise MatchmakingClosed("This language is not offered.")


def _check_free(*, user) -> None:
    active = selectors.active_conversation_for(user=user)
    if active is not None and not conversation_end_if_expired(conversation=active):
        raise AlreadyInChat(active)
    pending = selectors.unjudged_conversation_for(user=user)
    if pending is not None:
        raise JudgmentPending(pending)


def match_request_start(*, competition: Competition, user, language: str, rng: random.Random | None = None):
    """Put the evaluator in the queue (or return their waiting request) and try to pair them at once."""
    rng = rng or random.Random()
    _check_can_start(competition=competition, user=user, language=language)
    _check_free(user=user)
    # Told that no bot is available, an evaluator would know a chat started anyway is with a person: start none.
    # (A competition of control chats only, share 1, has no bot to give away; its quota still holds.)
    unavailable = match_unavailable_reason(competition=competition, user=user)
    if unavailable == CHATS_USED_UP or (unavailable and competition.control_chat_share < 1):
        raise NoPartnerAvailable(unavailable)
    hold = match_hold_draw(competition=competition, rng=rng)
    request = queueing.request_enqueue(
        model=MatchRequest,
        user=user,
        competition=competition,
        check_free=lambda: _check_free(user=user),
        language=language,
        wants_human=rng.random() < competition.control_chat_share,
        hold_seconds=hold,
    )
    if request is None:
        return match_request_start(competition=competition, user=user, language=language, rng=rng)
    return match_attempt(match_request_id=request.pk, rng=rng)


def match_hold_draw(*, competition: Competition, rng: random.Random) -> float:
    """Seconds a new request is held before a bot may take it (here, and in the game lobby before its fallback to a
    bot chat): a recent human pairing's wait, or the documented default."""
    return match_wait_s(
        recorded=selectors.recent_human_match_waits(competition=competition),
        cap_s=competition.human_partner_wait_seconds * settings.CHAT_PRESENCE_TIME_SCALE,
        rng=rng,
        scale=settings.CHAT_PRESENCE_TIME_SCALE,
    )


def match_request_cancel(*, match_request: MatchRequest) -> bool:
    return queueing.request_cancel(match_request)


def match_attempt(*, match_request_id: int, rng: random.Random | None = None) -> MatchRequest:
    """Try to pair one waiting request. Safe to call from any number of processes at once.

    The request's own row is locked first; a human partner's row is claimed with SKIP LOCKED so two pairings
    never wait on each other and never take the same partner. A bot match is made only once the request has
    waited its ``hold_seconds`` (a recent human pairing's wait), and a request that wants a human falls back to
    a bot at that same moment: the wait tells nothing about the partner (docs/blinding.md).
    """
    rng = rng or random.Random()
    with queueing.waiting_request_locked(MatchRequest, match_request_id) as request:
        if request is None:
            return MatchRequest.objects.get(pk=match_request_id)
        fell_back = False
        if request.wants_human:
            partner = queueing.partners_claimable(request, wants_human=True).first()
            if partner is not None:
                _start_human_chat(first=partner, second=request, rng=rng)
                return request
            fell_back = True
        if not _hold_over(request):
            return request
        bot = selectors.bots_available_for(competition=request.competition, user=request.user).first()
        if bot is not None:
            _start_bot_chat(request=request, bot=bot, fell_back=fell_back, rng=rng)
        return request


def _new_conversation(*, competition: Competition, language: str, rng: random.Random, **fields) -> Conversation:
    alias_a, alias_b = rng.sample(ALIASES, 2)
    now = timezone.now()
    return Conversation.objects.create(
        competition=competition,
        language=language,
        alias_a=alias_a,
        alias_b=alias_b,
        first_speaker=rng.choice("ab"),
        started_at=now,
        deadline_at=now + timedelta(seconds=competition.chat_time_limit_seconds),
        **fields,
    )


def _mark_matched(request: MatchRequest, conversation: Conversation) -> None:
    queueing.request_mark_matched(request, matched_at=conversation.started_at, conversation=conversation)


def _start_human_chat(*, first: MatchRequest, second: MatchRequest, rng: random.Random) -> Conversation:
    conversation = _new_conversation(
        competition=first.competition,
        language=first.language,
        rng=rng,
        partner_kind=PartnerKind.HUMAN,
        evaluator_a=first.user,
        evaluator_b=second.user,
    )
    _mark_matched(first, conversation)
    _mark_matched(second, conversation)
    return conversation


def _start_bot_chat(*, request: MatchRequest, bot: Bot, fell_back: bool, rng: random.Random) -> Conversation:
    conversation = _new_conversation(
        competition=request.competition,
        language=request.language,
        rng=rng,
        partner_kind=PartnerKind.BOT,
        bot=bot,
        evaluator_a=request.user,
        fell_back_to_bot=fell_back,
    )
    _mark_matched(request, conversation)
    return conversation


def _hold_over(request: MatchRequest) -> bool:
    """Whether a request has waited its hold: from then on a bot may take it, whatever it wanted (match_attempt)."""
    return queueing.hold_over(request)


CHATS_USED_UP = "chats_used_up"
NO_PARTNER = "no_partner"


def _evaluator_chat_quota(*, competition: Competition, bots: int) -> int | None:
    """Chats of any kind an evaluator may have (None: no limit).

    With bots to meet, at most their number times the per-bot limit: a bot chat counts towards both, so the quota
    is always reached no later than every bot is used up, and it is reached after control chats as after bot
    chats (docs/blinding.md). A limit reached only through bot chats told which the last partner had been.
    """
    limits = [competition.max_chats_per_evaluator] if competition.max_chats_per_evaluator else []
    if bots:
        limits.append(bots * competition.max_chats_per_evaluator_per_bot)
    return min(limits) if limits else None


def match_unavailable_reason(*, competition: Competition, user) -> str:
    """Why no bot chat can be started for this evaluator now ("" when one can).

    NO_PARTNER: no bot is live for them (none registered, all failing or disabled).
    CHATS_USED_UP: they have had their quota of chats, bot and control chats alike (``_evaluator_chat_quota``).
    """
    bots = Bot.objects.live().filter(competition=competition).exclude(team__memberships__user=user).count()
    if not bots and competition.control_chat_share < 1:
        return NO_PARTNER
    quota = _evaluator_chat_quota(competition=competition, bots=bots)
    if quota is not None and selectors.evaluator_chat_count(competition=competition, user=user) >= quota:
        return CHATS_USED_UP
    # Under the quota some bot is below its per-bot limit; asked anyway so that a wait no bot can end ends.
    if not selectors.bots_available_for(competition=competition, user=user).exists():
        return NO_PARTNER
    return ""


def match_poll(*, competition: Competition, user) -> tuple[str, Conversation | None]:
    """What the waiting page shows: "waiting", "matched" with the chat, "idle", or "unavailable".

    Each poll is a pairing attempt. A request that can only be served by a bot, when no bot can be offered
    (``match_unavailable_reason``), is cancelled and answered "unavailable": the wait has an end.
    """
    waiting = selectors.waiting_request_for(user=user, competition=competition)
    if waiting is not None:
        attempt = match_attempt(match_request_id=waiting.pk)
        if attempt.status == MatchRequest.Status.WAITING:
            needs_bot = not attempt.wants_human or _hold_over(attempt)
            if needs_bot and match_unavailable_reason(competition=competition, user=user):
                if match_request_cancel(match_request=attempt):
                    return "unavailable", None
                return match_poll(competition=competition, user=user)
            return "waiting", None
    active = selectors.active_conversation_for(user=user)
    if active is not None and active.competition_id == competition.pk:
        return "matched", active
    return "idle", None
