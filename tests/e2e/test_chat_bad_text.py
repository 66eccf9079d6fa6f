"""The chat page and a message the server refuses as a bad frame: shown as failed, sent once, never resent."""

import time

import pytest
from playwright.sync_api import expect

from chat.models import Message, PartnerKind
from tests.e2e.test_chat_flows import create_competition, log_in
from tests.factories import ConversationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def human_chat():
    competition = create_competition()
    return ConversationFactory(
        competition=competition,
        partner_kind=PartnerKind.HUMAN,
        bot=None,
        evaluator_a=UserFactory(username="carol"),
        evaluator_b=UserFactory(username="dan"),
    )


@pytest.mark.parametrize("bad_text", ["half a pair \ud800", "nul \x00 inside"])
def test_a_message_refused_as_bad_is_marked_failed_and_not_resent(new_page, orm, bad_text):
    chat = orm(human_chat)
    page = new_page()
    log_in(page, "carol")
    sockets, sent = [], []

    def watch(socket):
        sockets.append(socket)
        socket.on("framesent", lambda payload: sent.append(payload))

    page.on("websocket", watch)
    page.goto(f"/chat/{chat.public_id}/")
    expect(page.locator("#chat-input")).to_be_enabled()
    page.evaluate("text => { document.getElementById('chat-input').value = text; }", bad_text)
    page.locator("#chat-send").click()

    expect(page.locator("#chat-messages li.bubble.me.failed")).to_have_count(1)
    time.sleep(3)  # a dropped socket would have reconnected (0.5-1 s) and resent the message by now
    messages_sent = [frame for frame in sent if '"type":"message"' in frame]
    assert len(sockets) == 1, "the socket must stay open"
    assert len(messages_sent) == 1
    assert page.locator("#chat-messages li.bubble.me.pending").count() == 0
    assert orm(Message.objects.count) == 0
