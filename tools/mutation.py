"""Mutation testing of the modules where a bug hurts most, one module at a time (`make mutation`).

Each module runs mutmut in its own work directory, `.mutation/<module>/`, which links the project and holds a
pyproject.toml whose [tool.mutmut] section mutates that module only and selects only its test files. mutmut then
runs, per mutant, just the selected tests that call the mutated function, and keeps its results there, so a second
run re-tests only what changed. Modules run one after another on purpose: the machine is small and shared.

    .venv/bin/python tools/mutation.py                 # every module
    .venv/bin/python tools/mutation.py netguard stats  # some of them
    .venv/bin/python tools/mutation.py --list          # the modules and their test files
    .venv/bin/python tools/mutation.py --survivors netguard   # the diff of each surviving mutant
    .venv/bin/python tools/mutation.py --retest netguard      # only the last run's survivors, against today's tests

Modules marked `postgres` need DATABASE_URL (their tests skip on SQLite); the others run embedded (SQLite, in-memory
channel layer), which is faster, and ignore DATABASE_URL/REDIS_URL. See docs/testing.md for the scores and the
mutants known to be equivalent.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
MUTMUT = Path(sys.executable).parent / "mutmut"
SOURCE_PACKAGES = ["hulic", "competitions", "chat", "leaderboard", "exports", "review"]
NOT_LINKED = {".git", ".venv", ".mutation", "mutants", "db.sqlite3", "media", "staticfiles"}


@dataclass(frozen=True)
class Module:
    name: str
    sources: tuple[str, ...]
    tests: tuple[str, ...]
    postgres: bool = False


MODULES = [
    Module(
        "netguard",
        ("competitions/netguard.py",),
        ("tests/competitions/test_netguard.py", "tests/competitions/test_netguard_boundaries.py"),
    ),
    Module(
        "signing",
        ("competitions/signing.py",),
        ("tests/competitions/test_signing.py", "tests/competitions/test_signing_boundaries.py"),
    ),
    Module(
        "bot_client",
        ("competitions/bot_client.py",),
        (
            "tests/competitions/test_bot_client.py",
            "tests/competitions/test_bot_client_boundaries.py",
        ),
    ),
    Module(
        "chat_services",
        ("chat/services/conversations.py", "chat/services/judgments.py", "chat/services/evaluators.py"),
        # Service-level tests only: the websocket tests (consumer, bot turns) take seconds each, per mutant.
        (
            "tests/chat/test_after_end.py",
            "tests/chat/test_judgment_rules.py",
            "tests/chat/test_evaluator_pool.py",
            "tests/chat/test_judgments.py",
            "tests/chat/test_matchmaking.py",
            "tests/chat/test_moderation.py",
        ),
    ),
    Module(
        "matchmaking",
        ("chat/services/matchmaking.py",),
        ("tests/chat/test_matchmaking.py", "tests/chat/test_matchmaking_states.py"),
    ),
    Module("consumer", ("chat/consumers.py",), ("tests/chat/test_consumer.py",)),
    Module(
        "stats",
        ("leaderboard/stats.py",),
        ("tests/leaderboard/test_stats.py", "tests/leaderboard/test_stats_boundaries.py"),
    ),
    Module(
        "aggregates",
        ("leaderboard/aggregates.py",),
        (
            "tests/leaderboard/test_tallies.py",
            "tests/leaderboard/test_recompute.py",
            "tests/leaderboard/test_min_turns_boundary.py",
        ),
    ),
    Module(
        "tallies",
        ("leaderboard/tallies.py",),
        ("tests/leaderboard/test_tallies.py", "tests/leaderboard/test_min_turns_boundary.py"),
        postgres=True,
    ),
    Module(
        "export_builder",
        ("exports/builder.py",),
        ("tests/exports/test_export_content.py", "tests/exports/test_pure.py"),
    ),
    Module(
        "inference",
        ("leaderboard/inference.py",),
        ("tests/leaderboard/test_inference.py", "tests/leaderboard/test_inference_boundaries.py"),
    ),
    Module(
        "three_party_stats",
        ("leaderboard/three_party_stats.py",),
        ("tests/leaderboard/test_three_party_stats.py", "tests/leaderboard/test_three_party_stats_boundaries.py"),
    ),
    Module(
        "rater_quality",
        ("leaderboard/rater_quality.py",),
        (
            "tests/leaderboard/test_rater_quality.py",
            "tests/leaderboard/test_rater_quality_boundaries.py",
            "tests/leaderboard/test_rater_flags.py",
        ),
    ),
    Module(
        "agreement",
        ("leaderboard/agreement.py",),
        ("tests/leaderboard/test_agreement.py", "tests/leaderboard/test_agreement_boundaries.py"),
    ),
    Module(
        "review_stats", ("review/stats.py",), ("tests/review/test_stats.py", "tests/review/test_stats_boundaries.py")
    ),
    Module(
        "presence", ("chat/presence.py",), ("tests/chat/test_presence.py", "tests/chat/test_presence_boundaries.py")
    ),
    Module(
        "bot_turns",
        ("chat/bot_turns.py",),
        ("tests/chat/test_bot_turns.py", "tests/chat/test_bot_turn_takeover.py"),
    ),
    Module("games", ("chat/services/games.py",), ("tests/chat/test_games.py",)),
    Module(
        "pseudonyms",
        ("exports/pseudonyms.py",),
        ("tests/exports/test_pure.py", "tests/exports/test_pseudonyms_boundaries.py"),
    ),
]
BY_NAME = {module.name: module for module in MODULES}
PYTEST_ARGS = ["-p", "no:cacheprovider", "-q"]
RESULT_LINE = re.compile(r"^\s*(\S+): (\S.*)$")
NOT_CHECKED = "not checked"


def configure(module: Module) -> Path:
    """The module's work directory, linking the project, with a pyproject.toml naming its sources and test files."""
    workdir = WORK / module.name
    workdir.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if entry.name in NOT_LINKED or entry.name == "pyproject.toml":
            continue
        link = workdir / entry.name
        if not link.is_symlink():
            link.symlink_to(entry)
    also_copy = [e.name for e in ROOT.iterdir() if e.name not in NOT_LINKED | set(SOURCE_PACKAGES) | {"tests"}]
    section = [
        "",
        "[tool.mutmut]",
        f"source_paths = {SOURCE_PACKAGES!r}".replace("'", '"'),
        f"only_mutate = {list(module.sources)!r}".replace("'", '"'),
        f"pytest_add_cli_args_test_selection = {list(module.tests)!r}".replace("'", '"'),
        f"also_copy = {sorted(also_copy)!r}".replace("'", '"'),
        # SQLite's test database is built from the models (no migrations): seconds less per mutant.
        f"pytest_add_cli_args = {PYTEST_ARGS + ([] if module.postgres else ['--no-migrations'])!r}".replace("'", '"'),
        "use_git_change_detection = false",
        "",
    ]
    (workdir / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + "\n".join(section))
    return workdir


