"""What must be refused once a chat has ended, and every chat limit at, below and above its boundary.

A transcript is judged once the chat ends; a message or a bot reply saved afterwards would change it unnoticed.
These tests use the services directly; with DATABASE_URL they also cover Postgres' one-round-trip insert.
"""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import Conversation, Evaluator, Message
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

END_REASONS = [
    Conversation.EndReason.LEFT,
    Conversation.EndReason.MODERATION,
    Conversation.EndReason.BOT_FAILED,
    Conversation.EndReason.TIME,
    Conversation.EndReason.TURNS,
]


def post(chat, text="hello", *, client_msg_id="m1", author=None, side="a"):
    return services.message_post(
        conversation=chat,
        side=side,
        author=author or chat.evaluator_a,
        client_msg_id=client_msg_id,
        text=text,
    )


def message_count(chat) -> int:
    return Message.objects.filter(conversation=chat).count()


def end_by(chat, reason):
    """End ``chat`` the way the platform does for ``reason``."""
    if reason == Conversation.EndReason.LEFT:
        assert services.conversation_leave(conversation=chat, side="a")
    elif reason == Conversation.EndReason.MODERATION:
        services.evaluator_suspend(
            evaluator=EvaluatorFactory(competition=chat.competition, user=chat.evaluator_a), reason="abuse"
        )
        services.evaluator_reinstate(evaluator=Evaluator.objects.get(user=chat.evaluator_a))
    elif reason == Conversation.EndReason.BOT_FAILED:
        assert services.bot_turn_fail(conversation_id=chat.pk)
    else:
        assert services.conversation_end(conversation=chat, reason=reason)
    chat.refresh_from_db()
    assert (chat.is_active, chat.end_reason) == (False, reason)


@pytest.mark.parametrize("reason", END_REASONS)
@pytest.mark.parametrize("client_msg_id", ["m1", ""])
def test_no_message_is_saved_after_the_chat_ended(reason, client_msg_id):
    chat = ConversationFactory()
    post(chat, client_msg_id="before")
    end_by(chat, reason)
    with pytest.raises(services.MessageRejected) as rejected:
        post(chat, client_msg_id=client_msg_id)
    assert rejected.value.code == "chat_ended"
    assert message_count(chat) == 1
    chat.refresh_from_db()
    assert (chat.last_seq, chat.end_reason) == (1, reason)


def test_a_control_chat_refuses_both_sides_after_one_left():
    chat = ConversationFactory(partner_kind="human", bot=None, evaluator_b=UserFactory())
    assert services.conversation_leave(conversation=chat, side="b")
    for side, author in (("a", chat.evaluator_a), ("b", chat.evaluator_b)):
        with pytest.raises(services.MessageRejected, match="chat_ended"):
            post(chat, side=side, author=author)
    assert message_count(chat) == 0


def test_a_resent_message_after_the_end_returns_the_original_and_adds_nothing():
    chat = ConversationFactory()
    original = post(chat, "hello", client_msg_id="m1").message
    services.conversation_leave(conversation=chat, side="a")
    again = post(chat, "hello", client_msg_id="m1")
    assert (again.created, again.message.pk, again.message.seq) == (False, original.pk, 1)
    assert message_count(chat) == 1


def test_a_message_after_the_deadline_ends_the_chat_instead_of_being_saved():
    chat = ConversationFactory(deadline_at=timezone.now() - timedelta(milliseconds=1))
    with pytest.raises(services.MessageRejected) as rejected:
        post(chat)
    assert (rejected.value.code, rejected.value.ended_reason) == ("chat_ended", Conversation.EndReason.TIME)
    assert [event["type"] for event in rejected.value.events] == ["chat.ended"]
    chat.refresh_from_db()
    assert (chat.status, chat.end_reason) == (Conversation.Status.ENDED, Conversation.EndReason.TIME)
    assert message_count(chat) == 0


def test_a_message_just_before_the_deadline_is_saved():
    chat = ConversationFactory(deadline_at=timezone.now() + timedelta(seconds=5))
    assert post(chat).created
    assert message_count(chat) == 1


