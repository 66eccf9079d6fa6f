"""Running tallies of judgments, chats and reply latencies, kept by Postgres triggers.

A full recompute used to read every judgment (seconds for a million). The triggers instead add each change to a few
thousand tally rows, in the same transaction as the change, so nothing a crashed worker did can be half-counted:

- a judgment inserted, updated or deleted (statement triggers over the transition tables, so a COPY of a million
  judgments is counted in one grouped pass);
- a chat whose status changes (bot failed or not), an evaluator suspended, reinstated or passing onboarding, and a
  competition's `min_turns_to_count` changed: each moves the judgments it concerns from one state to another (the
  last one recounts the competition);
- answered bot turns (`BotCall`), into 1%-wide latency buckets for the median.

Each judgment is in one state, its first reason not to count: short, bot_failed, excluded_evaluator, or counted.
The state depends on rows other than the judgment, so the judgment triggers lock the evaluator rows they read (FOR
SHARE): a suspension committed meanwhile waits, then moves the new judgment too. A min_turns change locks the
judgments table while it recounts.

On other databases (SQLite, the embedded default) there are no tallies: the leaderboard runs its portable queries.
`tallies_rebuild` recounts from the rows (the management command `leaderboard_tallies`); tests check that the
tallies always equal the recount.
"""

import math

from django.db import connection, transaction
from django.db.models import Sum

from chat.models import Conversation, Evaluator, Judgment
from competitions.models import Bot, BotCall, Competition

from .models import ChatTally, EvaluatorTally, JudgmentTally, LatencyTally, RatingTally

COMPETITION = Competition._meta.db_table
CONVERSATION = Conversation._meta.db_table
EVALUATOR = Evaluator._meta.db_table
JUDGMENT = Judgment._meta.db_table
BOT = Bot._meta.db_table
BOT_CALL = BotCall._meta.db_table
JUDGMENT_TALLY = JudgmentTally._meta.db_table
RATING_TALLY = RatingTally._meta.db_table
EVALUATOR_TALLY = EvaluatorTally._meta.db_table
CHAT_TALLY = ChatTally._meta.db_table
LATENCY_TALLY = LatencyTally._meta.db_table
TALLY_MODELS = (JudgmentTally, RatingTally, EvaluatorTally, ChatTally, LatencyTally)

COUNTED = JudgmentTally.State.COUNTED.value
SHORT = JudgmentTally.State.SHORT.value
BOT_FAILED = JudgmentTally.State.BOT_FAILED.value
EXCLUDED_EVALUATOR = JudgmentTally.State.EXCLUDED_EVALUATOR.value
FAILED_STATUS = Conversation.Status.BOT_FAILED.value
ACTIVE_STATUS = Conversation.Status.ACTIVE.value
SUSPENDED = Evaluator.Status.SUSPENDED.value
HUMAN_VERDICT = Judgment.Verdict.HUMAN.value

LATENCY_BUCKETS_PER_E = 100  # bucket = floor(100 · ln(1 + latency_ms)): 1% wide


def _state(*, failed: str, excluded: str) -> str:
    """The judgment's state, from `j` (the judgment), `comp` (its competition) and the two flags given as SQL."""
    return (
        f"CASE WHEN j.message_count < comp.min_turns_to_count THEN '{SHORT}' "
        f"WHEN {failed} THEN '{BOT_FAILED}' WHEN {excluded} THEN '{EXCLUDED_EVALUATOR}' ELSE '{COUNTED}' END"
    )


CHAT_FAILED = f"coalesce(conv.status = '{FAILED_STATUS}', false)"
EVALUATOR_EXCLUDED = (
    f"coalesce(ev.status = '{SUSPENDED}' OR (ev.id IS NOT NULL AND ev.onboarding_passed_at IS NULL), false)"
)
JUDGMENT_COLUMNS = (
    "j.competition_id, j.bot_id, j.partner_kind, j.evaluator_id, j.verdict, j.confidence, j.ratings, "
    "j.message_count, j.created_at"
)


def _judgments_with_state(rows: str, sign: str) -> str:
    """Changes (sign, judgment columns, state) for the judgments in `rows`, their state read from the current rows."""
    return f"""
        SELECT {sign} AS sign, {JUDGMENT_COLUMNS}, {_state(failed=CHAT_FAILED, excluded=EVALUATOR_EXCLUDED)} AS state
        FROM {rows} j
        JOIN {COMPETITION} comp ON comp.id = j.competition_id
        LEFT JOIN {CONVERSATION} conv ON conv.id = j.conversation_id
        LEFT JOIN {EVALUATOR} ev ON ev.competition_id = j.competition_id AND ev.user_id = j.evaluator_id
    """  # noqa: S608


