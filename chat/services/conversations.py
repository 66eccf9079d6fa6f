"""Messages, the end of a chat, and the bot's turn claim. Each write locks the conversation row."""

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from chat.events import ended_event, message_event, send_event_on_commit
from chat.models import Conversation, Evaluator, Game, Message, PartnerKind
from competitions.models import Bot, Competition

from .errors import MessageRejected, NotAParticipant
from .scores import scores_refresh_on_commit

RATE_WINDOW = timedelta(seconds=10)
_CONVERSATION = Conversation._meta.db_table
_MESSAGE = Message._meta.db_table
_EVALUATOR = Evaluator._meta.db_table
_COMPETITION = Competition._meta.db_table
_BOT = Bot._meta.db_table
_GAME = Game._meta.db_table


@dataclass(frozen=True)
class PostedMessage:
    """A saved message. ``events`` are for the caller to send to the chat's group once the write has committed."""

    message: Message
    created: bool
    ended_reason: str = ""
    events: tuple[dict, ...] = ()
    # A bot's reply only: the evaluator wrote again while the bot was answering, so its next turn is due now.
    bot_turn_due: bool = False


def _end(conversation: Conversation, *, reason: str, by_side: str = "") -> dict | None:
    """End an active chat; returns the ``ended`` event to broadcast, or None if another caller ended it first."""
    status = (
        Conversation.Status.BOT_FAILED if reason == Conversation.EndReason.BOT_FAILED else Conversation.Status.ENDED
    )
    now = timezone.now()
    changed = Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.ACTIVE).update(
        status=status,
        end_reason=reason,
        ended_by=by_side,
        ended_at=now,
        bot_turn_started_at=None,
        bot_turn_heartbeat_at=None,
    )
    if changed != 1:
        conversation.refresh_from_db(fields=["status", "end_reason", "ended_by", "ended_at"])
        return None
    conversation.status, conversation.end_reason, conversation.ended_by, conversation.ended_at = (
        status,
        reason,
        by_side,
        now,
    )
    if status == Conversation.Status.BOT_FAILED:
        scores_refresh_on_commit(competition_id=conversation.competition_id)
    return ended_event(conversation)


def conversation_end(*, conversation: Conversation, reason: str, by_side: str = "") -> bool:
    """End an active chat. Idempotent and race-safe: only the first caller changes the row and broadcasts."""
    event = _end(conversation, reason=reason, by_side=by_side)
    if event is None:
        return False
    send_event_on_commit(conversation.pk, event)
    return True


def conversation_end_if_expired(*, conversation: Conversation) -> bool:
    if conversation.is_active and conversation.is_past_deadline():
        return conversation_end(conversation=conversation, reason=Conversation.EndReason.TIME)
    return False


def conversations_end_expired() -> int:
    """End every active chat past its deadline (a safety net for chats whose sockets are all gone)."""
    ended = 0
    for conversation in Conversation.objects.active().filter(deadline_at__lte=timezone.now()):
        ended += conversation_end(conversation=conversation, reason=Conversation.EndReason.TIME)
    return ended


def _moderate(text: str, language: str):
    from chat.moderation import moderate

    return moderate(text, language=language)


def message_post(*, conversation: Conversation, side: str, author, client_msg_id: str, text: str) -> PostedMessage:
    """Save an evaluator's message with the next sequence number; the caller broadcasts ``events`` after commit.

    The row lock makes the seq allocation, the duplicate check and the limits exact across processes. A resent
    ``client_msg_id`` returns the original message instead of saving a second one. The sender's authorisation
    (still this side of the chat, not suspended) is checked under the same lock; ``NotAParticipant`` if it fails.
    ``conversation`` may be a copy loaded earlier (its competition's ``max_message_chars``, its language and id
    are used); everything else is read under the lock.
    """
    text = text.strip()
    client_msg_id = client_msg_id[:64]
    if not text:
        raise MessageRejected("empty")
    if len(text) > conversation.competition.max_message_chars:
        raise MessageRejected("too_long")
    verdict = _moderate(text, conversation.language)
    now = timezone.now()
    if client_msg_id and connection.vendor == "postgresql":
        message = _insert_next_message(
            conversation_id=conversation.pk,
            side=side,
            author=author,
            client_msg_id=client_msg_id,
            text=text,
            verdict=verdict,
            now=now,
        )
        if message is not None:
            return PostedMessage(message, created=True, events=(message_event(message),))
    return _post_checked(
        conversation.pk, side=side, author=author, client_msg_id=client_msg_id, text=text, verdict=verdict
    )


