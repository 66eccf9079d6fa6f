"""DATASHEET.md: what a reader of the dataset needs to know (after "Datasheets for Datasets", Gebru et al.)."""

from django.utils import timezone

from exports.builder import TableSpec
from exports.models import ExportJob

_SCOPES = {
    "all": "Every finished conversation of the competition (organizers' copy).",
    "team": "The finished conversations of one team's bots (the team's own copy).",
    "public": "The public release: every finished conversation of the closed competition.",
}


def _day(moment) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "n/a"


def _fields(spec: TableSpec) -> str:
    rows = "\n".join(f"| `{c.name}` | {c.type} | {c.description} |" for c in spec.columns)
    return f"| field | type | meaning |\n| --- | --- | --- |\n{rows}\n"


def datasheet_markdown(*, job: ExportJob, summary: dict, specs: dict[str, TableSpec]) -> str:
    competition = job.competition
    files = (
        "`conversations.jsonl`: one conversation per line, with its `messages` and `judgments` nested."
        if job.format == ExportJob.Format.JSONL
        else f"`messages.{job.format}` (one row per message) and `judgments.{job.format}` (one row per judgment)."
    )
    names = (
        "Bot and team names are included, as the competition allows."
        if competition.include_bot_names_in_exports
        else "Bots and teams appear as pseudonyms (`B-...`, `T-...`)."
    )
    first, last = summary.get("first_started"), summary.get("last_ended")
    tables = ["messages", "judgments", "reviews", "games"]
    if job.format == ExportJob.Format.JSONL:
        tables.insert(0, "conversations")
    field_sections = "\n".join(f"### {name}\n\n{_fields(specs[name])}" for name in tables)
    reveal = (
        "Evaluators were told after each verdict whether their partner was a bot or a human (reveal after "
        "judgment: on), so later verdicts may depend on earlier ones."
        if competition.reveal_partner_after_judgment
        else "Evaluators were not told whether their partner was a bot or a human (reveal after judgment: off)."
    )
    return f"""# {competition.title}: HuLiC dataset

## Summary

- Competition: {competition.title} (`{competition.slug}`), phase {competition.phase}.
- Scope: {_SCOPES[job.scope]}
- Exported: {timezone.now().strftime("%Y-%m-%d %H:%M UTC")}; format {job.format}; files: {files}
- Counts: {summary.get("conversations", 0)} conversations, {summary.get("messages", 0)} messages,
  {summary.get("judgments", 0)} judgments, {summary.get("evaluators", 0)} evaluators,
  {summary.get("reviews", 0)} transcript reviews (in `reviews.{job.format}`),
  {summary.get("games", 0)} three-party games (`games.{job.format}`; see docs/three-party.md).
- Dates: {_day(first)} to {_day(last)}.
- Languages: {", ".join(summary.get("languages") or []) or "none"}.
- License: {competition.license}.

## How the data were collected

HuLiC runs blind, Turing-style evaluations. An evaluator is paired either with a bot (a team's webhook endpoint)
or, in a share of control chats, with a second human evaluator, without being told which. Each chat has a time
limit of {competition.chat_time_limit_seconds} seconds and at most {competition.max_turns} messages. Afterwards each
evaluator records a verdict (human or bot), a confidence from 1 to 5, ratings from 1 to 5 on the competition's
criteria and a short reason. Evaluators consented to the competition's terms before their first chat. Only finished
chats are included.

Transcript review (if the competition ran it): other evaluators later read finished chats, never their own or their
team's bots', with the chatting evaluator shown as "Interrogator" and the partner as "Witness". A *single* review
judges one transcript (verdict, confidence, reason); a *pairwise* review shows two transcripts side by side (sides
randomised) and asks which witness sounds more human, with a reason. Some items are *gold* items with a known answer
(attention checks); a reviewer who failed more of them than the competition's declared strike limit stopped counting.
Each review is one row of `reviews`; gold rows are marked.

Blinding: bots' typing indicators, reply times, match waits and endings were played from timings recorded from
the human partners of control chats, so that only the conversation told the partner's kind (HuLiC's
docs/blinding.md). {reveal}

## Anonymization

- Evaluators appear only as pseudonyms (`E-...`): an HMAC-SHA256 of their internal id under a random salt drawn
  for this export alone and then discarded. The same evaluator has the same pseudonym throughout this export, but
  pseudonyms cannot be linked across exports or back to an account.
- Conversations have pseudonymous ids (`C-...`) made the same way; no database id, public id, username, e-mail or
  IP address is exported.
- {names}
- Messages are exported as they were delivered: text that moderation flagged is masked (`flagged` is true).
- Free text (messages, reasons) is what people typed; evaluators were asked not to share personal details.

## Fields

{field_sections}
## Terms of the competition

{competition.terms or "(none given)"}
"""