def _judgment_upserts(changes: str) -> str:
    """Three statements adding the changes (a query with sign, judgment columns and state) to the tallies.

    Rows are upserted in key order, so two transactions adding to the same tallies lock them in the same order.
    Identical ratings objects are counted together before they are taken apart (a few thousand sets of 1–5
    ratings instead of a million): a recount of a million judgments took 14 s in jsonb_each alone. Ratings that are
    not an object of numbers (only an admin edit could save them) add nothing, as in the portable queries.
    """
    counted_or_excluded = f"state IN ('{COUNTED}', '{EXCLUDED_EVALUATOR}')"
    return f"""
        WITH changes AS ({changes})
        INSERT INTO {JUDGMENT_TALLY} AS t (competition_id, bot_id, day, state, judgments, judged_human, confidence_sum)
        SELECT competition_id, bot_id, (created_at AT TIME ZONE 'UTC')::date, state, SUM(sign),
            coalesce(SUM(sign) FILTER (WHERE verdict = '{HUMAN_VERDICT}'), 0), SUM(sign * confidence)
        FROM changes GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (competition_id, bot_id, day, state) DO UPDATE SET
            judgments = t.judgments + EXCLUDED.judgments,
            judged_human = t.judged_human + EXCLUDED.judged_human,
            confidence_sum = t.confidence_sum + EXCLUDED.confidence_sum;

        WITH changes AS ({changes}),
        rating_sets AS (
            SELECT competition_id, bot_id, ratings, SUM(sign) AS times FROM changes
            WHERE state = '{COUNTED}' AND jsonb_typeof(ratings) = 'object'
            GROUP BY 1, 2, 3
        )
        INSERT INTO {RATING_TALLY} AS t (competition_id, bot_id, criterion, ratings, total, total_sq)
        SELECT c.competition_id, c.bot_id, r.key, SUM(c.times), SUM(c.times * r.value::float8),
            SUM(c.times * r.value::float8 * r.value::float8)
        FROM rating_sets c CROSS JOIN LATERAL jsonb_each(c.ratings) AS r(key, value)
        WHERE jsonb_typeof(r.value) = 'number'
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (competition_id, bot_id, criterion) DO UPDATE SET
            ratings = t.ratings + EXCLUDED.ratings,
            total = t.total + EXCLUDED.total,
            total_sq = t.total_sq + EXCLUDED.total_sq;

        WITH changes AS ({changes})
        INSERT INTO {EVALUATOR_TALLY} AS t (competition_id, user_id, judgments, short, bot_failed, valid, correct)
        SELECT competition_id, evaluator_id, SUM(sign),
            coalesce(SUM(sign) FILTER (WHERE state = '{SHORT}'), 0),
            coalesce(SUM(sign) FILTER (WHERE state = '{BOT_FAILED}'), 0),
            coalesce(SUM(sign) FILTER (WHERE {counted_or_excluded}), 0),
            coalesce(SUM(sign) FILTER (WHERE {counted_or_excluded} AND verdict = partner_kind), 0)
        FROM changes GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (competition_id, user_id) DO UPDATE SET
            judgments = t.judgments + EXCLUDED.judgments,
            short = t.short + EXCLUDED.short,
            bot_failed = t.bot_failed + EXCLUDED.bot_failed,
            valid = t.valid + EXCLUDED.valid,
            correct = t.correct + EXCLUDED.correct;
    """  # noqa: S608


def _lock_standing(rows: str) -> str:
    """Lock the evaluator rows the judgments' state is read from, so a concurrent suspension waits for this
    transaction and then moves these judgments too. (A min_turns change locks the judgments table instead, so that
    saving a judgment need not lock its competition's one row.)"""
    return f"""
        PERFORM 1 FROM {EVALUATOR} ev
            WHERE (ev.competition_id, ev.user_id) IN (SELECT competition_id, evaluator_id FROM {rows})
            ORDER BY ev.id FOR SHARE;
    """  # noqa: S608