def _post_checked(conversation_id: int, *, side: str, author, client_msg_id: str, text: str, verdict) -> PostedMessage:
    """The portable path, which also tells every reason a message is refused (and ends a chat that is over)."""
    ended: dict | None = None
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update(of=("self",)).select_related("competition").get(pk=conversation_id)
        )
        if locked.side_of(author) != side or _suspended(locked, author):
            raise NotAParticipant("You can no longer write in this chat.")
        if client_msg_id:
            existing = Message.objects.filter(conversation=locked, side=side, client_msg_id=client_msg_id).first()
            if existing is not None:
                return PostedMessage(existing, created=False, events=(message_event(existing),))
        if not locked.is_active:
            raise MessageRejected("chat_ended")
        now = timezone.now()
        if locked.is_past_deadline(now):
            ended_reason = Conversation.EndReason.TIME
            ended = _end(locked, reason=ended_reason)
        elif locked.last_seq >= locked.competition.max_turns:
            ended_reason = Conversation.EndReason.TURNS
            ended = _end(locked, reason=ended_reason)
        else:
            recent = Message.objects.filter(conversation=locked, side=side, created_at__gte=now - RATE_WINDOW)
            if recent.count() >= settings.CHAT_MESSAGES_PER_10S:
                raise MessageRejected("rate_limited")
            return _append(locked, side=side, author=author, client_msg_id=client_msg_id, text=text, verdict=verdict)
    # Raised after the block so that ending the chat is committed, not rolled back with the refused message.
    raise MessageRejected("chat_ended", ended_reason=ended_reason, events=(ended,) if ended else ())


def _suspended(conversation: Conversation, user) -> bool:
    return Evaluator.objects.filter(
        competition_id=conversation.competition_id, user=user, status=Evaluator.Status.SUSPENDED
    ).exists()


