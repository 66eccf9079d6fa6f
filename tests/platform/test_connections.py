"""Every process keeps a bounded number of Postgres connections (issue 10; docs/operations.md)."""

import asyncio
import threading
import time

import httpx
import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="counts Postgres backends")
REQUESTS = 200


def backends_of_the_test_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_requests_through_the_asgi_app_leave_at_most_the_pool_size_of_connections():
    from hulic.asgi import application

    async def browse() -> list[int]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [(await client.get("/")).status_code for _ in range(REQUESTS)]

    statuses = asyncio.run(browse())

    assert statuses == [200] * REQUESTS
    # Every request ran in a thread of its own (Django's ASGI handler): the process's pool, plus this test's own.
    assert backends_of_the_test_database() <= getattr(settings, "DATABASE_POOL_MAX_SIZE", 12) + 1


def in_threads(count: int, function) -> list:
    results: list = []
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait()
            results.append(function())
        except Exception as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid() FROM pg_sleep(0.3)")  # held a while: the threads overlap
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_after_postgres_closed_every_pooled_connection_the_next_query_gets_a_live_one_at_once():
    if not getattr(connection, "pool", None):
        pytest.skip("the connection pool is off (DATABASE_POOL)")
    pooled = in_threads(6, backend_pid)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid WHERE pid <> pg_backend_pid()",
            [pooled],
        )
        terminated = [pid for pid, _ in cursor.fetchall()]

    started = time.monotonic()
    [answer] = in_threads(1, backend_pid)

    assert len(terminated) >= 5
    assert isinstance(answer, int) and answer not in terminated
    assert time.monotonic() - started < 3  # psycopg_pool alone backs off 1, 2, 4 s per dead connection