def _chat_upsert(changes: str) -> str:
    """Add chat changes (sign, competition_id, bot_id, partner_kind, status) to the bots' chat tallies."""
    return f"""
        WITH changes AS ({changes})
        INSERT INTO {CHAT_TALLY} AS t (competition_id, bot_id, finished, failed)
        SELECT competition_id, bot_id, SUM(sign), coalesce(SUM(sign) FILTER (WHERE status = '{FAILED_STATUS}'), 0)
        FROM changes WHERE partner_kind = 'bot' AND bot_id IS NOT NULL AND status <> '{ACTIVE_STATUS}'
        GROUP BY 1, 2 ORDER BY 2
        ON CONFLICT (bot_id) DO UPDATE SET
            finished = t.finished + EXCLUDED.finished, failed = t.failed + EXCLUDED.failed;
    """  # noqa: S608


def _latency_upsert(rows: str, sign: str) -> str:
    """Add the answered turn calls among `rows` (BotCall rows) to the latency histograms."""
    return f"""
        INSERT INTO {LATENCY_TALLY} AS t (competition_id, bot_id, bucket, calls)
        SELECT b.competition_id, c.bot_id,
            floor({LATENCY_BUCKETS_PER_E} * ln(1 + greatest(c.latency_ms, 0)))::int, {sign} * COUNT(*)
        FROM {rows} c JOIN {BOT} b ON b.id = c.bot_id
        WHERE c.purpose = '{BotCall.Purpose.TURN.value}' AND c.ok AND c.latency_ms IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 2, 3
        ON CONFLICT (bot_id, bucket) DO UPDATE SET calls = t.calls + EXCLUDED.calls;
    """  # noqa: S608


def _judgments_rebuild(competition: str) -> str:
    """Recount a competition's judgment tallies; the judgments are read and their state worked out once."""
    judgments = f"(SELECT * FROM {JUDGMENT} WHERE competition_id = {competition})"  # noqa: S608
    return f"""
        DELETE FROM {JUDGMENT_TALLY} WHERE competition_id = {competition};
        DELETE FROM {RATING_TALLY} WHERE competition_id = {competition};
        DELETE FROM {EVALUATOR_TALLY} WHERE competition_id = {competition};
        CREATE TEMPORARY TABLE leaderboard_recount ON COMMIT DROP AS {_judgments_with_state(judgments, "1")};
        ANALYZE leaderboard_recount;
        {_judgment_upserts("SELECT * FROM leaderboard_recount")}
        DROP TABLE leaderboard_recount;
    """  # noqa: S608


def _competition_rebuild(competition: str) -> str:
    chats = (
        f"SELECT 1 AS sign, competition_id, bot_id, partner_kind, status FROM {CONVERSATION} "  # noqa: S608
        f"WHERE competition_id = {competition}"
    )
    calls = (
        f"(SELECT * FROM {BOT_CALL} WHERE bot_id IN "  # noqa: S608
        f"(SELECT id FROM {BOT} WHERE competition_id = {competition}))"
    )
    return f"""
        {_judgments_rebuild(competition)}
        DELETE FROM {CHAT_TALLY} WHERE competition_id = {competition};
        {_chat_upsert(chats)}
        DELETE FROM {LATENCY_TALLY} WHERE competition_id = {competition};
        {_latency_upsert(calls, "1")}
    """  # noqa: S608


def _function(name: str, body: str, *, declare: str = "", returns: str = "trigger", arguments: str = "") -> str:
    return f"""
        CREATE OR REPLACE FUNCTION {name}({arguments}) RETURNS {returns} LANGUAGE plpgsql AS $body$
        {declare}
        BEGIN
        {body}
        {"RETURN NULL;" if returns == "trigger" else ""}
        END;
        $body$;
    """


def _moves(*, joins: str, where: str, failed: tuple[str, str], excluded: tuple[str, str]) -> str:
    """Changes moving the judgments `where` selects from their old state (failed[0], excluded[0]) to the new one."""
    state = _state(failed="s.failed", excluded="s.excluded")
    return f"""
        SELECT s.sign, {JUDGMENT_COLUMNS}, {state} AS state
        FROM {JUDGMENT} j
        JOIN {COMPETITION} comp ON comp.id = j.competition_id
        {joins}
        CROSS JOIN LATERAL (VALUES (-1, {failed[0]}, {excluded[0]}), (1, {failed[1]}, {excluded[1]}))
            AS s(sign, failed, excluded)
        WHERE {where}
    """  # noqa: S608


