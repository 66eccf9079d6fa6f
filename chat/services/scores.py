"""The leaderboard learns of every change that moves a score through this one call."""

import logging

from django.db import transaction

from hulic.log_throttle import ThrottledLog

quiet_log = ThrottledLog(logging.getLogger(__name__))


def scores_refresh_on_commit(*, competition_id: int) -> None:
    """After commit, ask the leaderboard for a (debounced) recompute of the competition.

    Queueing needs Redis (the debounce key, the broker). If it is down, the write is saved all the same and answered
    as saved; beat's safety net (LEADERBOARD_SAFETY_NET_SECONDS) recomputes the competition once Redis is back.
    """

    def schedule() -> None:
        from leaderboard.services import recompute_schedule

        try:
            recompute_schedule(competition_id=competition_id)
        except Exception as error:
            quiet_log.warning(
                "recompute-queue", "queueing a leaderboard recompute failed; the safety net catches up", error=error
            )

    transaction.on_commit(schedule)
