"""Health checks and call recording against a real bot server on loopback."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from competitions.bot_client import BotResult
from competitions.health import bot_call_record, bot_calls_record, bot_health_check
from competitions.models import Bot, BotCall, Competition
from competitions.tasks import bot_health_check_task, bots_health_check_all
from hulic.celery import app as celery_app
from tests.competitions.botserver import allow_loopback_fixture, test_bot_fixture  # noqa: F401 -- fixtures
from tests.factories import BotFactory, CompetitionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]


def failed(kind: str = BotCall.Failure.HTTP_STATUS, detail: str = "The bot answered HTTP 500.") -> BotResult:
    return BotResult(ok=False, reply=None, latency_ms=12.0, status_code=500, failure_kind=kind, detail=detail)


def passed() -> BotResult:
    return BotResult(ok=True, reply="hi", latency_ms=8.5, status_code=200, failure_kind="", detail="")


@pytest.fixture
def pending_bot(bot, test_bot):
    bot.status = Bot.Status.PENDING
    bot.endpoint_url = test_bot.url("/ok")
    bot.save(update_fields=["status", "endpoint_url"])
    return bot


def test_passing_health_check_makes_a_pending_bot_verified(pending_bot, test_bot):
    call = bot_health_check(bot_id=pending_bot.id)
    pending_bot.refresh_from_db()
    assert call.ok and call.purpose == BotCall.Purpose.HEALTH
    assert pending_bot.status == Bot.Status.VERIFIED
    assert pending_bot.last_checked_at is not None
    assert pending_bot.last_latency_ms == pytest.approx(call.latency_ms)
    assert pending_bot.consecutive_failures == 0
    assert test_bot.requests[-1].headers["webhook-signature"].startswith("v1,")
    assert b'"kind":"health"' in test_bot.requests[-1].body
    assert Bot.objects.live().filter(id=pending_bot.id).exists()


def test_failing_health_check_keeps_a_pending_bot_pending_with_the_reason(pending_bot, test_bot):
    pending_bot.endpoint_url = test_bot.url("/error")
    pending_bot.save(update_fields=["endpoint_url"])
    call = bot_health_check(bot_id=pending_bot.id)
    pending_bot.refresh_from_db()
    assert not call.ok and call.failure_kind == BotCall.Failure.HTTP_STATUS and call.status_code == 500
    assert pending_bot.status == Bot.Status.PENDING
    assert pending_bot.consecutive_failures == 1
    assert pending_bot.last_failure_reason == "HTTP error status: The bot answered HTTP 500."


@pytest.mark.parametrize(
    ("path", "failure_kind"),
    [
        ("/slow", BotCall.Failure.TIMEOUT),
        ("/error", BotCall.Failure.HTTP_STATUS),
        ("/garbage", BotCall.Failure.BAD_JSON),
        ("/huge", BotCall.Failure.TOO_LARGE),
        ("/empty", BotCall.Failure.EMPTY),
        ("/long", BotCall.Failure.TOO_LONG),
        ("/redirect", BotCall.Failure.REDIRECT),
        ("/nul", BotCall.Failure.BAD_TEXT),
        ("/lone-surrogate", BotCall.Failure.BAD_TEXT),
    ],
)
def test_every_failure_kind_is_recorded_as_a_bot_call(pending_bot, test_bot, settings, path, failure_kind):
    settings.BOT_READ_TIMEOUT = 0.2
    test_bot.slow_seconds = 0.6
    pending_bot.endpoint_url = test_bot.url(path)
    pending_bot.save(update_fields=["endpoint_url"])
    bot_health_check(bot_id=pending_bot.id)
    call = BotCall.objects.get(bot=pending_bot)
    assert (call.ok, call.failure_kind) == (False, failure_kind)
    assert call.detail


def test_refused_connection_is_recorded(pending_bot):
    pending_bot.endpoint_url = "http://127.0.0.1:9/"
    pending_bot.save(update_fields=["endpoint_url"])
    call = bot_health_check(bot_id=pending_bot.id)
    assert call.failure_kind == BotCall.Failure.REFUSED


def test_blocked_endpoint_is_recorded(pending_bot, settings):
    settings.BOT_ALLOWED_NETWORKS = []
    call = bot_health_check(bot_id=pending_bot.id)
    assert call.failure_kind == BotCall.Failure.BLOCKED
    assert "not allowed" in call.detail


def test_repeated_failures_take_a_verified_bot_out_of_matchmaking(bot, settings):
    settings.BOT_FAILURES_BEFORE_FAILING = 3
    for _ in range(2):
        bot_call_record(bot_id=bot.id, purpose=BotCall.Purpose.TURN, result=failed())
    bot.refresh_from_db()
    assert bot.status == Bot.Status.VERIFIED
    bot_call_record(bot_id=bot.id, purpose=BotCall.Purpose.TURN, result=failed(BotCall.Failure.TIMEOUT, "slow"))
    bot.refresh_from_db()
    assert bot.status == Bot.Status.FAILING
    assert bot.consecutive_failures == 3
    assert bot.last_failure_reason == "Timed out: slow"
    assert not Bot.objects.live().filter(id=bot.id).exists()
    assert BotCall.objects.filter(bot=bot, ok=False).count() == 3


def test_a_success_resets_the_failure_count(bot, settings):
    settings.BOT_FAILURES_BEFORE_FAILING = 3
    for result in (failed(), failed(), passed(), failed(), failed()):
        bot_call_record(bot_id=bot.id, purpose=BotCall.Purpose.TURN, result=result)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.VERIFIED
    assert bot.consecutive_failures == 2


def test_passing_health_check_brings_a_failing_bot_back(pending_bot):
    Bot.objects.filter(id=pending_bot.id).update(status=Bot.Status.FAILING, consecutive_failures=5)
    bot_health_check(bot_id=pending_bot.id)
    pending_bot.refresh_from_db()
    assert pending_bot.status == Bot.Status.VERIFIED
    assert pending_bot.consecutive_failures == 0
    assert pending_bot.last_failure_reason == ""


def test_a_passing_chat_turn_does_not_verify_a_pending_bot(pending_bot):
    bot_call_record(bot_id=pending_bot.id, purpose=BotCall.Purpose.TURN, result=passed())
    pending_bot.refresh_from_db()
    assert pending_bot.status == Bot.Status.PENDING


@pytest.mark.parametrize("result", [passed(), failed(), failed(), failed(), failed()])
def test_disabled_bots_keep_their_status(bot, settings, result):
    settings.BOT_FAILURES_BEFORE_FAILING = 1
    Bot.objects.filter(id=bot.id).update(status=Bot.Status.DISABLED)
    bot_call_record(bot_id=bot.id, purpose=BotCall.Purpose.HEALTH, result=result)
    bot.refresh_from_db()
    assert bot.status == Bot.Status.DISABLED


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.mark.usefixtures("eager_celery")
def test_periodic_check_covers_active_bots_of_open_competitions_only(test_bot):
    url = test_bot.url("/ok")
    registering = BotFactory(
        competition=CompetitionFactory(phase=Competition.Phase.REGISTRATION), endpoint_url=url, status="pending"
    )
    evaluating = BotFactory(competition=CompetitionFactory(), endpoint_url=url, status=Bot.Status.FAILING)
    disabled = BotFactory(competition=evaluating.competition, endpoint_url=url, status=Bot.Status.DISABLED)
    closed = BotFactory(
        competition=CompetitionFactory(phase=Competition.Phase.CLOSED), endpoint_url=url, status="pending"
    )
    draft = BotFactory(
        competition=CompetitionFactory(phase=Competition.Phase.DRAFT), endpoint_url=url, status="pending"
    )

    assert bots_health_check_all() == 2

    statuses = dict(Bot.objects.values_list("id", "status"))
    assert statuses[registering.id] == Bot.Status.VERIFIED
    assert statuses[evaluating.id] == Bot.Status.VERIFIED
    assert statuses[disabled.id] == Bot.Status.DISABLED
    assert statuses[closed.id] == statuses[draft.id] == Bot.Status.PENDING
    assert set(BotCall.objects.values_list("bot_id", flat=True)) == {registering.id, evaluating.id}


def test_health_check_task_skips_a_deleted_bot(bot):
    bot_id = bot.id
    bot.delete()
    bot_health_check_task(bot_id)
    assert not BotCall.objects.filter(bot_id=bot_id).exists()


def test_health_check_task_records_a_call(pending_bot):
    bot_health_check_task(pending_bot.id)
    assert BotCall.objects.filter(bot=pending_bot, purpose=BotCall.Purpose.HEALTH, ok=True).count() == 1


def test_a_reply_that_cannot_be_stored_is_shown_to_the_team_with_its_reason(client, participant, pending_bot, test_bot):
    pending_bot.endpoint_url = test_bot.url("/nul")
    pending_bot.save(update_fields=["endpoint_url"])
    bot_health_check(bot_id=pending_bot.id)
    client.force_login(participant)
    page_url = reverse("bot-detail", kwargs={"slug": pending_bot.team.slug, "bot_id": pending_bot.pk})
    page = client.get(page_url).content.decode()
    health = client.get(reverse("api-bot-health", kwargs={"bot_id": pending_bot.pk})).json()

    assert "Reply with characters that cannot be stored" in page and "U+0000 at character 3" in page
    assert health["recent_calls"][0]["failure_kind"] == "bad_text"
    assert health["last_failure_reason"].startswith("Reply with characters that cannot be stored")


def test_calls_recorded_in_one_batch_leave_the_bot_as_recording_them_one_by_one(bot, settings):
    """A chat process records its turns' calls in batches: the rows, their order and the counters are the same."""
    settings.BOT_FAILURES_BEFORE_FAILING = 3
    start = timezone.now()
    results = [failed(), passed(), failed(), failed(), failed(BotCall.Failure.TIMEOUT, "slow")]
    calls = [(result, start + timedelta(milliseconds=n)) for n, result in enumerate(results)]
    bot_calls_record(bot_id=bot.id, purpose=BotCall.Purpose.TURN, calls=calls)
    bot.refresh_from_db()
    rows = list(BotCall.objects.filter(bot=bot).order_by("created_at").values_list("ok", "created_at"))
    assert rows == [(result.ok, made_at) for result, made_at in calls]
    assert (bot.status, bot.consecutive_failures, bot.last_failure_reason) == (
        Bot.Status.FAILING,
        3,
        "Timed out: slow",
    )
    assert bot.last_checked_at == calls[-1][1]
