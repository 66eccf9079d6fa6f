"""Every API error comes in one documented shape: {"code", "detail"} (+ "fields" for invalid input)."""

import pytest
from django.urls import reverse
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import BotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def api(participant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=participant).key}")
    return client


def test_invalid_input_names_the_fields_in_the_one_shape(api):
    response = api.post(reverse("api-team-create"), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "name: This field is required.",
        "fields": {"name": ["This field is required."]},
    }


def test_a_broken_rule_has_a_code_and_a_detail(api, team):
    response = api.post(reverse("api-team-create"), {"name": team.name}, format="json")
    assert response.status_code == 409
    assert response.json() == {"code": "team_name_taken", "detail": "A team with that name already exists."}


def test_missing_token_and_unknown_objects_answer_in_the_same_shape(api):
    anonymous = APIClient().get(reverse("api-team-list"))
    unknown = api.get(reverse("api-bot-detail", kwargs={"bot_id": 999_999}))
    not_a_number = api.get("/api/v1/bots/not-a-number/")
    nowhere = api.post("/api/v1/no/such/endpoint/", {}, format="json")
    a_newline_in_a_slug = api.post("/api/v1/teams/%0A%5B/invitations/", {}, format="json")

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    for response in (not_a_number, nowhere, a_newline_in_a_slug):
        assert response.status_code == 404
        assert response["content-type"] == "application/json"
        assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_another_teams_bot_is_not_found(api):
    response = api.get(reverse("api-bot-detail", kwargs={"bot_id": BotFactory().pk}))
    assert response.status_code == 404 and set(response.json()) == {"code", "detail"}


def test_the_schema_documents_every_error_with_the_one_error_component():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    error_refs = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "401" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    error_refs.add(response["content"]["application/json"]["schema"]["$ref"])
    assert error_refs == {"#/components/schemas/ApiError"}
    assert set(schema["components"]["schemas"]["ApiError"]["required"]) == {"code", "detail"}


@pytest.mark.parametrize("name", ["api-team-create", "api-token-obtain"])
def test_json_nested_too_deeply_is_invalid_input_not_a_server_error(api, name):
    response = api.post(reverse(name), "[" * 30_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "parse_error", "detail": "JSON parse error - nested too deeply."}
