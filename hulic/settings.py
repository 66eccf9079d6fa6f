"""HuLiC settings, read from the environment.

With no DATABASE_URL / REDIS_URL the platform runs embedded (SQLite, in-memory channel layer,
eager Celery); with them it runs the production shape (Postgres, Redis channel layer, real workers).
"""

import importlib.util
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
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
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "competitions",
    "chat",
    "leaderboard",
    "exports",
    "review",
    "controlroom",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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

# ---- Database connections (issue 10; docs/operations.md, "Database connections") ----
# Under ASGI every request's database work runs in a thread of its own: a persistent connection per thread
# (CONN_MAX_AGE > 0) stays open until garbage collection, and two web processes exhausted Postgres. So no
# connection outlives its request or task: with DATABASE_POOL (the default) it goes back to a per-process
# psycopg pool that never holds more than DATABASE_POOL_MAX_SIZE, shared by every thread of the process
# (requests, chat threads, Channels' thread); without it each request opens and closes its own (about 3 ms
# more per page, and no bound on concurrent requests).
# On wherever psycopg 3's pool is installed (requirements.txt installs it); with only psycopg2, per request.
DATABASE_POOL = env_bool("DATABASE_POOL", default=importlib.util.find_spec("psycopg_pool") is not None)
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 1)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 12)
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 10.0)
if DATABASE_URL:
    # With the pool, CONN_HEALTH_CHECKS checks every connection taken from it (hulic/db_pool.py).
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
    if DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        import hulic.db_pool  # noqa: F401 -- a dead pooled connection makes the pool sweep out the others

        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": DATABASE_POOL_MIN_SIZE,
            "max_size": DATABASE_POOL_MAX_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The leaderboard tallies' unique keys treat NULL as a value (NULLS NOT DISTINCT), which only Postgres can
