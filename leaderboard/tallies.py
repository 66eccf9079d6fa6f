"""Running tallies of judgments, chats and reply latencies, kept by Postgres triggers.

A full recompute used to read every judgment (seconds for a million). The triggers instead add each change to a few
thousand tally rows, in the same transaction as the change, so nothing a crashed worker did can be half-counted:

- a judgment inserted, updated or deleted (statement triggers over the transition tables, so a COPY of a million
  judgments is counted in one grouped pass);
- a chat whose status or end changes (bot failed or not), an evaluator suspended, reinstated or passing onboarding,
  messages added to or removed from a judged chat: each moves the judgments it concerns from one state (or response
  pattern) to another;
- a competition's `min_turns_to_count`, criteria keys or pattern thresholds (`fast_seconds`, `silent_max_messages`)
  changed: the competition's judgments are recounted;
- two-party chats finished or failed; a game's bot conversation is taken out of them when the game is made;
- answered bot turns (`BotCall`), into 1%-wide latency buckets for the median.

Each judgment is in one state, its first reason not to count: short, bot_failed, excluded_evaluator, or counted.
The state depends on rows other than the judgment, so the judgment triggers lock the evaluator rows they read (FOR
SHARE): a suspension committed meanwhile waits, then moves the new judgment too. A change of the counting rules locks
the judgments table while it recounts. Messages are not locked: a chat ends before it is judged, so no message is
saved while a judgment of its chat is.

On other databases (SQLite, the embedded default) there are no tallies: the leaderboard runs its portable queries.
`tallies_rebuild` recounts from the rows (the management command `leaderboard_tallies`); tests check that the
tallies always equal the recount.
"""

import math

import numpy as np
from django.db import connection, transaction
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import Sum

from chat.models import Conversation, Evaluator, Game, Judgment, Message
from competitions.models import Bot, BotCall, Competition

from .models import ChatTally, EvaluatorPartnerTally, EvaluatorTally, JudgmentTally, LatencyTally, RatingTally
from .rater_quality import ExclusionRules, Pattern

COMPETITION = Competition._meta.db_table
CONVERSATION = Conversation._meta.db_table
EVALUATOR = Evaluator._meta.db_table
JUDGMENT = Judgment._meta.db_table
BOT = Bot._meta.db_table
BOT_CALL = BotCall._meta.db_table
JUDGMENT_TALLY = JudgmentTally._meta.db_table
RATING_TALLY = RatingTally._meta.db_table
EVALUATOR_TALLY = EvaluatorTally._meta.db_table
EVALUATOR_PARTNER_TALLY = EvaluatorPartnerTally._meta.db_table
MESSAGE = Message._meta.db_table
GAME = Game._meta.db_table
CHAT_TALLY = ChatTally._meta.db_table
LATENCY_TALLY = LatencyTally._meta.db_table
TALLY_MODELS = (JudgmentTally, RatingTally, EvaluatorTally, EvaluatorPartnerTally, ChatTally, LatencyTally)

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
CHAT_JOIN = f"LEFT JOIN {CONVERSATION} conv ON conv.id = j.conversation_id"
EVALUATOR_JOIN = f"LEFT JOIN {EVALUATOR} ev ON ev.competition_id = j.competition_id AND ev.user_id = j.evaluator_id"
CRITERIA = "CASE WHEN jsonb_typeof(comp.criteria) = 'array' THEN comp.criteria ELSE '[]' END"


def _rule(name: str) -> str:
    """A threshold of the competition's exclusion rules, or its default (the defaults of rater_quality: changing one
    needs a migration that installs the triggers again). A value that is not a number is read as the default, so that
    no admin edit can make saving a judgment fail."""
    default = getattr(ExclusionRules(), name)
    return (
        f"(CASE WHEN jsonb_typeof(comp.exclusion_rules -> '{name}') = 'number' "
        f"THEN (comp.exclusion_rules ->> '{name}')::float8 ELSE {default} END)"
    )


def _rating(key: str) -> str:
    """The judgment's rating for the criterion key (an SQL expression), as float8; NULL unless a number."""
    return f"CASE WHEN jsonb_typeof(j.ratings -> ({key})) = 'number' THEN (j.ratings ->> ({key}))::float8 END"


