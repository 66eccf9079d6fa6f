"""A full three-party game in real browsers: an interrogator and a human witness (two browser contexts) and the
sample ELIZA bot, from the start button to the verdict and the witness's answer; one pane's socket is dropped on
the way and catches up by itself."""

import re

import pytest
from playwright.sync_api import Page, expect

from chat.models import Game, GameVerdict
from competitions.models import Bot
from tests.e2e.test_chat_flows import become_ready_evaluator, create_competition, log_in, sign_up, start_chat
from tests.factories import BotFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
GAME_URL = re.compile(r"/game/[0-9a-f-]{36}/$")


def pane_send(page: Page, pane: str, text: str) -> None:
    page.fill(f"#input-{pane}", text)
    page.press(f"#input-{pane}", "Enter")
    mine = page.locator(f"#pane-{pane} li.bubble.me:not(.pending) .bubble-text", has_text=text)
    expect(mine).to_have_count(1)


def partner_said(page: Page, pane: str, text: str):
    return page.locator(f"#pane-{pane} li.bubble.partner .bubble-text", has_text=text)


def test_interrogator_witness_and_bot_play_a_game_to_the_verdict(new_page, orm, eliza_bot_process, monkeypatch):
    port, secret = eliza_bot_process
    # The first person's lobby hold (before falling back to a bot chat) must outlast the second one's start.
    monkeypatch.setattr("chat.services.games.match_hold_draw", lambda **kwargs: 60.0)
    competition = orm(create_competition, slug="e2e-three", mode="three_party")
    orm(
        BotFactory,
        team=orm(TeamFactory, name="Lab E", slug="lab-e"),
        competition=competition,
        name="ELIZA",
        endpoint_url=f"http://127.0.0.1:{port}/",
        signing_secret=secret,
        status=Bot.Status.VERIFIED,
    )
    orm(UserFactory, username="dora")
    dora, emil = new_page(), new_page()
    log_in(dora, "dora")
    sign_up(emil, "emil")
    for page in (dora, emil):
        become_ready_evaluator(page, competition)

    start_chat(dora)
    expect(dora.locator("#waiting")).to_be_visible()
    start_chat(emil)
    for page in (emil, dora):  # dora's waiting page polls its way into the game
        page.wait_for_url(GAME_URL, timeout=15_000)

    game = orm(lambda: Game.objects.select_related("interrogator").get(competition=competition))
    pages = {"dora": dora, "emil": emil}
    interrogator = pages[game.interrogator.username]
    witness = pages["emil" if game.interrogator.username == "dora" else "dora"]
    human_pane, bot_pane = ("left", "right") if game.human_on_left else ("right", "left")
    expect(interrogator.locator(".game-pane")).to_have_count(2)
    expect(witness.locator(".game-pane")).to_have_count(1)
    expect(witness.locator("#witness-instructions")).to_be_visible()
    expect(interrogator.locator(f"#input-{human_pane}")).to_be_enabled()

    pane_send(interrogator, human_pane, "What did you have for breakfast?")
    pane_send(interrogator, bot_pane, "What did you have for breakfast?")
    expect(partner_said(witness, "witness", "What did you have for breakfast?")).to_have_count(1)
    pane_send(witness, "witness", "Toast and far too much coffee")
    expect(partner_said(interrogator, human_pane, "Toast and far too much coffee")).to_have_count(1)
    expect(interrogator.locator(f"#pane-{bot_pane} li.bubble.partner .bubble-text").first).not_to_be_empty(
        timeout=15_000
    )

    # The human pane's socket drops; the witness writes meanwhile; the pane reconnects with its last_seq.
    index = 0 if human_pane == "left" else 1
    interrogator.evaluate(f"window.hulicGamePanes[{index}].socket.close()")
    pane_send(witness, "witness", "Are you still there?")
    expect(partner_said(interrogator, human_pane, "Are you still there?")).to_have_count(1, timeout=15_000)
    expect(interrogator.locator(f"#pane-{human_pane} li.bubble")).to_have_count(3)

    interrogator.click("#game-finish")
    interrogator.wait_for_url(re.compile(r"/game/[0-9a-f-]{36}/verdict/$"))
    interrogator.check("#id_picked_side_0" if game.human_on_left else "#id_picked_side_1")
    interrogator.fill("#id_confidence", "85")
    interrogator.fill("#id_reason", "The coffee answer was too specific for a bot.")
    interrogator.click("#verdict-submit")
    expect(interrogator.locator("#verdict-saved")).to_be_visible()

    witness.wait_for_url(re.compile(r"/verdict/$"), timeout=15_000)  # the pane's ended frame leads here
    witness.check("#id_effort_3")
    witness.click("#witness-submit")
    expect(witness.locator("#witness-saved")).to_be_visible()

    def outcome():
        verdict = GameVerdict.objects.select_related("game").get(game__competition=competition)
        human_messages = verdict.game.human_conversation.messages.count()
        bot_messages = verdict.game.bot_conversation.messages.filter(side="b").count()
        return (
            verdict.bot_picked_as_human,
            verdict.confidence,
            verdict.game.witness_effort,
            human_messages,
            bot_messages,
        )

    picked_bot, confidence, effort, human_messages, bot_messages = orm(outcome)
    assert (picked_bot, confidence, effort, human_messages) == (False, 85, 4, 3)
    assert bot_messages >= 1
