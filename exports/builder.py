"""Builds one export archive, streaming the database in chunks so memory stays flat.

On Postgres each table is read with `COPY (SELECT ...) TO STDOUT` (on its own connection, in a thread, into a
pipe; into a spool file inside a transaction), pseudonymised in SQL (HMAC-SHA256 with the per-export salt),
and parsed by pyarrow's streaming CSV reader in batches. Elsewhere (SQLite) the same SELECT runs on a plain
cursor read with fetchmany and pseudonyms are computed in Python. Either way the rows arrive as pyarrow
RecordBatches and are written batch by batch; messages and judgments get their conversation context (and
pseudonyms) joined in Arrow, so only the conversations query computes pseudonyms.

Nothing that identifies a person leaves: evaluators, conversations (and bots/teams unless the competition
allows names) appear as per-export pseudonyms, and messages are exported as delivered (masked when flagged).
"""

# SQL here is assembled from table names and fixed fragments only; every value goes through query parameters.
# ruff: noqa: S608

import contextlib
import fcntl
import io
import json
import os
import queue
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.db import connection

from chat.models import Conversation, Game, GameVerdict, Judgment, Message
from competitions.models import Bot, Competition, Team
from exports.pseudonyms import DIGEST_CHARS, PREFIXES, Pseudonymizer, hmac_pads
from hulic.csv_cells import csv_text_array
from review.exporting import REVIEW_COLUMNS, REVIEW_SCHEMA, review_batch

BATCH_ROWS = 50_000
SPOOL_BLOCK_BYTES = 2 << 20
PIPE_BYTES = 1 << 20
KEY_COLUMN = "_k"
# Read with each judgment, never written: whether the judge was the evaluator on side a of the conversation.
JUDGE_SIDE_A = "_judge_side_a"
# Marks a raw id that the Python fallback must replace by a pseudonym (never present in real text).
_TAG = "\x1f"

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str


@dataclass
class TableSpec:
    name: str
    columns: list[Column]
    select_sql: str
    params: list = field(default_factory=list)
    read_columns: list[Column] | None = None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns])


@dataclass(frozen=True)
class ExportRequest:
    competition: Competition
    scope: str
    format: str
    team: Team | None
    salt: bytes


class _Dialect:
    """How pseudonyms and JSON look up are spelled in SQL for the current database."""

    def __init__(self, salt: bytes) -> None:
        self.is_postgres = connection.vendor == "postgresql"
        self.inner, self.outer = hmac_pads(salt)

    def pseudonym(self, kind: str, expr: str) -> tuple[str, list]:
        if self.is_postgres:
            sql = (
                f"CASE WHEN ({expr}) IS NULL THEN NULL ELSE '{PREFIXES[kind]}' || substr(encode(sha256(%s::bytea || "
                f"sha256(%s::bytea || convert_to('{kind}:' || ({expr})::text, 'UTF8'))), 'hex'), 1, {DIGEST_CHARS}) END"
            )
            return sql, [self.outer, self.inner]
        return f"(char(31) || '{kind}:' || ({expr}))", []

    def rating(self, key: str) -> tuple[str, list]:
        if self.is_postgres:
            return "(j.ratings ->> %s)::int", [key]
        return "json_extract(j.ratings, %s)", ['$."' + key.replace('"', "") + '"']

    def timestamp(self, expr: str) -> str:
        return f"({expr} AT TIME ZONE 'UTC')" if self.is_postgres else expr


def _conversation_filter(request: ExportRequest) -> tuple[str, list]:
    """FROM ... WHERE ... selecting the export's conversations as c (with their bot b and team t)."""
    where = ["c.competition_id = %s", "c.status <> %s"]
    params: list = [request.competition.pk, Conversation.Status.ACTIVE]
    if request.scope == "team":
        where += ["c.partner_kind = %s", "b.team_id = %s"]
        params += ["bot", request.team.pk]
    sql = (
        f"FROM {Conversation._meta.db_table} c "
        f"LEFT JOIN {Bot._meta.db_table} b ON b.id = c.bot_id "
        f"LEFT JOIN {Team._meta.db_table} t ON t.id = b.team_id "
        f"WHERE {' AND '.join(where)}"
    )
    return sql, params


def _conversation_cte(request: ExportRequest, dialect: _Dialect) -> tuple[str, list]:
    """Filtered conversations (CTE "conv") with their pseudonyms, and "people", one pseudonym per evaluator.

    Each pseudonym is computed once per person, bot or team, and once per conversation, never per message.
    """
    where_sql, params = _conversation_filter(request)
    materialized = "MATERIALIZED " if dialect.is_postgres else ""
    person_sql, person_params = dialect.pseudonym("evaluator", "u.id")
    conversation_sql, conversation_params = dialect.pseudonym("conversation", "base.id")
    if request.competition.include_bot_names_in_exports:
        bot_sql, team_sql, label_params = "base.bot_name", "base.team_name", []
    else:
        bot_sql, bot_params = dialect.pseudonym("bot", "base.bot_id")
        team_sql, team_params = dialect.pseudonym("team", "base.team_id")
        label_params = bot_params + team_params
    sql = (
        f"WITH base AS {materialized}(SELECT c.id, c.evaluator_a_id, c.evaluator_b_id, c.bot_id, b.name AS bot_name, "
        "b.team_id, t.name AS team_name, c.language, c.partner_kind, c.status, c.end_reason, c.fell_back_to_bot, "
        f"c.started_at, c.ended_at {where_sql}), "
        f"people AS {materialized}(SELECT u.id, {person_sql} AS p FROM (SELECT evaluator_a_id AS id FROM base "
        "UNION SELECT evaluator_b_id FROM base WHERE evaluator_b_id IS NOT NULL) u), "
        f"labels AS {materialized}(SELECT bot_id, {bot_sql} AS bot_label, {team_sql} AS team_label "
        "FROM (SELECT DISTINCT bot_id, bot_name, team_id, team_name FROM base WHERE bot_id IS NOT NULL) base), "
        f"conv AS {materialized}(SELECT base.id, {conversation_sql} AS pid, base.evaluator_a_id, "
        "pa.p AS pa, pb.p AS pb, "
        "labels.bot_label, labels.team_label, base.language, base.partner_kind, base.status, base.end_reason, "
        "base.fell_back_to_bot, base.started_at, base.ended_at FROM base "
        "LEFT JOIN people pa ON pa.id = base.evaluator_a_id LEFT JOIN people pb ON pb.id = base.evaluator_b_id "
        "LEFT JOIN labels ON labels.bot_id = base.bot_id) "
    )
    return sql, [*params, *person_params, *label_params, *conversation_params]


_CONTEXT_COLUMNS = [
    Column("conversation", pa.string(), "Pseudonymous conversation id, stable within this export only."),
    Column("language", pa.string(), "Chat language (ISO 639-1)."),
    Column("partner_kind", pa.string(), '"bot" or "human" (a control chat between two evaluators).'),
    Column(
        "bot", pa.string(), "The bot (its name if the competition allows, else a pseudonym); empty in control chats."
    ),
    Column("team", pa.string(), "The bot's team (name if allowed, else a pseudonym); empty in control chats."),
]


_MESSAGE_READ_COLUMNS = [
    Column("seq", pa.int32(), ""),
    Column("side", pa.string(), ""),
    Column("text", pa.string(), "The text as delivered to the partner; masked where moderation flagged it."),
    Column("flagged", pa.bool_(), "True if moderation flagged (and masked) the message."),
    Column("created_at", pa.timestamp("us", tz="UTC"), "When the message was saved (UTC)."),
    Column("bot_latency_ms", pa.float64(), "The bot's response time for bot messages, in milliseconds."),
]


def table_specs(request: ExportRequest) -> dict[str, TableSpec]:
    dialect = _Dialect(request.salt)
    cte, cte_params = _conversation_cte(request, dialect)
    context_sql = "conv.id, conv.pid, conv.language, conv.partner_kind, conv.bot_label, conv.team_label"

    filter_sql, filter_params = _conversation_filter(request)
    messages = TableSpec(
        name="messages",
        columns=[
            *_CONTEXT_COLUMNS,
            Column("seq", pa.int32(), "Position of the message in the conversation (1, 2, ...)."),
            Column("side", pa.string(), '"a" (the evaluator) or "b" (the bot, or the second evaluator).'),
            Column("speaker_kind", pa.string(), '"evaluator" or "bot".'),
            Column("speaker", pa.string(), "Pseudonym of the evaluator who wrote it, or the bot label."),
            *_MESSAGE_READ_COLUMNS[2:],
        ],
        read_columns=_MESSAGE_READ_COLUMNS,
        # Context (pseudonyms, bot, team) is joined in Arrow from the conversations table: the database then
        # streams only the message rows, which is most of the export's volume.
        select_sql=(
            f"SELECT m.conversation_id, m.seq, m.side, m.delivered_text, m.flagged, "
            f"{dialect.timestamp('m.created_at')}, m.bot_latency_ms FROM {Message._meta.db_table} m "
            f"WHERE m.conversation_id IN (SELECT c.id {filter_sql}) ORDER BY m.conversation_id, m.seq"
        ),
        params=list(filter_params),
    )

    rating_sql, rating_params, rating_columns = [], [], []
    for key in request.competition.criteria_keys:
        sql, p = dialect.rating(key)
        rating_sql.append(sql)
        rating_params += p
        rating_columns.append(Column(f"rating_{key}", pa.int8(), f'Rating 1-5 for the criterion "{key}".'))
    judgment_columns = [
        Column("verdict", pa.string(), 'What the judge decided the partner was: "human" or "bot".'),
        Column("correct", pa.bool_(), "True if the verdict matches the partner's real kind."),
        Column("confidence", pa.int8(), "Confidence in the verdict, 1 (guess) to 5 (certain)."),
        *rating_columns,
        Column("reason", pa.string(), "The judge's free-text reason."),
        Column("message_count", pa.int32(), "Messages in the chat when it was judged."),
        Column("created_at", pa.timestamp("us", tz="UTC"), "When the judgment was saved (UTC)."),
    ]
    judgments = TableSpec(
        name="judgments",
        columns=[
            *_CONTEXT_COLUMNS,
            Column("judge", pa.string(), "Pseudonym of the evaluator who judged (same pseudonym as in messages)."),
            *judgment_columns,
        ],
        read_columns=[Column(JUDGE_SIDE_A, pa.bool_(), ""), *judgment_columns],
        # Like messages, judgments get their context (and the judge's pseudonym) joined in Arrow.
        select_sql=(
            f"SELECT j.conversation_id, (j.evaluator_id = conv.evaluator_a_id), j.verdict, "
            f"(j.verdict = j.partner_kind), j.confidence, {''.join(s + ', ' for s in rating_sql)}j.reason, "
            f"j.message_count, {dialect.timestamp('j.created_at')} FROM {Judgment._meta.db_table} j "
            f"JOIN (SELECT c.id, c.evaluator_a_id {filter_sql}) conv ON conv.id = j.conversation_id "
            "ORDER BY j.conversation_id, j.id"
        ),
        params=[*rating_params, *filter_params],
    )

    conversations = TableSpec(
        name="conversations",
        columns=[
            *_CONTEXT_COLUMNS,
            Column("evaluator_a", pa.string(), "Pseudonym of the evaluator on side a."),
            Column("evaluator_b", pa.string(), "Pseudonym of the second evaluator in a control chat, else empty."),
            Column("status", pa.string(), '"ended" or "bot_failed".'),
            Column("end_reason", pa.string(), "time, turns, left, bot_failed or moderation."),
            Column("fell_back_to_bot", pa.bool_(), "True if no human partner came in time and a bot took the chat."),
            Column("started_at", pa.timestamp("us", tz="UTC"), "Start of the chat (UTC)."),
            Column("ended_at", pa.timestamp("us", tz="UTC"), "End of the chat (UTC)."),
        ],
        select_sql=(
            f"{cte}SELECT {context_sql}, conv.pa, conv.pb, conv.status, conv.end_reason, conv.fell_back_to_bot, "
            f"{dialect.timestamp('conv.started_at')}, {dialect.timestamp('conv.ended_at')} FROM conv ORDER BY conv.id"
        ),
        params=list(cte_params),
    )
    reviews = TableSpec(
        name="reviews",
        columns=[Column(name, kind, description) for name, kind, description in REVIEW_COLUMNS],
        select_sql="",  # built in Python by review.exporting (reviews are few): see _write_reviews
    )
    return {
        "messages": messages,
        "judgments": judgments,
        "conversations": conversations,
        "reviews": reviews,
        "games": _games_spec(request, dialect),
    }


def _games_spec(request: ExportRequest, dialect: _Dialect) -> TableSpec:
    """Three-party games whose two conversations have ended, with the verdict; ids are the conversations' and
    evaluators' pseudonyms of the same export. A team's export keeps its bot's games without the human side."""
    team_scope = request.scope == "team"
    human_sql, human_params = (
        ("NULL", []) if team_scope else dialect.pseudonym("conversation", "g.human_conversation_id")
    )
    bot_conv_sql, bot_conv_params = dialect.pseudonym("conversation", "g.bot_conversation_id")
    interrogator_sql, interrogator_params = dialect.pseudonym("evaluator", "g.interrogator_id")
    witness_sql, witness_params = ("NULL", []) if team_scope else dialect.pseudonym("evaluator", "g.witness_id")
    if request.competition.include_bot_names_in_exports:
        bot_sql, bot_params = "b.name", []
    else:
        bot_sql, bot_params = dialect.pseudonym("bot", "g.bot_id")
    conversation = Conversation._meta.db_table
    where = ["g.competition_id = %s", "hc.status <> %s", "bc.status <> %s"]
    where_params: list = [request.competition.pk, Conversation.Status.ACTIVE, Conversation.Status.ACTIVE]
    if team_scope:
        where.append("b.team_id = %s")
        where_params.append(request.team.pk)
    return TableSpec(
        name="games",
        columns=[
            Column("human_conversation", pa.string(), "The interrogator's conversation with the human witness."),
            Column("bot_conversation", pa.string(), "The interrogator's conversation with the bot."),
            Column("interrogator", pa.string(), "Pseudonym of the interrogator (side a of both conversations)."),
            Column("witness", pa.string(), "Pseudonym of the human witness (side b of the human conversation)."),
            Column("bot", pa.string(), "The bot (its name if the competition allows, else a pseudonym)."),
            Column("language", pa.string(), "Chat language (ISO 639-1)."),
            Column("human_on_left", pa.bool_(), "True if the human's conversation was the left pane."),
            Column("picked_side", pa.string(), '"left" or "right": the pane picked as the human; empty if undecided.'),
            Column("bot_picked_as_human", pa.bool_(), "True if the interrogator picked the bot (the bot won)."),
            Column("confidence", pa.int16(), "The interrogator's confidence, 0 to 100."),
            Column("reason", pa.string(), "The interrogator's free-text reason."),
            Column("witness_effort", pa.int8(), "The witness's rating of the interrogator's effort, 1 to 5."),
            Column("started_at", pa.timestamp("us", tz="UTC"), "Start of the game (UTC)."),
        ],
        select_sql=(
            f"SELECT g.id, {human_sql}, {bot_conv_sql}, {interrogator_sql}, {witness_sql}, {bot_sql}, g.language, "
            "g.human_on_left, v.picked_side, v.bot_picked_as_human, v.confidence, v.reason, g.witness_effort, "
            f"{dialect.timestamp('g.started_at')} FROM {Game._meta.db_table} g "
            f"JOIN {conversation} hc ON hc.id = g.human_conversation_id "
            f"JOIN {conversation} bc ON bc.id = g.bot_conversation_id "
            f"JOIN {Bot._meta.db_table} b ON b.id = g.bot_id "
            f"LEFT JOIN {GameVerdict._meta.db_table} v ON v.game_id = g.id "
            f"WHERE {' AND '.join(where)} ORDER BY g.id"
        ),
        params=[
            *human_params,
            *bot_conv_params,
            *interrogator_params,
            *witness_params,
            *bot_params,
            *where_params,
        ],
    )


def _write_games(request, spec: TableSpec, archive, tmp: Path, on_rows: ProgressCallback) -> int:
    batches = iter_batches(spec, request)
    if request.format != "jsonl":
        return _write_table(
            "games", batches, spec.schema, fmt=request.format, archive=archive, tmp=tmp, on_rows=on_rows
        )
    rows = 0
    with archive.open("games.jsonl", "w") as entry, io.TextIOWrapper(entry, encoding="utf-8") as out:
        for batch in batches:
            for row in batch.drop_columns([KEY_COLUMN]).to_pylist():
                out.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
            rows += batch.num_rows
            on_rows(batch.num_rows)
    return rows


def _read_schema(spec: TableSpec) -> pa.Schema:
    columns = spec.read_columns or spec.columns
    return pa.schema([(KEY_COLUMN, pa.int64()), *((c.name, c.type) for c in columns)])


def _mogrify(cursor, sql: str, params: list) -> str:
    query = cursor.mogrify(sql, params)
    return query.decode() if isinstance(query, bytes) else query


def copy_csv_out(cursor, query: str, sink) -> None:
    """COPY a query's rows as CSV into a binary file-like sink, with psycopg 3 (the platform) or psycopg2."""
    statement = f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"
    if hasattr(cursor, "copy_expert"):
        cursor.copy_expert(statement, sink)
        return
    with cursor.copy(statement) as copy:
        for chunk in copy:
            sink.write(chunk)


def copy_text_in(cursor, table: str, columns: str, text: str) -> None:
    """COPY rows in Postgres' text format into a table, with psycopg 3 (the platform) or psycopg2 (benchmarks)."""
    statement = f"COPY {table} ({columns}) FROM STDIN"
    if hasattr(cursor, "copy_expert"):
        cursor.copy_expert(statement, io.StringIO(text))
        return
    with cursor.copy(statement) as copy:
        copy.write(text)


def _side_connection():
    """A connection of the export's own, opened directly: not one of the process's pool (it is closed, not returned)."""
    raw_connection = connection.Database.connect(**connection.get_connection_params())
    raw_connection.autocommit = True
    return raw_connection


def _copy_into(raw_connection, query: str, sink, failures: list) -> None:
    try:
        with raw_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            copy_csv_out(cursor, query, sink)
    except BaseException as exc:  # handed to the reading thread, which raises it
        failures.append(exc)
    finally:
        sink.close()


def _csv_batches(source, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    naive = pa.schema([(f.name, pa.timestamp("us") if pa.types.is_timestamp(f.type) else f.type) for f in schema])
    if not source.peek(1):
        return
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(column_names=schema.names, block_size=SPOOL_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=naive,
            true_values=["t"],
            false_values=["f"],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    for batch in reader:
        yield pa.RecordBatch.from_arrays(
            [column.cast(schema.field(i).type) for i, column in enumerate(batch.columns)], schema=schema
        )


def _batches_postgres_piped(spec: TableSpec) -> Iterator[pa.RecordBatch]:
    """COPY on a connection of its own, in a thread, into a pipe that pyarrow parses at the other end.

    Postgres produces the CSV in its own process, so the database's work and the parsing overlap; memory
    holds one parse block (SPOOL_BLOCK_BYTES) at a time. The job's own connection stays free for progress.
    """
    raw_connection = _side_connection()
    with raw_connection.cursor() as cursor:
        query = _mogrify(cursor, spec.select_sql, spec.params)
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(OSError, AttributeError):
        # A larger pipe (Linux) means fewer thread switches between the COPY writer and the parser.
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    failures: list[BaseException] = []
    producer = threading.Thread(
        target=_copy_into,
        args=(raw_connection, query, os.fdopen(write_fd, "wb", buffering=PIPE_BYTES), failures),
        name="export-copy",
        daemon=True,
    )
    producer.start()
    source = os.fdopen(read_fd, "rb", buffering=PIPE_BYTES)
    try:
        yield from _csv_batches(source, _read_schema(spec))
    finally:
        # Closing the read end stops a producer that is still writing (it gets a broken pipe).
        source.close()
        producer.join()
        raw_connection.close()
    if failures:
        raise failures[0]


def _batches_postgres_spooled(spec: TableSpec) -> Iterator[pa.RecordBatch]:
    """Inside a transaction (tests) the rows are visible to this connection only: COPY to a spool file."""
    with tempfile.TemporaryFile() as spool:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            copy_csv_out(raw, _mogrify(raw, spec.select_sql, spec.params), spool)
        spool.seek(0)
        yield from _csv_batches(spool, _read_schema(spec))


def _python_value(value, arrow_type: pa.DataType, pseudonymize: Pseudonymizer):
    if value is None:
        return None
    if isinstance(value, str) and value.startswith(_TAG):
        kind, _, ident = value[1:].partition(":")
        return pseudonymize(kind, ident)
    if pa.types.is_boolean(arrow_type):
        return bool(value)
    if pa.types.is_timestamp(arrow_type) and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _batches_cursor(spec: TableSpec, salt: bytes) -> Iterator[pa.RecordBatch]:
    schema = _read_schema(spec)
    pseudonymize = Pseudonymizer(salt)
    types = [f.type for f in schema]
    with connection.cursor() as cursor:
        cursor.execute(spec.select_sql, spec.params)
        while rows := cursor.fetchmany(BATCH_ROWS):
            columns = list(zip(*rows, strict=True))
            arrays = [
                pa.array([_python_value(v, types[i], pseudonymize) for v in values], type=types[i])
                for i, values in enumerate(columns)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _raw_batches(spec: TableSpec, request: ExportRequest) -> Iterator[pa.RecordBatch]:
    if connection.vendor == "postgresql":
        if connection.in_atomic_block:
            return _batches_postgres_spooled(spec)
        return _batches_postgres_piped(spec)
    return _batches_cursor(spec, request.salt)


def load_conversations(specs: dict[str, TableSpec], request: ExportRequest) -> pa.RecordBatch:
    """All the export's conversations in memory (about 150 bytes each), to join onto message batches."""
    batches = list(_raw_batches(specs["conversations"], request))
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=_read_schema(specs["conversations"]))
    return pa.concat_batches(batches)


class _ConversationContext:
    """The conversation columns every message and judgment row carries, joined in Arrow by binary search.

    Rows and conversations both arrive ordered by conversation id, so a sorted search finds each row's
    conversation (no hash table per batch, no second pass of the pseudonymising query in the database). Both
    sides of every conversation are laid out once (all side-a values, then all side-b values), so a message's
    speaker or a judgment's judge is one take. Rows of a conversation that is not in the export (one that ended
    after the conversations were read) are dropped: the export stays consistent.
    """

    def __init__(self, conversations: pa.RecordBatch, spec: TableSpec) -> None:
        self.spec = spec
        self.schema = pa.schema([(KEY_COLUMN, pa.int64()), *spec.schema])
        self.keys = conversations[KEY_COLUMN].to_numpy()
        self.context = conversations.select([c.name for c in _CONTEXT_COLUMNS])
        human = pc.equal(conversations["partner_kind"], "human")
        self.evaluators = pa.concat_arrays([conversations["evaluator_a"], conversations["evaluator_b"]])
        self.speakers = pa.concat_arrays(
            [conversations["evaluator_a"], pc.if_else(human, conversations["evaluator_b"], conversations["bot"])]
        )
        self.speaker_kinds = pa.concat_arrays(
            [pa.array(["evaluator"] * len(self.keys), pa.string()), pc.if_else(human, "evaluator", "bot")]
        )

    def _side_b_positions(self, positions: np.ndarray, side_b: pa.Array) -> np.ndarray:
        return positions + side_b.to_numpy(zero_copy_only=False) * len(self.keys)

    def join(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        keys = batch[KEY_COLUMN].to_numpy()
        positions = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = self.keys[positions] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        if not found.all():
            batch, positions = batch.filter(pa.array(found)), positions[found]
        names = batch.schema.names
        derived = {}
        if "side" in names:
            speaker_positions = self._side_b_positions(positions, pc.not_equal(batch["side"], "a"))
            derived["speaker_kind"] = self.speaker_kinds.take(speaker_positions)
            derived["speaker"] = self.speakers.take(speaker_positions)
        if JUDGE_SIDE_A in names:
            derived["judge"] = self.evaluators.take(self._side_b_positions(positions, pc.invert(batch[JUDGE_SIDE_A])))
        context = self.context.take(positions)
        arrays = [batch[KEY_COLUMN]]
        for column in self.spec.columns:
            if column.name in derived:
                arrays.append(derived[column.name])
            elif column.name in names:
                arrays.append(batch[column.name])
            else:
                arrays.append(context[column.name])
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def iter_batches(
    spec: TableSpec, request: ExportRequest, conversations: pa.RecordBatch | None = None
) -> Iterator[pa.RecordBatch]:
    """Batches with the internal ordering key first (used to nest JSONL; never written)."""
    if spec.read_columns is None:
        yield from _raw_batches(spec, request)
        return
    context = _ConversationContext(conversations, spec)
    for batch in _raw_batches(spec, request):
        yield context.join(batch)


class _BackgroundWriter(io.RawIOBase):
    """Hands written chunks to a thread that writes them on (zlib releases the GIL while compressing),
    so the CSV encoding and the compression of the zip entry run on two cores."""

    def __init__(self, target, depth: int = 8) -> None:
        super().__init__()
        self._target = target
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._failures: list[BaseException] = []
        self._thread = threading.Thread(target=self._drain, name="export-compress", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if not self._failures:
                try:
                    self._target.write(chunk)
                except BaseException as exc:  # raised again in the writing thread
                    self._failures.append(exc)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self._failures:
            raise self._failures[0]
        chunk = bytes(data)
        self._queue.put(chunk)
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._queue.put(None)
            self._thread.join()
        super().close()
        if self._failures:
            raise self._failures[0]


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_timestamp(f.type) else f for f in schema])


def _csv_ready(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """UTC timestamps as text ("2026-11-30 08:36:10.428979Z"), formatted here: Arrow's CSV writer formats a
    time-zone-aware timestamp about ten times slower than a naive one, and it was most of a CSV export's time.
    Text that a spreadsheet would run as a formula gets a leading quote (hulic/csv_cells.py)."""
    arrays = [
        pc.binary_join_element_wise(column.cast(pa.timestamp("us")).cast(pa.string()), "Z", "")
        if pa.types.is_timestamp(column.type)
        else csv_text_array(column)
        for column in batch.drop_columns([KEY_COLUMN]).columns
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _write_table(
    name: str,
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    *,
    fmt: str,
    archive,
    tmp: Path,
    on_rows: ProgressCallback,
) -> int:
    """Write one table into the archive; CSV streams straight into its (deflated) zip entry."""
    rows = 0
    if fmt == "parquet":
        path = tmp / f"{name}.parquet"
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch.drop_columns([KEY_COLUMN]))
                rows += batch.num_rows
                on_rows(batch.num_rows)
        archive.write(path, arcname=path.name, compress_type=zipfile.ZIP_STORED)
        path.unlink()
        return rows
    with (
        archive.open(f"{name}.csv", "w", force_zip64=True) as entry,
        _BackgroundWriter(entry) as sink,
        pacsv.CSVWriter(sink, csv_schema := _csv_schema(schema)) as writer,
    ):
        for batch in batches:
            writer.write_batch(_csv_ready(batch, csv_schema))
            rows += batch.num_rows
            on_rows(batch.num_rows)
    return rows


def _write_tabular(request, specs, conversations, archive, tmp: Path, on_rows: ProgressCallback) -> dict[str, int]:
    return {
        name: _write_table(
            name,
            iter_batches(specs[name], request, conversations),
            specs[name].schema,
            fmt=request.format,
            archive=archive,
            tmp=tmp,
            on_rows=on_rows,
        )
        for name in ("messages", "judgments")
    }


def _grouped(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[int, list[dict]]]:
    """(conversation key, rows) for consecutive rows of one conversation, across batch boundaries."""
    current_key, group = None, []
    for batch in batches:
        for row in batch.to_pylist():
            key = row.pop(KEY_COLUMN)
            if key != current_key and group:
                yield current_key, group
                group = []
            current_key = key
            group.append(row)
    if group:
        yield current_key, group


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"Not JSON serializable: {type(value).__name__}")


def _write_jsonl(request, specs, conversations, archive, tmp: Path, on_rows: ProgressCallback) -> dict[str, int]:
    counts = {"messages": 0, "judgments": 0}
    context = {c.name for c in _CONTEXT_COLUMNS}
    messages = _grouped(iter_batches(specs["messages"], request, conversations))
    judgments = _grouped(iter_batches(specs["judgments"], request, conversations))
    pending = {"messages": next(messages, None), "judgments": next(judgments, None)}
    streams = {"messages": messages, "judgments": judgments}
    with (
        archive.open("conversations.jsonl", "w", force_zip64=True) as entry,
        io.TextIOWrapper(entry, encoding="utf-8") as out,
    ):
        for key, (conversation,) in _grouped(iter([conversations])):
            record = dict(conversation)
            for name in ("messages", "judgments"):
                nested = []
                # Every stream is ordered by the same key, so a group with a smaller key has no conversation.
                while pending[name] is not None and pending[name][0] <= key:
                    group_key, rows = pending[name]
                    if group_key == key:
                        nested = [
                            {k: v for k, v in row.items() if k not in context and k != "conversation"} for row in rows
                        ]
                    pending[name] = next(streams[name], None)
                record[name] = nested
                counts[name] += len(nested)
                on_rows(len(nested))
            out.write(json.dumps(record, ensure_ascii=False, default=_json_default) + "\n")
    return counts


def _write_reviews(request: ExportRequest, conversations: pa.RecordBatch, archive, tmp: Path, on_rows) -> int:
    """Transcript-review judgments of the exported chats, pseudonymised with this export's salt."""
    batch = review_batch(
        competition=request.competition,
        conversation_ids=set(conversations[KEY_COLUMN].to_pylist()),
        pseudonymize=Pseudonymizer(request.salt),
    )
    if request.format == "jsonl":
        with archive.open("reviews.jsonl", "w") as entry, io.TextIOWrapper(entry, encoding="utf-8") as out:
            for row in batch.to_pylist():
                out.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
        on_rows(batch.num_rows)
        return batch.num_rows
    keyed = batch.add_column(0, KEY_COLUMN, pa.array(range(batch.num_rows), pa.int64()))
    return _write_table(
        "reviews", iter([keyed]), REVIEW_SCHEMA, fmt=request.format, archive=archive, tmp=tmp, on_rows=on_rows
    )


def conversation_summary(conversations: pa.RecordBatch) -> dict:
    """Datasheet figures taken from the exported conversations themselves."""
    evaluators = pc.unique(pa.chunked_array([conversations["evaluator_a"], conversations["evaluator_b"]]).drop_null())
    return {
        "conversations": conversations.num_rows,
        "evaluators": len(evaluators),
        "languages": sorted(pc.unique(conversations["language"]).drop_null().to_pylist()),
        "first_started": pc.min(conversations["started_at"]).as_py(),
        "last_ended": pc.max(conversations["ended_at"]).as_py(),
    }


def build_archive(
    request: ExportRequest,
    *,
    datasheet: Callable[[dict, dict], str],
    on_rows: ProgressCallback,
    extra_files: dict[str, str] | None = None,
) -> tuple[Path, dict]:
    """Write the data files, DATASHEET.md and `extra_files` (name: text) into a zip in a temporary file; the caller
    stores and removes it.

    Returns the zip's path and the summary (counts, dates, languages) written into the datasheet.
    """
    specs = table_specs(request)
    conversations = load_conversations(specs, request)
    fd, archive_name = tempfile.mkstemp(prefix="hulic-export-", suffix=".zip")
    os.close(fd)
    write = _write_jsonl if request.format == "jsonl" else _write_tabular
    try:
        with (
            tempfile.TemporaryDirectory(prefix="hulic-export-") as tmp,
            zipfile.ZipFile(archive_name, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        ):
            counts = write(request, specs, conversations, archive, Path(tmp), on_rows)
            counts["reviews"] = _write_reviews(request, conversations, archive, Path(tmp), on_rows)
            counts["games"] = _write_games(request, specs["games"], archive, Path(tmp), on_rows)
            summary = {**conversation_summary(conversations), **counts}
            archive.writestr("DATASHEET.md", datasheet(summary, specs))
            for name, text in (extra_files or {}).items():
                archive.writestr(name, text)
    except BaseException:
        Path(archive_name).unlink(missing_ok=True)
        raise
    return Path(archive_name), summary