def _own_messages(conv: str) -> str:
    """The judging evaluator's own messages in the judged chat (`conv` gives the chat's evaluator_a_id)."""
    return (
        f"(SELECT COUNT(*) FROM {MESSAGE} m WHERE m.conversation_id = j.conversation_id "  # noqa: S608
        f"AND m.side = CASE WHEN {conv}.evaluator_a_id = j.evaluator_id THEN 'a' ELSE 'b' END)"
    )


def _changes(
    rows: str,
    *,
    joins: str,
    variants: list[tuple[str, str, str, str, str]],
    where: str = "true",
    rating_values: bool = True,
) -> str:
    """Changes to the tallies from the judgments of `rows` that `where` selects: one row per judgment and variant
    (sign, whether the chat failed, whether the evaluator is excluded, the chat's end, the evaluator's own messages in
    it), with the judgment's columns and what follows from the variant and the competition: its state, whether it
    was sent fast, whether the chat was silent, the hash of its ratings, its first-criterion rating and its ratings in
    the order of the competition's criteria. Columns a statement does not read are not computed (Postgres drops
    them from the inlined query). Without `rating_values` that last column is NULL (a recount reads the ratings
    itself)."""
    ratings = (
        f"""ARRAY(
                SELECT {_rating("k.item ->> 'key'")}
                FROM jsonb_array_elements({CRITERIA}) WITH ORDINALITY AS k(item, position) ORDER BY k.position
            )"""  # noqa: S608
        if rating_values
        else "NULL::float8[]"
    )
    values = ", ".join(f"({', '.join(variant)})" for variant in variants)
    return f"""
        SELECT s.sign, {JUDGMENT_COLUMNS}, {_state(failed="s.failed", excluded="s.excluded")} AS state,
            coalesce(j.created_at < s.ended_at + make_interval(secs => {_rule("fast_seconds")}), false) AS fast,
            s.own_messages <= {_rule("silent_max_messages")} AS silent,
            hashtextextended(j.ratings::text, 0)::numeric AS ratings_hash,
            {_rating("comp.criteria -> 0 ->> 'key'")} AS first_rating,
            {ratings} AS rating_values
        FROM {rows} j
        JOIN {COMPETITION} comp ON comp.id = j.competition_id
        {joins}
        CROSS JOIN LATERAL (VALUES {values}) AS s(sign, failed, excluded, ended_at, own_messages)
        WHERE {where}
    """  # noqa: S608


def _judgments_with_state(rows: str, sign: str) -> str:
    """Changes for the judgments in `rows`, their state read from the current rows."""
    variant = (sign, CHAT_FAILED, EVALUATOR_EXCLUDED, "conv.ended_at", _own_messages("conv"))
    return _changes(rows, joins=f"{CHAT_JOIN} {EVALUATOR_JOIN}", variants=[variant])


def _judgment_upserts(changes: str) -> str:
    """Four statements adding the changes (a query of _changes's columns) to the tallies.

    Rows are upserted in key order, so two transactions adding to the same tallies lock them in the same order.
    Identical ratings objects are counted together before they are taken apart (a few thousand sets of 1–5
    ratings instead of a million): a recount of a million judgments took 14 s in jsonb_each alone. Ratings that are
    not an object of numbers (only an admin edit could save them) add nothing, as in the portable queries.
    """
    return _state_upserts(changes) + _cells_upsert(changes)


