"""The running tallies (Postgres triggers) always equal a recount and the portable queries, whatever changed."""

import io
import threading
from dataclasses import replace
from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from chat.models import Conversation, Evaluator, Game, Judgment, Message
from competitions.models import BotCall
from leaderboard import aggregates, tallies
from leaderboard.models import EvaluatorTally, JudgmentTally, LatencyTally
from leaderboard.rater_quality import ExclusionRules
from tests.factories import BotFactory, EvaluatorFactory, MessageFactory, UserFactory

from .conftest import game_with, judge_bot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the tallies are kept by Postgres triggers"),
]


def assert_tallies_equal_a_recount(competition_id: int) -> None:
    assert tallies.tallies_drift(competition_id=competition_id) == set()


def assert_tallies_agree_with_the_portable_queries(competition) -> None:
    exclusions = aggregates.Exclusions.for_competition(competition)
    keys = competition.criteria_keys
    from_tallies = aggregates.judgment_figures(competition, exclusions)
    tally_partner_rows = tallies.per_partner(competition.pk, keys)
    chats = aggregates.chats_per_bot(competition)
    with mock.patch.object(tallies, "tallies_kept", return_value=False):
        portable = aggregates.judgment_figures(competition, exclusions)
        portable_partner_rows = aggregates.per_partner(aggregates.counted_judgments(competition, exclusions), keys)
        portable_chats = aggregates.chats_per_bot(competition)

    assert from_tallies.exclusion_counts == portable.exclusion_counts
    assert sorted(from_tallies.evaluator_rows, key=str) == sorted(portable.evaluator_rows, key=str)
    assert sorted(from_tallies.daily_rows, key=str) == sorted(portable.daily_rows, key=str)
    # A criterion nobody rated sums to NULL in the portable queries and to 0 in the tallies; the figures read both as 0.
    by_partner = {
        row["bot_id"]: {key: 0 if value is None else value for key, value in row.items()} | {"bot_id": row["bot_id"]}
        for row in portable_partner_rows
    }
    assert {row["bot_id"] for row in tally_partner_rows} == set(by_partner)
    for row in tally_partner_rows:
        assert row == pytest.approx(by_partner[row["bot_id"]])
    assert chats == portable_chats
    # The per-evaluator rows the bootstrap resamples and the response patterns: the same from both, and the rows
    # add up to the tallies' per-partner counts and rating sums.
    rules = ExclusionRules.from_dict(competition.exclusion_rules)
    kept = aggregates.evaluator_figures(competition, exclusions, rules)
    with mock.patch.object(tallies, "tallies_kept", return_value=False):
        recounted = aggregates.evaluator_figures(competition, exclusions, rules)
    assert cell_rows(kept.cells) == cell_rows(recounted.cells)
    assert kept.patterns == {evaluator: same_or_not(pattern) for evaluator, pattern in recounted.patterns.items()}
    for cells in (kept.cells, recounted.cells):
        assert_cells_add_up(cells, tally_partner_rows, keys)


def same_or_not(pattern):
    """The tallies tell one set of ratings from several (what the straight-lining flag reads), not how many."""
    return replace(pattern, distinct_ratings=min(pattern.distinct_ratings, 2))


def cell_rows(cells) -> list[tuple]:
    return sorted(tuple(row) for row in np.round(np.nan_to_num(cells, nan=-1), 6).tolist())


def assert_cells_add_up(cells, tally_partner_rows, keys) -> None:
    for row in tally_partner_rows:
        bot = cells[:, 1]
        mine = cells[np.isnan(bot)] if row["bot_id"] is None else cells[bot == row["bot_id"]]
        assert mine[:, 2].sum() == row["n"]
        assert mine[:, 3].sum() == row["human"]
        assert mine[:, 4].sum() == row["confidence_sum"]
        for index in range(len(keys)):
            assert mine[:, 5 + 2 * index].sum() == row[f"c{index}_n"]
            assert mine[:, 6 + 2 * index].sum() == pytest.approx(row[f"c{index}_sum"])


def test_the_tallies_agree_with_the_portable_queries(scenario):
    assert_tallies_agree_with_the_portable_queries(scenario.competition)
    assert_tallies_equal_a_recount(scenario.competition.pk)


