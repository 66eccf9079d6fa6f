"""The site's frame: titles, icon, and (later in the file) its error pages."""

import re

import pytest
from django.templatetags.static import static

from tests.factories import CompetitionFactory

pytestmark = pytest.mark.django_db


def page_title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()


def test_the_home_page_is_titled_hulic_once(client):
    assert page_title(client.get("/")) == "HuLiC"


def test_inner_pages_name_themselves_then_the_site(client):
    competition = CompetitionFactory(title="Spring Turing")
    assert page_title(client.get(competition.get_absolute_url())) == "Spring Turing · HuLiC"


def test_pages_link_an_icon_and_favicon_ico_leads_to_it(client):
    assert static("img/favicon.svg") in client.get("/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("img/favicon.svg")
    assert client.get(response["Location"]).status_code == 200
