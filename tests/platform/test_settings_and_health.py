import os
import subprocess
import sys

import pytest
from django.urls import reverse

SETUP_DJANGO = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'hulic.settings'; django.setup()"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _import_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "HULIC_TESTING"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", SETUP_DJANGO],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_with_the_default_secret():
    result = _import_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/hulic", HULIC_TESTING="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_starts_with_a_secret():
    result = _import_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/hulic", HULIC_TESTING="0", SECRET_KEY="x" * 50
    )
    assert result.returncode == 0, result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = _import_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.parametrize("thresholds", ["20000,fifty", "", "1,2,3,4"])
def test_malformed_collector_thresholds_are_a_clear_error(thresholds):
    result = _import_settings(ASGI_GC_THRESHOLDS=thresholds, SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ASGI_GC_THRESHOLDS must be 1 to 3 integers separated by commas" in result.stderr


def test_collector_thresholds_from_the_environment():
    result = _import_settings(ASGI_GC_THRESHOLDS="5000, 20", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_healthz_reports_database_and_cache(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
