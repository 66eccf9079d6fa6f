"""The leaderboard learns of every change that moves a score through this one call."""

from django.db import transaction


def scores_refresh_on_commit(*, competition_id: int) -> None:
    """After commit, ask the leaderboard for a (debounced) recompute of the competition."""

    def schedule() -> None:
        from leaderboard.services import recompute_schedule

        recompute_schedule(competition_id=competition_id)

    transaction.on_commit(schedule)
