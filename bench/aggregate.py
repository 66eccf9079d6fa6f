"""Leaderboard aggregation benchmark: 1,000,000 judgments, 100 bots, 5,000 evaluators on Postgres.

    .venv/bin/python bench/aggregate.py            # fill once (COPY), then time
    .venv/bin/python bench/aggregate.py --refill   # throw the data away and fill again
    .venv/bin/python bench/aggregate.py --drop     # drop the benchmark database

Uses DATABASE_URL, or postgres://postgres@127.0.0.1:5432/hulic_bench_agg (created and migrated on first use).
The filled database is reused between runs (the row counts are checked); drop it with --drop or
`dropdb -h 127.0.0.1 -U postgres hulic_bench_agg` when done (about 0.5 GB).

Prints: the raw SQL GROUP BY computing the same per-bot counts and sums, the full recompute (all queries, statistics
and writes) with a per-query breakdown, the ratio, the freshness bound after a judgment, leaderboard page/API
latencies (Django test Client, 100 bots), "goal met / NOT met" lines and the load average (the cores are shared).
"""

import argparse
import io
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hulic_bench_agg"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hulic.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # a throwaway process: no sessions survive it

JUDGMENTS = 1_000_000
BOTS = 100
EVALUATORS = 5_000
CONTROL_CHATS = 50_000  # judged from both sides: 100,000 judgments of humans
BOT_CHATS = JUDGMENTS - 2 * CONTROL_CHATS
SLUG = "bench-agg"
CRITERIA = ["human_likeness", "fluency", "engagement", "appropriateness"]
RATINGS_TEMPLATE = "{{" + ", ".join(f'"{key}": {{}}' for key in CRITERIA) + "}}"
RUNS = 5
NULL = "\\N"  # COPY text format
PAGE_GETS = 200


def database_url() -> str:
    return os.environ["DATABASE_URL"]