def prepare(module: Module) -> Path:
    workdir = configure(module)
    # mutmut copies the sources once and then trusts its copy: refresh it so a run sees today's code and tests.
    shutil.rmtree(workdir / "mutants", ignore_errors=True)
    return workdir


def environment(module: Module) -> dict[str, str]:
    env = dict(os.environ, HULIC_TESTING="1")
    if not module.postgres:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    return env


def mutmut_results(module: Module) -> dict[str, str]:
    """Each mutant's status as mutmut stored it: "not checked" for those its last invocation did not run."""
    output = subprocess.run(  # noqa: S603
        [str(MUTMUT), "results", "--all", "true"],
        cwd=WORK / module.name,
        env=environment(module),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {m.group(1): m.group(2) for line in output.splitlines() if (m := RESULT_LINE.match(line))}


def results(module: Module) -> dict[str, str]:
    """The module's outcome: its last full run, updated by the retests since (kept in results.json, because mutmut
    forgets the statuses of the mutants a retest leaves out)."""
    kept = WORK / module.name / "results.json"
    return json.loads(kept.read_text()) if kept.exists() else mutmut_results(module)


def keep(module: Module, outcome: dict[str, str]) -> dict[str, str]:
    (WORK / module.name / "results.json").write_text(json.dumps(outcome, indent=0, sort_keys=True))
    return outcome


def run(module: Module, *, children: int) -> dict[str, str]:
    if module.postgres and not os.environ.get("DATABASE_URL"):
        print(f"{module.name}: skipped (needs DATABASE_URL: its tests run on Postgres only)")
        return {}
    workdir = prepare(module)
    log = workdir / "mutmut.log"
    with log.open("w") as out:
        subprocess.run(  # noqa: S603
            [str(MUTMUT), "run", "--max-children", str(children)],
            cwd=workdir,
            env=environment(module),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return keep(module, mutmut_results(module))


def retest(module: Module, *, children: int) -> dict[str, str]:
    """Run the last run's survivors again with the current test files (the mutated code is the last run's copy).

    Minutes instead of a full run while killing survivors; mutmut collects the new tests' coverage first.
    """
    workdir = configure(module)  # test files added to the module since its last run are selected too
    before = results(module)
    survivors = [name for name, status in before.items() if status == "survived"]
    if not survivors:
        return before
    shutil.copytree(ROOT / "tests", workdir / "mutants" / "tests", dirs_exist_ok=True)
    with (workdir / "mutmut.log").open("a") as out:
        subprocess.run(  # noqa: S603
            [str(MUTMUT), "run", "--max-children", str(children), *survivors],
            cwd=workdir,
            env=environment(module),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    retested = mutmut_results(module)
    outcome = {
        name: retested[name] if name in survivors and retested.get(name, NOT_CHECKED) != NOT_CHECKED else status
        for name, status in before.items()
    }
    return keep(module, outcome)


def summary(module: Module, outcome: dict[str, str]) -> str:
    killed = sum(status in ("killed", "timeout") for status in outcome.values())
    counted = sum(status in ("killed", "timeout", "survived") for status in outcome.values())
    others = set(outcome.values()) - {"killed", "timeout", "survived"}
    score = f"{100 * killed / counted:.1f}%" if counted else "n/a"
    extra = f"; not run: {sorted(others)}" if others else ""
    return f"{module.name:15} {killed:4}/{counted:<4} killed  score {score}{extra}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="module names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the modules and their test files")
    parser.add_argument("--survivors", action="store_true", help="show the surviving mutants of the last run")
    parser.add_argument("--retest", action="store_true", help="re-run only the last run's survivors")
    parser.add_argument("--children", type=int, default=2, help="mutants tested in parallel (default 2)")
    args = parser.parse_args()
    unknown = [name for name in args.modules if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {sorted(BY_NAME)}")
    chosen = [BY_NAME[name] for name in args.modules] or MODULES
    if args.list:
        for module in chosen:
            pg = " (postgres)" if module.postgres else ""
            print(f"{module.name}{pg}: {' '.join(module.sources)}  <-  {' '.join(module.tests)}")
        return 0
    if args.survivors:
        for module in chosen:
            for name, status in results(module).items():
                if status == "survived":
                    subprocess.run([str(MUTMUT), "show", name], cwd=WORK / module.name, check=False)  # noqa: S603
        return 0
    lines = []
    for module in chosen:
        outcome = (retest if args.retest else run)(module, children=args.children)
        if outcome:
            lines.append(summary(module, outcome))
            print(lines[-1], flush=True)
    print("\n".join(["", "mutation scores (killed / killed + survived):", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
