"""Sampling, recording, gold items and strikes, and the recompute, through the services."""

import random

import pytest

from chat.models import Conversation
from review import services
from review.models import (
    GoldItem,
    PairwiseReview,
    ReviewAssignment,
    ReviewItem,
    ReviewKind,
    ReviewSnapshot,
    SingleReview,
    Strike,
)
from tests.factories import EvaluatorFactory, TeamMembershipFactory

from .conftest import finished_chat, make_reviewer

pytestmark = pytest.mark.django_db


def answer(assignment, *, user, verdict="bot", side="left", reason="Too even."):
    if assignment.item.kind == ReviewKind.SINGLE:
        return services.review_record_single(
            assignment_id=assignment.pk, user=user, verdict=verdict, confidence=3, reason=reason
        )
    return services.review_record_pairwise(assignment_id=assignment.pk, user=user, chosen_side=side, reason=reason)


def review_until_done(world, user, rng, limit=200):
    shown = []
    for _ in range(limit):
        try:
            assignment = services.review_next(competition=world.competition, user=user, rng=rng)
        except services.NothingToReview:
            break
        shown.append(assignment)
        answer(assignment, user=user)
    return shown


def test_a_reviewer_never_sees_their_own_chat_their_teams_bot_or_a_repeat(world):
    # ada is in team Alpha (alpha-bot) and chatted herself with beta-bot and in a control chat.
    ada = world.bots[0].team.members.get()
    EvaluatorFactory(competition=world.competition, user=ada)
    own_bot_chat = finished_chat(competition=world.competition, evaluator=ada, bot=world.bots[1])
    own_control = finished_chat(competition=world.competition, evaluator=world.chatters[0], partner=ada)
    world.settings.reviews_per_reviewer = 1000
    world.settings.save()

    shown = review_until_done(world, ada, random.Random(1))

    conversations = [c for a in shown for c in a.item.conversation_ids]
    assert shown, "ada was given items"
    assert len(conversations) == len(set(conversations)), "no chat twice"
    assert own_bot_chat.pk not in conversations and own_control.pk not in conversations
    bots = set(Conversation.objects.filter(pk__in=conversations).values_list("bot_id", flat=True))
    assert world.bots[0].pk not in bots
    # Everything else reviewable was eventually shown: beta, gamma and the other control chats.
    expected = {c.pk for c in world.chats if c.bot_id != world.bots[0].pk} | {c.pk for c in world.control_chats}
    assert set(conversations) == expected


def test_short_and_failed_chats_are_never_items(world):
    reviewer = world.reviewers[0]
    world.settings.reviews_per_reviewer = 1000
    world.settings.save()
    shown = review_until_done(world, reviewer, random.Random(2))
    statuses = Conversation.objects.filter(pk__in=[c for a in shown for c in a.item.conversation_ids])
    assert all(c.status == Conversation.Status.ENDED and c.last_seq >= 4 for c in statuses)


def test_each_item_goes_to_at_most_k_reviewers_and_open_items_are_filled_first(world):
    world.settings.reviews_per_transcript = 3
    world.settings.reviews_per_reviewer = 4
    world.settings.save()
    for n, reviewer in enumerate(world.reviewers):
        review_until_done(world, reviewer, random.Random(n))
    counts = [item.assignments.count() for item in ReviewItem.objects.all()]
    assert max(counts) <= 3
    # 6 reviewers × 4 items = 24 assignments: filling open items first needs only about 24 / 3 items.
    assert len(counts) <= 10
    assert sum(1 for count in counts if count == 3) >= 6


def test_pairs_are_balanced_across_witness_pairs(world):
    world.settings.pairwise_share = 1.0
    world.settings.reviews_per_transcript = 1
    world.settings.reviews_per_reviewer = 6
    world.settings.save()
    for n, reviewer in enumerate(world.reviewers):
        review_until_done(world, reviewer, random.Random(n))
    pairs = {}
    for item in ReviewItem.objects.select_related("first", "second"):
        key = frozenset(services.witness_of(c.partner_kind, c.bot_id) for c in (item.first, item.second))
        assert len(key) == 2, "a pair is two different witnesses"
        pairs[key] = pairs.get(key, 0) + 1
    # 4 witnesses (3 bots, the human) make 6 pairs; 36 items spread evenly: 6 each, give or take the exclusions.
    assert len(pairs) == 6
    assert max(pairs.values()) - min(pairs.values()) <= 2


def test_uncertain_pairs_are_asked_more_often():
    close = services.pair_priority(comparisons=10, strength_difference=0.1)
    far = services.pair_priority(comparisons=10, strength_difference=3.0)
    fewer = services.pair_priority(comparisons=2, strength_difference=3.0)
    assert close < far
    assert fewer < far