_EVALUATOR_FLAGS = f"""
    v_was := TG_OP <> 'INSERT' AND (OLD.status = '{SUSPENDED}' OR OLD.onboarding_passed_at IS NULL);
    v_is := TG_OP <> 'DELETE' AND (NEW.status = '{SUSPENDED}' OR NEW.onboarding_passed_at IS NULL);
    IF v_was = v_is THEN RETURN NULL; END IF;
    IF TG_OP = 'DELETE' THEN v_row := OLD; ELSE v_row := NEW; END IF;
"""

_CONVERSATION_FAILED_MOVE = _judgment_upserts(
    _moves(
        joins=f"LEFT JOIN {EVALUATOR} ev ON ev.competition_id = j.competition_id AND ev.user_id = j.evaluator_id",
        where="j.conversation_id = NEW.id",
        failed=(f"OLD.status = '{FAILED_STATUS}'", f"NEW.status = '{FAILED_STATUS}'"),
        excluded=(EVALUATOR_EXCLUDED, EVALUATOR_EXCLUDED),
    )
)

INSTALL = "\n".join(
    [
        _function(
            "leaderboard_tallies_rebuild",
            _competition_rebuild("p_competition"),
            arguments="p_competition integer",
            returns="void",
        ),
        _function(
            "leaderboard_judgment_inserted",
            _lock_standing("new_rows") + _judgment_upserts(_judgments_with_state("new_rows", "1")),
        ),
        _function(
            "leaderboard_judgment_deleted",
            _lock_standing("old_rows") + _judgment_upserts(_judgments_with_state("old_rows", "-1")),
        ),
        _function(
            "leaderboard_judgment_updated",
            _lock_standing("new_rows")
            + _judgment_upserts(
                f"{_judgments_with_state('old_rows', '-1')} UNION ALL {_judgments_with_state('new_rows', '1')}"
            ),
        ),
        _function(
            "leaderboard_evaluator_changed",
            _EVALUATOR_FLAGS
            + _judgment_upserts(
                _moves(
                    joins=f"LEFT JOIN {CONVERSATION} conv ON conv.id = j.conversation_id",
                    where="j.competition_id = v_row.competition_id AND j.evaluator_id = v_row.user_id",
                    failed=(CHAT_FAILED, CHAT_FAILED),
                    excluded=("v_was", "v_is"),
                )
            ),
            declare="DECLARE v_was boolean; v_is boolean; v_row record;",
        ),
        _function(
            "leaderboard_conversation_status_changed",
            _chat_upsert(
                "SELECT -1 AS sign, OLD.competition_id, OLD.bot_id, OLD.partner_kind, OLD.status "
                "UNION ALL SELECT 1, NEW.competition_id, NEW.bot_id, NEW.partner_kind, NEW.status"
            )
            + f"""
            IF (OLD.status = '{FAILED_STATUS}') <> (NEW.status = '{FAILED_STATUS}') THEN
                {_CONVERSATION_FAILED_MOVE}
            END IF;
            """,
        ),
        _function(
            "leaderboard_conversations_inserted",
            _chat_upsert("SELECT 1 AS sign, competition_id, bot_id, partner_kind, status FROM new_rows"),
        ),
        _function(
            "leaderboard_conversations_deleted",
            _chat_upsert("SELECT -1 AS sign, competition_id, bot_id, partner_kind, status FROM old_rows"),
        ),
        _function("leaderboard_bot_calls_inserted", _latency_upsert("new_rows", "1")),
        _function("leaderboard_bot_calls_deleted", _latency_upsert("old_rows", "-1")),
        _function(
            "leaderboard_min_turns_changed",
            # Waits for judgments being saved and holds new ones until the recount commits: it sees them all, and
            # they see the new minimum.
            f"LOCK TABLE {JUDGMENT} IN SHARE MODE;" + _judgments_rebuild("NEW.id"),
        ),
        _function(
            "leaderboard_competition_deleted",
            "\n".join(
                f"DELETE FROM {table} WHERE competition_id = OLD.id;"  # noqa: S608
                for table in (model._meta.db_table for model in TALLY_MODELS)
            ),
        ),
        _function(
            "leaderboard_bot_deleted",
            "\n".join(
                f"DELETE FROM {table} WHERE bot_id = OLD.id;"  # noqa: S608
                for table in (JUDGMENT_TALLY, RATING_TALLY, CHAT_TALLY, LATENCY_TALLY)
            ),
        ),
        f"""
        CREATE TRIGGER leaderboard_judgment_inserted AFTER INSERT ON {JUDGMENT}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_judgment_inserted();
        CREATE TRIGGER leaderboard_judgment_deleted AFTER DELETE ON {JUDGMENT}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_judgment_deleted();
        CREATE TRIGGER leaderboard_judgment_updated AFTER UPDATE ON {JUDGMENT}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_judgment_updated();
        CREATE TRIGGER leaderboard_evaluator_changed
            AFTER INSERT OR DELETE OR UPDATE OF status, onboarding_passed_at ON {EVALUATOR}
            FOR EACH ROW EXECUTE FUNCTION leaderboard_evaluator_changed();
        CREATE TRIGGER leaderboard_conversation_status_changed AFTER UPDATE OF status ON {CONVERSATION}
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
            EXECUTE FUNCTION leaderboard_conversation_status_changed();
        CREATE TRIGGER leaderboard_conversations_inserted AFTER INSERT ON {CONVERSATION}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_conversations_inserted();
        CREATE TRIGGER leaderboard_conversations_deleted AFTER DELETE ON {CONVERSATION}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_conversations_deleted();
        CREATE TRIGGER leaderboard_bot_calls_inserted AFTER INSERT ON {BOT_CALL}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_bot_calls_inserted();
        CREATE TRIGGER leaderboard_bot_calls_deleted AFTER DELETE ON {BOT_CALL}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_bot_calls_deleted();
        CREATE TRIGGER leaderboard_min_turns_changed AFTER UPDATE OF min_turns_to_count ON {COMPETITION}
            FOR EACH ROW WHEN (OLD.min_turns_to_count IS DISTINCT FROM NEW.min_turns_to_count)
            EXECUTE FUNCTION leaderboard_min_turns_changed();
        CREATE TRIGGER leaderboard_competition_deleted AFTER DELETE ON {COMPETITION}
            FOR EACH ROW EXECUTE FUNCTION leaderboard_competition_deleted();
        CREATE TRIGGER leaderboard_bot_deleted AFTER DELETE ON {BOT}
            FOR EACH ROW EXECUTE FUNCTION leaderboard_bot_deleted();
        """,
    ]
)