@pytest.mark.parametrize(
    ("already", "saved", "ends"),
    [
        (2, True, False),  # two below the limit: saved, chat goes on
        (3, True, True),  # one below: saved, and it is the last turn
        (4, False, True),  # at the limit (a stale row): refused, and the chat ends
    ],
)
def test_turn_limit_at_below_and_above(already, saved, ends):
    chat = ConversationFactory(competition=CompetitionFactory(max_turns=4), last_seq=already)
    if saved:
        posted = post(chat)
        assert posted.message.seq == already + 1
        assert posted.ended_reason == (Conversation.EndReason.TURNS if ends else "")
        assert [event["type"] for event in posted.events] == ["chat.message"] + (["chat.ended"] if ends else [])
    else:
        with pytest.raises(services.MessageRejected) as rejected:
            post(chat)
        assert rejected.value.ended_reason == Conversation.EndReason.TURNS
    chat.refresh_from_db()
    assert chat.is_active is not ends
    assert chat.end_reason == (Conversation.EndReason.TURNS if ends else "")
    assert message_count(chat) == (1 if saved else 0)


@pytest.mark.parametrize(("length", "saved"), [(9, True), (10, True), (11, False)])
def test_message_length_limit_at_below_and_above(length, saved):
    chat = ConversationFactory(competition=CompetitionFactory(max_message_chars=10))
    text = "  " + "x" * length + "\n"  # surrounding white space is not counted
    if saved:
        assert post(chat, text).message.text == "x" * length
    else:
        with pytest.raises(services.MessageRejected, match="too_long"):
            post(chat, text)
    assert message_count(chat) == int(saved)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_messages_are_refused(text):
    chat = ConversationFactory()
    with pytest.raises(services.MessageRejected, match="empty"):
        post(chat, text)
    assert message_count(chat) == 0


@pytest.mark.parametrize("client_msg_id", ["", "fresh"])
def test_rate_limit_at_below_and_above(settings, client_msg_id):
    settings.CHAT_MESSAGES_PER_10S = 3
    chat = ConversationFactory()
    for n in range(2):
        post(chat, client_msg_id=f"m{n}")
    assert post(chat, client_msg_id="m2").created  # the third within 10 s: at the limit, allowed
    with pytest.raises(services.MessageRejected, match="rate_limited"):
        post(chat, client_msg_id=client_msg_id)  # the fourth: above it
    assert message_count(chat) == 3


def test_rate_limit_counts_only_the_last_ten_seconds_and_only_the_sender(settings):
    settings.CHAT_MESSAGES_PER_10S = 2
    chat = ConversationFactory(partner_kind="human", bot=None, evaluator_b=UserFactory())
    now = timezone.now()
    MessageFactory(conversation=chat, seq=1, side="a", created_at=now - timedelta(seconds=11))
    MessageFactory(conversation=chat, seq=2, side="a", created_at=now - timedelta(seconds=9))
    MessageFactory(conversation=chat, seq=3, side="b", created_at=now)
    MessageFactory(conversation=chat, seq=4, side="b", created_at=now)
    Conversation.objects.filter(pk=chat.pk).update(last_seq=4)
    assert post(chat, client_msg_id="a-new").message.seq == 5  # one of a's in the window: under the limit
    with pytest.raises(services.MessageRejected, match="rate_limited"):
        post(chat, client_msg_id="a-newer")


def test_a_suspended_evaluator_cannot_write_even_in_a_chat_still_running():
    chat = ConversationFactory()
    EvaluatorFactory(competition=chat.competition, user=chat.evaluator_a, status=Evaluator.Status.SUSPENDED)
    with pytest.raises(services.NotAParticipant):
        post(chat)
    assert message_count(chat) == 0


@pytest.mark.parametrize("side", ["b", "a"])
def test_only_the_evaluator_of_a_side_writes_on_it(side):
    chat = ConversationFactory(partner_kind="human", bot=None, evaluator_b=UserFactory())
    stranger = UserFactory()
    with pytest.raises(services.NotAParticipant):
        post(chat, side=side, author=stranger)
    wrong_side = chat.evaluator_a if side == "b" else chat.evaluator_b
    with pytest.raises(services.NotAParticipant):
        post(chat, side=side, author=wrong_side)
    assert message_count(chat) == 0


