"""A bot chat and a human–human chat side by side, in real browsers: the evaluator's pages go through the same
states, from the start button to the saved judgment (docs/blinding.md)."""

import re

import pytest
from playwright.sync_api import Page, expect

from chat.services import matchmaking
from competitions.models import Bot
from tests.e2e.test_chat_flows import become_ready_evaluator, create_competition, log_in, sign_up, wait_in_chat
from tests.factories import BotFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOLD_SECONDS = 8.0

# Every element with an id outside the message list: its tag, whether it shows, is disabled, and its own text;
# the message list as the classes of its bubbles (the words are the conversation, not the page's state).
PAGE_STATE = """() => {
  const own = (e) => Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
  const shown = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const ids = Array.from(document.querySelectorAll('[id]')).filter(e => !e.closest('#chat-messages'))
    .map(e => [e.id, e.tagName, shown(e), !!e.disabled, own(e)]);
  const bubbles = Array.from(document.querySelectorAll('#chat-messages li')).map(li => li.className);
  const alias = document.getElementById('chat-partner');
  return {path: location.pathname, ids, bubbles, alias: alias ? alias.textContent : null,
          title: document.title};
}"""


def page_state(page: Page, *, slug: str, title: str) -> dict:
    """The page as its user sees it, with what legitimately differs between two chats made neutral."""
    state = page.evaluate(PAGE_STATE)
    alias = state.pop("alias")

    def neutral(text: str) -> str:
        text = text.replace(slug, "SLUG").replace(title, "TITLE")
        if alias:
            text = text.replace(alias, "ALIAS")
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
        return re.sub(r"\d+", "N", text)

    state["path"] = neutral(state["path"])
    state["title"] = neutral(state["title"])
    state["ids"] = sorted([i, tag, shown, disabled, neutral(text)] for i, tag, shown, disabled, text in state["ids"])
    return state


def test_a_bot_chat_and_a_human_chat_show_the_same_page_states(new_page, orm, eliza_bot_process, monkeypatch):
    port, secret = eliza_bot_process
    # The same hold for every request, so both evaluators see the waiting page; the evaluator speaks first in
    # both chats (the draw is per chat; here it is fixed so that the two runs can be compared step by step).
    monkeypatch.setattr(matchmaking, "match_wait_s", lambda **kwargs: HOLD_SECONDS)
    real_new_conversation = matchmaking._new_conversation

    def evaluator_first(**kwargs):
        conversation = real_new_conversation(**kwargs)
        conversation.first_speaker = "a"
        conversation.save(update_fields=["first_speaker"])
        return conversation

    monkeypatch.setattr(matchmaking, "_new_conversation", evaluator_first)
    fields = {"max_turns": 4, "title": "Blind test"}
    human_arena = orm(create_competition, slug="humans", control_chat_share=1.0, **fields)
    bot_arena = orm(create_competition, slug="bots", control_chat_share=0.0, **fields)
    # Live bots in both arenas (the same ELIZA process behind all): an arena without one says "no chat partner
    # is available right now", and the bot of an evaluator's previous chat is not offered next, so the bot arena
    # needs two for its start page to come back after the first chat.
    for arena, team_slug, name in (
        (bot_arena, "lab-e", "ELIZA"),
        (bot_arena, "lab-f", "ELIZA two"),
        (human_arena, "lab-h", "ELIZA three"),
    ):
        orm(
            BotFactory, team=orm(TeamFactory, name=f"Team {team_slug}", slug=team_slug), competition=arena,
            name=name, endpoint_url=f"http://127.0.0.1:{port}/", signing_secret=secret, status=Bot.Status.VERIFIED,
        )  # fmt: skip
    for name in ("bob", "carol"):
        orm(UserFactory, username=name)
    alice, bob, carol = new_page(), new_page(), new_page()
    sign_up(alice, "alice")
    log_in(bob, "bob")
    log_in(carol, "carol")
    for page, arena in ((alice, human_arena), (bob, human_arena), (carol, bot_arena)):
        become_ready_evaluator(page, arena)
    human_view = {"page": alice, "slug": "humans", "title": "Blind test"}
    bot_view = {"page": carol, "slug": "bots", "title": "Blind test"}
    steps = []

    def compare(step: str) -> None:
        states = [page_state(view["page"], slug=view["slug"], title=view["title"]) for view in (human_view, bot_view)]
        steps.append(step)
        assert len(states[0]["ids"]) >= 3, step  # a real page, not an empty one
        assert states[0] == states[1], step

    def both(action) -> None:
        for view in (human_view, bot_view):
            action(view["page"])

    both(lambda page: page.click("#start-submit"))
    both(lambda page: expect(page.locator("#waiting")).to_be_visible())
    compare("waiting")
    bob.click("#start-submit")
    wait_in_chat(bob)
    both(wait_in_chat)
    both(lambda page: expect(page.locator("#chat-status")).to_have_text(re.compile(".+")))
    compare("chat open")

    for number, text in enumerate(("Hello, how are you today?", "Is it raining where you are?")):
        both(lambda page, text=text: (page.fill("#chat-input", text), page.keyboard.press("Enter")))
        if number == 0:
            expect(bob.locator("#chat-messages li.bubble.partner")).to_have_count(1)
            bob.fill("#chat-input", "Fine thanks, and you?")
            bob.keyboard.press("Enter")
        else:
            expect(bob.locator("#chat-messages li.bubble.partner")).to_have_count(2)
            bob.fill("#chat-input", "No, sunny all day here.")
            bob.keyboard.press("Enter")
        both(lambda page, n=number: expect(page.locator("#chat-messages li.bubble.partner")).to_have_count(n + 1))
        if number == 0:
            both(lambda page: expect(page.locator("#chat-typing")).to_be_hidden())
            compare("after the partner's first reply")

    both(lambda page: expect(page.locator("#chat-ended")).to_be_visible(timeout=15_000))
    compare("ended at the message limit")
    both(lambda page: page.click("#chat-judge-link"))
    both(lambda page: page.wait_for_url(re.compile(r"/judge/$")))
    compare("judge form")

    def judge(page: Page) -> None:
        page.check("#id_verdict_0")
        page.check("#id_confidence_3")
        for key in human_arena.criteria_keys:
            page.check(f"#id_rating_{key}_3")
        page.fill("#id_reason", "Natural.")
        page.click("#judgment-submit")
        expect(page.locator("#judgment-saved")).to_be_visible()

    both(judge)
    compare("judgment saved")
    both(lambda page: expect(page.locator("#partner-reveal")).to_have_count(0))
    both(lambda page: page.click("#next-chat"))
    both(lambda page: expect(page.locator("#start-submit")).to_be_visible())
    compare("back to the start")
    assert len(steps) == 7
