"""Korean pages: the language switch reaches every key page, and the Korean catalog is complete and compiled."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from chat.models import Conversation
from tests.factories import CompetitionFactory, ConversationFactory

KO_PO = Path(settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES" / "django.po"
KO_MO = KO_PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|%%")
HTML_TAG = re.compile(r"<[^>]+>")


def _po_entries(path: Path) -> list[dict]:
    """The active entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), fuzzy.

    A deliberately small parser so that the test needs neither polib nor the gettext tools.
    """
    entries: list[dict] = []
    current: dict = {}
    key = ""

    def finish() -> None:
        if "msgid" in current:
            entries.append(current.copy())
        current.clear()
        current.update({"msgstr": {}, "fuzzy": False})

    finish()
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            current["fuzzy"] = "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if key.startswith("msgstr"):
                current["msgstr"][key] += text
            else:
                current[key] += text
        else:
            keyword, _, literal = line.partition(" ")
            key = keyword
            if keyword.startswith("msgstr"):
                current["msgstr"][keyword] = ast.literal_eval(literal)
            else:
                current[keyword] = ast.literal_eval(literal)
    return [entry for entry in entries if entry["msgid"]]


def _ko(client, path: str, **extra):
    return client.get(path, HTTP_ACCEPT_LANGUAGE="ko", **extra)


@pytest.fixture
def evaluating_competition(db):
    return CompetitionFactory(slug="turing-ko", title="Turing KO", languages=["en", "ko"])


def test_pages_are_english_by_default(client, competition):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "How human is your chatbot?" in html
    assert "여러분의 챗봇은" not in html


def test_accept_language_ko_renders_the_home_page_in_korean(client, competition):
    response = _ko(client, reverse("home"))
    html = response.content.decode()
    assert '<html lang="ko">' in html
    assert "여러분의 챗봇은 얼마나 사람 같을까요?" in html
    assert "본문으로 건너뛰기" in html
    assert "How human is your chatbot?" not in html


def test_the_language_switcher_keeps_korean_for_later_requests(client):
    response = client.post(reverse("set_language"), {"language": "ko", "next": reverse("login")})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"

    html = client.get(reverse("login")).content.decode()
    assert "<h1>로그인</h1>" in html
    assert "아직 계정이 없으신가요?" in html
    assert "비밀번호" in html

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "<h1>Log in</h1>" in client.get(reverse("login")).content.decode()


def test_evaluate_page_is_korean(client, evaluator_user, evaluating_competition):
    client.force_login(evaluator_user)
    html = _ko(client, reverse("evaluate")).content.decode()
    assert "채팅하고 판정하기" in html
    assert "Turing KO" in html
    assert "Chat and judge" not in html


def test_evaluate_competition_page_explains_the_terms_in_korean(client, evaluator_user, evaluating_competition):
    client.force_login(evaluator_user)
    url = reverse("evaluate-competition", kwargs={"slug": evaluating_competition.slug})
    html = _ko(client, url).content.decode()
    assert '<h2 id="terms-heading">약관</h2>' in html
    assert "약관에 동의합니다" in html
    assert "I agree to these terms" not in html


def test_competition_page_is_korean(client, evaluating_competition):
    html = _ko(client, evaluating_competition.get_absolute_url()).content.decode()
    assert "채팅 평가 방식" in html
    assert "평가하기: 채팅 시작" in html
    assert "How chats are evaluated" not in html


def test_chat_judge_form_is_korean(client, evaluator_user, bot):
    conversation = ConversationFactory(
        competition=bot.competition,
        bot=bot,
        evaluator_a=evaluator_user,
        status=Conversation.Status.ENDED,
        last_seq=bot.competition.min_turns_to_count,
    )
    client.force_login(evaluator_user)
    html = _ko(client, reverse("chat-judge", kwargs={"public_id": conversation.public_id})).content.decode()
    assert "대화 상대는 사람이었나요, 봇이었나요?" in html
    assert "판정 저장하기" in html
    assert "Save my judgment" not in html


def test_every_korean_message_is_translated_and_not_fuzzy():
    entries = _po_entries(KO_PO)
    assert len(entries) > 100
    untranslated = [entry["msgid"] for entry in entries if not all(entry["msgstr"].values())]
    fuzzy = [entry["msgid"] for entry in entries if entry["fuzzy"]]
    assert untranslated == []
    assert fuzzy == []


def test_korean_translations_keep_placeholders_and_html():
    mismatched = []
    for entry in _po_entries(KO_PO):
        sources = [entry["msgid"], entry.get("msgid_plural", entry["msgid"])]
        for translation in entry["msgstr"].values():
            for pattern in (PLACEHOLDER, HTML_TAG):
                if sorted(pattern.findall(translation)) not in [sorted(pattern.findall(s)) for s in sources]:
                    mismatched.append(entry["msgid"])
    assert mismatched == []


def test_compiled_korean_catalog_matches_the_po_file():
    """A stale django.mo (compilemessages forgotten) would silently show English."""
    with KO_MO.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    missing = []
    for entry in _po_entries(KO_PO):
        msgid = entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        key = (msgid, 0) if "msgid_plural" in entry else msgid
        expected = entry["msgstr"].get("msgstr", entry["msgstr"].get("msgstr[0]"))
        if catalog.get(key) != expected:
            missing.append(entry["msgid"])
    assert missing == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext")
def test_the_korean_catalog_holds_every_translatable_string(tmp_path):
    """A string added to a template or the code without makemessages shows in English on Korean pages, and the
    catalog tests above cannot see it. makemessages runs on a copy of the source, so the real catalog is untouched."""
    source = tmp_path / "src"
    shutil.copytree(
        settings.BASE_DIR,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "media", "staticfiles", "node_modules", "__pycache__", "tests", "bench", "*.sqlite3"
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "ko", "--verbosity", "0"],
        cwd=source,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "hulic.settings"},
        check=True,
    )

    extracted = {entry["msgid"] for entry in _po_entries(source / "locale" / "ko" / "LC_MESSAGES" / "django.po")}
    catalog = {entry["msgid"] for entry in _po_entries(KO_PO)}
    assert sorted(extracted - catalog) == []