def test_client_msg_ids_are_cut_to_64_characters_and_deduplicated_per_side():
    chat = ConversationFactory(partner_kind="human", bot=None, evaluator_b=UserFactory())
    first = post(chat, client_msg_id="x" * 70)
    assert first.message.client_msg_id == "x" * 64
    assert not post(chat, client_msg_id="x" * 64).created
    assert post(chat, side="b", author=chat.evaluator_b, client_msg_id="x" * 64).created
    assert message_count(chat) == 2


# The bot's turn: a reply that comes back after the chat ended is dropped.


def claim(chat) -> services.BotTurn:
    turn = services.bot_turn_claim(conversation_id=chat.pk)
    assert turn is not None
    return turn


@pytest.mark.parametrize("reason", END_REASONS)
def test_a_bot_reply_arriving_after_the_chat_ended_is_dropped(reason):
    chat = ConversationFactory()
    post(chat, "hi bot")
    turn = claim(chat)  # the bot is "typing" now
    end_by(chat, reason)
    assert services.bot_reply_post(turn=turn, text="late reply", latency_ms=5.0) is None
    assert list(Message.objects.filter(conversation=chat).values_list("side", flat=True)) == ["a"]
    chat.refresh_from_db()
    assert (chat.last_seq, chat.bot_replied_to_seq, chat.end_reason) == (1, 0, reason)


def test_a_bot_reply_arriving_after_the_deadline_ends_the_chat_and_is_dropped():
    # Nobody ended the chat yet (no socket open for the timer); the reply must not land after the deadline.
    chat = ConversationFactory()
    post(chat, "hi bot")
    turn = claim(chat)
    Conversation.objects.filter(pk=chat.pk).update(deadline_at=timezone.now() - timedelta(milliseconds=1))
    assert services.bot_reply_post(turn=turn, text="late reply", latency_ms=5.0) is None
    chat.refresh_from_db()
    assert (chat.status, chat.end_reason, chat.last_seq) == (Conversation.Status.ENDED, "time", 1)
    assert message_count(chat) == 1


def test_a_bot_reply_in_time_is_saved_and_releases_the_claim():
    chat = ConversationFactory()
    post(chat, "hi bot")
    turn = claim(chat)
    posted = services.bot_reply_post(turn=turn, text="  hello human  ", latency_ms=5.0)
    assert (posted.message.side, posted.message.seq, posted.message.text) == ("b", 2, "hello human")
    assert posted.message.bot_latency_ms == 5.0
    chat.refresh_from_db()
    assert (chat.bot_replied_to_seq, chat.bot_turn_started_at, chat.last_seq) == (1, None, 2)


def test_the_bot_reply_on_the_last_turn_ends_the_chat():
    chat = ConversationFactory(competition=CompetitionFactory(max_turns=2))
    post(chat, "hi bot")
    posted = services.bot_reply_post(turn=claim(chat), text="bye", latency_ms=1.0)
    assert posted.ended_reason == Conversation.EndReason.TURNS
    chat.refresh_from_db()
    assert (chat.status, chat.end_reason) == (Conversation.Status.ENDED, Conversation.EndReason.TURNS)


@pytest.mark.parametrize("reason", END_REASONS)
def test_no_bot_turn_is_claimed_after_the_end(reason):
    chat = ConversationFactory()
    post(chat, "hi bot")
    end_by(chat, reason)
    assert services.bot_turn_claim(conversation_id=chat.pk) is None


def test_no_bot_turn_is_claimed_past_the_deadline_or_at_the_turn_limit():
    late = ConversationFactory()
    post(late, "hi bot")
    Conversation.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(milliseconds=1))
    assert services.bot_turn_claim(conversation_id=late.pk) is None
    full = ConversationFactory(competition=CompetitionFactory(max_turns=2))
    post(full, "hi bot")
    assert services.bot_turn_claim(conversation_id=full.pk) is not None  # one turn left: claimable
    Conversation.objects.filter(pk=full.pk).update(last_seq=2, bot_turn_started_at=None)
    assert services.bot_turn_claim(conversation_id=full.pk) is None


