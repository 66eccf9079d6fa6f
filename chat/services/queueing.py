"""What the two queues share: two-party ``MatchRequest`` and three-party ``GameRequest`` rows are joined, held,
locked, claimed and marked matched the same way, so both pair race-free from any number of processes.

Pairing locks the caller's own waiting row first, then claims partners' rows with SKIP LOCKED: two pairings never
wait on each other and never take the same partner. The one "waiting request per user" unique index serialises a
person's concurrent joins. The hold is the human-like wait before a bot (or the lobby's fallback to a bot) may be
shown, so that the wait tells nothing about the partner (docs/blinding.md).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from competitions.models import Competition

WAITING = "waiting"
MATCHED = "matched"
CANCELLED = "cancelled"

QueueRequest = TypeVar("QueueRequest", bound=models.Model)


def hold_over(request) -> bool:
    """Whether a request has waited its ``hold_seconds``: from then on a bot may take it."""
    return timezone.now() - request.created_at >= timedelta(seconds=request.hold_seconds)


def request_enqueue(
    *, model: type[QueueRequest], user, competition: Competition, check_free: Callable[[], None], **fields
) -> QueueRequest | None:
    """Insert the person's one waiting request, or return the one they already have.

    Requests the person left waiting in other competitions are cancelled first. ``check_free`` raises when the
    person is busy; it runs again after the insert, because the unique "one waiting request" index made us wait for
    any concurrent pairing of this user to commit, so a chat or game it created is visible now. None: the waiting
    request that blocked the insert was paired or cancelled before it could be read; the caller starts again.
    """
    model.objects.filter(user=user, status=WAITING).exclude(competition=competition).update(status=CANCELLED)
    try:
        with transaction.atomic():
            request = model.objects.create(competition=competition, user=user, **fields)
            check_free()
    except IntegrityError:
        request = model.objects.filter(user=user, status=WAITING).first()
        if request is None:
            check_free()
    return request


def request_cancel(request) -> bool:
    """Cancel a request that still waits; False when a pairing took it first."""
    return bool(type(request).objects.filter(pk=request.pk, status=WAITING).update(status=CANCELLED))


@contextmanager
def waiting_request_locked(model: type[QueueRequest], request_id: int) -> Iterator[QueueRequest | None]:
    """One transaction holding the request's row lock; yields the request, or None when it no longer waits or its
    competition does not pair right now (paused, or out of its evaluation phase)."""
    with transaction.atomic():
        request = model.objects.select_for_update().filter(pk=request_id, status=WAITING).first()
        if request is not None and (request.competition.matchmaking_paused or not request.competition.is_evaluating):
            request = None
        yield request


def partners_claimable(request: QueueRequest, **filters) -> models.QuerySet:
    """Other people's waiting requests that could pair with ``request``, oldest first, each row locked as it is
    read and rows another pairing holds skipped. Slice or take ``.first()`` inside the caller's transaction."""
    return (
        type(request)
        .objects.select_for_update(skip_locked=True)
        .filter(competition_id=request.competition_id, language=request.language, status=WAITING, **filters)
        .exclude(user_id=request.user_id)
        .order_by("created_at", "pk")
    )


def request_mark_matched(request, *, matched_at, **links) -> None:
    """The request leaves the queue for what it was paired into (``conversation=`` or ``game=``)."""
    request.status = MATCHED
    request.matched_at = matched_at
    for name, value in links.items():
        setattr(request, name, value)
    request.save(update_fields=["status", "matched_at", *links])
