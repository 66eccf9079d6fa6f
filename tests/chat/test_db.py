"""The chat's database threads: connections checked now and then, and at once after a failure."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError, connection
from django.db.backends.postgresql.base import DatabaseWrapper

from chat import db
from chat.db import ChatDatabaseCall, DatabaseThreads

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_chat_cleanup")]


@pytest.fixture
def one_thread():
    """A pool of one thread, so that every call meets the same connection."""
    threads = DatabaseThreads(1)
    yield threads
    threads.shutdown(wait=True)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the chat's database threads are used on Postgres only")


def select_one() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def kill_own_connection() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.mark.usefixtures("postgres_only")
async def test_a_broken_connection_is_closed_after_the_failing_call_and_the_next_call_works(one_thread):
    assert await ChatDatabaseCall(select_one, thread_sensitive=False, executor=one_thread)() == 1

    with pytest.raises(OperationalError):
        await ChatDatabaseCall(kill_own_connection, thread_sensitive=False, executor=one_thread)()

    assert await ChatDatabaseCall(select_one, thread_sensitive=False, executor=one_thread)() == 1


@pytest.mark.usefixtures("postgres_only")
async def test_back_to_back_calls_skip_the_health_check_that_channels_runs_around_every_call(one_thread, monkeypatch):
    checks = []
    real_is_usable = DatabaseWrapper.is_usable

    def counting_is_usable(self):
        checks.append(1)
        return real_is_usable(self)

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counting_is_usable)
    for _ in range(50):
        await ChatDatabaseCall(select_one, thread_sensitive=False, executor=one_thread)()

    assert len(checks) <= 2


@pytest.mark.usefixtures("postgres_only")
async def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_next_call(one_thread, monkeypatch):
    """A Postgres restart or an idle-connection kill must not fail the next chat call (say, a bot turn's claim)."""
    monkeypatch.setattr(db, "CONNECTION_IDLE_SECONDS", 0.05)
    call = ChatDatabaseCall(backend_pid, thread_sensitive=False, executor=one_thread)
    first_pid = await call()
    await database_sync_to_async(terminate)(first_pid)
    await asyncio.sleep(0.1)

    second_pid = await call()

    assert second_pid != first_pid