def test_a_turn_is_claimed_once_until_its_claim_goes_stale(settings):
    settings.CHAT_BOT_TURN_LEASE_SECONDS = 30
    chat = ConversationFactory()
    post(chat, "hi bot")
    first = claim(chat)
    assert services.bot_turn_claim(conversation_id=chat.pk) is None
    now = timezone.now()
    # An old claim whose heartbeat is fresh is alive; so is one whose last heartbeat is still inside the lease.
    Conversation.objects.filter(pk=chat.pk).update(
        bot_turn_started_at=now - timedelta(hours=1), bot_turn_heartbeat_at=now
    )
    assert services.bot_turn_claim(conversation_id=chat.pk) is None
    Conversation.objects.filter(pk=chat.pk).update(bot_turn_heartbeat_at=timezone.now() - timedelta(seconds=29))
    assert services.bot_turn_claim(conversation_id=chat.pk) is None
    # The check runs a few milliseconds after this update: a heartbeat 30 s old has reached the lease.
    Conversation.objects.filter(pk=chat.pk).update(bot_turn_heartbeat_at=timezone.now() - timedelta(seconds=30))
    again = claim(chat)
    assert (again.answers_seq, again.prompt) == (first.answers_seq, first.prompt) == (1, "hi bot")
    # A claim without a heartbeat is as alive as its start.
    Conversation.objects.filter(pk=chat.pk).update(
        bot_turn_started_at=timezone.now() - timedelta(seconds=29), bot_turn_heartbeat_at=None
    )
    assert services.bot_turn_claim(conversation_id=chat.pk) is None
    Conversation.objects.filter(pk=chat.pk).update(bot_turn_started_at=timezone.now() - timedelta(seconds=30))
    assert claim(chat).answers_seq == 1


def test_a_released_turn_can_be_claimed_again():
    chat = ConversationFactory()
    post(chat, "hi bot")
    claim(chat)
    services.bot_turn_release(conversation_id=chat.pk)
    assert claim(chat).answers_seq == 1


def test_nothing_to_answer_claims_nothing_but_a_bot_first_chat_claims_its_opening():
    answered = ConversationFactory()
    post(answered, "hi bot")
    services.bot_reply_post(turn=claim(answered), text="hello", latency_ms=1.0)
    assert services.bot_turn_claim(conversation_id=answered.pk) is None
    assert services.bot_turn_claim(conversation_id=ConversationFactory(first_speaker="a").pk) is None
    opening = claim(ConversationFactory(first_speaker="b"))
    assert (opening.prompt, opening.history, opening.answers_seq) == ("", [], 0)


def test_a_control_chat_has_no_bot_turn():
    chat = ConversationFactory(partner_kind="human", bot=None, evaluator_b=UserFactory(), first_speaker="b")
    assert services.bot_turn_claim(conversation_id=chat.pk) is None


def test_the_claim_carries_every_unanswered_message_and_the_history():
    chat = ConversationFactory()
    post(chat, "one", client_msg_id="1")
    services.bot_reply_post(turn=claim(chat), text="reply", latency_ms=1.0)
    post(chat, "two", client_msg_id="2")
    post(chat, "three", client_msg_id="3")
    turn = claim(chat)
    assert turn.prompt == "two three"
    assert turn.answers_seq == 4
    assert [(m["role"], m["text"]) for m in turn.history] == [
        ("user", "one"),
        ("bot", "reply"),
        ("user", "two"),
        ("user", "three"),
    ]
    assert (turn.bot_id, turn.endpoint_url, turn.language) == (chat.bot_id, chat.bot.endpoint_url, "en")
    assert (turn.bot_conversation_id, turn.competition_slug) == (str(chat.bot_conversation_id), chat.competition.slug)


# Ending: once, by the first caller, and what each way of ending records.


@pytest.mark.parametrize("reason", END_REASONS)
def test_a_chat_ends_once_and_the_first_reason_stays(reason):
    chat = ConversationFactory()
    end_by(chat, reason)
    for other in END_REASONS:
        assert not services.conversation_end(conversation=chat, reason=other, by_side="b")
    chat.refresh_from_db()
    assert chat.end_reason == reason
    expected = Conversation.Status.BOT_FAILED if reason == Conversation.EndReason.BOT_FAILED else "ended"
    assert chat.status == expected
    assert chat.ended_at is not None and chat.bot_turn_started_at is None


