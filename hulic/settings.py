"""HuLiC settings, read from the environment.

With no DATABASE_URL / REDIS_URL the platform runs embedded (SQLite, in-memory channel layer,
eager Celery); with them it runs the production shape (Postgres, Redis channel layer, real workers).
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_INSECURE_SECRET = "insecure-dev-secret-only-for-the-embedded-default"  # noqa: S105


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_ints(name: str, default: tuple[int, ...], *, count: range) -> tuple[int, ...]:
    """Comma-separated integers, as many as `count` allows."""
    items = env_list(name, [str(n) for n in default])
    try:
        values = tuple(int(item) for item in items)
    except ValueError:
        values = ()
    if len(values) not in count:
        raise ImproperlyConfigured(
            f"{name} must be {count.start} to {count.stop - 1} integers separated by commas, got {os.environ[name]!r}"
        )
    return values


DEBUG = env_bool("DEBUG", default=False)
DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
EMBEDDED = not DATABASE_URL and not REDIS_URL
TESTING = env_bool("HULIC_TESTING", default="pytest" in sys.modules)

SECRET_KEY = env_str("SECRET_KEY", _INSECURE_SECRET)
if SECRET_KEY == _INSECURE_SECRET and not (DEBUG or EMBEDDED or TESTING):
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Production refuses to start with the insecure default secret: "
        "set SECRET_KEY to a long random value."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "competitions",
    "chat",
    "leaderboard",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hulic.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "hulic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Without collectstatic (embedded default, tests) WhiteNoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = EMBEDDED or DEBUG or TESTING
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

# Channels: the pub/sub layer holds 2,000 sockets at 400 msg/s here while the list-based
# RedisChannelLayer drops silently (shared/MEASURED.md); redis-py's pool raises at 100 connections
# unless max_connections is raised.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": env_int("REDIS_MAX_CONNECTIONS", 1000)}],
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"user": "600/min", "anon": "60/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HuLiC API",
    "DESCRIPTION": "Participants' API: teams, bots (signed webhooks), health, leaderboards, exports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Bot webhook client (docs/bot-protocol.md).
BOT_CONNECT_TIMEOUT = env_float("BOT_CONNECT_TIMEOUT", 3.0)
BOT_READ_TIMEOUT = env_float("BOT_READ_TIMEOUT", 10.0)
BOT_TOTAL_TIMEOUT = env_float("BOT_TOTAL_TIMEOUT", 15.0)
BOT_MAX_RESPONSE_BYTES = env_int("BOT_MAX_RESPONSE_BYTES", 64 * 1024)
BOT_MAX_REPLY_CHARS = env_int("BOT_MAX_REPLY_CHARS", 2000)
BOT_MAX_CONCURRENCY = env_int("BOT_MAX_CONCURRENCY", 8)
BOT_FAILURES_BEFORE_FAILING = env_int("BOT_FAILURES_BEFORE_FAILING", 3)
BOT_HEALTH_CHECK_INTERVAL_SECONDS = env_int("BOT_HEALTH_CHECK_INTERVAL_SECONDS", 300)
# Networks a bot endpoint may resolve to although they are private (CIDRs). The demo and the tests
# allow loopback; production leaves this empty.
BOT_ALLOWED_NETWORKS = env_list("BOT_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"] if EMBEDDED else [])

# Chat (docs/chat-protocol.md).
CHAT_MAX_FRAME_BYTES = env_int("CHAT_MAX_FRAME_BYTES", 64 * 1024)
# The longest a bot's turn may take from the message it answers to its reply (or its leaving): a played human
# turn that would last longer is compressed to fit (chat.bot_turns.PresencePlayer).
CHAT_BOT_DELAY_MAX_MS = env_float("CHAT_BOT_DELAY_MAX_MS", 60000.0)
# Multiplies every default presence duration (typing, match holds, leaving; chat/presence.py) and the typing
# cadence. 1.0 in production; tests play realistic chats faster with a small value.
CHAT_PRESENCE_TIME_SCALE = env_float("CHAT_PRESENCE_TIME_SCALE", 1.0)
CHAT_MESSAGES_PER_10S = env_int("CHAT_MESSAGES_PER_10S", 10)
# Past this many database calls queued in one ASGI process, new messages are refused with `busy` (retry_after_ms)
# rather than queued: acks of accepted messages stay fast and clients resend (docs/chat-protocol.md).
CHAT_BUSY_BACKLOG = env_int("CHAT_BUSY_BACKLOG", 100)
CHAT_BUSY_RETRY_MS = env_int("CHAT_BUSY_RETRY_MS", 1000)
# The ASGI process's garbage collector thresholds (gen0 allocations, gen1 and gen2 multipliers); see hulic/asgi.py.
ASGI_GC_THRESHOLDS = env_ints("ASGI_GC_THRESHOLDS", (20000, 50, 100), count=range(1, 4))
# Dotted path of the moderation filter (chat/moderation.py describes the interface; a classifier can replace it).
CHAT_MODERATION_FILTER = env_str("CHAT_MODERATION_FILTER", "chat.moderation.WordListFilter")

# Exports.
EXPORT_EXPIRY_DAYS = env_int("EXPORT_EXPIRY_DAYS", 30)

LEADERBOARD_SAFETY_NET_SECONDS = env_int("LEADERBOARD_SAFETY_NET_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "bots-health-check": {
        "task": "competitions.tasks.bots_health_check_all",
        "schedule": float(BOT_HEALTH_CHECK_INTERVAL_SECONDS),
    },
    "leaderboards-recompute-safety-net": {
        "task": "leaderboard.tasks.recompute_all_competitions",
        "schedule": float(LEADERBOARD_SAFETY_NET_SECONDS),
    },
    "exports-expire": {"task": "exports.tasks.exports_expire", "schedule": 3600.0},
    # Ends chats past their deadline whose sockets are all gone, so nobody is left in a dead chat.
    "chats-end-expired": {"task": "chat.tasks.conversations_end_expired", "schedule": 60.0},
}

if not DEBUG and not EMBEDDED:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every bot request at INFO; BotCall rows already record each call.
    "loggers": {"httpx": {"level": "WARNING"}},
}
