"""The site's frame: titles, icon, and (later in the file) its error pages."""

import os
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.views.defaults import permission_denied, server_error

from tests.factories import CompetitionFactory, ConversationFactory, UserFactory

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


def test_a_missing_page_is_the_sites_own_404_in_the_users_language(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert 'id="error-404"' in response.content.decode() and 'class="brand"' in response.content.decode()
    korean = client.get("/no/such/page/", headers={"accept-language": "ko"})
    assert "페이지를 찾을 수 없습니다" in korean.content.decode()


def test_a_chat_of_someone_else_is_a_branded_404(client):
    chat = ConversationFactory()
    client.force_login(UserFactory())
    response = client.get(reverse("chat-judge", kwargs={"public_id": chat.public_id}))
    assert response.status_code == 404 and 'id="error-404"' in response.content.decode()


def test_the_403_and_500_pages_are_the_sites_own(rf):
    request = rf.get("/")
    forbidden = permission_denied(request, exception=PermissionDenied())
    assert forbidden.status_code == 403 and 'id="error-403"' in forbidden.content.decode()
    with translation.override("ko"):
        error = server_error(request)
    assert error.status_code == 500
    assert 'id="error-500"' in error.content.decode() and "문제가 발생했습니다" in error.content.decode()


def test_a_csrf_failure_explains_itself_without_mentioning_debug(client):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "x", "password": "y"}, headers={"accept-language": "ko"})
    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="error-csrf"' in page and "DEBUG" not in page
    assert "양식이 만료되었습니다" in page


def test_get_on_logout_asks_to_confirm_and_post_logs_out(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("logout"))
    assert page.status_code == 200 and 'id="logout-submit"' in page.content.decode()
    assert client.get(reverse("team-list")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("team-list")).status_code == 302


def test_sign_up_collects_an_e_mail_address_once(client):
    data = {
        "username": "newbie",
        "email": "newbie@example.org",
        "password1": "x7-long-password",
        "password2": "x7-long-password",
    }
    assert client.post(reverse("signup"), data).status_code == 302
    assert get_user_model().objects.get(username="newbie").email == "newbie@example.org"
    client.logout()
    again = client.post(reverse("signup"), {**data, "username": "other", "email": "NEWBIE@example.org"})
    assert again.status_code == 200 and "already" in again.content.decode()
    missing = client.post(reverse("signup"), {**data, "username": "third", "email": ""})
    assert missing.status_code == 200 and not get_user_model().objects.filter(username="third").exists()


def test_password_reset_mails_a_link_that_sets_a_new_password_in_the_sites_look(client, mailoutbox):
    user = UserFactory(email="reset@example.org")
    form = client.get(reverse("password_reset")).content.decode()
    assert 'id="password-reset-form"' in form and "Django" not in form
    done = client.post(reverse("password_reset"), {"email": "reset@example.org"}, follow=True)
    assert 'id="password-reset-done"' in done.content.decode()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["reset@example.org"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    confirm = client.get(link, follow=True)
    assert 'id="password-reset-confirm-form"' in confirm.content.decode()
    new = "another-long-password-9"
    complete = client.post(confirm.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True)
    assert 'id="password-reset-complete"' in complete.content.decode()
    user.refresh_from_db()
    assert user.check_password(new)


def test_password_change_in_the_sites_look(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("password_change")).content.decode()
    assert 'id="password-change-form"' in page and 'class="brand"' in page
    new = "a-brand-new-password-7"
    data = {"old_password": "correct-horse-battery", "new_password1": new, "new_password2": new}
    done = client.post(reverse("password_change"), data, follow=True)
    assert 'id="password-change-done"' in done.content.decode()


def test_e_mail_goes_by_smtp_when_a_host_is_configured_and_to_the_console_otherwise():
    import subprocess
    import sys

    script = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='hulic.settings'; django.setup(); "
    script += (
        "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_PORT, settings.EMAIL_USE_TLS)"
    )
    base = {key: value for key, value in os.environ.items() if not key.startswith("EMAIL_")}
    console = subprocess.run([sys.executable, "-c", script], env=base, capture_output=True, text=True, check=True)
    assert console.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend"
    smtp_env = {**base, "EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "587"}
    smtp = subprocess.run([sys.executable, "-c", script], env=smtp_env, capture_output=True, text=True, check=True)
    assert smtp.stdout.split() == ["django.core.mail.backends.smtp.EmailBackend", "587", "True"]
