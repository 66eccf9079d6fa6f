"""Public leaderboard numbers on a schedule (issue 11; docs/blinding.md, channel 5).

Until a competition closes, a chat count or a score that moves minutes after a chat tells an evaluator, in a quiet
competition, which bot their partner was. So the public (page, API, CSV) reads a copy of the public rows written
only at fixed UTC boundaries (every ``leaderboard_publication_hours``, counted from 1970-01-01 00:00 UTC) by the
beat task, never at a time derived from a chat or a judgment. Organizers always see the live rows; everyone does
once the competition is closed. The copy is written from the existing selectors; the recompute is not touched.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from competitions.models import Competition

from . import selectors
from .models import BotScore, LeaderboardSnapshot, PublishedLeaderboard
from .selectors import CriterionFigure, LeaderboardRow

# Before closing, only a published copy is public; registration too, in case an organizer runs practice chats.
PUBLISHED_PHASES = (Competition.Phase.REGISTRATION, Competition.Phase.EVALUATION)
_SNAPSHOT_FIELDS = [
    field for field in LeaderboardSnapshot._meta.concrete_fields if field.name not in ("id", "competition")
]


@dataclass(frozen=True)
class PublishedBoard:
    """What the public sees: the last published copy (``period_start`` None before the first) and when the next is."""

    snapshot: LeaderboardSnapshot | None
    rows: list[LeaderboardRow]
    period_start: datetime | None
    next_at: datetime


def leaderboard_is_live_to(*, competition: Competition, user) -> bool:
    """Organizers see live numbers; the public too once the competition is closed (nothing left to tie)."""
    if user.is_authenticated and user.is_staff:
        return True
    return competition.phase not in PUBLISHED_PHASES


def publication_period_start(*, competition: Competition, now: datetime) -> datetime:
    """The latest scheduled boundary at or before ``now``: whole multiples of the period since the epoch, UTC."""
    period_s = competition.leaderboard_publication_hours * 3600
    return datetime.fromtimestamp(now.timestamp() // period_s * period_s, tz=UTC)


def _snapshot_values(snapshot: LeaderboardSnapshot | None, period_start: datetime) -> dict | None:
    if snapshot is None:
        return None
    values = {field.name: field.value_from_object(snapshot) for field in _SNAPSHOT_FIELDS}
    # When the last recompute ran follows the last judgment by a debounce: the copy carries the boundary instead.
    values.update(computed_at=period_start, patterns_computed_at=None, duration_ms=0.0)
    return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in values.items()}


def _row_values(row: LeaderboardRow) -> dict:
    # Labels are translated when read, in the reader's language.
    values = asdict(row)
    del values["verdict_label"]
    for figure in values["criteria"]:
        del figure["label"]
    return values


def leaderboard_publish(*, competition: Competition, period_start: datetime) -> PublishedLeaderboard:
    """Copy the current public rows and competition figures as the public numbers of ``period_start``'s period."""
    snapshot = selectors.leaderboard_snapshot(competition=competition)
    rows = selectors.leaderboard_rows(competition=competition, snapshot=snapshot)
    rows = selectors.leaderboard_public_rows(competition=competition, rows=rows)
    published, _ = PublishedLeaderboard.objects.update_or_create(
        competition=competition,
        defaults={
            "period_start": period_start,
            "published_at": timezone.now(),
            "snapshot": _snapshot_values(snapshot, period_start),
            "rows": [_row_values(row) for row in rows],
        },
    )
    return published


def leaderboards_publish_due(*, now: datetime | None = None) -> int:
    """Publish every competition before closing whose copy is older than its latest boundary; idempotent (beat)."""
    now = now or timezone.now()
    published = 0
    competitions = Competition.objects.filter(phase__in=PUBLISHED_PHASES).select_related("published_leaderboard")
    for competition in competitions:
        period_start = publication_period_start(competition=competition, now=now)
        current = getattr(competition, "published_leaderboard", None)
        if current is not None and current.period_start >= period_start:
            continue
        leaderboard_publish(competition=competition, period_start=period_start)
        published += 1
    return published


def _snapshot_from(values: dict | None, competition: Competition) -> LeaderboardSnapshot | None:
    if values is None:
        return None
    fields = {field.name: field.to_python(values[field.name]) for field in _SNAPSHOT_FIELDS if field.name in values}
    return LeaderboardSnapshot(competition=competition, **fields)


def _row_from(values: dict, labels: dict[str, str]) -> LeaderboardRow:
    criteria = [CriterionFigure(label=labels.get(f["key"], f["key"]), **f) for f in values["criteria"]]
    verdict_label = str(BotScore.Verdict(values["verdict"]).label)
    return LeaderboardRow(**{**values, "criteria": criteria, "verdict_label": verdict_label})


def published_board(*, competition: Competition, now: datetime | None = None) -> PublishedBoard:
    now = now or timezone.now()
    next_at = publication_period_start(competition=competition, now=now) + timedelta(
        hours=competition.leaderboard_publication_hours
    )
    published = PublishedLeaderboard.objects.filter(competition=competition).first()
    if published is None:
        return PublishedBoard(snapshot=None, rows=[], period_start=None, next_at=next_at)
    snapshot = _snapshot_from(published.snapshot, competition)
    labels = dict(selectors.criteria_labels(competition=competition, snapshot=snapshot))
    rows = [_row_from(values, labels) for values in published.rows]
    return PublishedBoard(snapshot=snapshot, rows=rows, period_start=published.period_start, next_at=next_at)


def board_for(
    *, competition: Competition, user
) -> tuple[LeaderboardSnapshot | None, list[LeaderboardRow], PublishedBoard | None]:
    """The snapshot and rows this user may see: live ones (organizers, or after closing) or the published copy
    (returned as well, for its times). The one place the API and the CSV choose between them."""
    if leaderboard_is_live_to(competition=competition, user=user):
        snapshot = selectors.leaderboard_snapshot(competition=competition)
        rows = selectors.leaderboard_rows(competition=competition, snapshot=snapshot)
        if not user.is_staff:
            rows = selectors.leaderboard_public_rows(competition=competition, rows=rows)
        return snapshot, rows, None
    published = published_board(competition=competition)
    return published.snapshot, published.rows, published
