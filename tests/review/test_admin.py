"""Organizers' admin for review: the pages load, proposals are approved, the figures recompute."""

import random

import pytest
from django.urls import reverse

from review import services
from review.models import GoldItem, ReviewItem, ReviewKind, ReviewSettings, ReviewSnapshot, Strike

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [ReviewSettings, GoldItem, Strike, ReviewSnapshot])
def test_review_admin_pages_load(client, organizer, world, model):
    client.force_login(organizer)
    services.gold_mark(competition=world.competition, first=world.chats[0])
    url = reverse(f"admin:review_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


def test_organizers_propose_and_approve_gold_items_from_the_admin(client, organizer, world):
    world.settings.pairwise_share = 0.0
    world.settings.save()
    for n, reviewer in enumerate(world.reviewers[:3]):
        assignment = services.review_next(competition=world.competition, user=reviewer, rng=random.Random(n))
        truth = assignment.item.first.partner_kind
        services.review_record_single(
            assignment_id=assignment.pk, user=reviewer, verdict=truth, confidence=5, reason="Clear."
        )
    client.force_login(organizer)
    client.post(
        reverse("admin:review_reviewsettings_changelist"),
        {"action": "propose_gold", "_selected_action": [world.settings.pk]},
    )
    proposed = GoldItem.objects.get()
    assert proposed.status == GoldItem.Status.PROPOSED
    client.post(reverse("admin:review_golditem_changelist"), {"action": "approve", "_selected_action": [proposed.pk]})
    proposed.refresh_from_db()
    assert proposed.status == GoldItem.Status.ACTIVE
    client.post(
        reverse("admin:review_reviewsettings_changelist"),
        {"action": "recompute", "_selected_action": [world.settings.pk]},
    )
    assert ReviewSnapshot.objects.get(competition=world.competition).single_counted == 3


def test_two_reviewers_opening_the_same_chat_join_one_item(world):
    first = services._item_create(
        competition=world.competition, kind=ReviewKind.SINGLE, first_id=world.chats[0].pk, second_id=None
    )
    again = services._item_create(
        competition=world.competition, kind=ReviewKind.SINGLE, first_id=world.chats[0].pk, second_id=None
    )
    assert first.pk == again.pk and ReviewItem.objects.count() == 1


def test_the_attention_checks_can_be_set_before_evaluation_and_not_after(client, organizer, world):
    client.force_login(organizer)
    url = reverse("admin:review_reviewsettings_change", args=[world.settings.pk])
    assert "Attention checks between chats" in client.get(url).content.decode()
    form = {
        "competition": world.competition.pk,
        "enabled": "on",
        "reviews_per_transcript": 3,
        "reviews_per_reviewer": 150,
        "pairwise_share": 0.5,
        "gold_rate": 0.0,
        "strike_limit": 3,
        "attention_check_every": 2,
        "attention_checks_per_evaluator": 6,
    }
    world.competition.phase = "registration"
    world.competition.save(update_fields=["phase"])
    assert client.post(url, form).status_code == 302
    world.settings.refresh_from_db()
    assert (world.settings.attention_check_every, world.settings.attention_checks_per_evaluator) == (2, 6)

    world.competition.phase = "evaluation"
    world.competition.save(update_fields=["phase"])
    response = client.post(url, form | {"attention_check_every": 3})
    assert response.status_code == 200 and "locked when evaluation opened" in response.content.decode()
    world.settings.refresh_from_db()
    assert world.settings.attention_check_every == 2
