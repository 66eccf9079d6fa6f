"""checkbot against real endpoints on loopback."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from competitions import signing
from tests.competitions.botserver import TEST_SECRET, sample_bot_server, test_bot_fixture  # noqa: F401 -- fixture

MANAGE_PY = Path(__file__).resolve().parents[2] / "manage.py"


def run_checkbot(*args: str, **options) -> str:
    out = StringIO()
    call_command("checkbot", *args, stdout=out, **options)
    return out.getvalue()


def test_checkbot_passes_a_working_bot_and_reports_each_probe():
    with sample_bot_server("eliza", "eliza_reply") as url:
        output = run_checkbot(url, secret=TEST_SECRET, allow_private=True)
    lines = output.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["OK", "OK", "OK"]
    assert "health probe" in lines[0] and "English" in lines[1] and "Korean" in lines[2]
    assert " ms " in lines[0]
    assert "All 3 probes passed." in output


def test_checkbot_fails_on_a_broken_bot(test_bot):
    out = StringIO()
    with pytest.raises(CommandError, match="3 of 3 probes failed"):
        call_command("checkbot", test_bot.url("/error"), secret=TEST_SECRET, allow_private=True, stdout=out)
    assert out.getvalue().count("[http_status] The bot answered HTTP 500.") == 3


def test_checkbot_refuses_a_local_endpoint_without_allow_private(test_bot, settings):
    settings.BOT_ALLOWED_NETWORKS = []
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("checkbot", test_bot.url("/ok"), secret=TEST_SECRET, stdout=out)
    assert "[blocked]" in out.getvalue()
    assert test_bot.requests == []


def test_checkbot_refuses_a_malformed_secret():
    with pytest.raises(CommandError, match="whsec_"):
        run_checkbot("http://127.0.0.1:9/", secret="whsec_***", allow_private=True)


def test_checkbot_signs_with_the_given_secret(test_bot):
    run_checkbot(test_bot.url("/ok"), secret=TEST_SECRET, allow_private=True)
    assert len(test_bot.requests) == 3
    for request in test_bot.requests:
        signing.verify(secret=TEST_SECRET, headers=request.headers, body=request.body)


def test_checkbot_exits_non_zero_from_the_command_line(test_bot):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    completed = subprocess.run(
        [
            sys.executable,
            str(MANAGE_PY),
            "checkbot",
            test_bot.url("/garbage"),
            "--secret",
            TEST_SECRET,
            "--allow-private",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "[bad_json]" in completed.stdout