def test_the_sweep_ends_a_chat_at_its_deadline_but_not_one_second_before():
    at_deadline = ConversationFactory(deadline_at=timezone.now())
    before = ConversationFactory(deadline_at=timezone.now() + timedelta(seconds=1))
    assert services.conversations_end_expired() == 1
    at_deadline.refresh_from_db()
    before.refresh_from_db()
    assert (at_deadline.end_reason, before.is_active) == ("time", True)
    assert not services.conversation_end_if_expired(conversation=before)


def test_an_ended_chat_is_not_ended_again_by_the_sweep():
    chat = ConversationFactory(deadline_at=timezone.now() - timedelta(seconds=1))
    services.conversation_leave(conversation=chat, side="a")
    assert services.conversations_end_expired() == 0
    assert not services.conversation_end_if_expired(conversation=chat)
    chat.refresh_from_db()
    assert chat.end_reason == "left"


# Judging: only the evaluators of an ended chat, once.


def test_a_chat_is_judged_only_after_it_ended_and_only_once():
    chat = ConversationFactory()
    fields = {
        "verdict": "bot",
        "confidence": 3,
        "ratings": dict.fromkeys(chat.competition.criteria_keys, 3),
        "reason": "ok",
    }
    with pytest.raises(services.JudgmentNotAllowed, match="not ended"):
        services.judgment_record(conversation=chat, evaluator=chat.evaluator_a, **fields)
    services.conversation_leave(conversation=chat, side="a")
    with pytest.raises(services.JudgmentNotAllowed, match="not your chat"):
        services.judgment_record(conversation=chat, evaluator=UserFactory(), **fields)
    judgment = services.judgment_record(conversation=chat, evaluator=chat.evaluator_a, **fields)
    assert (judgment.partner_kind, judgment.bot_id, judgment.message_count) == ("bot", chat.bot_id, 0)
    with pytest.raises(services.JudgmentNotAllowed, match="already judged"):
        services.judgment_record(conversation=chat, evaluator=chat.evaluator_a, **fields)


@pytest.mark.parametrize(
    ("value", "valid"), [(0, False), (1, True), (5, True), (6, False), (True, False), (3.0, False)]
)
def test_confidence_and_ratings_limits(value, valid):
    keys = ["fluency"]
    ok = {"verdict": "bot", "confidence": 3, "ratings": {"fluency": 3}, "reason": "why"}
    confidence_errors = services.judgment_validate(criteria_keys=keys, **{**ok, "confidence": value})
    rating_errors = services.judgment_validate(criteria_keys=keys, **{**ok, "ratings": {"fluency": value}})
    assert ("confidence" not in confidence_errors) is valid
    assert ("ratings" not in rating_errors) is valid


@pytest.mark.parametrize(("length", "valid"), [(1999, True), (2000, True), (2001, False)])
def test_reason_length_limit(length, valid):
    errors = services.judgment_validate(
        criteria_keys=[], verdict="human", confidence=1, ratings={}, reason="r" * length
    )
    assert ("reason" not in errors) is valid


def test_a_judgment_records_the_message_count_it_was_made_on():
    chat = ConversationFactory()
    post(chat, "one", client_msg_id="1")
    post(chat, "two", client_msg_id="2")
    services.conversation_leave(conversation=chat, side="a")
    chat.refresh_from_db()
    recorded = services.judgment_record(
        conversation=chat,
        evaluator=chat.evaluator_a,
        verdict="human",
        confidence=2,
        ratings=dict.fromkeys(chat.competition.criteria_keys, 1),
        reason=" because ",
    )
    assert (recorded.message_count, recorded.reason, recorded.verdict) == (2, "because", "human")


# Exact refusal codes (the protocol's error codes) and who counts towards a limit.


def refused_code(chat, text="hello", **kwargs) -> str:
    with pytest.raises(services.MessageRejected) as rejected:
        post(chat, text, **kwargs)
    return rejected.value.code


