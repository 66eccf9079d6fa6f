"""Review judgments in the dataset exports: pseudonymous like chat judgments, described in the datasheet."""

import io
import json
import random
import re

import pandas as pd
import pytest

from chat.models import Conversation
from review import services
from review.models import PairwiseReview, SingleReview
from tests.exports.helpers import read_archive, run_export
from tests.factories import JudgmentFactory

from .conftest import finished_chat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _review_everything(world):
    world.settings.reviews_per_reviewer = 8
    world.settings.save()
    for n, reviewer in enumerate(world.reviewers[:3]):
        rng = random.Random(n)
        for _ in range(8):
            assignment = services.review_next(competition=world.competition, user=reviewer, rng=rng)
            if assignment.item.kind == "single":
                services.review_record_single(
                    assignment_id=assignment.pk, user=reviewer, verdict="bot", confidence=2, reason="Stiff."
                )
            else:
                services.review_record_pairwise(
                    assignment_id=assignment.pk, user=reviewer, chosen_side="right", reason="Warmer."
                )


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_reviews_are_exported_pseudonymously(world, fmt, django_user_model):
    _review_everything(world)
    job = run_export(world.competition, fmt=fmt)
    assert job.status == "done", job.error
    files = read_archive(job)
    raw = files[f"reviews.{fmt}"]
    if fmt == "csv":
        reviews = pd.read_csv(io.BytesIO(raw))
    elif fmt == "parquet":
        reviews = pd.read_parquet(io.BytesIO(raw))
    else:
        reviews = pd.DataFrame([json.loads(line) for line in raw.decode().splitlines()])
    assert len(reviews) == SingleReview.objects.count() + PairwiseReview.objects.count() == 24
    assert set(reviews["review_kind"]) == {"single", "pairwise"}
    assert reviews["reviewer"].str.startswith("E-").all()
    assert reviews["reviewer"].nunique() == 3
    pairwise = reviews[reviews["review_kind"] == "pairwise"]
    assert (pairwise["chosen"] == pairwise["other_conversation"]).all(), "right was chosen every time"
    text = b"".join(files.values()).decode("utf-8", errors="ignore")
    for user in django_user_model.objects.all():
        # Whole words only: a short name like "ada" can occur inside a hexadecimal pseudonym.
        assert not re.search(rf"\b{re.escape(user.username)}\b", text), user.username
    for conversation in Conversation.objects.all():
        assert str(conversation.public_id) not in text
    datasheet = files["DATASHEET.md"].decode()
    assert "### reviews" in datasheet and "Transcript review" in datasheet
    assert "24 transcript reviews" in datasheet


def test_chat_pseudonyms_match_between_reviews_and_conversations(world):
    _review_everything(world)
    files = read_archive(run_export(world.competition, fmt="jsonl"))
    conversations = {json.loads(line)["conversation"] for line in files["conversations.jsonl"].decode().splitlines()}
    reviews = [json.loads(line) for line in files["reviews.jsonl"].decode().splitlines()]
    assert {review["conversation"] for review in reviews} <= conversations


def test_a_teams_copy_holds_only_reviews_of_its_own_chats(world):
    _review_everything(world)
    team = world.bots[1].team
    job = run_export(world.competition, fmt="jsonl", scope="team", team=team)
    reviews = [json.loads(line) for line in read_archive(job)["reviews.jsonl"].decode().splitlines()]
    own = [
        review
        for review in SingleReview.objects.all()
        if Conversation.objects.get(pk=review.conversation_id).bot_id == world.bots[1].pk
    ]
    own_pairs = [
        review
        for review in PairwiseReview.objects.all()
        if {Conversation.objects.get(pk=c).bot_id for c in (review.chosen_id, review.other_id)} == {world.bots[1].pk}
    ]
    assert len(reviews) == len(own) + len(own_pairs)


def test_attention_checks_are_exported_as_gold_reviews_met_between_chats(world):
    chat = world.chats[4]
    gold = services.gold_mark(competition=world.competition, first=chat)
    world.settings.attention_check_every = 1
    world.settings.save()
    evaluator = world.reviewers[0]
    JudgmentFactory(conversation=finished_chat(competition=world.competition, evaluator=evaluator, bot=world.bots[2]))
    check = services.attention_check_next(competition=world.competition, user=evaluator)
    assert check.item.gold == gold
    services.review_record_single(assignment_id=check.pk, user=evaluator, verdict="human", confidence=3, reason="?")
    reviews = [
        json.loads(line)
        for line in read_archive(run_export(world.competition, fmt="jsonl"))["reviews.jsonl"].decode().splitlines()
    ]
    assert [(r["gold"], r["between_chats"], r["verdict"]) for r in reviews] == [(True, True, "human")]
