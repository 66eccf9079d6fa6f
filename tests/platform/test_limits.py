"""Password guessing and sign-up spam (issue 10): django-axes lockouts on the login form and the token endpoint, DRF
throttles on the API, a sign-up rate per client address, all-digit passwords refused; messages in English and
Korean. These tests run with the production values (tests/conftest.py lifts the limits for every other test)."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from competitions.models import Competition
from hulic import settings as production
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-long-enough-passphrase"


@pytest.fixture(autouse=True)
def production_limits(settings, limits_out_of_the_way):
    settings.AXES_ENABLED = True
    settings.API_THROTTLE_RATES = production.API_THROTTLE_RATES
    settings.SIGNUPS_PER_HOUR = production.SIGNUPS_PER_HOUR
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def victim(db):
    return UserFactory(username="victim")


def guess_on_the_form(client, username: str, password: str, **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def test_the_login_form_locks_out_after_the_failure_limit_even_with_the_right_password(client, victim):
    for attempt in range(production.AXES_FAILURE_LIMIT - 1):
        assert guess_on_the_form(client, "victim", f"wrong-{attempt}").status_code == 200

    locked = guess_on_the_form(client, "victim", "wrong-last")
    right = guess_on_the_form(client, "victim", PASSWORD)

    assert locked.status_code == 429
    assert right.status_code == 429
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_message_is_translated(client, victim):
    for attempt in range(production.AXES_FAILURE_LIMIT):
        guess_on_the_form(client, "victim", f"wrong-{attempt}")

    response = guess_on_the_form(client, "victim", PASSWORD, HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 429
    assert "보안을 위해 이곳에서 이 계정으로의 로그인이 15분 동안 차단됩니다" in response.content.decode()


def test_a_lockout_is_per_username_and_address_and_a_success_resets_the_count(client, victim):
    UserFactory(username="bystander")
    for attempt in range(production.AXES_FAILURE_LIMIT - 1):
        guess_on_the_form(client, "victim", f"wrong-{attempt}")
    assert guess_on_the_form(client, "victim", PASSWORD).status_code == 302
    for attempt in range(production.AXES_FAILURE_LIMIT - 1):
        guess_on_the_form(client, "victim", f"again-{attempt}")

    assert guess_on_the_form(client, "victim", PASSWORD).status_code == 302
    assert guess_on_the_form(client, "bystander", PASSWORD).status_code == 302


def test_the_token_endpoint_locks_out_after_the_failure_limit(victim):
    api = APIClient()
    url = reverse("api-token-obtain")
    answers = [
        api.post(url, {"username": "victim", "password": f"wrong-{n}"}, format="json").status_code
        for n in range(production.AXES_FAILURE_LIMIT)
    ]

    right = api.post(url, {"username": "victim", "password": PASSWORD}, format="json")

    assert answers == [400] * (production.AXES_FAILURE_LIMIT - 1) + [429]
    assert right.status_code == 429
    assert "Too many failed sign-in attempts" in right.json()["detail"]
    assert "token" not in right.json()


def test_the_token_endpoint_is_throttled_per_address(victim, settings):
    settings.AXES_ENABLED = False  # the throttle alone, with the right password every time
    api = APIClient()
    url = reverse("api-token-obtain")
    allowed = int(production.API_THROTTLE_RATES["auth"].split("/")[0])

    answers = [api.post(url, {"username": "victim", "password": PASSWORD}).status_code for _ in range(allowed + 1)]

    assert answers == [200] * allowed + [429]


def test_anonymous_api_calls_are_throttled(client):
    competition = Competition.objects.create(slug="open-cup", title="Open Cup", phase=Competition.Phase.CLOSED)
    url = reverse("api-leaderboard", kwargs={"slug": competition.slug})
    allowed = int(production.API_THROTTLE_RATES["anon"].split("/")[0])

    answers = [APIClient().get(url).status_code for _ in range(allowed + 1)]

    assert answers[:allowed] == [200] * allowed
    assert answers[allowed] == 429


def signup(client, username: str, password: str = NEW_PASSWORD, **headers):
    # Sign-up asks for an e-mail no other account has: each username gets its own.
    data = {"username": username, "email": f"{username}@example.org", "password1": password, "password2": password}
    return client.post(reverse("signup"), data, **headers)


def test_sign_ups_from_one_address_are_limited_per_hour(client):
    for n in range(production.SIGNUPS_PER_HOUR):
        assert signup(client, f"newcomer-{n}").status_code == 302
        client.logout()

    refused = signup(client, "one-too-many")
    refused_ko = signup(client, "one-too-many", HTTP_ACCEPT_LANGUAGE="ko")

    assert refused.status_code == 429
    assert "Too many accounts were created from your network" in refused.content.decode()
    assert "이 네트워크에서 너무 많은 계정이 만들어졌습니다" in refused_ko.content.decode()
    assert not UserFactory._meta.model.objects.filter(username="one-too-many").exists()


def test_an_all_digit_password_is_refused(client):
    response = signup(client, "digits", password="73920518465")

    assert response.status_code == 200
    assert "This password is entirely numeric." in response.content.decode()
    assert not UserFactory._meta.model.objects.filter(username="digits").exists()