def test_refusal_codes_are_the_protocols(settings):
    settings.CHAT_MESSAGES_PER_10S = 1
    chat = ConversationFactory(competition=CompetitionFactory(max_message_chars=3))
    assert refused_code(chat, " ") == "empty"
    assert refused_code(chat, "long") == "too_long"
    post(chat, "hi", client_msg_id="1")
    assert refused_code(chat, "hi", client_msg_id="2") == "rate_limited"
    stranger = UserFactory()
    with pytest.raises(services.NotAParticipant) as refused:
        post(chat, "hi", author=stranger)
    assert str(refused.value) == "You can no longer write in this chat."


def test_the_rate_limit_counts_only_this_chat(settings):
    settings.CHAT_MESSAGES_PER_10S = 1
    user = UserFactory()
    busy = ConversationFactory(evaluator_a=user, status="ended")
    MessageFactory(conversation=busy, seq=1, side="a", created_at=timezone.now())
    chat = ConversationFactory(evaluator_a=user)
    assert post(chat).created


def test_a_suspension_elsewhere_or_of_someone_else_does_not_block_this_chat():
    chat = ConversationFactory()
    EvaluatorFactory(user=chat.evaluator_a, status=Evaluator.Status.SUSPENDED)  # in another competition
    EvaluatorFactory(competition=chat.competition, status=Evaluator.Status.SUSPENDED)  # another evaluator
    assert post(chat).created


def test_a_resent_message_returns_its_event_again():
    chat = ConversationFactory()
    post(chat, "hello", client_msg_id="m1")
    again = post(chat, "hello", client_msg_id="m1")
    assert [(event["type"], event["seq"], event["client_msg_id"]) for event in again.events] == [
        ("chat.message", 1, "m1")
    ]


def test_an_end_is_broadcast_to_the_chats_group_after_commit(django_capture_on_commit_callbacks, settings):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from chat.events import conversation_group

    # The in-memory layer lets this synchronous test listen on a group (Redis pub/sub wants a consumer's loop).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    chat = ConversationFactory()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(conversation_group(chat.pk), channel)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.conversation_end(conversation=chat, reason=Conversation.EndReason.TIME)
    assert len(callbacks) == 1
    event = async_to_sync(layer.receive)(channel)
    assert (event["type"], event["reason"], event["by_side"]) == ("chat.ended", "time", "")
    chat.refresh_from_db()
    assert chat.ended_by == ""


# What ending records besides the reason: no side for the platform's own ends, no claim left, the scores refresh.


def test_a_chat_ended_by_time_or_turns_through_a_message_records_no_side():
    timed_out = ConversationFactory(deadline_at=timezone.now() - timedelta(milliseconds=1))
    with pytest.raises(services.MessageRejected) as rejected:
        post(timed_out)
    (event,) = rejected.value.events
    assert (event["reason"], event["by_side"]) == ("time", "")
    last_turn = ConversationFactory(competition=CompetitionFactory(max_turns=1))
    posted = post(last_turn)
    assert [(event["type"], event.get("by_side")) for event in posted.events] == [
        ("chat.message", None),
        ("chat.ended", ""),
    ]
    for chat in (timed_out, last_turn):
        chat.refresh_from_db()
        assert (chat.status, chat.ended_by) == (Conversation.Status.ENDED, "")


@pytest.mark.parametrize("reason", END_REASONS)
def test_ending_a_chat_drops_the_bot_turn_claim_in_flight(reason):
    chat = ConversationFactory()
    post(chat, "hi bot")
    claim(chat)
    end_by(chat, reason)
    assert (chat.bot_turn_started_at, chat.bot_turn_heartbeat_at) == (None, None)
    assert services.bot_turns_orphaned() == []


def test_a_bot_failure_refreshes_the_scores_of_its_competition_and_other_ends_do_not(
    monkeypatch, django_capture_on_commit_callbacks
):
    refreshed = []
    monkeypatch.setattr(
        "leaderboard.services.recompute_schedule", lambda *, competition_id: refreshed.append(competition_id)
    )
    ConversationFactory()  # another competition's chat
    failed, left = ConversationFactory(), ConversationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.conversation_leave(conversation=left, side="a")
    assert refreshed == []
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bot_turn_fail(conversation_id=failed.pk)
    assert refreshed == [failed.competition_id]