def _state_upserts(changes: str) -> str:
    """The per-bot, per-criterion and per-evaluator statements of _judgment_upserts."""
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

        WITH changes AS ({changes}), valid AS (
            SELECT *, {counted_or_excluded} AS valid, verdict = '{HUMAN_VERDICT}' AS says_human FROM changes
        )
        INSERT INTO {EVALUATOR_TALLY} AS t (
            competition_id, user_id, judgments, short, bot_failed, valid, correct, valid_human, fast, silent,
            ratings_hash_sum, ratings_hash_sum_sq, human_verdict_rating_n, human_verdict_rating_sum,
            bot_verdict_rating_n, bot_verdict_rating_sum
        )
        SELECT competition_id, evaluator_id, SUM(sign),
            coalesce(SUM(sign) FILTER (WHERE state = '{SHORT}'), 0),
            coalesce(SUM(sign) FILTER (WHERE state = '{BOT_FAILED}'), 0),
            coalesce(SUM(sign) FILTER (WHERE valid), 0),
            coalesce(SUM(sign) FILTER (WHERE valid AND verdict = partner_kind), 0),
            coalesce(SUM(sign) FILTER (WHERE valid AND says_human), 0),
            coalesce(SUM(sign) FILTER (WHERE valid AND fast), 0),
            coalesce(SUM(sign) FILTER (WHERE valid AND silent), 0),
            coalesce(SUM(sign * ratings_hash) FILTER (WHERE valid), 0),
            coalesce(SUM(sign * ratings_hash * ratings_hash) FILTER (WHERE valid), 0),
            coalesce(SUM(sign) FILTER (WHERE valid AND says_human AND first_rating IS NOT NULL), 0),
            coalesce(SUM(sign * first_rating) FILTER (WHERE valid AND says_human), 0),
            coalesce(SUM(sign) FILTER (WHERE valid AND NOT says_human AND first_rating IS NOT NULL), 0),
            coalesce(SUM(sign * first_rating) FILTER (WHERE valid AND NOT says_human), 0)
        FROM valid GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (competition_id, user_id) DO UPDATE SET
            judgments = t.judgments + EXCLUDED.judgments,
            short = t.short + EXCLUDED.short,
            bot_failed = t.bot_failed + EXCLUDED.bot_failed,
            valid = t.valid + EXCLUDED.valid,
            correct = t.correct + EXCLUDED.correct,
            valid_human = t.valid_human + EXCLUDED.valid_human,
            fast = t.fast + EXCLUDED.fast,
            silent = t.silent + EXCLUDED.silent,
            ratings_hash_sum = t.ratings_hash_sum + EXCLUDED.ratings_hash_sum,
            ratings_hash_sum_sq = t.ratings_hash_sum_sq + EXCLUDED.ratings_hash_sum_sq,
            human_verdict_rating_n = t.human_verdict_rating_n + EXCLUDED.human_verdict_rating_n,
            human_verdict_rating_sum = t.human_verdict_rating_sum + EXCLUDED.human_verdict_rating_sum,
            bot_verdict_rating_n = t.bot_verdict_rating_n + EXCLUDED.bot_verdict_rating_n,
            bot_verdict_rating_sum = t.bot_verdict_rating_sum + EXCLUDED.bot_verdict_rating_sum;

    """  # noqa: S608


def _cells_upsert(changes: str) -> str:
    """The per-evaluator-and-partner statement of _judgment_upserts: ratings summed position by position."""
    return f"""
        WITH changes AS ({changes}), counted AS (
            SELECT competition_id, evaluator_id, coalesce(bot_id, 0) AS partner, bot_id, sign, verdict, confidence,
                rating_values
            FROM changes WHERE state = '{COUNTED}'
        ), per_criterion AS (
            SELECT competition_id, evaluator_id, partner, r.position,
                coalesce(SUM(sign) FILTER (WHERE r.value IS NOT NULL), 0)::float8 AS ratings,
                coalesce(SUM(sign * r.value), 0) AS total
            FROM counted CROSS JOIN LATERAL unnest(counted.rating_values) WITH ORDINALITY AS r(value, position)
            GROUP BY 1, 2, 3, 4
        ), vectors AS (
            SELECT competition_id, evaluator_id, partner, array_agg(ratings ORDER BY position) AS ratings,
                array_agg(total ORDER BY position) AS totals
            FROM per_criterion GROUP BY 1, 2, 3
        ), cells AS (
            SELECT competition_id, evaluator_id, partner, bot_id, SUM(sign) AS judgments,
                coalesce(SUM(sign) FILTER (WHERE verdict = '{HUMAN_VERDICT}'), 0) AS human,
                SUM(sign * confidence) AS confidence_sum
            FROM counted GROUP BY 1, 2, 3, 4
        )
        INSERT INTO {EVALUATOR_PARTNER_TALLY} AS t (
            competition_id, user_id, bot_id, judgments, judged_human, confidence_sum, rating_counts, rating_sums
        )
        SELECT c.competition_id, c.evaluator_id, c.bot_id, c.judgments, c.human, c.confidence_sum,
            coalesce(v.ratings, '{{}}'), coalesce(v.totals, '{{}}')
        FROM cells c LEFT JOIN vectors v
            ON v.competition_id = c.competition_id AND v.evaluator_id = c.evaluator_id AND v.partner = c.partner
        ORDER BY 1, 2, 3
        ON CONFLICT (competition_id, user_id, bot_id) DO UPDATE SET
            judgments = t.judgments + EXCLUDED.judgments,
            judged_human = t.judged_human + EXCLUDED.judged_human,
            confidence_sum = t.confidence_sum + EXCLUDED.confidence_sum,
            rating_counts = leaderboard_vector_add(t.rating_counts, EXCLUDED.rating_counts),
            rating_sums = leaderboard_vector_add(t.rating_sums, EXCLUDED.rating_sums);
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


def _two_party(conversation_id: str) -> str:
    """True unless the conversation is a game's bot conversation (three-party games are scored on their own)."""
    return f"NOT EXISTS (SELECT 1 FROM {GAME} g WHERE g.bot_conversation_id = {conversation_id})"  # noqa: S608


def _chats(rows: str, sign: str) -> str:
    """Chat changes for the two-party conversations among `rows` (conversation rows)."""
    return (
        f"SELECT {sign} AS sign, c.competition_id, c.bot_id, c.partner_kind, c.status FROM {rows} c "  # noqa: S608
        f"WHERE {_two_party('c.id')}"
    )


def _judgments_rebuild(competition: str) -> str:
    """Recount a competition's judgment tallies; the judgments are read and their state worked out once."""
    judgments = f"(SELECT * FROM {JUDGMENT} WHERE competition_id = {competition})"  # noqa: S608
    # The evaluators' own messages in one grouped pass over the competition's messages, not one count per judgment.
    own = (
        f"LEFT JOIN (SELECT m.conversation_id, m.side, COUNT(*) AS n FROM {MESSAGE} m "  # noqa: S608
        f"JOIN {CONVERSATION} c ON c.id = m.conversation_id WHERE c.competition_id = {competition} GROUP BY 1, 2) own "
        "ON own.conversation_id = j.conversation_id "
        "AND own.side = CASE WHEN conv.evaluator_a_id = j.evaluator_id THEN 'a' ELSE 'b' END"
    )
    recount = _changes(
        judgments,
        joins=f"{CHAT_JOIN} {EVALUATOR_JOIN} {own}",
        variants=[("1", CHAT_FAILED, EVALUATOR_EXCLUDED, "conv.ended_at", "coalesce(own.n, 0)")],
        rating_values=False,
    )
    deletes = "\n".join(
        f"DELETE FROM {table} WHERE competition_id = {competition};"  # noqa: S608
        for table in (JUDGMENT_TALLY, RATING_TALLY, EVALUATOR_TALLY, EVALUATOR_PARTNER_TALLY)
    )
    return f"""
        {deletes}
        -- Until the transaction ends: hundreds of thousands of groups hashed in memory rather than spilled to disk, and
        -- no JIT compilation (seconds, for queries that run once).
        PERFORM set_config('work_mem', '256MB', true);
        PERFORM set_config('jit', 'off', true);
        CREATE TEMPORARY TABLE leaderboard_recount ON COMMIT DROP AS {recount};
        ANALYZE leaderboard_recount;
        {_state_upserts("SELECT * FROM leaderboard_recount")}
        {_cells_recount(competition)}
        DROP TABLE leaderboard_recount;
    """  # noqa: S608


def _cells_recount(competition: str) -> str:
    """The per-evaluator-and-partner rows from leaderboard_recount, with one sum per criterion written out for the
    competition's criteria (a statement made for them): working out each judgment's array of ratings, and taking the
    arrays apart and back together as the triggers' upsert does for any criteria, took most of a recount's time."""
    # Made by concatenation: a % in the installed SQL would be read as a parameter.
    number = "jsonb_typeof(ratings -> ' || quote_nullable(k.item ->> 'key') || ') = ''number''"
    value = "(ratings ->> ' || quote_nullable(k.item ->> 'key') || ')::float8"
    counts = f"'coalesce(SUM(sign) FILTER (WHERE {number}), 0)'"
    sums = f"'coalesce(SUM(sign * CASE WHEN {number} THEN {value} END), 0)'"
    return f"""
        EXECUTE (
            SELECT $sql$
                INSERT INTO {EVALUATOR_PARTNER_TALLY} (
                    competition_id, user_id, bot_id, judgments, judged_human, confidence_sum, rating_counts, rating_sums
                )
                SELECT competition_id, evaluator_id, bot_id, SUM(sign),
                    coalesce(SUM(sign) FILTER (WHERE verdict = '{HUMAN_VERDICT}'), 0), SUM(sign * confidence),
                    ARRAY[$sql$ || coalesce(string_agg({counts}, ', ' ORDER BY k.position), '') || $sql$]::float8[],
                    ARRAY[$sql$ || coalesce(string_agg({sums}, ', ' ORDER BY k.position), '') || $sql$]::float8[]
                FROM leaderboard_recount WHERE state = '{COUNTED}' GROUP BY 1, 2, 3
            $sql$
            FROM {COMPETITION} comp
            LEFT JOIN LATERAL jsonb_array_elements({CRITERIA}) WITH ORDINALITY AS k(item, position) ON true
            WHERE comp.id = {competition}
        );
    """  # noqa: S608


def _competition_rebuild(competition: str) -> str:
    chats = f"(SELECT * FROM {CONVERSATION} WHERE competition_id = {competition})"  # noqa: S608
    calls = (
        f"(SELECT * FROM {BOT_CALL} WHERE bot_id IN "  # noqa: S608
        f"(SELECT id FROM {BOT} WHERE competition_id = {competition}))"
    )
    return f"""
        {_judgments_rebuild(competition)}
        DELETE FROM {CHAT_TALLY} WHERE competition_id = {competition};
        {_chat_upsert(_chats(chats, "1"))}
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


def _moves(*, joins: str, where: str, before: tuple[str, ...], after: tuple[str, ...]) -> str:
    """Changes moving the judgments `where` selects from what they were (failed, excluded, chat's end, own messages)
    to what they are."""
    return _changes(JUDGMENT, joins=joins, where=where, variants=[("-1", *before), ("1", *after)])


_EVALUATOR_FLAGS = f"""
    v_was := TG_OP <> 'INSERT' AND (OLD.status = '{SUSPENDED}' OR OLD.onboarding_passed_at IS NULL);
    v_is := TG_OP <> 'DELETE' AND (NEW.status = '{SUSPENDED}' OR NEW.onboarding_passed_at IS NULL);
    IF v_was = v_is THEN RETURN NULL; END IF;
    IF TG_OP = 'DELETE' THEN v_row := OLD; ELSE v_row := NEW; END IF;
"""


def _conversation_move(old: str, new: str) -> str:
    failed = f"coalesce({{}}.status = '{FAILED_STATUS}', false)"
    own = _own_messages(new)
    return _judgment_upserts(
        _moves(
            joins=EVALUATOR_JOIN,
            where=f"j.conversation_id = {new}.id",
            before=(failed.format(old), EVALUATOR_EXCLUDED, f"{old}.ended_at", own),
            after=(failed.format(new), EVALUATOR_EXCLUDED, f"{new}.ended_at", own),
        )
    )


def _messages_move(rows: str, *, before: str) -> str:
    """Move the judgments of chats whose messages `rows` are: the evaluator's own messages were `before` (an SQL
    expression of `own`, their count now, and `moved.n`, the rows' count on that side). While a chat runs it has
    no judgment: one index probe, and nothing to do."""
    moved = (
        f"JOIN (SELECT conversation_id, side, COUNT(*) AS n FROM {rows} GROUP BY 1, 2) moved "  # noqa: S608
        "ON moved.conversation_id = j.conversation_id "
        "AND moved.side = CASE WHEN conv.evaluator_a_id = j.evaluator_id THEN 'a' ELSE 'b' END"
    )
    own = _own_messages("conv")
    upserts = _judgment_upserts(
        _moves(
            joins=f"JOIN {CONVERSATION} conv ON conv.id = j.conversation_id {EVALUATOR_JOIN} {moved}",
            where="true",
            before=(CHAT_FAILED, EVALUATOR_EXCLUDED, "conv.ended_at", before.format(own=own)),
            after=(CHAT_FAILED, EVALUATOR_EXCLUDED, "conv.ended_at", own),
        )
    )
    return f"""
        IF EXISTS (SELECT 1 FROM {rows} m JOIN {JUDGMENT} j ON j.conversation_id = m.conversation_id) THEN
            {upserts}
        END IF;
    """  # noqa: S608


_CHAT_STATUS_MOVE = _chat_upsert(
    "SELECT -1 AS sign, OLD.competition_id, OLD.bot_id, OLD.partner_kind, OLD.status "
    "UNION ALL SELECT 1, NEW.competition_id, NEW.bot_id, NEW.partner_kind, NEW.status"
)
_CONVERSATION_CHANGED = f"""
    IF OLD.status IS DISTINCT FROM NEW.status AND {_two_party("NEW.id")} THEN
        {_CHAT_STATUS_MOVE}
    END IF;
    IF (OLD.status = '{FAILED_STATUS}') IS DISTINCT FROM (NEW.status = '{FAILED_STATUS}')
        OR OLD.ended_at IS DISTINCT FROM NEW.ended_at THEN
        {_conversation_move("OLD", "NEW")}
    END IF;
"""

# The counting rules the judgment tallies depend on; a change recounts the competition.
COUNTING_RULES_CHANGED = (
    "OLD.min_turns_to_count IS DISTINCT FROM NEW.min_turns_to_count "
    "OR jsonb_path_query_array(OLD.criteria, 'lax $[*].key') IS DISTINCT FROM "
    "jsonb_path_query_array(NEW.criteria, 'lax $[*].key') "
    + "".join(
        f"OR OLD.exclusion_rules -> '{name}' IS DISTINCT FROM NEW.exclusion_rules -> '{name}' "
        for name in ("fast_seconds", "silent_max_messages")
    )
)

INSTALL = "\n".join(
    [
        """
        CREATE OR REPLACE FUNCTION leaderboard_vector_add(a float8[], b float8[]) RETURNS float8[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
            SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}')
            FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i)
        $body$;
        """,
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
                    joins=CHAT_JOIN,
                    where="j.competition_id = v_row.competition_id AND j.evaluator_id = v_row.user_id",
                    before=(CHAT_FAILED, "v_was", "conv.ended_at", _own_messages("conv")),
                    after=(CHAT_FAILED, "v_is", "conv.ended_at", _own_messages("conv")),
                )
            ),
            declare="DECLARE v_was boolean; v_is boolean; v_row record;",
        ),
        _function("leaderboard_conversation_changed", _CONVERSATION_CHANGED),
        _function("leaderboard_conversations_inserted", _chat_upsert(_chats("new_rows", "1"))),
        _function("leaderboard_conversations_deleted", _chat_upsert(_chats("old_rows", "-1"))),
        _function(
            "leaderboard_games_inserted",
            _chat_upsert(
                f"SELECT -1 AS sign, c.competition_id, c.bot_id, c.partner_kind, c.status "  # noqa: S608
                f"FROM new_rows g JOIN {CONVERSATION} c ON c.id = g.bot_conversation_id"
            ),
        ),
        _function(
            "leaderboard_games_deleted",
            _chat_upsert(
                f"SELECT 1 AS sign, c.competition_id, c.bot_id, c.partner_kind, c.status "  # noqa: S608
                f"FROM old_rows g JOIN {CONVERSATION} c ON c.id = g.bot_conversation_id"
            ),
        ),
        _function("leaderboard_messages_inserted", _messages_move("new_rows", before="{own} - moved.n")),
        _function("leaderboard_messages_deleted", _messages_move("old_rows", before="{own} + moved.n")),
        _function("leaderboard_bot_calls_inserted", _latency_upsert("new_rows", "1")),
        _function("leaderboard_bot_calls_deleted", _latency_upsert("old_rows", "-1")),
        _function(
            "leaderboard_counting_rules_changed",
            # Waits for judgments being saved and holds new ones until the recount commits: it sees them all, and
            # they see the new rules.
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
                for table in (JUDGMENT_TALLY, RATING_TALLY, EVALUATOR_PARTNER_TALLY, CHAT_TALLY, LATENCY_TALLY)
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
        CREATE TRIGGER leaderboard_conversation_changed AFTER UPDATE OF status, ended_at ON {CONVERSATION}
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.ended_at IS DISTINCT FROM NEW.ended_at)
            EXECUTE FUNCTION leaderboard_conversation_changed();
        CREATE TRIGGER leaderboard_conversations_inserted AFTER INSERT ON {CONVERSATION}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_conversations_inserted();
        CREATE TRIGGER leaderboard_conversations_deleted AFTER DELETE ON {CONVERSATION}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_conversations_deleted();
        CREATE TRIGGER leaderboard_games_inserted AFTER INSERT ON {GAME}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_games_inserted();
        CREATE TRIGGER leaderboard_games_deleted AFTER DELETE ON {GAME}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_games_deleted();
        CREATE TRIGGER leaderboard_messages_inserted AFTER INSERT ON {MESSAGE}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_messages_inserted();
        CREATE TRIGGER leaderboard_messages_deleted AFTER DELETE ON {MESSAGE}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_messages_deleted();
        CREATE TRIGGER leaderboard_bot_calls_inserted AFTER INSERT ON {BOT_CALL}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_bot_calls_inserted();
        CREATE TRIGGER leaderboard_bot_calls_deleted AFTER DELETE ON {BOT_CALL}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION leaderboard_bot_calls_deleted();
        CREATE TRIGGER leaderboard_counting_rules_changed
            AFTER UPDATE OF min_turns_to_count, criteria, exclusion_rules ON {COMPETITION}
            FOR EACH ROW WHEN ({COUNTING_RULES_CHANGED}) EXECUTE FUNCTION leaderboard_counting_rules_changed();
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
    "leaderboard_conversation_changed": CONVERSATION,
    "leaderboard_conversations_inserted": CONVERSATION,
    "leaderboard_conversations_deleted": CONVERSATION,
    "leaderboard_games_inserted": GAME,
    "leaderboard_games_deleted": GAME,
    "leaderboard_messages_inserted": MESSAGE,
    "leaderboard_messages_deleted": MESSAGE,
    "leaderboard_bot_calls_inserted": BOT_CALL,
    "leaderboard_bot_calls_deleted": BOT_CALL,
    "leaderboard_counting_rules_changed": COMPETITION,
    "leaderboard_competition_deleted": COMPETITION,
    "leaderboard_bot_deleted": BOT,
}
# Triggers of earlier versions, dropped when the current ones are installed.
RETIRED_TRIGGERS = {
    "leaderboard_conversation_status_changed": CONVERSATION,
    "leaderboard_min_turns_changed": COMPETITION,
}
UNINSTALL = "\n".join(
    [f"DROP TRIGGER IF EXISTS {name} ON {table};" for name, table in (TRIGGERS | RETIRED_TRIGGERS).items()]
    + [f"DROP FUNCTION IF EXISTS {name}();" for name in TRIGGERS | RETIRED_TRIGGERS]
    + [
        "DROP FUNCTION IF EXISTS leaderboard_tallies_rebuild(integer);",
        "DROP FUNCTION IF EXISTS leaderboard_vector_add(float8[], float8[]);",
    ]
)


def tallies_install(schema_editor, competition_ids) -> None:
    """Install the current triggers and recount every competition (from a migration: the SQL is this module's, so
    the latest migration that calls this installs it; earlier ones must not)."""
    schema_editor.execute(UNINSTALL)
    schema_editor.execute(INSTALL)
    for model in TALLY_MODELS:
        # Room on each page for the next versions of its rows: their updates stay on the page (HOT) and write no index.
        # Not for the per-evaluator-and-partner rows: each is updated rarely (one evaluator judging one partner again)
        # and every recompute reads them all, at twice the size with half-empty pages.
        fillfactor = 100 if model is EvaluatorPartnerTally else 50
        schema_editor.execute(f"ALTER TABLE {model._meta.db_table} SET (fillfactor = {fillfactor})")
    for competition_id in competition_ids:
        schema_editor.execute("SELECT leaderboard_tallies_rebuild(%s)", [competition_id])


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


def _all_equal(n: int, total, total_sq) -> bool:
    """n values with this sum and sum of squares are all equal (n · Σh² = (Σh)², in exact integers)."""
    return n * int(total_sq) == int(total) ** 2


def patterns(competition_id: int) -> dict[int, Pattern]:
    """Each evaluator's response pattern over their valid judgments (rater_quality.Pattern)."""
    kept = EvaluatorTally.objects.filter(competition_id=competition_id, valid__gt=0)
    return {
        row["user_id"]: Pattern(
            judgments=row["valid"],
            human_verdicts=row["valid_human"],
            distinct_ratings=1 if _all_equal(row["valid"], row["ratings_hash_sum"], row["ratings_hash_sum_sq"]) else 2,
            fast=row["fast"],
            silent=row["silent"],
            human_verdict_rating_n=row["human_verdict_rating_n"],
            human_verdict_rating_sum=row["human_verdict_rating_sum"],
            bot_verdict_rating_n=row["bot_verdict_rating_n"],
            bot_verdict_rating_sum=row["bot_verdict_rating_sum"],
        )
        for row in kept.values()
    }