def test_every_kind_of_change_keeps_the_tallies_equal_to_a_recount(scenario):
    competition = scenario.competition
    judge = scenario.evaluators[0]
    evaluators = Evaluator.objects.filter(competition=competition)
    first_of_alice = Judgment.objects.filter(bot=scenario.alice).order_by("pk")
    first_of_eliza = Judgment.objects.filter(bot=scenario.eliza).order_by("pk")
    changes = [
        lambda: evaluators.filter(user=judge).update(status=Evaluator.Status.SUSPENDED),
        lambda: evaluators.filter(user=scenario.suspended).update(status=Evaluator.Status.ACTIVE),
        lambda: evaluators.filter(user=scenario.not_onboarded).update(onboarding_passed_at=timezone.now()),
        lambda: evaluators.filter(user=judge).delete(),
        lambda: Conversation.objects.filter(pk=first_of_alice[0].conversation_id).update(
            status=Conversation.Status.BOT_FAILED
        ),
        lambda: Conversation.objects.filter(bot=scenario.bob, status=Conversation.Status.BOT_FAILED).update(
            status=Conversation.Status.ENDED
        ),
        # While the judgments count (before the minimum rises above them): the response patterns, from the evaluator's
        # own messages in a judged chat (a chat deleted with its messages and judgment too), the chat's end and the
        # thresholds.
        lambda: [MessageFactory(conversation=chat_of(first_of_alice[1]), side="a") for _ in range(3)],
        lambda: MessageFactory(conversation=chat_of(first_of_alice[1]), side="b"),
        lambda: Message.objects.filter(conversation=chat_of(first_of_alice[1]), side="a").first().delete(),
        lambda: [MessageFactory(conversation=chat_of(first_of_alice[2]), side="a") for _ in range(2)],
        lambda: Conversation.objects.filter(pk=chat_of(first_of_alice[2]).pk).delete(),
        lambda: Conversation.objects.filter(pk__in=[j.conversation_id for j in first_of_eliza[:4]]).update(
            ended_at=first_of_eliza[0].created_at - timedelta(seconds=2)
        ),
        lambda: (
            type(competition)
            .objects.filter(pk=competition.pk)
            .update(exclusion_rules={"exclude": [], "fast_seconds": 60, "silent_max_messages": 2})
        ),
        lambda: (
            type(competition)
            .objects.filter(pk=competition.pk)
            .update(criteria=list(reversed(competition.criteria))[1:])
        ),
        lambda: type(competition).objects.filter(pk=competition.pk).update(min_turns_to_count=9),
        lambda: Judgment.objects.filter(pk=first_of_eliza[0].pk).update(
            ratings=dict.fromkeys(competition.criteria_keys, 1), verdict=Judgment.Verdict.BOT, message_count=20
        ),
        lambda: Judgment.objects.filter(pk__in=[j.pk for j in Judgment.objects.filter(bot=scenario.bob)[:3]]).delete(),
        lambda: BotCall.objects.filter(bot=scenario.alice, latency_ms=100.0).delete(),
        lambda: judge_bot(bot=scenario.eliza, evaluator=scenario.evaluators[1], verdict=Judgment.Verdict.HUMAN),
        # A three-party game's bot conversation is not a two-party chat.
        lambda: game_with(scenario, bot=scenario.bob, status=Conversation.Status.ENDED),
        lambda: Game.objects.filter(competition=competition).delete(),
    ]
    for change in changes:
        change()
        competition.refresh_from_db()
        assert_tallies_equal_a_recount(competition.pk)
        assert_tallies_agree_with_the_portable_queries(competition)


def chat_of(judgment) -> Conversation:
    return Conversation.objects.get(pk=judgment.conversation_id)


def test_a_bulk_insert_is_counted_in_one_pass(competition, bot):
    user = UserFactory()
    EvaluatorFactory(competition=competition, user=user)
    conversations = [judge_bot(bot=bot, evaluator=user, verdict=Judgment.Verdict.HUMAN).conversation for _ in range(3)]
    Judgment.objects.all().delete()
    assert JudgmentTally.objects.get(bot=bot, state=JudgmentTally.State.COUNTED).judgments == 0

    Judgment.objects.bulk_create(
        [
            Judgment(
                conversation=conversation,
                evaluator=user,
                competition=competition,
                bot=bot,
                partner_kind="bot",
                verdict="human",
                confidence=4,
                ratings=dict.fromkeys(competition.criteria_keys, 4),
                reason="r",
                message_count=8,
            )
            for conversation in conversations
        ]
    )

    assert JudgmentTally.objects.get(bot=bot, state=JudgmentTally.State.COUNTED).judgments == 3
    assert EvaluatorTally.objects.get(user=user).correct == 0  # judged a bot human
    assert_tallies_equal_a_recount(competition.pk)


