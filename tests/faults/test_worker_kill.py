"""A worker killed (kill -9, the whole worker) in the middle of an export and while it holds a recompute: the
export is taken over and finishes, the leaderboard is computed by the beat safety net."""

import signal
import time

import pytest
from django.utils import timezone
from kombu import Connection

from chat.models import Conversation, Message
from exports.models import ExportJob
from exports.tasks import export_job_build
from leaderboard.models import LeaderboardSnapshot
from leaderboard.tasks import competition_recompute_task
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, JudgmentFactory, UserFactory

from .conftest import wait_until

pytestmark = pytest.mark.faults

# Small intervals so that the scenario takes seconds; the defaults take a job over within a minute.
FAST_SAFETY_NETS = {
    "EXPORT_HEARTBEAT_SECONDS": "0.5",
    "EXPORT_STALE_SECONDS": "3",
    "EXPORT_RESUME_EVERY_SECONDS": "1",
    "LEADERBOARD_SAFETY_NET_SECONDS": "2",
}
CONVERSATIONS, MESSAGES_EACH = 400, 20


def competition_with_chats():
    """Enough chats that building their export takes a while (so that the kill lands mid-build)."""
    competition = CompetitionFactory(phase="evaluation")
    bot = BotFactory(competition=competition)
    evaluator = UserFactory()
    ended = {"status": Conversation.Status.ENDED, "ended_at": timezone.now(), "end_reason": "time"}
    JudgmentFactory(conversation=ConversationFactory(competition=competition, bot=bot, **ended))
    conversations = Conversation.objects.bulk_create(
        ConversationFactory.build(competition=competition, bot=bot, evaluator_a=evaluator, **ended)
        for _ in range(CONVERSATIONS)
    )
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            seq=seq,
            side="a" if seq % 2 else "b",
            author=evaluator if seq % 2 else None,
            text=f"line {seq} of a chat long enough to export",
            delivered_text=f"line {seq} of a chat long enough to export",
        )
        for conversation in conversations
        for seq in range(1, MESSAGES_EACH + 1)
    )
    return competition


def test_a_killed_worker_loses_neither_its_export_nor_its_recompute(processes):
    competition = competition_with_chats()
    processes.redis()
    first = processes.worker("worker-1", **FAST_SAFETY_NETS)
    wait_until(lambda: "ready." in first.output(), timeout=30)
    job = ExportJob.objects.create(competition=competition, scope="all", format="parquet")
    with Connection(processes.env["REDIS_URL"]) as broker:
        competition_recompute_task.apply_async(args=[competition.pk], countdown=300, connection=broker)
        export_job_build.apply_async(args=[job.pk], connection=broker)
    running = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING)
    wait_until(running.exists, timeout=30, every=0.01)

    first.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.RUNNING  # killed mid-build
    second = processes.worker("worker-2", beat=True, **FAST_SAFETY_NETS)

    done = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.DONE)
    wait_until(done.exists, timeout=60, every=0.2)
    print(f"export taken over and finished {time.monotonic() - killed_at:.1f} s after the kill")
    wait_until(LeaderboardSnapshot.objects.filter(competition=competition).exists, timeout=30)
    job.refresh_from_db()
    assert job.counts["conversations"] == CONVERSATIONS + 1
    assert second.alive