class TalliesOutOfDate(RuntimeError):
    """The per-evaluator rows were counted for other criteria than the competition has (a recount is needed)."""


def evaluator_partner_cells(competition_id: int, criteria: int) -> np.ndarray:
    """The per-evaluator-and-partner rows (aggregates.per_evaluator_partner's columns) as a float array, a human
    partner's bot_id NaN.

    Hundreds of thousands of rows come as one value: each row the binary form of a float8 array (its own columns, then
    its two arrays of rating counts and sums as they are stored), concatenated, which numpy reads in place. Row by
    row they took seconds in Python (as tuples, or as COPY's one message per row); taking each rating out of its
    array in SQL took a third longer.
    """
    width = 5 + 2 * criteria
    row_values = (
        "ARRAY[user_id, coalesce(bot_id::float8, 'NaN'), judgments, judged_human, confidence_sum]::float8[] "
        "|| rating_counts || rating_sums"
    )
    rows = f"FROM {EVALUATOR_PARTNER_TALLY} WHERE competition_id = %s AND judgments > 0"
    sql = f"SELECT string_agg(array_send({row_values}), ''::bytea) {rows}"
    if is_psycopg3:  # the platform's driver: the value comes in binary, not as hex text to encode and decode
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:  # Django's client-side cursors return text only
            cursor.execute(sql, [competition_id], binary=True)
            data = cursor.fetchone()[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, [competition_id])
            data = cursor.fetchone()[0]
    if data is None:
        return np.zeros((0, width))
    # array_send: dimensions, null flag, element type, then length and lower bound of the one dimension; then per
    # element its length and its big-endian value.
    header = [("dimensions", ">i4"), ("has_nulls", ">i4"), ("type", ">u4"), ("size", ">i4"), ("lower", ">i4")]
    row = np.dtype([*header, ("elements", [("length", ">i4"), ("value", ">f8")], (width,))])
    if len(data) % row.itemsize:
        raise TalliesOutOfDate("Run `manage.py leaderboard_tallies --rebuild`: the rating arrays do not fit.")
    rows = np.frombuffer(data, dtype=row)
    if (rows["size"] != width).any() or rows["has_nulls"].any():
        raise TalliesOutOfDate("Run `manage.py leaderboard_tallies --rebuild`: the rating arrays do not fit.")
    stored = rows["elements"]["value"].astype(float)
    cells = np.empty_like(stored)
    cells[:, :5] = stored[:, :5]
    cells[:, 5::2] = stored[:, 5 : 5 + criteria]  # counts and sums, criterion by criterion
    cells[:, 6::2] = stored[:, 5 + criteria :]
    return cells


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


def _comparable(value):
    if isinstance(value, list):
        return tuple(_comparable(item) for item in value)
    return round(value, 6) if isinstance(value, float) else value


def _counts_something(value) -> bool:
    return any(value) if isinstance(value, list) else bool(value)


def _tally_rows(competition_id: int) -> set[tuple]:
    """Every non-zero tally row of a competition, without ids (a recount does not write rows that count nothing)."""
    rows = set()
    for model in TALLY_MODELS:
        counts = [field.attname for field in model._meta.concrete_fields if field.get_default() in (0, [])]
        keys = [f.attname for f in model._meta.concrete_fields if not f.primary_key and f.attname not in counts]
        for row in model.objects.filter(competition_id=competition_id).values(*keys, *counts):
            if any(_counts_something(row[name]) for name in counts):
                rows.add((model.__name__, *(_comparable(value) for value in row.values())))
    return rows


def tallies_drift(*, competition_id: int) -> set[tuple]:
    """Tally rows that differ from a recount (empty when the tallies are right). Changes nothing."""
    kept = _tally_rows(competition_id)
    with transaction.atomic():
        tallies_rebuild(competition_id=competition_id)
        recounted = _tally_rows(competition_id)
        transaction.set_rollback(True)
    return kept ^ recounted
