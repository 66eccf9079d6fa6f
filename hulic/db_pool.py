"""The check of pooled database connections (DATABASE_POOL, hulic/settings.py; docs/operations.md).

Django creates the pool itself and passes it psycopg_pool's plain check when CONN_HEALTH_CHECKS is on, with no
setting for another one; `use_sweeping_check` swaps it for the check below once the pool exists (imported by
hulic/settings.py, run on the connection_created signal).
"""

import threading

from django.db.backends.signals import connection_created
from psycopg_pool import ConnectionPool

_sweeping = threading.Lock()


def check_pooled_connection(conn) -> None:
    """psycopg_pool's own check, run on each connection taken from the pool; a dead one also starts a sweep.

    psycopg_pool tries the next connection after a failed check 1 s later, then 2, 4 s...: after a Postgres restart,
    when every pooled connection is dead, a request waited out the pool's timeout testing them one by one. The sweep
    (ConnectionPool.check, in a thread) tests the idle ones at once and replaces the dead, so the retry a second
    later gets a live connection.
    """
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        pool = getattr(conn, "_pool", None)
        if pool is not None and _sweeping.acquire(blocking=False):
            threading.Thread(target=_sweep, args=(pool,), name="db-pool-sweep", daemon=True).start()
        raise


def _sweep(pool: ConnectionPool) -> None:
    try:
        pool.check()
    finally:
        _sweeping.release()


def use_sweeping_check(sender, connection, **kwargs) -> None:
    pool = getattr(connection, "pool", None)
    if pool is not None and pool._check is not check_pooled_connection:
        pool._check = check_pooled_connection


connection_created.connect(use_sweeping_check, dispatch_uid="hulic-db-pool-check")
