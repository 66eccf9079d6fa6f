"""Deployment: the documented production settings pass `check --deploy`, the documented non-Docker steps serve the
static files, X-Forwarded-Proto is trusted only when configured, media files are never served by URL, and every
compose service restarts and is health-checked (issue 10)."""

import importlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.urls import clear_url_caches

ROOT = Path(__file__).resolve().parents[2]


def documented_production_env() -> dict[str, str]:
    """The environment block of docs/operations.md's HTTPS section, with a real secret."""
    docs = (ROOT / "docs" / "operations.md").read_text()
    block = re.search(r"```sh\n(DEBUG=false\n.*?)```", docs, re.DOTALL).group(1)
    env = dict(line.split("=", 1) for line in block.splitlines() if line.strip())
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def clean_env(**variables: str) -> dict[str, str]:
    keep = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO", "HULIC", "DATABASE"))}
    keep = {name: value for name, value in keep.items() if name not in {"REDIS_URL", "DEBUG", "SECRET_KEY"}}
    return {**keep, "HULIC_TESTING": "false", "DJANGO_SETTINGS_MODULE": "hulic.settings", **variables}


def manage(*arguments: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_check_deploy_reports_nothing_for_the_documented_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=clean_env(**documented_production_env()))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def setting_in_production(name: str, **variables: str) -> str:
    env = clean_env(DATABASE_URL="postgres://hulic@db.invalid/hulic", SECRET_KEY=secrets.token_urlsafe(50), **variables)
    script = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_x_forwarded_proto_is_trusted_only_when_a_setting_says_a_proxy_sets_it():
    assert setting_in_production("SECURE_PROXY_SSL_HEADER") == "None"
    assert setting_in_production("SECURE_PROXY_SSL_HEADER", TRUST_X_FORWARDED_PROTO="true") == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_production_cookies_are_secure_by_default():
    assert setting_in_production("SESSION_COOKIE_SECURE") == "True"
    assert setting_in_production("CSRF_COOKIE_SECURE") == "True"


def test_compose_services_restart_and_have_real_healthchecks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), name
    beat_check = " ".join(services["beat"]["healthcheck"]["test"])
    assert "test -f" not in beat_check  # a schedule file outlives a dead beat
    app_env = services["web"]["environment"]
    assert "false" not in str(app_env.get("SESSION_COOKIE_SECURE", "")) + str(app_env.get("CSRF_COOKIE_SECURE", ""))


def database_url_for_a_subprocess(tmp_path: Path) -> str:
    if connection.vendor == "postgresql":
        config = connection.settings_dict
        return f"postgres://{config['USER']}@{config['HOST']}:{config['PORT'] or 5432}/{config['NAME']}"
    return f"sqlite:///{tmp_path / 'deploy.sqlite3'}"


@pytest.mark.django_db(transaction=True)
def test_the_documented_steps_serve_the_chat_script(tmp_path):
    env = clean_env(
        DEBUG="false",
        DATABASE_URL=database_url_for_a_subprocess(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_POOL_MAX_SIZE="2",
    )
    deploy = manage("deploy", "--verbosity", "0", env=env, timeout=300)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    uvicorn = Path(sys.executable).parent / "uvicorn"
    server = subprocess.Popen(
        [str(uvicorn), "hulic.asgi:application", "--fd", str(listener.fileno()), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        pass_fds=(listener.fileno(),),
    )
    listener.close()
    try:
        status = fetch_status(f"http://127.0.0.1:{port}/static/chat/chat.js", server)
    finally:
        server.terminate()
        server.wait(timeout=20)

    assert status == 200


def fetch_status(url: str, server: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 -- a loopback URL
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url}")


@pytest.fixture
def debug_urls_and_an_export_file(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "turing-2026-all.zip").write_bytes(b"PK organizers only")
    import hulic.urls

    importlib.reload(hulic.urls)
    clear_url_caches()
    yield "/media/exports/turing-2026-all.zip"
    settings.DEBUG = False
    importlib.reload(hulic.urls)
    clear_url_caches()


def test_export_files_are_not_served_from_media_urls_even_with_debug(client, debug_urls_and_an_export_file):
    response = client.get(debug_urls_and_an_export_file)

    assert response.status_code == 404


@pytest.mark.django_db
def test_pages_send_a_content_security_policy_without_inline_code(client):
    policy = client.get("/").headers["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy
