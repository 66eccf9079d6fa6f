"""Transcript review: handing out items (sampling, gold), recording reviews (strikes), proposing gold items, and
recomputing the figures (debounced like the main leaderboard)."""

import logging
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.models import Conversation, Evaluator, Judgment, PartnerKind
from competitions.models import Bot, Competition
from leaderboard import agreement

from . import stats
from .models import (
    GoldItem,
    PairwiseReview,
    ReviewAssignment,
    ReviewItem,
    ReviewKind,
    ReviewSettings,
    ReviewSnapshot,
    SingleReview,
    Strike,
    Verdict,
)

logger = logging.getLogger(__name__)

RECOMPUTE_DEBOUNCE_SECONDS = getattr(settings, "REVIEW_DEBOUNCE_SECONDS", 5)
HUMAN = "human"
Witness = int | str  # a bot id, or HUMAN for the human witness of control chats


class ReviewError(Exception):
    """Base of the review errors; the message is shown to the reviewer."""


class ReviewClosed(ReviewError):
    pass


class NotAReviewer(ReviewError):
    pass


class ReviewerStopped(ReviewError):
    pass


class NothingToReview(ReviewError):
    pass


class InvalidReview(ReviewError):
    pass


def review_settings_for(competition: Competition) -> ReviewSettings:
    review_settings, _ = ReviewSettings.objects.get_or_create(competition=competition)
    return review_settings


def counted_conversations(competition: Competition):
    """The chats that can be reviewed: finished normally (not a bot failure) and long enough to count."""
    return Conversation.objects.filter(
        competition=competition,
        status=Conversation.Status.ENDED,
        last_seq__gte=competition.min_turns_to_count,
    )


def witness_of(partner_kind: str, bot_id: int | None) -> Witness:
    return HUMAN if partner_kind == PartnerKind.HUMAN else bot_id


def reviewer_check(*, competition: Competition, review_settings: ReviewSettings, user) -> None:
    """Validate that the user may be given review items now."""
    if not review_settings.enabled or competition.phase not in (Competition.Phase.EVALUATION, Competition.Phase.CLOSED):
        raise ReviewClosed("Transcript review is not open in this competition.")
    chosen = ReviewSettings.reviewers.through.objects.filter(reviewsettings_id=review_settings.pk)
    # One query for the evaluator's standing, the organizers' list of reviewers and the strikes (the page's budget).
    evaluator = (
        Evaluator.objects.filter(competition=competition, user=user)
        .annotate(
            restricted=Exists(chosen),
            chosen=Exists(chosen.filter(user_id=user.pk)),
            strikes=Coalesce(
                Subquery(
                    Strike.objects.filter(competition=competition, reviewer_id=user.pk)
                    .values("reviewer_id")
                    .annotate(n=Count("id"))
                    .values("n")
                ),
                0,
            ),
        )
        .first()
    )
    if evaluator is None or not evaluator.is_ready:
        raise NotAReviewer("Consent to the terms and complete the onboarding first.")
    if evaluator.restricted and not evaluator.chosen:
        raise NotAReviewer("The organizers chose who reviews in this competition.")
    if stats.reviewer_stopped(strikes=evaluator.strikes, limit=review_settings.strike_limit):
        raise ReviewerStopped("Too many check items were answered wrongly: your reviews no longer count.")


@dataclass(frozen=True)
class _Exclusions:
    """What one reviewer must never be shown: their own chats, their teams' bots' chats, chats already shown."""

    conversation_ids: set[int]
    team_bot_ids: set[int]
    user_id: int


def _exclusions(competition: Competition, user) -> _Exclusions:
    seen = set()
    for first_id, second_id in ReviewAssignment.objects.filter(competition=competition, reviewer=user).values_list(
        "item__first_id", "item__second_id"
    ):
        seen.add(first_id)
        if second_id is not None:
            seen.add(second_id)
    team_bots = set(Bot.objects.filter(competition=competition, team__members=user).values_list("id", flat=True))
    return _Exclusions(conversation_ids=seen, team_bot_ids=team_bots, user_id=user.pk)


def _candidates(competition: Competition, exclusions: _Exclusions) -> dict[Witness, list[int]]:
    """Reviewable chat ids per witness (a bot id, or HUMAN for control chats, which have no bot), for this reviewer.

    The exclusions are applied in SQL, so Python only groups the rows (this runs on every new item)."""
    rows = (
        counted_conversations(competition)
        .exclude(evaluator_a_id=exclusions.user_id)
        .exclude(evaluator_b_id=exclusions.user_id)
        .exclude(id__in=exclusions.conversation_ids)
        .exclude(bot_id__in=exclusions.team_bot_ids)
        .values_list("id", "bot_id")
    )
    by_witness: dict[Witness, list[int]] = defaultdict(list)
    for conversation_id, bot_id in rows:
        by_witness[HUMAN if bot_id is None else bot_id].append(conversation_id)
    return by_witness


def _item_allowed(item_conversations: list[int], allowed: set[int]) -> bool:
    return all(conversation_id in allowed for conversation_id in item_conversations)


def _open_item(competition: Competition, kind: str, k: int, allowed: set[int], user) -> ReviewItem | None:
    """An item of this kind still short of k reviewers that this reviewer may see: the fullest first, so that items
    reach k (and agreement can be measured) before new ones are opened."""
    items = (
        ReviewItem.objects.filter(competition=competition, kind=kind, gold__isnull=True)
        .annotate(assigned=Count("assignments"))
        .filter(assigned__lt=k)
        .exclude(assignments__reviewer=user)
        .order_by("-assigned", "id")
        .only("id", "kind", "first_id", "second_id")
    )
    for item in items[:200]:
        if _item_allowed(item.conversation_ids, allowed):
            return item
    return None


def _item_create(**fields) -> ReviewItem:
    try:
        with transaction.atomic():
            return ReviewItem.objects.create(**fields)
    except IntegrityError:
        # Another reviewer opened the same item a moment ago: join it.
        return ReviewItem.objects.get(gold__isnull=True, **fields)


def _least_used(conversation_ids: list[int], usage: Counter, rng: random.Random) -> int:
    fewest = min(usage[c] for c in conversation_ids)
    return rng.choice([c for c in conversation_ids if usage[c] == fewest])


def _new_single_item(competition: Competition, candidates: dict[Witness, list[int]], rng) -> ReviewItem | None:
    """A chat not yet made an item, from the witness with the fewest single items (bots balanced)."""
    existing = ReviewItem.objects.filter(competition=competition, kind=ReviewKind.SINGLE, gold__isnull=True)
    taken = set(existing.values_list("first_id", flat=True))
    per_witness = Counter()
    for partner_kind, bot_id in existing.values_list("first__partner_kind", "first__bot_id"):
        per_witness[witness_of(partner_kind, bot_id)] += 1
    open_witnesses = {w: [c for c in ids if c not in taken] for w, ids in candidates.items()}
    open_witnesses = {w: ids for w, ids in open_witnesses.items() if ids}
    if not open_witnesses:
        return None
    fewest = min(per_witness[w] for w in open_witnesses)
    witness = rng.choice(sorted((w for w in open_witnesses if per_witness[w] == fewest), key=str))
    conversation_id = rng.choice(open_witnesses[witness])
    return _item_create(competition=competition, kind=ReviewKind.SINGLE, first_id=conversation_id, second_id=None)


def _strength_of(competition: Competition) -> dict[Witness, float]:
    snapshot = ReviewSnapshot.objects.filter(competition=competition).only("witnesses").first()
    if snapshot is None:
        return {}
    return {row["witness"]: row["strength"] for row in snapshot.witnesses if row.get("strength") is not None}


def pair_priority(*, comparisons: int, strength_difference: float | None) -> float:
    """Lower goes first: pairs compared less often, and among them those whose outcome is least certain.

    A comparison's information about the pair is p(1 − p) (p = the current win probability), so dividing the
    count by 4p(1 − p) asks for more votes where the ranking is still uncertain (p near one half).
    """
    p = 0.5 if strength_difference is None else stats.win_probability(strength_difference)
    return (comparisons + 1) / max(4 * p * (1 - p), 0.05)


def _new_pair_item(competition: Competition, candidates: dict[Witness, list[int]], rng) -> ReviewItem | None:
    """Two chats of two different witnesses, the pair chosen by pair_priority (ties at random)."""
    witnesses = sorted(candidates, key=str)
    if len(witnesses) < 2:
        return None
    existing = ReviewItem.objects.filter(competition=competition, kind=ReviewKind.PAIRWISE, gold__isnull=True)
    pair_counts = Counter()
    usage = Counter()
    for first_id, second_id, kind_a, bot_a, kind_b, bot_b in existing.values_list(
        "first_id", "second_id", "first__partner_kind", "first__bot_id", "second__partner_kind", "second__bot_id"
    ):
        usage[first_id] += 1
        usage[second_id] += 1
        pair_counts[frozenset((witness_of(kind_a, bot_a), witness_of(kind_b, bot_b)))] += 1
    strength = _strength_of(competition)
    best = None
    for index, a in enumerate(witnesses):
        for b in witnesses[index + 1 :]:
            difference = strength[a] - strength[b] if a in strength and b in strength else None
            priority = (
                pair_priority(comparisons=pair_counts[frozenset((a, b))], strength_difference=difference),
                rng.random(),
            )
            if best is None or priority < best[0]:
                best = (priority, a, b)
    _, a, b = best
    first, second = sorted((_least_used(candidates[a], usage, rng), _least_used(candidates[b], usage, rng)))
    return _item_create(competition=competition, kind=ReviewKind.PAIRWISE, first_id=first, second_id=second)


def _gold_item(
    competition: Competition, allowed: set[int], user, rng, kinds: tuple[str, ...] = tuple(ReviewKind.values)
) -> ReviewItem | None:
    golds = list(
        GoldItem.objects.filter(competition=competition, status=GoldItem.Status.ACTIVE, kind__in=kinds)
        .exclude(review_item__assignments__reviewer=user)
        .only("id", "kind", "first_id", "second_id")
    )
    rng.shuffle(golds)
    for gold in golds:
        if _item_allowed([c for c in (gold.first_id, gold.second_id) if c is not None], allowed):
            item, _ = ReviewItem.objects.get_or_create(
                gold=gold,
                defaults={
                    "competition": competition,
                    "kind": gold.kind,
                    "first_id": gold.first_id,
                    "second_id": gold.second_id,
                },
            )
            return item
    return None


def gold_due(*, competition_id: int, user_id: int, position: int, rate: float) -> bool:
    """Whether a reviewer's item number `position` (0, 1, ...) is a gold item: exactly one in each block of
    round(1/rate) items, at a position within the block that the reviewer cannot predict (keyed by SECRET_KEY).

    A fixed count per block, rather than a coin flip per item, gives every reviewer the same number of checks, so
    the strike rule is equally strict for all (a coin flip leaves some reviewers with half the checks).
    """
    if rate <= 0:
        return False
    block_length = max(1, round(1 / rate))
    block, offset = divmod(position, block_length)
    key = f"{settings.SECRET_KEY}:gold:{competition_id}:{user_id}:{block}"
    return random.Random(key).randrange(block_length) == offset


def review_next(
    *,
    competition: Competition,
    user,
    rng: random.Random | None = None,
    review_settings: ReviewSettings | None = None,
) -> ReviewAssignment:
    """The reviewer's pending item, or a new one: a gold item at the declared rate, otherwise an open item short of
    k reviewers, otherwise a new item chosen to balance witnesses and pairs. Never the reviewer's own chat, their
    teams' bots' chats, or a chat they were already shown."""
    rng = rng or random.Random()
    review_settings = review_settings or review_settings_for(competition)
    mine = ReviewAssignment.objects.filter(competition=competition, reviewer=user).aggregate(
        given=Count("id", filter=Q(attention_check=False)),
        pending=Max("id", filter=Q(status=ReviewAssignment.Status.PENDING)),
    )
    pending = None
    if mine["pending"] is not None:
        pending = ReviewAssignment.objects.select_related("item").get(pk=mine["pending"])
    # An attention check of the evaluate flow is shown whether or not review is open to this evaluator: it is the
    # same page, and the flow led them here.
    if pending is None or not pending.attention_check:
        reviewer_check(competition=competition, review_settings=review_settings, user=user)
    done = mine["given"] - (pending is not None and not pending.attention_check)
    if pending is not None:
        pending.reviewed_before = done
        return pending
    if done >= review_settings.reviews_per_reviewer:
        raise NothingToReview("You have reviewed as many items as this competition asks. Thank you!")
    exclusions = _exclusions(competition, user)
    candidates = _candidates(competition, exclusions)
    allowed = {c for ids in candidates.values() for c in ids}
    item = None
    if gold_due(competition_id=competition.pk, user_id=user.pk, position=done, rate=review_settings.gold_rate):
        item = _gold_item(competition, allowed, user, rng)
    if item is None:
        kinds = [ReviewKind.PAIRWISE, ReviewKind.SINGLE]
        if rng.random() >= review_settings.pairwise_share:
            kinds.reverse()
        if review_settings.pairwise_share == 0:
            kinds = [ReviewKind.SINGLE]
        for kind in kinds:
            k = review_settings.reviews_per_transcript
            item = _open_item(competition, kind, k, allowed, user)
            if item is None:
                make = _new_pair_item if kind == ReviewKind.PAIRWISE else _new_single_item
                item = make(competition, candidates, rng)
            if item is not None:
                break
    if item is None:
        raise NothingToReview("There is nothing for you to review right now. Come back later.")
    try:
        with transaction.atomic():
            assignment = ReviewAssignment.objects.create(
                item=item,
                reviewer=user,
                competition=competition,
                swapped=item.second_id is not None and rng.random() < 0.5,
            )
    except IntegrityError:
        # A second tab asked at the same moment and its item won: show that one.
        assignment = ReviewAssignment.objects.select_related("item").get(
            competition=competition, reviewer=user, status=ReviewAssignment.Status.PENDING
        )
    assignment.reviewed_before = done
    return assignment


def attention_check_due(*, competition_id: int, user_id: int, judged: int, given: int, every: int, limit: int) -> bool:
    """Whether an evaluator who has judged `judged` chats and met `given` attention checks meets one before the next
    chat: check number c (0, 1, ...) comes after judged chat c·every + offset, the offset (1 to every) drawn from a key
    the evaluator cannot know (SECRET_KEY, competition, evaluator, c); at most `limit` checks.

    One check in each block of `every` chats gives every evaluator who judges as many chats the same number of checks;
    the drawn offset keeps the evaluator from knowing which gap between two chats holds it.
    """
    if every <= 0 or given >= limit:
        return False
    key = f"{settings.SECRET_KEY}:attention-check:{competition_id}:{user_id}:{given}"
    return judged >= given * every + random.Random(key).randrange(every) + 1


def attention_check_next(
    *, competition: Competition, user, rng: random.Random | None = None
) -> ReviewAssignment | None:
    """Before an evaluator's next chat on the main board: their attention check if one is pending or due, else None.

    The check is an active single gold item (the answer is the chat's true partner) the evaluator may see (never their
    own chat, their teams' bots' chats, or a chat already shown to them), given as an ordinary review assignment so
    that the review page shows it exactly like any other item. At most one check between two judged chats; none while
    the evaluator has another review item open, and none when no gold item is left for them.
    """
    mine = ReviewAssignment.objects.filter(competition=competition, reviewer=user)
    pending = mine.filter(status=ReviewAssignment.Status.PENDING).select_related("item").first()
    if pending is not None:
        return pending if pending.attention_check else None
    review_settings = ReviewSettings.objects.filter(competition=competition).first()
    if review_settings is None or not review_settings.attention_checks_on:
        return None
    evaluator = Evaluator.objects.filter(competition=competition, user=user).first()
    if evaluator is None or not evaluator.is_ready:
        return None
    judged = Judgment.objects.filter(competition=competition, evaluator=user).aggregate(
        n=Count("id"), last=Max("created_at")
    )
    checks = mine.filter(attention_check=True)
    due = attention_check_due(
        competition_id=competition.pk,
        user_id=user.pk,
        judged=judged["n"],
        given=checks.count(),
        every=review_settings.attention_check_every,
        limit=review_settings.attention_checks_per_evaluator,
    )
    if not due or checks.filter(created_at__gt=judged["last"]).exists():
        return None
    rng = rng or random.Random()
    candidates = _candidates(competition, _exclusions(competition, user))
    item = _gold_item(
        competition, {c for ids in candidates.values() for c in ids}, user, rng, kinds=(ReviewKind.SINGLE,)
    )
    if item is None:
        return None
    try:
        with transaction.atomic():
            return ReviewAssignment.objects.create(
                item=item, reviewer=user, competition=competition, attention_check=True
            )
    except IntegrityError:
        return None  # a second tab opened a review item at the same moment: the check waits for the next gap


def _claim(*, assignment_id: int, user) -> ReviewAssignment:
    assignment = (
        ReviewAssignment.objects.select_for_update(of=("self",))
        .select_related("item__gold__answer_conversation")
        .filter(pk=assignment_id, reviewer=user)
        .first()
    )
    if assignment is None or assignment.status != ReviewAssignment.Status.PENDING:
        raise InvalidReview("This item was already reviewed.")
    return assignment


def _finish(assignment: ReviewAssignment, *, passed: bool, given: str) -> None:
    assignment.status = ReviewAssignment.Status.DONE
    assignment.completed_at = timezone.now()
    assignment.save(update_fields=["status", "completed_at"])
    gold = assignment.item.gold
    if gold is not None and not passed:
        Strike.objects.create(
            competition_id=assignment.competition_id,
            reviewer_id=assignment.reviewer_id,
            assignment=assignment,
            expected=gold.expected_label,
            given=given,
        )
    competition_id = assignment.competition_id
    transaction.on_commit(lambda: review_recompute_schedule_safely(competition_id=competition_id))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidReview("Give a reason.")
    return reason


def review_record_single(*, assignment_id: int, user, verdict: str, confidence: int, reason: str) -> SingleReview:
    if verdict not in Verdict.values:
        raise InvalidReview("Choose bot or human.")
    if not isinstance(confidence, int) or not 1 <= confidence <= 5:
        raise InvalidReview("Choose a confidence from 1 to 5.")
    reason = _reason(reason)
    with transaction.atomic():
        assignment = _claim(assignment_id=assignment_id, user=user)
        if assignment.item.kind != ReviewKind.SINGLE:
            raise InvalidReview("This item is a pair of transcripts.")
        review = SingleReview.objects.create(
            assignment=assignment,
            competition_id=assignment.competition_id,
            reviewer=user,
            conversation_id=assignment.item.first_id,
            verdict=verdict,
            confidence=confidence,
            reason=reason,
        )
        gold = assignment.item.gold
        _finish(assignment, passed=gold is None or gold.is_answered_by(verdict=verdict), given=verdict)
    return review


def review_record_pairwise(*, assignment_id: int, user, chosen_side: str, reason: str) -> PairwiseReview:
    if chosen_side not in PairwiseReview.Side.values:
        raise InvalidReview("Choose the left or the right witness.")
    reason = _reason(reason)
    with transaction.atomic():
        assignment = _claim(assignment_id=assignment_id, user=user)
        if assignment.item.kind != ReviewKind.PAIRWISE:
            raise InvalidReview("This item is a single transcript.")
        left, right = assignment.left_right
        chosen, other = (left, right) if chosen_side == PairwiseReview.Side.LEFT else (right, left)
        review = PairwiseReview.objects.create(
            assignment=assignment,
            competition_id=assignment.competition_id,
            reviewer=user,
            chosen_id=chosen,
            other_id=other,
            chosen_side=chosen_side,
            reason=reason,
        )
        gold = assignment.item.gold
        given = str(Conversation.objects.values_list("public_id", flat=True).get(pk=chosen))
        _finish(assignment, passed=gold is None or gold.is_answered_by(chosen_id=chosen), given=given)
    return review


def gold_mark(
    *, competition: Competition, first: Conversation, second: Conversation | None = None, note: str = ""
) -> GoldItem:
    """An organizer's gold item. Single: the answer is the chat's true partner. Pairwise: the human witness (or, for
    two bots, give it through the admin) is the answer."""
    if second is None:
        return GoldItem.objects.create(
            competition=competition, kind=ReviewKind.SINGLE, first=first, answer_verdict=first.partner_kind, note=note
        )
    humans = [c for c in (first, second) if c.partner_kind == PartnerKind.HUMAN]
    if len(humans) != 1:
        raise InvalidReview("Mark a pair of a bot and a human witness; for two bots set the answer in the admin.")
    first, second = sorted((first, second), key=lambda c: c.pk)
    return GoldItem.objects.create(
        competition=competition,
        kind=ReviewKind.PAIRWISE,
        first=first,
        second=second,
        answer_conversation=humans[0],
        note=note,
    )


def gold_propose_from_unanimous(*, competition: Competition) -> list[GoldItem]:
    """Propose as gold the items every one of k (or more) counted reviewers answered alike: single items whose
    reviewers all named the true partner, pairs whose reviewers all chose the same witness. An organizer approves."""
    review_settings = review_settings_for(competition)
    stopped = stopped_reviewer_ids(competition=competition, limit=review_settings.strike_limit)
    k = review_settings.reviews_per_transcript
    existing_single = set(
        GoldItem.objects.filter(competition=competition, kind=ReviewKind.SINGLE).values_list("first_id", flat=True)
    )
    existing_pairs = set(
        GoldItem.objects.filter(competition=competition, kind=ReviewKind.PAIRWISE).values_list("first_id", "second_id")
    )
    proposals = []
    verdicts = defaultdict(list)
    for item_id, first_id, verdict, truth in (
        SingleReview.objects.filter(competition=competition, assignment__item__gold__isnull=True)
        .exclude(reviewer_id__in=stopped)
        .values_list("assignment__item_id", "conversation_id", "verdict", "conversation__partner_kind")
    ):
        verdicts[(item_id, first_id, truth)].append(verdict)
    for (_item_id, first_id, truth), given in verdicts.items():
        if len(given) >= k and set(given) == {truth} and first_id not in existing_single:
            proposals.append(
                GoldItem(
                    competition=competition,
                    kind=ReviewKind.SINGLE,
                    first_id=first_id,
                    answer_verdict=truth,
                    status=GoldItem.Status.PROPOSED,
                    source=GoldItem.Source.UNANIMOUS,
                )
            )
    choices = defaultdict(list)
    for first_id, second_id, chosen_id in (
        PairwiseReview.objects.filter(competition=competition, assignment__item__gold__isnull=True)
        .exclude(reviewer_id__in=stopped)
        .values_list("assignment__item__first_id", "assignment__item__second_id", "chosen_id")
    ):
        choices[(first_id, second_id)].append(chosen_id)
    for (first_id, second_id), chosen in choices.items():
        if len(chosen) >= k and len(set(chosen)) == 1 and (first_id, second_id) not in existing_pairs:
            proposals.append(
                GoldItem(
                    competition=competition,
                    kind=ReviewKind.PAIRWISE,
                    first_id=first_id,
                    second_id=second_id,
                    answer_conversation_id=chosen[0],
                    status=GoldItem.Status.PROPOSED,
                    source=GoldItem.Source.UNANIMOUS,
                )
            )
    return GoldItem.objects.bulk_create(proposals)


def stopped_reviewer_ids(*, competition: Competition, limit: int) -> set[int]:
    counts = Strike.objects.filter(competition=competition).values("reviewer_id").annotate(n=Count("id"))
    return {row["reviewer_id"] for row in counts if stats.reviewer_stopped(strikes=row["n"], limit=limit)}


# Aggregation.


def debounce_key(competition_id: int) -> str:
    return f"review-recompute:{competition_id}"


def review_recompute_schedule(*, competition_id: int) -> None:
    """Queue one recompute for a burst of reviews (the same debounce as leaderboard.services.recompute_schedule)."""
    from .tasks import review_recompute_task

    if review_recompute_task.app.conf.task_always_eager:
        review_recompute(competition_id=competition_id)
        return
    if cache.add(debounce_key(competition_id), 1, timeout=RECOMPUTE_DEBOUNCE_SECONDS * 4):
        review_recompute_task.apply_async(args=[competition_id], countdown=RECOMPUTE_DEBOUNCE_SECONDS)


def review_recompute_schedule_safely(*, competition_id: int) -> None:
    """After commit: a broker outage must not turn a saved review into an error; the beat safety net catches up."""
    try:
        review_recompute_schedule(competition_id=competition_id)
    except Exception:
        logger.exception("could not schedule the review recompute of competition %s", competition_id)


def competitions_to_refresh() -> list[int]:
    """For the beat safety net: competitions with reviews newer than their figures (or none computed yet)."""
    ids = []
    for review_settings in ReviewSettings.objects.filter(enabled=True).select_related("competition"):
        competition = review_settings.competition
        snapshot = ReviewSnapshot.objects.filter(competition=competition).first()
        newest = ReviewAssignment.objects.filter(competition=competition, status=ReviewAssignment.Status.DONE)
        if snapshot is not None:
            newest = newest.filter(completed_at__gt=snapshot.computed_at)
        if newest.exists():
            ids.append(competition.pk)
    return ids


def _witness_rows(competition: Competition, table: stats.StrengthTable, witnesses: list[Witness], counts) -> list:
    bots = {bot.pk: bot for bot in Bot.objects.filter(competition=competition).select_related("team")}
    wins = stats.win_matrix(counts)
    rows = []
    for index, witness in enumerate(witnesses):
        comparisons = int(wins[index].sum() + wins[:, index].sum())
        bot = bots.get(witness) if witness != HUMAN else None
        anchored = table.anchor is not None
        rows.append(
            {
                "witness": witness,
                "bot_id": bot.pk if bot else None,
                "name": bot.name if bot else HUMAN,
                "team": bot.team.name if bot else "",
                "is_baseline": bool(bot and bot.is_baseline),
                "is_human": witness == HUMAN,
                "comparisons": comparisons,
                "wins": int(wins[index].sum()),
                "strength": float(table.strength[index]) if comparisons else None,
                "low": float(table.low[index]) if comparisons else None,
                "high": float(table.high[index]) if comparisons else None,
                "rank": table.ranks[index],
                # With the human witness as the anchor: the chance of sounding more human than a human witness.
                "p_vs_human": stats.win_probability(table.strength[index]) if anchored and comparisons else None,
                "p_vs_human_low": stats.win_probability(table.low[index]) if anchored and comparisons else None,
                "p_vs_human_high": stats.win_probability(table.high[index]) if anchored and comparisons else None,
            }
        )
    return rows


def review_recompute(*, competition_id: int, replicates: int = stats.BOOTSTRAP_REPLICATES) -> ReviewSnapshot:
    """Every review figure of one competition from its counted reviews. Gold items and reviewers past the strike
    limit are left out. Idempotent (the bootstrap's seed is fixed)."""
    started = time.perf_counter()
    competition = Competition.objects.get(pk=competition_id)
    review_settings = review_settings_for(competition)
    stopped = stopped_reviewer_ids(competition=competition, limit=review_settings.strike_limit)

    pairwise = PairwiseReview.objects.filter(competition=competition, assignment__item__gold__isnull=True)
    pair_rows = list(
        pairwise.exclude(reviewer_id__in=stopped).values_list(
            "assignment__item_id",
            "chosen_id",
            "chosen__partner_kind",
            "chosen__bot_id",
            "other__partner_kind",
            "other__bot_id",
        )
    )
    witnesses = sorted(
        {witness_of(kind, bot) for _i, _c, kind, bot, _k, _b in pair_rows}
        | {witness_of(kind, bot) for _i, _c, _k, _b, kind, bot in pair_rows},
        key=lambda w: (w != HUMAN, str(w)),
    )
    index = {witness: position for position, witness in enumerate(witnesses)}
    winners, losers = [], []
    for _item, _chosen, kind_w, bot_w, kind_l, bot_l in pair_rows:
        winner, loser = witness_of(kind_w, bot_w), witness_of(kind_l, bot_l)
        if winner != loser:
            winners.append(index[winner])
            losers.append(index[loser])
    counts = stats.pair_counts(len(witnesses), winners, losers)
    anchor = index.get(HUMAN)
    baselines = set(Bot.objects.filter(competition=competition, is_baseline=True).values_list("id", flat=True))
    table = stats.strength_table(
        counts,
        anchor=anchor,
        unranked=frozenset(index[w] for w in witnesses if w in baselines),
        replicates=replicates if winners else 0,
    )
    rows = _witness_rows(competition, table, witnesses, counts)
    rows.sort(key=lambda row: (row["strength"] is None, -(row["strength"] or 0), row["name"]))
    order = [witnesses.index(row["witness"]) for row in rows]
    rates = stats.win_rate_matrix(counts)
    win_rates = [[rates[i][j] for j in order] for i in order]

    singles = SingleReview.objects.filter(competition=competition, assignment__item__gold__isnull=True)
    single_rows = list(
        singles.exclude(reviewer_id__in=stopped).values_list(
            "assignment__item_id", "verdict", "conversation__partner_kind"
        )
    )
    verdict_units = defaultdict(list)
    for item_id, verdict, _truth in single_rows:
        verdict_units[item_id].append(verdict)
    choice_units = defaultdict(list)
    for item_id, chosen_id, *_rest in pair_rows:
        choice_units[item_id].append(chosen_id)
    alpha_verdicts = agreement.alpha_with_interval(
        agreement.table_from_units(list(verdict_units.values())), "nominal", replicates=replicates
    )
    alpha_pairwise = agreement.alpha_with_interval(
        agreement.table_from_units(list(choice_units.values())), "nominal", replicates=replicates
    )
    reviewers = set(singles.exclude(reviewer_id__in=stopped).values_list("reviewer_id", flat=True).distinct()) | set(
        pairwise.exclude(reviewer_id__in=stopped).values_list("reviewer_id", flat=True).distinct()
    )

    fields = {
        "computed_at": timezone.now(),
        "witnesses": rows,
        "win_rates": win_rates,
        "pairwise_counted": len(pair_rows),
        "single_counted": len(single_rows),
        "single_correct": sum(1 for _i, verdict, truth in single_rows if verdict == truth),
        "excluded_stopped": singles.filter(reviewer_id__in=stopped).count()
        + pairwise.filter(reviewer_id__in=stopped).count(),
        "reviewers_counted": len(reviewers),
        "reviewers_stopped": len(stopped),
        "replicates": table.replicates,
        "alpha_verdicts": alpha_verdicts.alpha,
        "alpha_verdicts_low": alpha_verdicts.low,
        "alpha_verdicts_high": alpha_verdicts.high,
        "alpha_verdicts_units": alpha_verdicts.units,
        "alpha_pairwise": alpha_pairwise.alpha,
        "alpha_pairwise_low": alpha_pairwise.low,
        "alpha_pairwise_high": alpha_pairwise.high,
        "alpha_pairwise_units": alpha_pairwise.units,
    }
    fields["duration_ms"] = (time.perf_counter() - started) * 1000
    snapshot, _ = ReviewSnapshot.objects.update_or_create(competition=competition, defaults=fields)
    return snapshot
