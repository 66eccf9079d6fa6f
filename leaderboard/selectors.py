"""Reads for the leaderboard pages, CSV and API: stored rows only, never the judgments themselves."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import get_language

from chat.models import Conversation, Message, PartnerKind
from competitions.models import Bot, BotCall, Competition
from competitions.translated import localized

from .chart import Chart, interval_chart
from .models import AnalysisPlan, BotDailyScore, BotScore, EvaluatorScore, LeaderboardSnapshot

EXAMPLE_CHATS = 3


@dataclass(frozen=True)
class CriterionFigure:
    key: str
    label: str
    n: int
    evaluators: int
    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class LeaderboardRow:
    position: int
    rank: int | None
    rank_low: int | None
    rank_high: int | None
    bot_id: int
    bot_name: str
    team_name: str
    team_id: int
    is_baseline: bool
    chats: int
    failed_chats: int
    failure_rate: float | None
    judgments: int
    evaluators: int
    judged_human: float
    design_effect: float
    pass_rate: float | None
    pass_low: float | None
    pass_high: float | None
    difference: float | None
    difference_low: float | None
    difference_high: float | None
    p_less: float | None
    p_less_holm: float | None
    p_equivalent: float | None
    p_equivalent_holm: float | None
    verdict: str
    verdict_label: str
    more_judgments: int | None
    mean_confidence: float | None
    median_latency_ms: float | None
    criteria: list[CriterionFigure]


@dataclass(frozen=True)
class ExampleMessage:
    alias: str
    is_bot: bool
    text: str


@dataclass(frozen=True)
class ExampleChat:
    public_id: str
    messages: list[ExampleMessage]


def leaderboard_visible_to(*, competition: Competition, user) -> bool:
    """Organizers always; nobody in draft; everyone once closed; during registration and evaluation per the flag."""
    if user.is_authenticated and user.is_staff:
        return True
    if competition.phase == Competition.Phase.DRAFT:
        return False
    if competition.phase == Competition.Phase.CLOSED:
        return True
    return competition.leaderboard_public_during_evaluation


def bot_page_visible_to(*, bot: Bot, user) -> bool:
    """A bot's own figures are for its team and the organizers."""
    if not user.is_authenticated:
        return False
    return user.is_staff or bot.team.has_member(user)


def leaderboard_snapshot(*, competition: Competition) -> LeaderboardSnapshot | None:
    return LeaderboardSnapshot.objects.filter(competition=competition).first()


def criteria_labels(*, competition: Competition, snapshot: LeaderboardSnapshot | None) -> list[tuple[str, str]]:
    criteria = snapshot.criteria if snapshot is not None and snapshot.criteria else competition.criteria
    # Labels in the reader's language where the organizer translated them (competitions/translated.py).
    live = {c["key"]: c for c in competition.criteria}
    language = get_language()
    return [(c["key"], localized(live.get(c["key"], c), "label", language) or c["key"]) for c in criteria]


def _criterion_figures(stored: dict, labels: list[tuple[str, str]]) -> list[CriterionFigure]:
    figures = []
    for key, label in labels:
        figure = stored.get(key) or {}
        figures.append(
            CriterionFigure(
                key=key,
                label=label,
                n=figure.get("n", 0),
                evaluators=figure.get("evaluators", 0),
                mean=figure.get("mean"),
                low=figure.get("low"),
                high=figure.get("high"),
            )
        )
    return figures


def _row(score: BotScore, labels: list[tuple[str, str]]) -> LeaderboardRow:
    return LeaderboardRow(
        position=score.position,
        rank=score.rank,
        rank_low=score.rank_low,
        rank_high=score.rank_high,
        bot_id=score.bot_id,
        bot_name=score.bot.name,
        team_name=score.bot.team.name,
        team_id=score.bot.team_id,
        is_baseline=score.bot.is_baseline,
        chats=score.chats,
        failed_chats=score.failed_chats,
        failure_rate=score.failure_rate,
        judgments=score.judgments,
        evaluators=score.evaluators,
        judged_human=score.judged_human,
        design_effect=score.design_effect,
        pass_rate=score.pass_rate,
        pass_low=score.pass_low,
        pass_high=score.pass_high,
        difference=score.difference,
        difference_low=score.difference_low,
        difference_high=score.difference_high,
        p_less=score.p_less,
        p_less_holm=score.p_less_holm,
        p_equivalent=score.p_equivalent,
        p_equivalent_holm=score.p_equivalent_holm,
        verdict=score.verdict,
        verdict_label=str(score.get_verdict_display()),
        more_judgments=score.more_judgments,
        mean_confidence=score.mean_confidence,
        median_latency_ms=score.median_latency_ms,
        criteria=_criterion_figures(score.criteria, labels),
    )