def ensure_database() -> None:
    import psycopg2

    url = urlparse(database_url())
    name = url.path.lstrip("/")
    admin = psycopg2.connect(urlunparse(url._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    admin.close()


def drop_database() -> None:
    import psycopg2

    url = urlparse(database_url())
    name = url.path.lstrip("/")
    admin = psycopg2.connect(urlunparse(url._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()
    print(f"dropped database {name}")


def copy(cursor, table: str, columns: list[str], lines) -> None:
    from exports.builder import copy_text_in

    copy_text_in(cursor, table, ", ".join(columns), "".join(lines))


def copy_model(cursor, model, columns: list[str], lines: list[str]) -> None:
    """COPY into a model's table; NOT NULL columns left out get their Django default as a temporary DB default.

    That keeps the benchmark working when the owning app adds a column, and lets Postgres make the UUIDs.
    """
    from django.db import connection
    from django.db.models import NOT_PROVIDED, UUIDField

    table = model._meta.db_table
    temporary = []
    for field in model._meta.concrete_fields:
        if field.column in columns or field.primary_key or field.null or field.db_default is not NOT_PROVIDED:
            continue
        if isinstance(field, UUIDField):
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{field.column}" SET DEFAULT gen_random_uuid()')
        elif field.get_default() is not None:
            value = field.get_db_prep_save(field.get_default(), connection)
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{field.column}" SET DEFAULT %s', [value])
        else:
            continue
        temporary.append(field.column)
    copy(cursor, table, columns, lines)
    for column in temporary:
        cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')


def generate_rows(rng: random.Random, competition_id: int, now: datetime) -> tuple[list[str], list[str], list[str]]:
    """Bots with a true judged-human rate between 5 and 65 %, evaluators more or less lenient in their ratings."""
    true_rate = {b: rng.uniform(0.05, 0.65) for b in range(1, BOTS + 1)}
    leniency = {e: rng.gauss(0, 0.5) for e in range(1, EVALUATORS + 1)}
    start = now - timedelta(days=14)
    minutes = 14 * 24 * 60
    stamp = [(start + timedelta(minutes=m)).isoformat() for m in range(minutes + 10)]
    conversation_lines, judgment_lines, message_lines = [], [], []
    for conversation_id in range(1, BOT_CHATS + CONTROL_CHATS + 1):
        minute = rng.randrange(minutes)
        is_control = conversation_id > BOT_CHATS
        evaluator_a = rng.randrange(1, EVALUATORS + 1)
        status = "bot_failed" if not is_control and rng.random() < 0.01 else "ended"
        messages = rng.randrange(2, 21)
        if is_control:
            evaluator_b = evaluator_a % EVALUATORS + 1
            bot_column, kind, b_column, p_human = NULL, "human", str(evaluator_b), 0.7
            judges = (evaluator_a, evaluator_b)
        else:
            bot = rng.randrange(1, BOTS + 1)
            bot_column, kind, b_column, p_human = str(bot), "bot", NULL, true_rate[bot]
            judges = (evaluator_a,)
            message_lines.append(
                f"{conversation_id}\t2\tb\t\tHello\tHello\tf\t[]\t{rng.lognormvariate(7.5, 0.5):.1f}\t{stamp[minute]}\n"
            )
        conversation_lines.append(
            f"{conversation_id}\t{competition_id}\ten\t{kind}\t{bot_column}\t{evaluator_a}\t{b_column}\tPartner\t"
            f"Partner\ta\tf\t{status}\t\t{messages}\t{stamp[minute]}\t{stamp[minute + 5]}\t{stamp[minute + 5]}\n"
        )
        for judge in judges:
            base = 2.0 + 3.0 * p_human + leniency[judge]
            ratings = RATINGS_TEMPLATE.format(*(min(5, max(1, round(rng.gauss(base, 0.9)))) for _ in CRITERIA))
            verdict = "human" if rng.random() < p_human else "bot"
            judgment_lines.append(
                f"{conversation_id}\t{judge}\t{competition_id}\t{bot_column}\t{kind}\t{verdict}\t"
                f"{rng.randrange(1, 6)}\t{ratings}\t-\t{messages}\t{stamp[minute + 6]}\n"
            )
    return conversation_lines, judgment_lines, message_lines


def is_filled() -> bool:
    from chat.models import Judgment
    from competitions.models import Bot, Competition

    competition = Competition.objects.filter(slug=SLUG).first()
    return (
        competition is not None
        and Judgment.objects.filter(competition=competition).count() == JUDGMENTS
        and Bot.objects.filter(competition=competition).count() == BOTS
        and competition.evaluators.count() == EVALUATORS
    )


def fill() -> None:
    """Wipe the benchmark's rows and COPY in a synthetic competition. Ids are assigned here (a dedicated database)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from chat.models import Evaluator
    from competitions.models import Bot, Competition, Team
    from leaderboard import tallies

    started = time.perf_counter()
    unusable = make_password(None)
    rng = random.Random(20260301)
    now = datetime.now(UTC).replace(microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE chat_judgment, chat_message, chat_conversation, chat_evaluator, competitions_bot, "
            "competitions_team, competitions_competition, auth_user RESTART IDENTITY CASCADE"
        )
        # TRUNCATE fires no delete triggers: the tallies go with the rows they count.
        cursor.execute(f"TRUNCATE {', '.join(model._meta.db_table for model in tallies.TALLY_MODELS)}")
    competition = Competition.objects.create(
        slug=SLUG,
        title="Aggregation benchmark",
        phase=Competition.Phase.CLOSED,
        criteria=[{"key": key, "label": key.replace("_", " ").capitalize()} for key in CRITERIA],
        max_chats_per_evaluator_per_bot=1_000_000,
    )
    competition_id = competition.pk
    get_user_model().objects.bulk_create(
        [
            get_user_model()(id=i, username=f"bench{i}", email=f"bench{i}@example.org", password=unusable)
            for i in range(1, EVALUATORS + 1)
        ],
        batch_size=2000,
    )
    Evaluator.objects.bulk_create(
        [
            Evaluator(
                competition=competition,
                user_id=i,
                status=Evaluator.Status.SUSPENDED if i % 50 == 0 else Evaluator.Status.ACTIVE,
                consented_at=now,
                onboarding_passed_at=None if i % 45 == 0 else now,
            )
            for i in range(1, EVALUATORS + 1)
        ],
        batch_size=2000,
    )
    teams = Team.objects.bulk_create([Team(name=f"Team {b}", slug=f"team-{b}") for b in range(1, BOTS + 1)])
    Bot.objects.bulk_create(
        [
            Bot(
                id=b,
                team=teams[b - 1],
                competition=competition,
                name=f"bot-{b:03d}",
                endpoint_url="http://127.0.0.1:9/",
                status=Bot.Status.VERIFIED,
                is_baseline=b == 1,
            )
            for b in range(1, BOTS + 1)
        ]
    )
    from chat.models import Conversation, Judgment, Message

    conversation_lines, judgment_lines, message_lines = generate_rows(rng, competition_id, now)
    print(f"generated rows in {time.perf_counter() - started:.1f} s", flush=True)
    with connection.cursor() as cursor:
        copy_model(
            cursor,
            Conversation,
            [
                "id",
                "competition_id",
                "language",
                "partner_kind",
                "bot_id",
                "evaluator_a_id",
                "evaluator_b_id",
                "alias_a",
                "alias_b",
                "first_speaker",
                "fell_back_to_bot",
                "status",
                "end_reason",
                "last_seq",
                "started_at",
                "deadline_at",
                "ended_at",
            ],
            conversation_lines,
        )
        copy_model(
            cursor,
            Judgment,
            [
                "conversation_id",
                "evaluator_id",
                "competition_id",
                "bot_id",
                "partner_kind",
                "verdict",
                "confidence",
                "ratings",
                "reason",
                "message_count",
                "created_at",
            ],
            judgment_lines,
        )
        copy_model(
            cursor,
            Message,
            [
                "conversation_id",
                "seq",
                "side",
                "client_msg_id",
                "text",
                "delivered_text",
                "flagged",
                "moderation_labels",
                "bot_latency_ms",
                "created_at",
            ],
            message_lines,
        )
    fill_bot_calls()
    with connection.cursor() as cursor:
        # As autovacuum leaves a live database: hint bits set and the visibility map current, so the index-only
        # scans (chats per bot, median latency) are index-only and the first timings do not pay for the fill.
        cursor.execute("VACUUM ANALYZE")
    sql = io.StringIO()
    call_command("sqlsequencereset", "auth", "competitions", "chat", stdout=sql, no_color=True)
    with connection.cursor() as cursor:
        cursor.execute(sql.getvalue())
    print(f"filled {JUDGMENTS:,} judgments in {time.perf_counter() - started:.1f} s", flush=True)


def fill_bot_calls() -> None:
    """One answered turn call per bot reply, as the chat records them (competitions.health.bot_call_record)."""
    from django.db import connection

    from chat.models import Conversation, Message
    from competitions.models import BotCall
    from leaderboard.models import LatencyTally

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {BotCall._meta.db_table}, {LatencyTally._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {BotCall._meta.db_table} "
            "(bot_id, purpose, ok, latency_ms, status_code, failure_kind, detail, created_at) "
            "SELECT c.bot_id, %s, true, m.bot_latency_ms, 200, '', '', m.created_at "
            f"FROM {Message._meta.db_table} m JOIN {Conversation._meta.db_table} c ON c.id = m.conversation_id "
            "WHERE m.side = 'b' AND m.bot_latency_ms IS NOT NULL",
            [BotCall.Purpose.TURN],
        )
        cursor.execute(f"VACUUM ANALYZE {BotCall._meta.db_table}")
    print(f"filled {BOT_CHATS:,} bot turn calls in {time.perf_counter() - started:.1f} s", flush=True)


def has_bot_calls() -> bool:
    from competitions.models import BotCall

    return BotCall.objects.filter(bot__competition__slug=SLUG, purpose=BotCall.Purpose.TURN).count() == BOT_CHATS


BEST = {}


def timed(function, runs: int = RUNS) -> tuple[float, object]:
    """Median of `runs`; the fastest run is kept in BEST too, since other processes share the two cores."""
    durations, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    BEST[function.__code__] = min(durations)
    return statistics.median(durations), result


def raw(sql: str, params: list) -> list:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)


COUNTED = (
    "competition_id = %(c)s AND message_count >= %(min)s "
    "AND conversation_id NOT IN (SELECT id FROM chat_conversation WHERE competition_id = %(c)s "
    "AND status = 'bot_failed') "
    "AND evaluator_id NOT IN (SELECT user_id FROM chat_evaluator WHERE competition_id = %(c)s "
    "AND (status = 'suspended' OR onboarding_passed_at IS NULL))"
)


def raw_counts(competition) -> list:
    """The floor the issue names: one GROUP BY counting judgments and human verdicts per bot."""
    return raw(
        "SELECT bot_id, COUNT(*), COUNT(*) FILTER (WHERE verdict = 'human') FROM chat_judgment "
        "WHERE competition_id = %s GROUP BY bot_id",
        [competition.pk],
    )


def raw_sums_arrow(competition) -> list:
    """The previous benchmark's hand-written form: the same per-bot counts and sums, ratings read with ->>."""
    sums = ", ".join(
        f"COUNT((ratings->>'{k}')::float), SUM((ratings->>'{k}')::float), SUM(((ratings->>'{k}')::float)^2)"
        for k in CRITERIA
    )
    return raw(
        f"SELECT bot_id, COUNT(*), COUNT(*) FILTER (WHERE verdict = 'human'), SUM(confidence), {sums} "
        f"FROM chat_judgment WHERE {COUNTED} GROUP BY bot_id",
        {"c": competition.pk, "min": competition.min_turns_to_count},
    )


def raw_group_by(competition) -> list:
    """The floor: the same per-bot counts and sums as plain SQL in its fastest form (ratings parsed once per row)."""
    record = ", ".join(f"{k} float8" for k in CRITERIA)
    sums = ", ".join(f"COUNT(r.{k}), SUM(r.{k}), SUM(r.{k} * r.{k})" for k in CRITERIA)
    return raw(
        f"SELECT bot_id, COUNT(*), COUNT(*) FILTER (WHERE verdict = 'human'), SUM(confidence), {sums} "
        f"FROM chat_judgment j CROSS JOIN LATERAL jsonb_to_record(j.ratings) AS r({record}) "
        f"WHERE {COUNTED} GROUP BY bot_id",
        {"c": competition.pk, "min": competition.min_turns_to_count},
    )


def breakdown(competition) -> list[tuple[str, float]]:
    from leaderboard import aggregates, tallies
    from leaderboard.rater_quality import ExclusionRules

    exclusions = aggregates.Exclusions.for_competition(competition)
    rules = ExclusionRules.from_dict(competition.exclusion_rules)
    keys = competition.criteria_keys
    steps = [
        ("exclusion counts (tallies)", lambda: tallies.exclusion_counts(competition.pk)),
        ("per bot and criterion (tallies)", lambda: tallies.per_partner(competition.pk, keys)),
        ("per bot and day (tallies)", lambda: tallies.per_bot_day(competition.pk)),
        ("per evaluator (tallies)", lambda: tallies.per_evaluator(competition.pk)),
        ("chats per bot (tallies)", lambda: aggregates.chats_per_bot(competition)),
        ("median latency (histograms)", lambda: aggregates.median_latency_per_bot(competition)),
        ("per evaluator and partner (tallies)", lambda: tallies.evaluator_partner_cells(competition.pk, len(keys))),
        ("response patterns (tallies)", lambda: tallies.patterns(competition.pk)),
        ("bootstrap, 1,000 replicates", lambda: bootstrap(competition, exclusions, rules)),
    ]
    return [(name, timed(step, runs=1)[0]) for name, step in steps]


STORE: list[float] = []


def recompute_timing_the_writes(competition) -> None:
    """A recompute with its writes (services._store: snapshot, bot, daily and evaluator rows) timed on their own."""
    from unittest import mock

    from leaderboard import services

    store = services._store

    def timed_store(**arguments):
        started = time.perf_counter()
        try:
            return store(**arguments)
        finally:
            STORE.append(time.perf_counter() - started)

    with mock.patch.object(services, "_store", timed_store):
        services.competition_recompute(competition_id=competition.pk)


def bootstrap(competition, exclusions, rules) -> None:
    """The statistics of a recompute on its per-evaluator rows: rates, comparisons, ranks and rating means."""
    from competitions.models import Bot
    from leaderboard import aggregates, services

    keys = competition.criteria_keys
    cells = aggregates.evaluator_figures(competition, exclusions, rules).cells
    evaluators = np.unique(cells[:, 0])
    partners = [*Bot.objects.filter(competition=competition).values_list("id", flat=True), None]
    started = time.perf_counter()
    services.bootstrap_figures(cells, evaluators, partners, competition=competition, keys=keys)
    BOOTSTRAP_ONLY.append(time.perf_counter() - started)


BOOTSTRAP_ONLY: list[float] = []


def check_latency_medians(competition) -> float:
    """The largest relative gap between the histogram medians and percentile_cont over every answered turn."""
    from leaderboard import aggregates

    exact = dict(
        raw(
            "SELECT bot_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FROM competitions_botcall "
            "WHERE purpose = 'turn' AND ok AND latency_ms IS NOT NULL GROUP BY bot_id",
            [],
        )
    )
    estimated = aggregates.median_latency_per_bot(competition)
    assert set(exact) == set(estimated)
    return max(abs(estimated[bot] - exact[bot]) / exact[bot] for bot in exact)


def second_judgments(competition, count: int, *, skip: int = 0) -> list[tuple]:
    """(conversation, bot, evaluator) for new judgments of ended bot chats, by a second judge (the first one has
    judged; one judgment per evaluator and chat)."""
    from chat.models import Conversation

    chats = Conversation.objects.filter(competition=competition, partner_kind="bot", status="ended").order_by("pk")
    return [
        (conversation_id, bot_id, judge % EVALUATORS + 1)
        for conversation_id, bot_id, judge in chats.values_list("id", "bot_id", "evaluator_a_id")[skip : skip + count]
    ]


def save_judgment(competition, conversation_id: int, bot_id: int, evaluator_id: int) -> int:
    from django.db import transaction

    from chat.models import Judgment

    with transaction.atomic():
        return Judgment.objects.create(
            conversation_id=conversation_id,
            evaluator_id=evaluator_id,
            competition=competition,
            bot_id=bot_id,
            partner_kind="bot",
            verdict="human",
            confidence=3,
            ratings=dict.fromkeys(CRITERIA, 3),
            reason="-",
            message_count=10,
        ).pk


def message_cost(competition, samples: int = 300) -> dict[str, tuple[float, float]]:
    """p50 and p99 (ms) of saving one message of a running chat (no judgment yet), with the tally trigger on messages
    and without it, alternating. The chat and its messages are deleted afterwards."""
    from chat.models import Conversation, Message

    conversation = Conversation.objects.create(
        competition=competition,
        language="en",
        partner_kind="bot",
        bot_id=1,
        evaluator_a_id=1,
        alias_a="A",
        alias_b="B",
        first_speaker="a",
        deadline_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    durations = {"with tally triggers": [], "triggers disabled": []}
    try:
        for seq in range(1, 2 * samples + 1):
            label = "with tally triggers" if seq % 2 else "triggers disabled"
            if label == "triggers disabled":
                execute("ALTER TABLE chat_message DISABLE TRIGGER USER")
            started = time.perf_counter()
            Message.objects.create(conversation=conversation, seq=seq, side="a", text="hi", delivered_text="hi")
            durations[label].append((time.perf_counter() - started) * 1000)
            if label == "triggers disabled":
                execute("ALTER TABLE chat_message ENABLE TRIGGER USER")
    finally:
        Message.objects.filter(conversation=conversation).delete()
        conversation.delete()
    results = {}
    for label, values in durations.items():
        values.sort()
        results[label] = (statistics.median(values), values[int(len(values) * 0.99) - 1])
    return results


def write_cost(competition, samples: int = 100, rounds: int = 3) -> dict[str, tuple[float, float]]:
    """p50 and p99 (ms) of saving one judgment in its own transaction, with the tally triggers and without them.

    The two modes alternate in rounds on chats not used before (after a discarded warm-up round), so neither gets
    the other's warm caches. Each round's judgments are deleted in the same mode, so the tallies stay right.
    """
    from chat.models import Judgment

    durations = {"with tally triggers": [], "triggers disabled": []}
    modes = [("with tally triggers", None), ("triggers disabled", "USER")]
    for round_number, (label, toggle) in enumerate([("warm-up", None)] + modes * rounds):
        if toggle:
            execute(f"ALTER TABLE chat_judgment DISABLE TRIGGER {toggle}")
        created = []
        try:
            for judgment in second_judgments(competition, samples, skip=(round_number + 10) * samples):
                started = time.perf_counter()
                created.append(save_judgment(competition, *judgment))
                durations.setdefault(label, []).append((time.perf_counter() - started) * 1000)
        finally:
            Judgment.objects.filter(pk__in=created).delete()
            if toggle:
                execute(f"ALTER TABLE chat_judgment ENABLE TRIGGER {toggle}")
    results = {}
    for label, _toggle in modes:
        values = sorted(durations[label])
        results[label] = (statistics.median(values), values[int(len(values) * 0.99) - 1])
    return results


def recompute_after_bursts(competition, bursts: int = RUNS, size: int = 100) -> float:
    """Median recompute after each burst of `size` new judgments: what the debounced task does in a live competition
    (the repeated recomputes above find nothing changed to write)."""
    from chat.models import Judgment
    from leaderboard import services

    durations, created = [], []
    try:
        for burst in range(bursts):
            for judgment in second_judgments(competition, size, skip=burst * size):
                created.append(save_judgment(competition, *judgment))
            started = time.perf_counter()
            services.competition_recompute(competition_id=competition.pk)
            durations.append(time.perf_counter() - started)
    finally:
        Judgment.objects.filter(pk__in=created).delete()
        services.competition_recompute(competition_id=competition.pk)
    return statistics.median(durations)


def page_latencies(competition) -> dict[str, tuple[float, float, float]]:
    """Per URL: the first GET after a recompute (renders and caches the table), then p50 and p95 of the next GETs."""
    from django.test import Client, override_settings
    from django.urls import reverse

    from leaderboard import services

    client = Client()
    results = {}
    # 200 GETs from one address would hit the anonymous API rate (60/min): the page's cost is measured, not the limit.
    with override_settings(API_THROTTLE_RATES={}):
        for name in ["leaderboard", "api-leaderboard", "leaderboard-csv"]:
            url = reverse(name, kwargs={"slug": competition.slug})
            services.competition_recompute(competition_id=competition.pk)
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            first = (time.perf_counter() - started) * 1000
            durations = []
            for _ in range(PAGE_GETS):
                started = time.perf_counter()
                response = client.get(url)
                durations.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            durations.sort()
            results[url] = (first, statistics.median(durations), durations[int(len(durations) * 0.95) - 1])
    return results


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refill", action="store_true", help="wipe and fill again")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database and exit")
    args = parser.parse_args()
    if args.drop:
        drop_database()
        return
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if args.refill or not is_filled():
        fill()
    else:
        print("reusing the filled database (drop it with --drop)")
        if not has_bot_calls():
            fill_bot_calls()

    from django.conf import settings

    from competitions.models import Competition
    from leaderboard import services
    from leaderboard.models import BotScore
    from leaderboard.rater_quality import ExclusionRules

    competition = Competition.objects.get(slug=SLUG)
    # The fill writes only the bots' messages, so every evaluator would be "silent": the rule is still computed and
    # shown (its cost is part of the timings) but this competition's plan does not exclude by it.
    rules = ExclusionRules().as_dict() | {"exclude": [flag for flag in ExclusionRules().exclude if flag != "silent"]}
    Competition.objects.filter(pk=competition.pk).update(exclusion_rules=rules)
    competition.refresh_from_db()
    print(f"before: {load()}")
    counts_seconds, _ = timed(counts := lambda: raw_counts(competition))
    arrow_seconds, _ = timed(arrow := lambda: raw_sums_arrow(competition))
    raw_seconds, raw_rows = timed(plain := lambda: raw_group_by(competition))
    services.competition_recompute(competition_id=competition.pk)  # warm
    recompute_seconds, snapshot = timed(full := lambda: services.competition_recompute(competition_id=competition.pk))
    services.competition_recompute(competition_id=competition.pk)
    after_recompute = load()
    best = {
        name: BEST[f.__code__] for name, f in [("counts", counts), ("arrow", arrow), ("raw", plain), ("full", full)]
    }
    stored = {score.bot_id: score for score in BotScore.objects.filter(competition=competition)}
    for row in raw_rows:
        if row[0] is not None:
            assert stored[row[0]].judgments == row[1] and stored[row[0]].judged_human == row[2], row
    steps = breakdown(competition)
    sql_seconds = sum(seconds for name, seconds in steps if not name.startswith(("bootstrap", "  +")))
    from leaderboard import tallies

    started = time.perf_counter()
    tallies.tallies_rebuild(competition_id=competition.pk)
    rebuild_seconds = time.perf_counter() - started
    latency_gap = check_latency_medians(competition)
    writes = write_cost(competition)
    messages = message_cost(competition)
    recompute_timing_the_writes(competition)
    burst_seconds = recompute_after_bursts(competition)
    judged = max(recompute_seconds, burst_seconds)  # the goals are judged on the slower of the two
    ratio = judged / counts_seconds

    print()
    print(
        f"data: {snapshot.judgments_total:,} judgments, {BotScore.objects.filter(competition=competition).count()} "
        f"bots, {snapshot.evaluators_total:,} evaluators; counted {snapshot.judgments_counted:,}, excluded "
        f"{snapshot.excluded_judgments:,} (of which {snapshot.excluded_flagged_judgments:,} by "
        f"{snapshot.evaluators_flagged} flagged evaluators)"
    )
    for label, seconds in [
        ("raw SQL GROUP BY, counts only (no exclusions)", counts_seconds),
        ("raw SQL GROUP BY, same per-bot sums, ->> per aggregate", arrow_seconds),
        ("raw SQL GROUP BY, same per-bot sums, jsonb_to_record", raw_seconds),
        ("full recompute (all queries, bootstrap, writes)", recompute_seconds),
    ]:
        print(f"{label + ':':<56} {seconds * 1000:8.1f} ms  (median of {RUNS})")
    for label, floor in [
        ("raw GROUP BY with the same sums (jsonb_to_record)", raw_seconds),
        ("raw GROUP BY with the same sums (->>)", arrow_seconds),
        ("raw counts-only GROUP BY", counts_seconds),
    ]:
        print(f"ratio recompute / {label + ':':<51} {recompute_seconds / floor:.2f}x")
    print(
        "the stored per-bot counts equal the raw GROUP BY's; histogram medians are within "
        f"{latency_gap * 100:.2f}% of percentile_cont over every answered turn"
    )
    print("breakdown (one run each):")
    for name, seconds in steps:
        print(f"  {name:<36} {seconds * 1000:8.1f} ms")
    python_and_writes = max(0.0, recompute_seconds - sql_seconds)
    print(f"  {'statistics + writes (rest)':<36} {python_and_writes * 1000:8.1f} ms")
    print(f"  of which the bootstrap statistics alone: {BOOTSTRAP_ONLY[-1] * 1000:.1f} ms")
    print(f"  of which the writes (nothing changed): {STORE[-1] * 1000:.1f} ms")
    print(
        f"fastest runs: counts {best['counts'] * 1000:.1f} ms, same sums {best['raw'] * 1000:.1f} ms (->> "
        f"{best['arrow'] * 1000:.1f} ms), recompute {best['full'] * 1000:.1f} ms (ratio "
        f"{best['full'] / best['raw']:.2f}x)"
    )
    print(f"recompute after each burst of 100 new judgments (median of {RUNS}): {burst_seconds * 1000:.1f} ms")
    print(f"recount of the tallies from every row (after a bulk load, or to verify): {rebuild_seconds * 1000:.0f} ms")
    print("saving one judgment (300 each, in its own transaction, the two modes alternating):")
    for label, (p50, p99) in writes.items():
        print(f"  {label:<22} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    print("saving one message of a running chat (300 each, alternating):")
    for label, (p50, p99) in messages.items():
        print(f"  {label:<22} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    print(f"during the timings: {after_recompute}")
    print(f"goal recompute < 2 s in all: {'met' if judged < 2 else 'NOT met'} ({judged * 1000:.0f} ms)")
    print(
        "goal recompute with the cluster bootstrap (1,000 replicates over the evaluators) < 3 s (issue 12): "
        f"{'met' if judged < 3 else 'NOT met'} ({judged * 1000:.0f} ms)"
    )
    print(
        "goal recompute within 1.5x of the raw GROUP BY (counts only, the lowest floor): "
        f"{ratio:.2f}x, {'met' if ratio <= 1.5 else 'NOT met'}"
    )
    freshness = services.RECOMPUTE_DEBOUNCE_SECONDS + judged
    print(
        f"freshness after a judgment: debounce {services.RECOMPUTE_DEBOUNCE_SECONDS} s + recompute "
        f"{judged:.2f} s = {freshness:.1f} s (safety net: every {settings.LEADERBOARD_SAFETY_NET_SECONDS} s)"
    )
    print(f"page latencies ({PAGE_GETS} GETs each after a first one, Django test Client, {BOTS} bots):")
    latencies = page_latencies(competition)
    for url, (first, p50, p95) in latencies.items():
        print(f"  {url:<45} first {first:6.1f} ms   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    page_p95 = next(iter(latencies.values()))[2]
    print(f"goal leaderboard page p95 < 50 ms: {'met' if page_p95 < 50 else 'NOT met'}")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