# declare; SQLite never reads the tallies (the portable queries count the judgments), so its warning is noise.
SILENCED_SYSTEM_CHECKS = [] if DATABASE_URL else ["models.W047"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# ---- Sign-in and sign-up limits (issue 10; docs/operations.md, "Sign-in limits") ----
# django-axes counts failed sign-ins (the login form, the admin's and /api/v1/auth/token/) per username and client
# address, and refuses that pair for a while past the limit, even with the right password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "competitions.accounts.lockout_response"
# Accounts created from one client address per hour.
SIGNUPS_PER_HOUR = env_int("SIGNUPS_PER_HOUR", 5)
# The API's rate limits (hulic/throttles.py): anonymous callers per address, signed-in users, and sign-in
# (obtaining a token) per address. A missing scope is not limited.
API_THROTTLE_RATES = {
    "anon": env_str("API_THROTTLE_ANON", "60/min"),
    "user": env_str("API_THROTTLE_USER", "600/min"),
    "auth": env_str("API_THROTTLE_AUTH", "10/min"),
}
LOGIN_URL = "login"
CSRF_FAILURE_VIEW = "hulic.views.csrf_failure"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
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
# Kombu's Redis transport with the fix that keeps the worker alive through a Redis restart (hulic/celery_broker.py).
if REDIS_URL:
    CELERY_BROKER_TRANSPORT = "hulic.celery_broker:Transport"
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
    # The error answers each operation gives, in the one error shape (hulic/api_errors.py).
    "DEFAULT_SCHEMA_CLASS": "hulic.schema.ErrorListingAutoSchema",
    "EXCEPTION_HANDLER": "hulic.api_errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "hulic.api_parsers.JSONBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "hulic.throttles.AnonThrottle",
        "hulic.throttles.UserThrottle",
        "hulic.throttles.ScopedThrottle",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HuLiC API",
    "DESCRIPTION": "Participants' API: teams, bots (signed webhooks), health, leaderboards, exports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The Swagger UI and Redoc files come from drf-spectacular-sidecar, served with our static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
# After a secret rotation the old secret still signs (a second signature) for this long, so the bot keeps working
# while its team installs the new one (Standard Webhooks: space-separated signatures). 0 = it stops at once.
BOT_SECRET_GRACE_HOURS = env_float("BOT_SECRET_GRACE_HOURS", 24.0)
# The health check after a registration or endpoint change runs at once and, if it fails, again after these
# delays (seconds): a team installing the secret it was just shown needs a minute before its bot can verify.
BOT_FIRST_CHECK_RETRY_SECONDS = env_ints("BOT_FIRST_CHECK_RETRY_SECONDS", (30, 90), count=range(0, 6))
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
# A bot turn's claim is renewed this often by its process; one not renewed for the lease is taken over by another
# process's sweep, which runs this often (chat/bot_turns.py): an orphaned turn is answered within ~lease + sweep.
CHAT_BOT_TURN_HEARTBEAT_SECONDS = env_float("CHAT_BOT_TURN_HEARTBEAT_SECONDS", 1.0)
CHAT_BOT_TURN_LEASE_SECONDS = env_float("CHAT_BOT_TURN_LEASE_SECONDS", 4.0)
CHAT_BOT_TURN_SWEEP_SECONDS = env_float("CHAT_BOT_TURN_SWEEP_SECONDS", 1.0)
# Past this many database calls queued in one ASGI process, new messages are refused with `busy` (retry_after_ms)
# rather than queued: acks of accepted messages stay fast and clients resend (docs/chat-protocol.md).
CHAT_BUSY_BACKLOG = env_int("CHAT_BUSY_BACKLOG", 100)
CHAT_BUSY_RETRY_MS = env_int("CHAT_BUSY_RETRY_MS", 1000)
# The ASGI process's garbage collector thresholds (gen0 allocations, gen1 and gen2 multipliers); see hulic/asgi.py.
ASGI_GC_THRESHOLDS = env_ints("ASGI_GC_THRESHOLDS", (20000, 50, 100), count=range(1, 4))
# Dotted path of the moderation filter (chat/moderation.py describes the interface; a classifier can replace it).
CHAT_MODERATION_FILTER = env_str("CHAT_MODERATION_FILTER", "chat.moderation.WordListFilter")

# `make run`: the sample bots' ports, in order ELIZA, Jimin; empty = the last ones if free, else any free port.
DEMO_BOT_PORTS = env_ints("DEMO_BOT_PORTS", (), count=range(0, 3))

# E-mail (password resets). With EMAIL_HOST set, SMTP with these settings; without it, messages are printed to
# the console (the embedded default, where there is no mail server to refuse the connection).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "HuLiC <noreply@hulic.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Exports.
EXPORT_EXPIRY_DAYS = env_int("EXPORT_EXPIRY_DAYS", 30)
# A running export renews its heartbeat this often; one silent for EXPORT_STALE_SECONDS (its worker died) is queued
# again by the beat task that runs every EXPORT_RESUME_EVERY_SECONDS: taken over within a minute with the defaults.
EXPORT_HEARTBEAT_SECONDS = env_float("EXPORT_HEARTBEAT_SECONDS", 10.0)
EXPORT_STALE_SECONDS = env_float("EXPORT_STALE_SECONDS", 40.0)
EXPORT_RESUME_EVERY_SECONDS = env_float("EXPORT_RESUME_EVERY_SECONDS", 15.0)

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
    # Checks every 5 minutes whether a scheduled publication boundary has passed (leaderboard/publication.py).
    "leaderboards-publish-due": {"task": "leaderboard.tasks.leaderboards_publish_due", "schedule": 300.0},
    "review-recompute-safety-net": {
        "task": "review.tasks.review_recompute_all",
        "schedule": float(LEADERBOARD_SAFETY_NET_SECONDS),
    },
    "exports-expire": {"task": "exports.tasks.exports_expire", "schedule": 3600.0},
    "exports-resume-stale": {"task": "exports.tasks.exports_resume_stale", "schedule": EXPORT_RESUME_EVERY_SECONDS},
    # Ends chats past their deadline whose sockets are all gone, so nobody is left in a dead chat.
    "chats-end-expired": {"task": "chat.tasks.conversations_end_expired", "schedule": 60.0},
}

# ---- Content-Security-Policy (issue 10; django-csp) ----
# Scripts and styles only from our own static files: no inline script, handler or style, so injected markup cannot
# run. 'self' covers the chat's websocket (same host and port). The API's documentation pages, third-party pages
# built from a CDN, relax it for themselves only (hulic/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# ---- Beat's liveness (issue 10) ----
# Beat saves its schedule file after every task it sends (tasks run every minute at least): compose's healthcheck
# reads the file's age, so a dead or stuck beat shows as unhealthy.
CELERY_BEAT_SYNC_EVERY = 1

# ---- HTTPS (issue 10; docs/operations.md, "HTTPS") ----
# Cookies are Secure in production (browsers keep Secure cookies on http://localhost too). HSTS and the redirect
# to HTTPS are for a site served over TLS, so they are off until set. X-Forwarded-Proto is trusted only when
# TRUST_X_FORWARDED_PROTO says a TLS proxy in front sets it: a client reaching uvicorn directly could forge it.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and not EMBEDDED)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG and not EMBEDDED)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_THROTTLE_SECONDS = env_float("LOG_THROTTLE_SECONDS", 30.0)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One warning or error of a kind per interval: an outage does not bury the logs (hulic/log_throttle.py).
    "filters": {"throttle": {"()": "hulic.log_throttle.ThrottleFilter", "interval": LOG_THROTTLE_SECONDS}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["throttle"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every bot request at INFO; BotCall rows already record each call.
    "loggers": {"httpx": {"level": "WARNING"}},
}
