"""A bounded schemathesis run against the OpenAPI schema, through the WSGI app, as a participant with a token.

What it holds the API to: no server error (5xx) for any input, every status code an operation answers is listed in
the schema for that operation, and every answer (errors included, in their one shape) matches its documented schema.
Each operation gets FUZZ_EXAMPLES generated requests, each sent twice: as generated (random path parameters, so
mostly "not found") and with the path parameters of objects the participant can see. The whole run takes about a
minute on two cores.
"""

import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from competitions.models import Competition
from exports.models import ExportJob
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def load_schema():
    """The schema /api/v1/schema/ serves, bound to the WSGI app (built here: loading it over HTTP at import time
    would touch the database outside a test)."""
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()
    return loaded


schema = load_schema()


@pytest.fixture
def participant_world(settings):
    """A participant with a team, a bot, a chat and an export, so requests reach past "not found"."""
    settings.BOT_TOTAL_TIMEOUT = 0.2  # a bot registered by the fuzzer gets a health check; never wait for one
    cache.clear()  # throttle history
    membership = TeamMembershipFactory(team__slug="lab-a")
    competition = CompetitionFactory(slug="turing-2026", phase=Competition.Phase.EVALUATION)
    bot = BotFactory(team=membership.team, competition=competition)
    chat = ConversationFactory(competition=competition, bot=bot, evaluator_a=membership.user)
    export = ExportJob.objects.create(
        competition=competition,
        requested_by=membership.user,
        scope=ExportJob.Scope.TEAM,
        team=membership.team,
        format=ExportJob.Format.CSV,
    )
    known = {
        "slug": competition.slug,
        "bot_id": bot.pk,
        "public_id": str(chat.public_id),
        "token": "no-such-invitation",
    }
    yield {"token": Token.objects.create(user=membership.user).key, "known": known, "export": export}
    cache.clear()


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_answers_every_input_as_documented(case, participant_world):
    headers = {"Authorization": f"Token {participant_world['token']}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
    if case.path_parameters:
        known = participant_world["known"]
        if "public_id" in case.path_parameters and case.path.startswith("/api/v1/exports/"):
            known = {**known, "public_id": str(participant_world["export"].public_id)}
        case.path_parameters = {name: known.get(name, value) for name, value in case.path_parameters.items()}
        case.call_and_validate(headers=headers, checks=CHECKS)
