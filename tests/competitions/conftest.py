import pytest

from hulic.celery import app as celery_app
from tests.competitions.botserver import LOOPBACK, misbehaving_bot_server


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash a password per user; the production hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def loopback_bot(settings):
    """A real HTTP bot on loopback (one path per behaviour), with loopback allowed as a bot address."""
    settings.BOT_ALLOWED_NETWORKS = LOOPBACK
    with misbehaving_bot_server() as server:
        yield server


@pytest.fixture
def eager_tasks():
    """Run queued Celery tasks in-process, also when REDIS_URL selects a real broker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