TRIGGERS = {
    "leaderboard_judgment_inserted": JUDGMENT,
    "leaderboard_judgment_deleted": JUDGMENT,
    "leaderboard_judgment_updated": JUDGMENT,
    "leaderboard_evaluator_changed": EVALUATOR,
    "leaderboard_conversation_status_changed": CONVERSATION,
    "leaderboard_conversations_inserted": CONVERSATION,
    "leaderboard_conversations_deleted": CONVERSATION,
    "leaderboard_bot_calls_inserted": BOT_CALL,
    "leaderboard_bot_calls_deleted": BOT_CALL,
    "leaderboard_min_turns_changed": COMPETITION,
    "leaderboard_competition_deleted": COMPETITION,
    "leaderboard_bot_deleted": BOT,
}
UNINSTALL = "\n".join(
    [f"DROP TRIGGER IF EXISTS {name} ON {table};" for name, table in TRIGGERS.items()]
    + [f"DROP FUNCTION IF EXISTS {name}();" for name in TRIGGERS]
    + ["DROP FUNCTION IF EXISTS leaderboard_tallies_rebuild(integer);"]
)


def tallies_kept() -> bool:
    return connection.vendor == "postgresql"


def tallies_rebuild(*, competition_id: int) -> None:
    """Recount one competition's tallies from its rows (after a bulk load with triggers off, or to verify)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT leaderboard_tallies_rebuild(%s)", [competition_id])


# Reading the tallies: rows of the same shape as the portable queries in leaderboard.aggregates.


def exclusion_counts(competition_id: int) -> dict[str, int]:
    by_state = dict(
        JudgmentTally.objects.filter(competition_id=competition_id)
        .values_list("state")
        .annotate(n=Sum("judgments"))
        .order_by()
    )
    return {
        "total": sum(by_state.values()),
        "short": by_state.get(SHORT, 0),
        "bot_failed": by_state.get(BOT_FAILED, 0),
        "excluded_evaluator": by_state.get(EXCLUDED_EVALUATOR, 0),
    }


def per_partner(competition_id: int, keys: list[str]) -> list[dict]:
    """Per bot (None = human partners): n, human, confidence_sum and c{i}_n, c{i}_sum, c{i}_sumsq per criterion."""
    rows = {
        row["bot_id"]: row
        for row in JudgmentTally.objects.filter(competition_id=competition_id, state=COUNTED)
        .values("bot_id")
        .annotate(n=Sum("judgments"), human=Sum("judged_human"), confidence_sum=Sum("confidence_sum"))
        .order_by()
        if row["n"]
    }
    for row in rows.values():
        for index in range(len(keys)):
            row.update({f"c{index}_n": 0, f"c{index}_sum": 0.0, f"c{index}_sumsq": 0.0})
    index_of = {key: index for index, key in enumerate(keys)}
    ratings = RatingTally.objects.filter(competition_id=competition_id, criterion__in=keys, ratings__gt=0)
    for bot_id, criterion, count, total, total_sq in ratings.values_list(
        "bot_id", "criterion", "ratings", "total", "total_sq"
    ):
        if bot_id in rows:
            index = index_of[criterion]
            rows[bot_id].update({f"c{index}_n": count, f"c{index}_sum": total, f"c{index}_sumsq": total_sq})
    return list(rows.values())


def per_bot_day(competition_id: int) -> list[dict]:
    kept = JudgmentTally.objects.filter(
        competition_id=competition_id, state=COUNTED, bot__isnull=False, judgments__gt=0
    )
    return [
        {"bot_id": bot_id, "day": day, "n": n, "human": human}
        for bot_id, day, n, human in kept.values_list("bot_id", "day", "judgments", "judged_human")
    ]


def per_evaluator(competition_id: int) -> list[dict]:
    kept = EvaluatorTally.objects.filter(competition_id=competition_id, valid__gt=0)
    return [
        {"evaluator_id": user_id, "n": valid, "correct": correct}
        for user_id, valid, correct in kept.values_list("user_id", "valid", "correct")
    ]


def chats_per_bot(competition_id: int) -> dict[int, tuple[int, int]]:
    kept = ChatTally.objects.filter(competition_id=competition_id, finished__gt=0)
    rows = kept.values_list("bot_id", "finished", "failed")
    return {bot_id: (finished, failed) for bot_id, finished, failed in rows}


def bucket_midpoint(bucket: int) -> float:
    return math.exp((bucket + 0.5) / LATENCY_BUCKETS_PER_E) - 1


def median_latency_per_bot(competition_id: int) -> dict[int, float]:
    """The median as percentile_cont gives it (the mean of the two middle values when the count is even), each middle
    value read as its bucket's midpoint: within 0.5% of the exact median."""
    sql = f"""
        SELECT bot_id, MIN(bucket) FILTER (WHERE below >= (n + 1) / 2), MIN(bucket) FILTER (WHERE below >= n / 2 + 1)
        FROM (
            SELECT bot_id, bucket,
                SUM(calls) OVER (PARTITION BY bot_id ORDER BY bucket ROWS UNBOUNDED PRECEDING) AS below,
                SUM(calls) OVER (PARTITION BY bot_id) AS n
            FROM {LATENCY_TALLY} WHERE competition_id = %s AND calls > 0
        ) histogram
        GROUP BY bot_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [competition_id])
        return {
            bot_id: (bucket_midpoint(lower) + bucket_midpoint(upper)) / 2 for bot_id, lower, upper in cursor.fetchall()
        }


def _tally_rows(competition_id: int) -> set[tuple]:
    """Every non-zero tally row of a competition, without ids (a recount does not write rows that count nothing)."""
    rows = set()
    for model in TALLY_MODELS:
        counts = [field.attname for field in model._meta.concrete_fields if field.get_default() == 0]
        keys = [f.attname for f in model._meta.concrete_fields if not f.primary_key and f.attname not in counts]
        for row in model.objects.filter(competition_id=competition_id).values(*keys, *counts):
            if any(row[name] for name in counts):
                values = tuple(round(value, 6) if isinstance(value, float) else value for value in row.values())
                rows.add((model.__name__, *values))
    return rows


def tallies_drift(*, competition_id: int) -> set[tuple]:
    """Tally rows that differ from a recount (empty when the tallies are right). Changes nothing."""
    kept = _tally_rows(competition_id)
    with transaction.atomic():
        tallies_rebuild(competition_id=competition_id)
        recounted = _tally_rows(competition_id)
        transaction.set_rollback(True)
    return kept ^ recounted