def _insert_next_message(
    *, conversation_id: int, side: str, author, client_msg_id: str, text: str, verdict, now
) -> Message | None:
    """The common case on Postgres in one round trip; None when any rule needs the checked path.

    Two statements in one query string run as one implicit transaction. The first takes the conversation's row
    lock; the second then starts with a snapshot that sees every message committed before the lock was granted,
    so the duplicate and rate checks are as exact as the checked path's. It allocates the seq and inserts only if
    the sender may write, the chat is active, within its deadline, not at its last turn (ending a chat is left to
    the checked path), the id is new and the sender is under the rate limit; otherwise it changes nothing.
    """
    sender_column = "evaluator_a_id" if side == "a" else "evaluator_b_id"
    sql = f"""
        SELECT 1 FROM {_CONVERSATION} WHERE id = %(conversation)s FOR UPDATE;
        WITH allocated AS (
            UPDATE {_CONVERSATION} AS c SET last_seq = c.last_seq + 1
            FROM {_COMPETITION} AS k
            WHERE c.id = %(conversation)s AND k.id = c.competition_id
              AND c.{sender_column} = %(author)s
              AND c.status = %(active)s AND c.deadline_at > %(now)s AND c.last_seq + 1 < k.max_turns
              AND NOT EXISTS (
                  SELECT 1 FROM {_EVALUATOR} AS e
                  WHERE e.competition_id = c.competition_id AND e.user_id = %(author)s AND e.status = %(suspended)s
              )
              AND NOT EXISTS (
                  SELECT 1 FROM {_MESSAGE} AS m
                  WHERE m.conversation_id = c.id AND m.side = %(side)s AND m.client_msg_id = %(client_msg_id)s
              )
              AND (
                  SELECT count(*) FROM {_MESSAGE} AS m
                  WHERE m.conversation_id = c.id AND m.side = %(side)s AND m.created_at >= %(since)s
              ) < %(rate_limit)s
            RETURNING c.last_seq
        )
        INSERT INTO {_MESSAGE} (
            conversation_id, seq, side, author_id, client_msg_id, text, delivered_text, flagged,
            moderation_labels, created_at
        )
        SELECT %(conversation)s, last_seq, %(side)s, %(author)s, %(client_msg_id)s, %(text)s, %(delivered_text)s,
               %(flagged)s, %(labels)s::jsonb, %(now)s
        FROM allocated
        RETURNING id, seq
    """  # noqa: S608 -- table names come from the models, values are parameters
    delivered_text = verdict.masked_text if verdict.flagged else text
    params = {
        "conversation": conversation_id,
        "author": author.pk,
        "active": Conversation.Status.ACTIVE.value,
        "suspended": Evaluator.Status.SUSPENDED.value,
        "side": side,
        "client_msg_id": client_msg_id,
        "now": now,
        "since": now - RATE_WINDOW,
        "rate_limit": settings.CHAT_MESSAGES_PER_10S,
        "text": text,
        "delivered_text": delivered_text,
        "flagged": verdict.flagged,
        "labels": json.dumps(list(verdict.labels)),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if is_psycopg3:
            # psycopg 3 keeps every statement's result, psycopg2 only the last: the INSERT's is the one read.
            while cursor.cursor.nextset():
                pass
        row = cursor.fetchone()
    if row is None:
        return None
    return Message(
        id=row[0],
        conversation_id=conversation_id,
        seq=row[1],
        side=side,
        author=author,
        client_msg_id=client_msg_id,
        text=text,
        delivered_text=delivered_text,
        flagged=verdict.flagged,
        moderation_labels=list(verdict.labels),
        created_at=now,
    )


def _append(
    locked: Conversation,
    *,
    side: str,
    author,
    client_msg_id: str,
    text: str,
    verdict,
    latency_ms=None,
    also_saved: tuple[str, ...] = (),
) -> PostedMessage:
    """``also_saved``: fields the caller changed on ``locked``, saved in the same UPDATE as the seq."""
    locked.last_seq += 1
    locked.save(update_fields=["last_seq", *also_saved])
    message = Message.objects.create(
        conversation=locked,
        seq=locked.last_seq,
        side=side,
        author=author,
        client_msg_id=client_msg_id,
        text=text,
        delivered_text=verdict.masked_text if verdict.flagged else text,
        flagged=verdict.flagged,
        moderation_labels=list(verdict.labels),
        bot_latency_ms=latency_ms,
    )
    events = [message_event(message)]
    ended_reason = ""
    if locked.last_seq >= locked.competition.max_turns:
        ended_reason = Conversation.EndReason.TURNS
        ended = _end(locked, reason=ended_reason)
        if ended is not None:
            events.append(ended)
    return PostedMessage(message, created=True, ended_reason=ended_reason, events=tuple(events))


@dataclass(frozen=True)
class BotTurn:
    """What one bot call needs; plain data so that it can cross into the event loop."""

    conversation_id: int
    bot_id: int
    endpoint_url: str
    signing_secret: str
    bot_conversation_id: str
    language: str
    competition_slug: str
    history: list[dict]
    prompt: str
    answers_seq: int
    # The claim's token: the reply is saved only while the claim is still this one (not taken over meanwhile).
    claimed_at: datetime | None = None
    mode: str = "two_party"
    previous_signing_secret: str = ""  # the old secret during a rotation's grace period (competitions.Bot)
    competition_id: int = 0
    max_chars: int = 0
    # The moment the bot "read" what it answers (the evaluator's last message, or the start of the chat) and
    # whether it opens the chat: its typing is played from there (chat.presence). A turn taken over from a dead
    # process counts from there too, so the evaluator's wait is not played twice.
    replying_to_at: datetime | None = None
    opening: bool = False


def _bot_turn_lease() -> timedelta:
    return timedelta(seconds=settings.CHAT_BOT_TURN_LEASE_SECONDS)


def bot_turn_claim(*, conversation_id: int) -> BotTurn | None:
    """Claim the bot's next turn if one is due and none is in flight, so a user message is answered once.

    A claim whose heartbeat (bot_turns_heartbeat) is older than CHAT_BOT_TURN_LEASE_SECONDS belongs to a process
    that died or hung: it is taken over.
    """
    if connection.vendor == "postgresql":
        return _claim_in_two_round_trips(conversation_id)
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            # game_as_bot joined here: the payload's mode costs no query of its own on every turn.
            .select_related("bot", "competition", "game_as_bot")
            .get(pk=conversation_id)
        )
        if not conversation.is_active or not conversation.is_bot_chat:
            return None
        now = timezone.now()
        started = conversation.bot_turn_started_at
        alive_at = conversation.bot_turn_heartbeat_at or started
        if started is not None and now - alive_at < _bot_turn_lease():
            return None
        if conversation.last_seq >= conversation.competition.max_turns or conversation.is_past_deadline(now):
            return None
        # Plain tuples, not Message instances: the history is read on every turn and grows with the chat.
        history = conversation.messages.order_by("seq").values_list("seq", "side", "delivered_text", "created_at")
        messages = list(history)
        opening = conversation.first_speaker == "b" and not messages
        unanswered = [m for m in messages if m[1] == "a" and m[0] > conversation.bot_replied_to_seq]
        if not opening and not unanswered:
            return None
        conversation.bot_turn_started_at = now
        conversation.bot_turn_heartbeat_at = now
        conversation.save(update_fields=["bot_turn_started_at", "bot_turn_heartbeat_at"])
        bot = conversation.bot
        return BotTurn(
            conversation_id=conversation.pk,
            bot_id=bot.pk,
            endpoint_url=bot.endpoint_url,
            signing_secret=bot.signing_secret,
            bot_conversation_id=str(conversation.bot_conversation_id),
            language=conversation.language,
            competition_slug=conversation.competition.slug,
            history=_history(messages),
            prompt=" ".join(m[2] for m in unanswered),
            answers_seq=conversation.last_seq,
            claimed_at=now,
            mode="three_party" if hasattr(conversation, "game_as_bot") else "two_party",
            previous_signing_secret=bot.previous_secret_in_grace(now),
            competition_id=conversation.competition_id,
            max_chars=conversation.competition.max_message_chars,
            replying_to_at=unanswered[-1][3] if unanswered else conversation.started_at,
            opening=opening,
        )