def test_deleting_a_competition_or_a_bot_removes_their_tallies(scenario):
    spare = BotFactory(competition=scenario.competition, name="spare")
    BotCall.objects.create(bot=spare, purpose=BotCall.Purpose.TURN, ok=True, latency_ms=10.0)
    spare_id = spare.pk
    assert LatencyTally.objects.filter(bot_id=spare_id).exists()

    spare.delete()
    assert not LatencyTally.objects.filter(bot_id=spare_id).exists()

    competition_id = scenario.competition.pk
    Judgment.objects.filter(competition_id=competition_id).delete()
    Conversation.objects.filter(competition_id=competition_id).delete()
    scenario.competition.delete()
    assert not any(model.objects.filter(competition_id=competition_id).exists() for model in tallies.TALLY_MODELS)


def judge_while(change, *, bot, user, message_count: int = 8) -> None:
    """Save a judgment in a transaction held open while `change` runs on a second connection, then commit it.

    The change is expected to wait for the judgment's transaction; if it does not, it finishes first and the
    judgment commits after it.
    """
    judged, changed = threading.Event(), threading.Event()

    def judge_and_hold():
        try:
            with transaction.atomic():
                judge_bot(bot=bot, evaluator=user, verdict=Judgment.Verdict.HUMAN, message_count=message_count)
                judged.set()
                changed.wait(timeout=1)
        finally:
            connections.close_all()

    def make_the_change():
        judged.wait(timeout=10)
        try:
            change()
            changed.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=judge_and_hold), threading.Thread(target=make_the_change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_suspension_committed_while_a_judgment_is_being_saved_moves_that_judgment_too(competition, bot):
    """The judgment's trigger locks the evaluator row it reads: the suspension waits for it, then moves it."""
    user = UserFactory()
    EvaluatorFactory(competition=competition, user=user)

    judge_while(
        lambda: Evaluator.objects.filter(user=user).update(status=Evaluator.Status.SUSPENDED), bot=bot, user=user
    )

    tally = JudgmentTally.objects.get(bot=bot, judgments__gt=0)
    assert tally.state == JudgmentTally.State.EXCLUDED_EVALUATOR
    assert_tallies_equal_a_recount(competition.pk)


def test_the_command_finds_drift_and_recounts(scenario):
    slug = scenario.competition.slug
    call_command("leaderboard_tallies", stdout=(out := io.StringIO()))
    assert f"{slug}: ok" in out.getvalue()

    alice_counted = JudgmentTally.objects.filter(bot=scenario.alice, state=JudgmentTally.State.COUNTED)
    alice_counted.update(judgments=F("judgments") + 1)
    with pytest.raises(CommandError, match=f"differ from a recount in {slug}"):
        call_command("leaderboard_tallies", stdout=io.StringIO())

    call_command("leaderboard_tallies", "--competition", slug, "--rebuild", stdout=io.StringIO())
    assert_tallies_equal_a_recount(scenario.competition.pk)


@pytest.mark.django_db(transaction=True)
def test_a_min_turns_change_committed_while_a_judgment_is_being_saved_counts_it_with_the_new_minimum(competition, bot):
    """The recount locks the judgments table: it waits for the judgment's transaction, then counts it too."""
    user = UserFactory()
    EvaluatorFactory(competition=competition, user=user)

    judge_while(
        lambda: type(competition).objects.filter(pk=competition.pk).update(min_turns_to_count=6),
        bot=bot,
        user=user,
        message_count=5,
    )

    assert JudgmentTally.objects.get(bot=bot, judgments__gt=0).state == JudgmentTally.State.SHORT
    assert_tallies_equal_a_recount(competition.pk)


@pytest.mark.parametrize("ratings", [[3, 4], "3", None, {"human_likeness": None}])
def test_a_judgment_whose_ratings_are_not_numbers_is_saved_and_counted_without_them(competition, bot, ratings):
    """Judgments are validated before they are saved, but one edited in the admin must not make every save fail."""
    user = UserFactory()
    EvaluatorFactory(competition=competition, user=user)

    judge_bot(bot=bot, evaluator=user, verdict=Judgment.Verdict.HUMAN, ratings=ratings)

    assert JudgmentTally.objects.get(bot=bot, state=JudgmentTally.State.COUNTED).judgments == 1
    assert_tallies_equal_a_recount(competition.pk)
    assert_tallies_agree_with_the_portable_queries(competition)
