"""Exports include three-party games: one row per finished game, pseudonymous, consistent with the chats."""

import io
import json

import pandas as pd
import pytest

from competitions.models import Competition
from tests.exports.helpers import read_archive, run_export
from tests.factories import BotFactory, CompetitionFactory, UserFactory
from tests.leaderboard.test_three_party_board import decided_game


@pytest.fixture
def games_dataset(db):
    competition = CompetitionFactory(mode="three_party", phase=Competition.Phase.CLOSED)
    ours, theirs = BotFactory(competition=competition), BotFactory(competition=competition)
    ann, bob = UserFactory(username="ann-real-name"), UserFactory(username="bob-real-name")
    decided_game(competition, ours, ann, bob, bot_won=True, effort=4)
    decided_game(competition, theirs, bob, ann, bot_won=False)
    return competition, ours


def games_frame(job) -> pd.DataFrame:
    files = read_archive(job)
    if job.format == "csv":
        return pd.read_csv(io.BytesIO(files["games.csv"]))
    if job.format == "parquet":
        return pd.read_parquet(io.BytesIO(files["games.parquet"]))
    return pd.DataFrame([json.loads(line) for line in files["games.jsonl"].decode().splitlines()])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_games_are_exported_with_the_verdict_and_pseudonyms(games_dataset, fmt):
    competition, _ours = games_dataset
    job = run_export(competition, fmt=fmt)
    assert job.status == "done", job.error
    games = games_frame(job)
    assert len(games) == 2
    assert sorted(games["bot_picked_as_human"].astype(bool).tolist()) == [False, True]
    assert set(games["picked_side"]) == {"left", "right"}
    assert games["interrogator"].str.startswith("E-").all() and games["witness"].str.startswith("E-").all()
    assert set(games["interrogator"]) == set(games["witness"])  # the two people swapped roles
    assert games["bot"].str.startswith("B-").all()
    assert "real-name" not in read_archive(job)[f"games.{fmt}"].decode(errors="ignore")
    assert "three-party games" in read_archive(job)["DATASHEET.md"].decode()
    if fmt == "jsonl":
        lines = read_archive(job)["conversations.jsonl"].decode().splitlines()
        exported = {json.loads(line)["conversation"]: json.loads(line) for line in lines}
        for game in games.to_dict("records"):
            assert exported[game["human_conversation"]]["partner_kind"] == "human"
            assert exported[game["bot_conversation"]]["partner_kind"] == "bot"
            assert exported[game["bot_conversation"]]["evaluator_a"] == game["interrogator"]
            assert exported[game["human_conversation"]]["evaluator_b"] == game["witness"]


def test_a_teams_export_keeps_its_bots_games_without_the_human_side(games_dataset):
    competition, ours = games_dataset
    job = run_export(competition, fmt="jsonl", scope="team", team=ours.team)
    games = games_frame(job)
    assert len(games) == 1
    assert games["human_conversation"].isna().all() and games["witness"].isna().all()
    assert games["bot_picked_as_human"].tolist() == [True]
