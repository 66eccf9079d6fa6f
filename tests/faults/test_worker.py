"""The Celery worker against broker faults: it survives a Redis restart while it holds an unacked task."""

import signal

import pytest
from kombu import Connection

from leaderboard.models import LeaderboardSnapshot
from leaderboard.tasks import competition_recompute_task
from tests.factories import CompetitionFactory

from .conftest import wait_until

pytestmark = pytest.mark.faults


def test_worker_survives_a_redis_restart_while_holding_an_unacked_task(processes):
    held, later = CompetitionFactory(), CompetitionFactory()
    redis = processes.redis()
    worker = processes.worker()
    wait_until(lambda: "ready." in worker.output(), timeout=30)
    broker = processes.env["REDIS_URL"]
    with Connection(broker) as connection:
        # A countdown task (like every judgment's debounced recompute): the worker holds it unacked until it is due.
        competition_recompute_task.apply_async(args=[held.pk], countdown=120, connection=connection)
    wait_until(lambda: "competition_recompute_task[" in worker.output(), timeout=15)

    redis.stop(signal.SIGTERM)
    redis = processes.redis()
    wait_until(lambda: worker.output().count("Connected to ") >= 2 or not worker.alive, timeout=30)

    assert worker.alive, worker.output()[-3000:]
    assert "Unrecoverable error" not in worker.output()
    with Connection(broker) as connection:
        competition_recompute_task.apply_async(args=[later.pk], connection=connection)
    wait_until(lambda: LeaderboardSnapshot.objects.filter(competition=later).exists(), timeout=30)