def test_a_caller_that_lost_the_race_to_end_sees_the_winners_end():
    chat = ConversationFactory()
    stale_copy = Conversation.objects.get(pk=chat.pk)
    assert services.conversation_leave(conversation=chat, side="b")
    assert not services.conversation_end(conversation=stale_copy, reason=Conversation.EndReason.TIME)
    assert (stale_copy.status, stale_copy.end_reason, stale_copy.ended_by) == ("ended", "left", "b")
    assert stale_copy.ended_at == Conversation.objects.get(pk=chat.pk).ended_at


# The sweep's view of bot turns: which chats have a turn due and no live claim.


def chat_with(*, user_messages=1, replied_to=0, started_s=None, heartbeat_s=None, bot_messages=0, **fields):
    """A bot chat with ``user_messages`` from the evaluator, the bot's reply up to ``replied_to`` and a claim made
    ``started_s`` seconds ago whose last heartbeat was ``heartbeat_s`` seconds ago."""
    now = timezone.now()
    chat = ConversationFactory(**fields)
    for seq in range(1, user_messages + 1):
        MessageFactory(conversation=chat, seq=seq, side="a")
    for seq in range(user_messages + 1, user_messages + bot_messages + 1):
        MessageFactory(conversation=chat, seq=seq, side="b")
    Conversation.objects.filter(pk=chat.pk).update(
        last_seq=user_messages + bot_messages,
        bot_replied_to_seq=replied_to,
        bot_turn_started_at=None if started_s is None else now - timedelta(seconds=started_s),
        bot_turn_heartbeat_at=None if heartbeat_s is None else now - timedelta(seconds=heartbeat_s),
    )
    return chat


def test_the_sweep_finds_turns_due_without_a_live_claim_at_each_limit(settings):
    settings.CHAT_BOT_TURN_LEASE_SECONDS = 10
    due = [
        chat_with(),
        chat_with(started_s=30, heartbeat_s=11),  # the heartbeat stopped just past the lease
        chat_with(started_s=11),  # claimed just past the lease and never beat
        chat_with(user_messages=0, first_speaker="b"),  # the bot opens and has not yet
        chat_with(user_messages=2, replied_to=1),  # the second message is unanswered
    ]
    not_due = [
        chat_with(started_s=30, heartbeat_s=9),  # the heartbeat is within the lease
        chat_with(started_s=9),
        chat_with(user_messages=2, replied_to=2),  # everything answered
        chat_with(user_messages=0),  # the evaluator opens
        chat_with(user_messages=0, bot_messages=1, first_speaker="b"),  # the bot opened: the evaluator's turn
        chat_with(deadline_at=timezone.now() - timedelta(seconds=1)),
        chat_with(status=Conversation.Status.ENDED),
        chat_with(partner_kind="human", bot=None, evaluator_b=UserFactory()),  # a control chat has no bot turn
    ]
    MessageFactory(conversation=not_due[3], seq=1, side="b")  # only the evaluator's messages are answered
    found = services.bot_turns_orphaned()
    assert sorted(found) == sorted(chat.pk for chat in due)
    assert not set(found) & {chat.pk for chat in not_due}


def test_the_sweep_takes_the_nearest_deadlines_first_up_to_its_limit():
    now = timezone.now()
    later, sooner, soonest = (chat_with(deadline_at=now + timedelta(minutes=m)) for m in (9, 5, 2))
    assert services.bot_turns_orphaned() == [soonest.pk, sooner.pk, later.pk]
    assert services.bot_turns_orphaned(limit=2) == [soonest.pk, sooner.pk]


def test_a_heartbeat_renews_only_the_claims_in_flight_of_the_given_chats():
    claimed, unclaimed, other = (
        chat_with(started_s=5, heartbeat_s=5),
        chat_with(),
        chat_with(started_s=5, heartbeat_s=5),
    )
    before = timezone.now()
    assert services.bot_turns_heartbeat(conversation_ids=[]) == 0
    assert services.bot_turns_heartbeat(conversation_ids=[claimed.pk, unclaimed.pk]) == 1
    beats = dict(Conversation.objects.values_list("pk", "bot_turn_heartbeat_at"))
    assert beats[claimed.pk] >= before and beats[unclaimed.pk] is None and beats[other.pk] < before