def test_pairwise_choice_is_recorded_against_the_chat_shown_on_that_side(world):
    world.settings.pairwise_share = 1.0
    world.settings.save()
    reviewer = world.reviewers[0]
    sides = set()
    for seed in range(8):
        assignment = services.review_next(competition=world.competition, user=reviewer, rng=random.Random(seed))
        left, right = assignment.left_right
        review = answer(assignment, user=reviewer, side="right")
        assert (review.chosen_id, review.other_id) == (right, left)
        sides.add(assignment.swapped)
    assert sides == {True, False}, "left and right are randomised"


def test_pairwise_review_needs_a_reason(world):
    world.settings.pairwise_share = 1.0
    world.settings.save()
    reviewer = world.reviewers[0]
    assignment = services.review_next(competition=world.competition, user=reviewer)
    with pytest.raises(services.InvalidReview):
        answer(assignment, user=reviewer, reason="   ")
    assert not PairwiseReview.objects.exists()


def test_an_item_is_reviewed_once(world):
    reviewer = world.reviewers[0]
    assignment = services.review_next(competition=world.competition, user=reviewer)
    answer(assignment, user=reviewer)
    with pytest.raises(services.InvalidReview):
        answer(assignment, user=reviewer)


def test_only_ready_evaluators_or_chosen_reviewers_review(world):
    from tests.factories import UserFactory

    stranger = UserFactory(username="stranger")
    with pytest.raises(services.NotAReviewer):
        services.review_next(competition=world.competition, user=stranger)
    world.settings.reviewers.add(world.reviewers[1])
    with pytest.raises(services.NotAReviewer):
        services.review_next(competition=world.competition, user=world.reviewers[0])
    assert services.review_next(competition=world.competition, user=world.reviewers[1])


def _gold_world(world, *, limit=1):
    world.settings.gold_rate = 0.5
    world.settings.strike_limit = limit
    world.settings.reviews_per_reviewer = 1000
    world.settings.save()
    golds = [services.gold_mark(competition=world.competition, first=chat) for chat in world.chats[4:10]]
    return golds


def test_gold_items_are_mixed_in_at_the_rate_and_look_like_other_items(world):
    golds = _gold_world(world)
    reviewer = world.reviewers[0]
    rng = random.Random(4)
    shown = []
    for _ in range(10):
        assignment = services.review_next(competition=world.competition, user=reviewer, rng=rng)
        shown.append(assignment)
        truth = Conversation.objects.get(pk=assignment.item.first_id).partner_kind
        answer(assignment, user=reviewer, verdict=truth)
    gold_shown = [a for a in shown if a.item.gold_id is not None]
    assert 2 <= len(gold_shown) <= 8
    assert {a.item.gold_id for a in gold_shown} <= {g.pk for g in golds}
    assert not Strike.objects.exists(), "right answers add no strikes"


def test_failing_gold_items_adds_strikes_and_past_the_limit_stops_the_reviewer(world):
    _gold_world(world, limit=1)
    cheat = world.reviewers[0]
    rng = random.Random(5)
    strikes_seen = []
    with pytest.raises(services.ReviewerStopped):
        for _ in range(100):
            assignment = services.review_next(competition=world.competition, user=cheat, rng=rng)
            truth = Conversation.objects.get(pk=assignment.item.first_id).partner_kind
            answer(assignment, user=cheat, verdict="human" if truth == "bot" else "bot")
            strikes_seen.append(Strike.objects.filter(reviewer=cheat).count())
    assert strikes_seen[-1] == 2, "stopped right after the second strike (limit 1)"
    strike = Strike.objects.filter(reviewer=cheat).first()
    assert strike.expected in ("bot", "human") and strike.given != strike.expected

    snapshot = services.review_recompute(competition_id=world.competition.pk, replicates=50)
    assert snapshot.reviewers_stopped == 1
    assert snapshot.single_counted == 0, "a stopped reviewer's reviews stop counting"
    not_gold = {"reviewer": cheat, "assignment__item__gold__isnull": True}
    excluded = SingleReview.objects.filter(**not_gold).count() + PairwiseReview.objects.filter(**not_gold).count()
    assert excluded > 0 and snapshot.excluded_stopped == excluded


def test_gold_rule_cannot_change_once_reviews_exist(world):
    from django.core.exceptions import ValidationError

    reviewer = world.reviewers[0]
    answer(services.review_next(competition=world.competition, user=reviewer), user=reviewer)
    world.settings.strike_limit = 9
    with pytest.raises(ValidationError):
        world.settings.full_clean()