def _claim_in_two_round_trips(conversation_id: int) -> BotTurn | None:
    """bot_turn_claim on Postgres: the claim in one round trip, the history in a second (a turn runs both).

    As in _insert_next_message, the first statement takes the row lock, so the conditional UPDATE's snapshot sees
    every message committed before it; the UPDATE claims only under bot_turn_claim's rules. The history is read
    after the claim has committed, up to the seq it answers: later messages are the next turn's.
    """
    now = timezone.now()
    sql = f"""
        SELECT 1 FROM {_CONVERSATION} WHERE id = %(conversation)s FOR UPDATE;
        UPDATE {_CONVERSATION} AS c SET bot_turn_started_at = %(now)s, bot_turn_heartbeat_at = %(now)s
        FROM {_COMPETITION} AS k, {_BOT} AS b
        WHERE c.id = %(conversation)s AND k.id = c.competition_id AND b.id = c.bot_id
          AND c.status = %(active)s AND c.partner_kind = %(bot_kind)s
          AND (c.bot_turn_started_at IS NULL OR coalesce(c.bot_turn_heartbeat_at, c.bot_turn_started_at) <= %(stale)s)
          AND c.last_seq < k.max_turns AND c.deadline_at > %(now)s
          AND (
              (c.first_speaker = 'b' AND c.last_seq = 0)
              OR EXISTS (
                  SELECT 1 FROM {_MESSAGE} AS m
                  WHERE m.conversation_id = c.id AND m.side = 'a' AND m.seq > c.bot_replied_to_seq
              )
          )
        RETURNING c.last_seq, c.bot_replied_to_seq, c.first_speaker, c.started_at, c.language, c.bot_conversation_id,
                  c.competition_id, c.bot_id, b.endpoint_url, b.signing_secret, b.previous_signing_secret,
                  b.previous_secret_valid_until, k.slug, k.max_message_chars,
                  EXISTS (SELECT 1 FROM {_GAME} AS g WHERE g.bot_conversation_id = c.id)
    """  # noqa: S608 -- table names come from the models, values are parameters
    params = {
        "conversation": conversation_id,
        "now": now,
        "stale": now - _bot_turn_lease(),
        "active": Conversation.Status.ACTIVE.value,
        "bot_kind": PartnerKind.BOT.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if is_psycopg3:
            while cursor.cursor.nextset():
                pass
        row = cursor.fetchone()
        if row is None:
            return None
        (
            last_seq,
            replied_to_seq,
            first_speaker,
            started_at,
            language,
            bot_conversation_id,
            competition_id,
            bot_id,
            endpoint_url,
            signing_secret,
            previous_secret,
            previous_valid_until,
            competition_slug,
            max_chars,
            in_game,
        ) = row
        cursor.execute(
            f"SELECT seq, side, delivered_text, created_at FROM {_MESSAGE}"  # noqa: S608 -- as above
            " WHERE conversation_id = %s AND seq <= %s ORDER BY seq",
            [conversation_id, last_seq],
        )
        messages = cursor.fetchall()
    unanswered = [m for m in messages if m[1] == "a" and m[0] > replied_to_seq]
    in_grace = previous_secret and previous_valid_until is not None and now < previous_valid_until
    return BotTurn(
        conversation_id=conversation_id,
        bot_id=bot_id,
        endpoint_url=endpoint_url,
        signing_secret=signing_secret,
        bot_conversation_id=str(bot_conversation_id),
        language=language,
        competition_slug=competition_slug,
        history=_history(messages),
        prompt=" ".join(m[2] for m in unanswered),
        answers_seq=last_seq,
        claimed_at=now,
        mode="three_party" if in_game else "two_party",
        previous_signing_secret=previous_secret if in_grace else "",
        competition_id=competition_id,
        max_chars=max_chars,
        replying_to_at=unanswered[-1][3] if unanswered else started_at,
        opening=first_speaker == "b" and not messages,
    )


def _history(messages: list[tuple]) -> list[dict]:
    """What the evaluator saw, both ways: a reply the moderation masked is the masked one."""
    return [
        {"role": "user" if side == "a" else "bot", "text": text, "timestamp": created_at.isoformat()}
        for _seq, side, text, created_at in messages
    ]


def bot_turns_heartbeat(*, conversation_ids: list[int]) -> int:
    """Renew the claims of the turns this process is running (one statement for all of them)."""
    if not conversation_ids:
        return 0
    return Conversation.objects.filter(pk__in=conversation_ids, bot_turn_started_at__isnull=False).update(
        bot_turn_heartbeat_at=timezone.now()
    )


def bot_turns_orphaned(*, limit: int = 200) -> list[int]:
    """Active bot chats with a turn due and no live claim: the claim's process died, or its turn crashed and was
    released, or it was handed over at shutdown. The sweep claims them again (bot_turn_claim decides)."""
    now = timezone.now()
    stale = now - _bot_turn_lease()
    unanswered = Message.objects.filter(conversation=OuterRef("pk"), side="a", seq__gt=OuterRef("bot_replied_to_seq"))
    opening = Q(first_speaker="b", last_seq=0)
    claim_dead = (
        Q(bot_turn_started_at__isnull=True)
        | Q(bot_turn_heartbeat_at__lt=stale)
        | Q(bot_turn_heartbeat_at__isnull=True, bot_turn_started_at__lt=stale)
    )
    return list(
        Conversation.objects.active()
        .filter(claim_dead, bot__isnull=False, deadline_at__gt=now)
        .filter(Exists(unanswered) | opening)
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )


def bot_reply_post(*, turn: BotTurn, text: str, latency_ms: float) -> PostedMessage | None:
    """Save the bot's reply (moderated like any message) and release the turn claim; the caller sends ``events``.

    None if the chat ended meanwhile, or if the claim is no longer this turn's (another process took it over after
    this one's heartbeat stopped: that turn answers, so the evaluator gets one reply). The answer's
    ``bot_turn_due`` says whether the evaluator wrote again meanwhile (that message's own trigger found this turn's
    claim and gave way), so the caller claims again only then.
    """
    # A longer reply is refused before this (a bot failure of its own kind); the cut only guards the invariant.
    text = text.strip()[: turn.max_chars or None]
    verdict = _moderate(text, turn.language)
    if connection.vendor == "postgresql" and turn.claimed_at is not None:
        posted = _insert_bot_reply(turn=turn, text=text, verdict=verdict, latency_ms=latency_ms)
        if posted is not None:
            return posted
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("competition")
            .get(pk=turn.conversation_id)
        )
        # The deadline can pass while the bot "types" with no socket's timer to end the chat: end it here, or the
        # reply would land in the transcript after the time limit.
        if locked.is_active and locked.is_past_deadline():
            conversation_end(conversation=locked, reason=Conversation.EndReason.TIME)
        if not locked.is_active:
            return None
        if turn.claimed_at is not None and locked.bot_turn_started_at != turn.claimed_at:
            return None
        written_meanwhile = locked.last_seq > turn.answers_seq
        locked.bot_replied_to_seq = turn.answers_seq
        locked.bot_turn_started_at = None
        locked.bot_turn_heartbeat_at = None
        posted = _append(
            locked,
            side="b",
            author=None,
            client_msg_id="",
            text=text,
            verdict=verdict,
            latency_ms=latency_ms,
            also_saved=("bot_replied_to_seq", "bot_turn_started_at", "bot_turn_heartbeat_at"),
        )
    if written_meanwhile and not posted.ended_reason:
        return dataclasses.replace(posted, bot_turn_due=True)
    return posted