def test_a_release_for_a_claim_taken_over_since_leaves_the_new_claim():
    chat = chat_with()
    first = claim(chat)
    Conversation.objects.filter(pk=chat.pk).update(bot_turn_started_at=timezone.now())  # taken over
    services.bot_turn_release(conversation_id=chat.pk, claimed_at=first.claimed_at)
    chat.refresh_from_db()
    assert chat.bot_turn_started_at is not None and chat.bot_turn_heartbeat_at is not None
    services.bot_turn_release(conversation_id=chat.pk, claimed_at=chat.bot_turn_started_at)
    chat.refresh_from_db()
    assert (chat.bot_turn_started_at, chat.bot_turn_heartbeat_at) == (None, None)


def test_a_reply_is_saved_only_under_its_own_claim():
    chat = ConversationFactory()
    post(chat, "hi bot")
    turn = claim(chat)
    Conversation.objects.filter(pk=chat.pk).update(bot_turn_started_at=timezone.now())  # taken over meanwhile
    assert services.bot_reply_post(turn=turn, text="late twin", latency_ms=1.0) is None
    assert message_count(chat) == 1
    # A turn that carries no claim (nothing to compare) is saved whatever the claim.
    unclaimed = dataclasses.replace(turn, claimed_at=None)
    assert services.bot_reply_post(turn=unclaimed, text="hello", latency_ms=1.0).message.seq == 2


def test_a_claim_carries_what_the_bot_call_and_its_pacing_need():
    chat = ConversationFactory(competition=CompetitionFactory(max_message_chars=321))
    post(chat, "first", client_msg_id="m1")
    second = post(chat, "second", client_msg_id="m2").message
    turn = claim(chat)
    assert (turn.mode, turn.previous_signing_secret, turn.competition_id, turn.max_chars, turn.opening) == (
        "two_party",
        "",
        chat.competition_id,
        321,
        False,
    )
    assert turn.replying_to_at == Message.objects.get(pk=second.pk).created_at
    opening_chat = ConversationFactory(first_speaker="b")
    opening = claim(opening_chat)
    assert (opening.opening, opening.prompt, opening.replying_to_at) == (True, "", opening_chat.started_at)


@pytest.mark.usefixtures("lobby_hold")
def test_a_claim_in_a_three_party_game_tells_the_bot_it_is_one_of_two_witnesses():
    from tests.chat.test_games import play
    from tests.chat.test_matchmaking import ready_evaluator

    competition = CompetitionFactory(mode="three_party", chat_time_limit_seconds=300)
    BotFactory(competition=competition)
    game = play(competition, ready_evaluator(competition), ready_evaluator(competition))
    post(game.bot_conversation, "which of you is human?")
    assert claim(game.bot_conversation).mode == "three_party"


def test_a_bot_reply_says_whether_the_evaluator_wrote_while_the_bot_answered():
    """Only then is another turn due: the turn's task claims again instead of after every answer."""
    chat = ConversationFactory()
    post(chat, "hi bot")
    alone = services.bot_reply_post(turn=claim(chat), text="hello", latency_ms=1.0)
    post(chat, "are you there?", client_msg_id="m2")
    turn = claim(chat)
    post(chat, "hello?", client_msg_id="m3")  # while the bot answers m2: its trigger finds the claim taken
    crossed = services.bot_reply_post(turn=turn, text="yes", latency_ms=1.0)

    assert (alone.bot_turn_due, crossed.bot_turn_due) == (False, True)
    assert claim(chat).prompt == "hello?"


def test_a_bot_reply_on_the_last_turn_leaves_no_turn_due():
    chat = ConversationFactory(competition=CompetitionFactory(max_turns=3))
    post(chat, "hi bot")
    turn = claim(chat)
    post(chat, "hello?", client_msg_id="m2")
    posted = services.bot_reply_post(turn=turn, text="bye", latency_ms=1.0)
    assert (posted.ended_reason, posted.bot_turn_due) == (Conversation.EndReason.TURNS, False)