def test_unanimous_reviews_propose_gold_items(world):
    world.settings.reviews_per_transcript = 3
    world.settings.pairwise_share = 0.0
    world.settings.save()
    for n, reviewer in enumerate(world.reviewers[:3]):
        assignment = services.review_next(competition=world.competition, user=reviewer, rng=random.Random(n))
        truth = Conversation.objects.get(pk=assignment.item.first_id).partner_kind
        answer(assignment, user=reviewer, verdict=truth)
    proposed = services.gold_propose_from_unanimous(competition=world.competition)
    assert len(proposed) == 1
    assert proposed[0].status == GoldItem.Status.PROPOSED and proposed[0].source == GoldItem.Source.UNANIMOUS
    assert services.gold_propose_from_unanimous(competition=world.competition) == [], "proposed once"


def test_recompute_ranks_witnesses_with_the_human_as_anchor(world):
    world.settings.pairwise_share = 1.0
    world.settings.reviews_per_reviewer = 1000
    world.settings.save()
    strength = {"human": 3, world.bots[0].pk: 2, world.bots[1].pk: 1, world.bots[2].pk: 0}
    for n, reviewer in enumerate(world.reviewers):
        rng = random.Random(n)
        for _ in range(12):
            try:
                assignment = services.review_next(competition=world.competition, user=reviewer, rng=rng)
            except services.NothingToReview:
                break
            left, right = (Conversation.objects.get(pk=pk) for pk in assignment.left_right)
            better_left = (
                strength[services.witness_of(left.partner_kind, left.bot_id)]
                > strength[services.witness_of(right.partner_kind, right.bot_id)]
            )
            answer(assignment, user=reviewer, side="left" if better_left else "right")

    snapshot = services.review_recompute(competition_id=world.competition.pk, replicates=200)
    names = [row["name"] for row in snapshot.witnesses]
    assert names == ["human", "alpha-bot", "beta-bot", "gamma-bot"]
    human = snapshot.witnesses[0]
    assert human["strength"] == 0 and human["rank"] is None and human["is_human"]
    assert all(row["strength"] < 0 for row in snapshot.witnesses[1:])
    assert snapshot.win_rates[0][1] == 1.0 and snapshot.win_rates[1][0] == 0.0
    assert snapshot.pairwise_counted == PairwiseReview.objects.count()
    assert ReviewSnapshot.objects.count() == 1


def test_recompute_measures_agreement_on_verdicts(world):
    world.settings.reviews_per_transcript = 3
    world.settings.pairwise_share = 0.0
    world.settings.reviews_per_reviewer = 1000
    world.settings.save()
    for n, reviewer in enumerate(world.reviewers):
        rng = random.Random(n)
        for _ in range(20):
            try:
                assignment = services.review_next(competition=world.competition, user=reviewer, rng=rng)
            except services.NothingToReview:
                break
            truth = Conversation.objects.get(pk=assignment.item.first_id).partner_kind
            answer(assignment, user=reviewer, verdict=truth)
    snapshot = services.review_recompute(competition_id=world.competition.pk, replicates=100)
    assert snapshot.alpha_verdicts == pytest.approx(1.0)
    assert snapshot.alpha_verdicts_units >= 5
    assert snapshot.single_correct == snapshot.single_counted


def test_a_team_member_reviewer_is_not_given_items_of_a_newly_joined_team(world):
    reviewer = world.reviewers[0]
    TeamMembershipFactory(user=reviewer, team=world.bots[2].team)
    world.settings.reviews_per_reviewer = 1000
    world.settings.save()
    shown = review_until_done(world, reviewer, random.Random(9))
    bots = set(
        Conversation.objects.filter(pk__in=[c for a in shown for c in a.item.conversation_ids]).values_list(
            "bot_id", flat=True
        )
    )
    assert world.bots[2].pk not in bots


def test_pending_item_is_returned_until_answered(world):
    reviewer = world.reviewers[0]
    first = services.review_next(competition=world.competition, user=reviewer)
    again = services.review_next(competition=world.competition, user=reviewer)
    assert first.pk == again.pk
    assert ReviewAssignment.objects.filter(reviewer=reviewer).count() == 1


def test_new_reviewer_helper_is_ready(world):
    assert make_reviewer(world.competition, "late").evaluations.get().is_ready


def test_gold_is_due_exactly_once_per_block_at_an_unpredictable_position():
    positions = set()
    for user_id in range(40):
        due = [services.gold_due(competition_id=1, user_id=user_id, position=n, rate=0.1) for n in range(100)]
        assert sum(due) == 10
        assert all(sum(due[block * 10 : block * 10 + 10]) == 1 for block in range(10))
        positions.add(due.index(True))
    assert len(positions) >= 5, "reviewers get their first check at different positions"
    assert not any(services.gold_due(competition_id=1, user_id=1, position=n, rate=0.0) for n in range(50))
