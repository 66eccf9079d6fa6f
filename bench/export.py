"""Export benchmark: 1,000,000 messages in Postgres exported to Parquet and to CSV.

    .venv/bin/python bench/export.py [--database-url URL] [--messages N]

Fills the benchmark database once (reused when already filled), then measures, each in a fresh
subprocess so that peak RSS belongs to that run alone:
  * the baseline: Postgres `COPY (SELECT ...) TO STDOUT` of the same message and judgment rows to CSV;
  * the export service (exports.services.export_job_run) to Parquet and to CSV, zip included.
Goal: export time within 3x the baseline, peak RSS under 500 MB.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hulic_bench_export"
SLUG = "bench-export"
MESSAGES_PER_CONVERSATION = 20
EVALUATORS = 2000
TEAMS = 20
WORDS = [
    "hello",
    "how",
    "are",
    "you",
    "today",
    "I",
    "think",
    "the",
    "weather",
    "is",
    "nice",
    "what",
    "do",
    "you",
    "like",
    "to",
    "do",
    "on",
    "weekends",
    "really",
    "that",
    "sounds",
    "fun",
    "tell",
    "me",
    "more",
    "about",
    "it",
    "안녕하세요",
    "오늘",
    "날씨가",
    "좋네요",
    "where",
    "are",
    "you",
    "from",
]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("REDIS_URL", "")
    os.environ["HULIC_TESTING"] = "1"
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="hulic-bench-media-"))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hulic.settings")
    import django

    django.setup()


def _filled_messages(url: str) -> int:
    import psycopg2

    try:
        connection = psycopg2.connect(url)
    except psycopg2.OperationalError:
        return -1
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM chat_message m JOIN chat_conversation c ON c.id = m.conversation_id "
                "JOIN competitions_competition k ON k.id = c.competition_id WHERE k.slug = %s",
                [SLUG],
            )
            return cursor.fetchone()[0]
    except psycopg2.Error:
        return 0
    finally:
        connection.close()


def ensure_database(url: str, messages: int) -> bool:
    """Create (or re-create, if it holds a different size) the benchmark database; True if already filled."""
    import psycopg2

    filled = _filled_messages(url)
    if filled == messages:
        return True
    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        if filled >= 0:
            cursor.execute(f'DROP DATABASE "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "HULIC_TESTING": "1"},
        check=True,
    )
    return False


def _text_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _copy(cursor, model, rows: list[dict]) -> None:
    """COPY dict rows into a model's table; columns not given get the field's default (other apps add fields)."""
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0])]
    defaults = {f.attname: f.get_default() for f in fields}
    from exports.builder import copy_text_in

    lines = ("\t".join(_text_value(row.get(f.attname, defaults[f.attname])) for f in fields) for row in rows)
    text = "".join(line + "\n" for line in lines)
    copy_text_in(cursor, model._meta.db_table, ", ".join(f.column for f in fields), text)


def _sequence_reset(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def fill(total_messages: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from chat.models import Conversation, Judgment, Message
    from competitions.models import Bot, Competition, Team

    print(f"Filling the database with {total_messages:,} messages (COPY) ...", flush=True)
    started = time.perf_counter()
    rng = random.Random(5)
    now = datetime.now(UTC)
    user_model = get_user_model()
    conversations = total_messages // MESSAGES_PER_CONVERSATION
    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        competition = Competition.objects.create(
            slug=SLUG, title="Export benchmark", phase=Competition.Phase.CLOSED, terms="Benchmark data."
        )
        first_user = (user_model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        password = make_password(None)
        _copy(
            cursor,
            user_model,
            [
                {
                    "id": first_user + i,
                    "password": password,
                    "username": f"bench-eval-{i}-{first_user}",
                    "email": f"bench-eval-{i}@bench.test",
                    "date_joined": now,
                }
                for i in range(EVALUATORS)
            ],
        )
        _sequence_reset(cursor, user_model)
        teams = Team.objects.bulk_create(
            Team(name=f"Bench team {i} {first_user}", slug=f"bench-team-{i}-{first_user}") for i in range(TEAMS)
        )
        bots = Bot.objects.bulk_create(
            Bot(team=team, competition=competition, name=f"bench-bot-{i}", endpoint_url="http://127.0.0.1:9/")
            for i, team in enumerate(teams)
        )
        first_conversation = (Conversation.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        conversation_rows, judgment_rows = [], []
        ratings = dict.fromkeys(competition.criteria_keys, 3)
        for i in range(conversations):
            bot = bots[i % TEAMS]
            evaluator = first_user + rng.randrange(EVALUATORS)
            started_at = now - timedelta(minutes=i)
            conversation_rows.append(
                {
                    "id": first_conversation + i,
                    "public_id": uuid.uuid4(),
                    "bot_conversation_id": uuid.uuid4(),
                    "competition_id": competition.pk,
                    "language": "en" if i % 3 else "ko",
                    "partner_kind": "bot",
                    "bot_id": bot.pk,
                    "evaluator_a_id": evaluator,
                    "alias_a": "Partner",
                    "alias_b": "Partner",
                    "first_speaker": "a",
                    "status": "ended",
                    "end_reason": "time",
                    "last_seq": MESSAGES_PER_CONVERSATION,
                    "started_at": started_at,
                    "deadline_at": started_at + timedelta(minutes=5),
                    "ended_at": started_at + timedelta(minutes=5),
                }
            )
            judgment_rows.append(
                {
                    "conversation_id": first_conversation + i,
                    "evaluator_id": evaluator,
                    "competition_id": competition.pk,
                    "bot_id": bot.pk,
                    "partner_kind": "bot",
                    "verdict": rng.choice(["bot", "human"]),
                    "confidence": rng.randint(1, 5),
                    "ratings": ratings,
                    "reason": "It felt scripted.",
                    "message_count": MESSAGES_PER_CONVERSATION,
                    "created_at": started_at + timedelta(minutes=6),
                }
            )
        _copy(cursor, Conversation, conversation_rows)
        _sequence_reset(cursor, Conversation)
        sentences = [" ".join(rng.choices(WORDS, k=rng.randint(3, 14))) for _ in range(997)]
        chunk = 50_000 // MESSAGES_PER_CONVERSATION
        for offset in range(0, conversations, chunk):
            message_rows = []
            for i in range(offset, min(offset + chunk, conversations)):
                base = now - timedelta(minutes=i)
                for seq in range(1, MESSAGES_PER_CONVERSATION + 1):
                    text = sentences[(i * 31 + seq) % len(sentences)]
                    flagged = seq == 7 and i % 50 == 0
                    side = "a" if seq % 2 else "b"
                    message_rows.append(
                        {
                            "conversation_id": first_conversation + i,
                            "seq": seq,
                            "side": side,
                            "text": text,
                            "delivered_text": "*****" if flagged else text,
                            "flagged": flagged,
                            "bot_latency_ms": None if side == "a" else 900.5,
                            "created_at": base + timedelta(seconds=seq * 10),
                        }
                    )
            _copy(cursor, Message, message_rows)
        _copy(cursor, Judgment, judgment_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Filled in {time.perf_counter() - started:.1f} s.", flush=True)


def measure_baseline() -> dict:
    from django.db import connection

    from competitions.models import Competition

    competition = Competition.objects.get(slug=SLUG)
    queries = [
        "SELECT c.id, c.language, c.partner_kind, c.bot_id, c.evaluator_a_id, m.seq, m.side, m.delivered_text, "
        "m.flagged, m.created_at, m.bot_latency_ms FROM chat_message m JOIN chat_conversation c "
        f"ON c.id = m.conversation_id WHERE c.competition_id = {competition.pk} ORDER BY c.id, m.seq",
        "SELECT c.id, c.language, c.partner_kind, j.bot_id, j.evaluator_id, j.verdict, j.confidence, j.ratings, "
        "j.reason, j.message_count, j.created_at FROM chat_judgment j JOIN chat_conversation c "
        f"ON c.id = j.conversation_id WHERE c.competition_id = {competition.pk} ORDER BY c.id, j.id",
    ]
    from exports.builder import copy_csv_out

    started = time.perf_counter()
    size = 0
    with connection.cursor() as cursor:
        for query in queries:
            with tempfile.TemporaryFile() as sink:
                copy_csv_out(cursor.cursor, query, sink)
                size += sink.tell()
    return {"seconds": time.perf_counter() - started, "bytes": size}


def measure_export(fmt: str) -> dict:
    from competitions.models import Competition
    from exports.models import ExportJob
    from exports.services import export_job_run

    competition = Competition.objects.get(slug=SLUG)
    job = ExportJob.objects.create(competition=competition, scope="all", format=fmt)
    started = time.perf_counter()
    job = export_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    if job.status != "done":
        raise SystemExit(f"export failed: {job.error}")
    result = {"seconds": seconds, "bytes": job.file_size, "rows": job.rows_written, "counts": job.counts}
    job.file.delete(save=False)
    job.delete()
    return result


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over from the parent
    across fork and exec, so a child would report the (larger) benchmark driver's peak as its own."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def child(url: str, what: str) -> None:
    setup_django(url)
    result = measure_baseline() if what == "baseline" else measure_export(what)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_child(url: str, what: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--database-url", url, "--child", what],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_median(url: str, what: str, runs: int) -> dict:
    """The run with the median time (the disk and the shared cores make single runs noisy); peak RSS is the
    highest of all runs."""
    results = sorted((run_child(url, what) for _ in range(runs)), key=lambda r: r["seconds"])
    median = dict(results[len(results) // 2])
    median["peak_rss_mb"] = max(r["peak_rss_mb"] for r in results)
    median["range"] = f"[{results[0]['seconds']:.2f}-{results[-1]['seconds']:.2f}]"
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_EXPORT_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (the median is reported)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.database_url, args.child)
        return
    filled = ensure_database(args.database_url, args.messages)
    setup_django(args.database_url)
    if filled:
        print(f"Reusing the filled database ({args.messages:,} messages).")
    else:
        fill(args.messages)
    print(
        f"Each figure is the median of {args.runs} runs (min-max in brackets); load average {os.getloadavg()[0]:.2f}."
    )
    baseline = run_median(args.database_url, "baseline", args.runs)
    print(
        f"baseline  COPY TO csv : {baseline['seconds']:6.2f} s {baseline['range']}  "
        f"peak RSS {baseline['peak_rss_mb']:6.0f} MB  {baseline['bytes'] / 1e6:6.1f} MB"
    )
    ok = True
    for fmt in ("parquet", "csv"):
        result = run_median(args.database_url, fmt, args.runs)
        ratio = result["seconds"] / baseline["seconds"]
        within = ratio <= 3 and result["peak_rss_mb"] < 500
        ok &= within
        print(
            f"export    {fmt:<13}: {result['seconds']:6.2f} s {result['range']}  "
            f"peak RSS {result['peak_rss_mb']:6.0f} MB  zip {result['bytes'] / 1e6:6.1f} MB  rows {result['rows']:,}  "
            f"ratio {ratio:4.2f}x  {'OK' if within else 'OVER GOAL'}"
        )
    print("goal: ratio <= 3.0x and peak RSS < 500 MB:", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
