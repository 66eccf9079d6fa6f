"""Every process keeps a bounded number of Postgres connections (issue 10; docs/operations.md)."""

import asyncio

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
