"""Bot chats and human–human chats, played through the real ASGI app, look the same to the evaluator.

First a batch of control chats (scripted people on both sides) gives the platform its recorded human timings;
then bot chats and more control chats are played side by side and compared, frame shapes exactly and timing
distributions with two-sample tests. A systematic difference (a bot that types at once, at a fixed rhythm, or
sends right after its last `typing`; a failed bot that leaves at once) fails here.
"""

import asyncio
import itertools

import pytest
from channels.db import database_sync_to_async
from django.db import connection, connections
from scipy import stats

from chat.bot_turns import bot_turns_wait_all
from chat.db import chat_database_close
from chat.models import PresenceSample
from chat.presence import MIN_RECORDED_LEAVES, MIN_RECORDED_TURNS
from tests.blinding.harness import play_chat, shape, talking_bot, timings
from tests.factories import BotFactory, CompetitionFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # On the embedded SQLite every database call of every chat queues behind one thread: at ten times human
    # speed that queue is as long as a reading delay, a property of the embedded default, not of the platform.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="timing comparisons need Postgres"),
]

SCALE = 0.1  # every human-like duration ten times faster than real
P_FAIL = 0.001  # a difference this unlikely under "same distribution" is systematic, not bad luck
CONCURRENT_CHATS = 16


@pytest.fixture
def blinding_settings(settings, monkeypatch):
    from chat import consumers

    # Scripted people type ten times faster than real ones: the per-socket flood limit follows.
    monkeypatch.setattr(consumers, "FRAMES_PER_SECOND", consumers.FRAMES_PER_SECOND / SCALE)
    settings.CHAT_PRESENCE_TIME_SCALE = SCALE
    settings.CHAT_BOT_DELAY_MAX_MS = 60000 * SCALE
    settings.BOT_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    settings.BOT_TOTAL_TIMEOUT = 2.0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


@pytest.fixture
async def cleanup():
    yield
    await bot_turns_wait_all()
    await database_sync_to_async(connections.close_all)()
    chat_database_close()


@database_sync_to_async
def arena(bot_url: str):
    competition = CompetitionFactory(max_message_chars=120)
    return competition, BotFactory(competition=competition, endpoint_url=bot_url)


@database_sync_to_async
def users(n: int) -> list:
    return [UserFactory() for _ in range(n)]


async def play_many(specs: list[dict], *, competition, seed: int) -> list:
    limit = asyncio.Semaphore(CONCURRENT_CHATS)
    people = iter(await users(2 * len(specs)))

    async def one(index: int, spec: dict):
        async with limit:
            partner = next(people) if spec.pop("human") else None
            return await play_chat(
                competition=competition, evaluator_user=next(people), partner_user=partner, seed=seed + 10 * index,
                scale=SCALE, **spec,
            )  # fmt: skip

    return await asyncio.gather(*(one(i, dict(spec)) for i, spec in enumerate(specs)))


def pooled(chats, key: str) -> list[float]:
    return list(itertools.chain.from_iterable(timings(chat)[key] for chat in chats))


def frame_shapes(chats) -> set:
    return {shape(frame) for chat in chats for _, frame in chat.frames} | {shape(chat.hello) for chat in chats}


@database_sync_to_async
def recorded(kind: str) -> int:
    return PresenceSample.objects.filter(kind=kind).count()


@pytest.mark.usefixtures("blinding_settings", "cleanup")
async def test_bot_and_human_partners_look_alike_frame_by_frame_and_on_the_stopwatch():
    with talking_bot(seed=1) as url:
        competition, bot = await arena(url)
        failing = await database_sync_to_async(lambda: BotFactory(competition=competition, endpoint_url=url + "fail"))()

        # Calibration: control chats only, so that the platform records how its human partners type and leave.
        await play_many([{"human": True}] * 16, competition=competition, seed=1000)
        await play_many(
            [{"human": True, "exchanges": 1, "partner_leaves": True, "first_speaker": "a"}] * 14,
            competition=competition, seed=2000,
        )  # fmt: skip
        assert await recorded(PresenceSample.Kind.REPLY) >= MIN_RECORDED_TURNS
        assert await recorded(PresenceSample.Kind.LEAVE) >= MIN_RECORDED_LEAVES

        # Measurement: bot and control chats side by side, the same evaluator script in both.
        talks = [{"human": True}, {"human": False, "bot": bot}] * 24
        played = await play_many(talks, competition=competition, seed=3000)
        endings = [{"exchanges": 1, "partner_leaves": True, "first_speaker": "a"}] * 16
        ended = await play_many(
            [{"human": True, **e} for e in endings] + [{"human": False, "bot": failing, **e} for e in endings],
            competition=competition, seed=4000,
        )  # fmt: skip
    humans = [c for c in played if c.kind == "human"]
    bots = [c for c in played if c.kind == "bot"]

    # Every frame the evaluator receives has the same keys and value types whoever the partner is.
    assert frame_shapes(humans) == frame_shapes(bots)
    assert frame_shapes([c for c in ended if c.kind == "human"]) == frame_shapes([c for c in ended if c.kind == "bot"])
    assert all(chat.ending == "partner_left" for chat in ended)

    report = {}
    for key in ("first_typing", "typing_interval", "last_typing_to_message", "typing_frames", "partner_chars"):
        human_values, bot_values = pooled(humans, key), pooled(bots, key)
        assert len(human_values) >= 20 and len(bot_values) >= 20, key
        report[key] = stats.ks_2samp(human_values, bot_values).pvalue
    report["to_ending"] = stats.ks_2samp(
        pooled([c for c in ended if c.kind == "human"], "to_ending"),
        pooled([c for c in ended if c.kind == "bot"], "to_ending"),
    ).pvalue
    print("two-sample KS p-values (human vs bot):", {k: round(v, 4) for k, v in report.items()})
    assert all(p > P_FAIL for p in report.values()), report