def leaderboard_rows(*, competition: Competition, snapshot: LeaderboardSnapshot | None = None) -> list[LeaderboardRow]:
    snapshot = snapshot or leaderboard_snapshot(competition=competition)
    labels = criteria_labels(competition=competition, snapshot=snapshot)
    scores = BotScore.objects.filter(competition=competition).select_related("bot__team").order_by("position")
    return [_row(score, labels) for score in scores]


def leaderboard_chart(*, rows: list[LeaderboardRow], snapshot: LeaderboardSnapshot | None) -> Chart:
    entries = [
        (row.bot_name, row.pass_rate, row.pass_low, row.pass_high, row.is_baseline)
        for row in rows
        if row.pass_rate is not None
    ]
    baseline = None
    if snapshot is not None and snapshot.baseline_rate is not None:
        baseline = (snapshot.baseline_rate, snapshot.baseline_low, snapshot.baseline_high)
    return interval_chart(entries, baseline=baseline)


def bot_row(*, bot: Bot) -> LeaderboardRow | None:
    score = BotScore.objects.filter(bot=bot).select_related("bot__team").first()
    if score is None:
        return None
    snapshot = leaderboard_snapshot(competition=bot.competition)
    return _row(score, criteria_labels(competition=bot.competition, snapshot=snapshot))


def bot_daily_scores(*, bot: Bot) -> QuerySet[BotDailyScore]:
    return BotDailyScore.objects.filter(bot=bot).order_by("day")


def _delivered_messages() -> QuerySet[Message]:
    return Message.objects.order_by("seq").only("conversation_id", "side", "delivered_text")


def bot_example_chats(*, bot: Bot, limit: int = EXAMPLE_CHATS) -> list[ExampleChat]:
    """Recent finished chats of the bot, anonymised: aliases and delivered text only, never who the evaluator was."""
    if not bot.competition.show_example_chats_to_teams:
        return []
    chats = (
        Conversation.objects.filter(bot=bot, partner_kind=PartnerKind.BOT, status=Conversation.Status.ENDED)
        .order_by("-started_at")
        .only("public_id", "alias_a", "alias_b")
        .prefetch_related(Prefetch("messages", queryset=_delivered_messages()))[:limit]
    )
    return [
        ExampleChat(
            public_id=str(chat.public_id),
            messages=[
                ExampleMessage(
                    alias=chat.alias_a if message.side == "a" else chat.alias_b,
                    is_bot=message.side == "b",
                    text=message.delivered_text,
                )
                for message in chat.messages.all()
            ],
        )
        for chat in chats
    ]


def evaluator_scores(*, competition: Competition) -> QuerySet[EvaluatorScore]:
    return EvaluatorScore.objects.filter(competition=competition).select_related("user").order_by("-judgments")


def flagged_evaluators(*, competition: Competition) -> QuerySet[EvaluatorScore]:
    """Evaluators with a response-pattern flag (excluded or not), with their evidence, most judgments first."""
    return evaluator_scores(competition=competition).exclude(flags={})


def analysis_plans(*, competition: Competition) -> list[AnalysisPlan]:
    """The locked plan first, then each later change, oldest first."""
    return list(AnalysisPlan.objects.filter(competition=competition).order_by("recorded_at", "id"))


def analysis_plan_in_force(*, competition: Competition) -> AnalysisPlan | None:
    return AnalysisPlan.objects.filter(competition=competition).order_by("-recorded_at", "-id").first()


def leaderboard_public_rows(*, competition: Competition, rows: list[LeaderboardRow]) -> list[LeaderboardRow]:
    """The rows the public sees: bots that have passed a health check at least once, and at most
    ``leaderboard_bots_per_team`` bots of a team (its best placed; 0: no cap). Organizers see every row."""
    # A semi-join per bot stops at its first passing check (botcall's (bot, created_at) index), instead of reading
    # every health call of the competition (288 a day per bot).
    passing = BotCall.objects.filter(bot=OuterRef("pk"), purpose=BotCall.Purpose.HEALTH, ok=True)
    passed = set(Bot.objects.filter(competition=competition).filter(Exists(passing)).values_list("pk", flat=True))
    cap = competition.leaderboard_bots_per_team
    shown: list[LeaderboardRow] = []
    per_team: dict[int, int] = {}
    for row in rows:
        if row.bot_id not in passed or (cap and per_team.get(row.team_id, 0) >= cap):
            continue
        per_team[row.team_id] = per_team.get(row.team_id, 0) + 1
        shown.append(row)
    return shown
