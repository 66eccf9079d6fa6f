"""The leaderboard's "Three-party" tab: per bot, the share of games in which the interrogator picked it as the human.

Read from ``chat.GameVerdict`` (one row per game) and scored by the pure functions of ``three_party_stats``. Games
whose human witness rated the interrogator's effort at or below ``LOW_EFFORT_MAX`` are reported separately and not
scored, as the statistics' rater-quality rules do for low-effort raters.
"""

from dataclasses import asdict, dataclass

from django.db.models import Q

from chat.models import GameVerdict
from competitions.models import Bot, Competition

from .chart import Chart, interval_chart
from .three_party_stats import WinRate, win_rate

LOW_EFFORT_MAX = 1
CSV_COLUMNS = [
    "bot_id", "bot", "team", "is_baseline", "games", "wins", "interrogators", "win_rate", "low", "high",
    "p_value", "equivalence_low", "equivalence_high", "margin", "verdict", "low_effort_games",
]  # fmt: skip


@dataclass(frozen=True)
class ThreePartyRow:
    bot_id: int
    bot: str
    team: str
    is_baseline: bool
    low_effort_games: int
    score: WinRate | None

    def as_dict(self) -> dict:
        return asdict(self)

    def csv_values(self) -> list:
        score = asdict(self.score) if self.score else {}
        flat = {**asdict(self), **score, "win_rate": score.get("rate")}
        return ["" if flat.get(column) is None else flat[column] for column in CSV_COLUMNS]


def three_party_rows(*, competition: Competition) -> list[ThreePartyRow]:
    """Every live or baseline bot with games, best win rate first; baselines (ELIZA) shown as the manipulation check."""
    verdicts = GameVerdict.objects.filter(competition=competition).values_list(
        "bot_id", "interrogator_id", "bot_picked_as_human", "game__witness_effort"
    )
    outcomes: dict[int, list[tuple[int, bool]]] = {}
    low_effort: dict[int, int] = {}
    for bot_id, interrogator_id, won, effort in verdicts:
        if effort is not None and effort <= LOW_EFFORT_MAX:
            low_effort[bot_id] = low_effort.get(bot_id, 0) + 1
        else:
            outcomes.setdefault(bot_id, []).append((interrogator_id, won))
    bots = Bot.objects.filter(competition=competition).filter(Q(pk__in=outcomes) | Q(pk__in=low_effort))
    rows = [
        ThreePartyRow(
            bot_id=bot.pk,
            bot=bot.name,
            team=bot.team.name,
            is_baseline=bot.is_baseline,
            low_effort_games=low_effort.get(bot.pk, 0),
            score=win_rate(outcomes.get(bot.pk, []), margin=competition.equivalence_margin, seed=bot.pk),
        )
        for bot in bots.select_related("team")
    ]
    return sorted(rows, key=lambda row: (row.score is None, -(row.score.rate if row.score else 0), row.bot))


def three_party_chart(*, rows: list[ThreePartyRow], margin: float) -> Chart | None:
    """The interval chart of the scored rows, with 50% ± the equivalence margin as the shaded band."""
    entries = [(row.bot, row.score.rate, row.score.low, row.score.high, row.is_baseline) for row in rows if row.score]
    if not entries:
        return None
    return interval_chart(entries, baseline=(0.5, max(0.0, 0.5 - margin), min(1.0, 0.5 + margin)))