def _insert_bot_reply(*, turn: BotTurn, text: str, verdict, latency_ms: float) -> PostedMessage | None:
    """The common case of bot_reply_post on Postgres in one round trip (as _insert_next_message); None when any rule
    needs the checked path: the chat ended or is past its deadline, the claim is no longer this turn's, or this
    reply is the chat's last turn."""
    now = timezone.now()
    sql = f"""
        SELECT 1 FROM {_CONVERSATION} WHERE id = %(conversation)s FOR UPDATE;
        WITH allocated AS (
            UPDATE {_CONVERSATION} AS c
            SET last_seq = c.last_seq + 1, bot_replied_to_seq = %(answers_seq)s,
                bot_turn_started_at = NULL, bot_turn_heartbeat_at = NULL
            FROM {_COMPETITION} AS k
            WHERE c.id = %(conversation)s AND k.id = c.competition_id
              AND c.status = %(active)s AND c.deadline_at > %(now)s AND c.last_seq + 1 < k.max_turns
              AND c.bot_turn_started_at = %(claimed_at)s
            RETURNING c.last_seq
        )
        INSERT INTO {_MESSAGE} (
            conversation_id, seq, side, author_id, client_msg_id, text, delivered_text, flagged,
            moderation_labels, bot_latency_ms, created_at
        )
        SELECT %(conversation)s, last_seq, 'b', NULL, '', %(text)s, %(delivered_text)s, %(flagged)s,
               %(labels)s::jsonb, %(latency_ms)s, %(now)s
        FROM allocated
        RETURNING id, seq
    """  # noqa: S608 -- table names come from the models, values are parameters
    delivered_text = verdict.masked_text if verdict.flagged else text
    params = {
        "conversation": turn.conversation_id,
        "answers_seq": turn.answers_seq,
        "active": Conversation.Status.ACTIVE.value,
        "now": now,
        "claimed_at": turn.claimed_at,
        "text": text,
        "delivered_text": delivered_text,
        "flagged": verdict.flagged,
        "labels": json.dumps(list(verdict.labels)),
        "latency_ms": latency_ms,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if is_psycopg3:
            while cursor.cursor.nextset():
                pass
        row = cursor.fetchone()
    if row is None:
        return None
    message = Message(
        id=row[0],
        conversation_id=turn.conversation_id,
        seq=row[1],
        side="b",
        author=None,
        client_msg_id="",
        text=text,
        delivered_text=delivered_text,
        flagged=verdict.flagged,
        moderation_labels=list(verdict.labels),
        bot_latency_ms=latency_ms,
        created_at=now,
    )
    # The evaluator wrote while the bot answered when the seq before this reply is past the one the turn answers.
    written_meanwhile = row[1] - 1 > turn.answers_seq
    return PostedMessage(message, created=True, events=(message_event(message),), bot_turn_due=written_meanwhile)


def bot_turn_release(*, conversation_id: int, claimed_at: datetime | None = None) -> None:
    """Give the claim back (after an unexpected error, or at shutdown) so that a sweep or the next trigger retries
    the turn at once; with ``claimed_at``, only if the claim is still that one."""
    claims = Conversation.objects.filter(pk=conversation_id)
    if claimed_at is not None:
        claims = claims.filter(bot_turn_started_at=claimed_at)
    claims.update(bot_turn_started_at=None, bot_turn_heartbeat_at=None)


def bot_turn_fail(*, conversation_id: int) -> bool:
    """The bot failed twice: the chat ends as bot-failed (excluded from scores); the evaluator sees a neutral end."""
    conversation = Conversation.objects.get(pk=conversation_id)
    return conversation_end(conversation=conversation, reason=Conversation.EndReason.BOT_FAILED)


def conversation_leave(*, conversation: Conversation, side: str) -> bool:
    return conversation_end(conversation=conversation, reason=Conversation.EndReason.LEFT, by_side=side)
