"""Load the demo competition: organizer, evaluators, a participant team, and the sample bots registered."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from competitions.models import Bot, Competition, Team, TeamMembership

DEMO_PASSWORD = "hulic-demo"  # noqa: S105 - printed to the person running the demo, never used in production
DEMO_USERS = {
    "organizer": {"is_staff": True, "is_superuser": True},
    "eva": {},
    "evan": {},
    "pat": {},
}
DEMO_BOTS = [
    # (team, bot name, baseline?); `rundemo` gives each a free port (or DEMO_BOT_PORTS) when it starts them.
    ("HuLiC Baselines", "ELIZA", True),
    ("Demo Lab", "Jimin", False),
]

DESCRIPTION = """A demonstration of a blind, Turing-style evaluation.

Chat for up to five minutes with a partner who is **either a chatbot or another person**, then judge which it was.
"""
RULES = """1. Be yourself; do not reveal your identity or ask for your partner's.
2. No abuse: messages are moderated and masked.
3. Judge honestly: say what gave your partner away.
"""
TERMS = """Your messages and judgments are stored and may be released, anonymized, as a research dataset
under CC BY 4.0. No username, e-mail or IP address is ever released."""
DESCRIPTION_KO = """블라인드 튜링 방식 평가의 시연입니다.

**챗봇 또는 다른 사람**인 상대와 최대 5분 동안 채팅한 뒤, 어느 쪽이었는지 판정하세요.
"""
RULES_KO = """1. 자연스럽게 대화하세요. 자신의 신원을 밝히거나 상대의 신원을 묻지 마세요.
2. 욕설 금지: 메시지는 검토되고 가려집니다.
3. 정직하게 판정하세요: 무엇 때문에 상대를 알아챘는지 적어 주세요.
"""
TERMS_KO = """메시지와 판정은 저장되며, 익명화되어 CC BY 4.0 연구 데이터셋으로 공개될 수 있습니다.
사용자 이름, 이메일, IP 주소는 절대 공개되지 않습니다."""


class Command(BaseCommand):
    help = "Create (or refresh) the demo competition, users and sample bots. Safe to run repeatedly."

    def add_arguments(self, parser):
        parser.add_argument("--bot-host", default="127.0.0.1")

    @transaction.atomic
    def handle(self, *args, bot_host: str, **options):
        users = {name: self._user(name, **flags) for name, flags in DEMO_USERS.items()}
        now = timezone.now()
        competition, _ = Competition.objects.update_or_create(
            slug="turing-demo",
            defaults={
                "title": "HuLiC Turing Demo",
                "description": DESCRIPTION,
                "rules": RULES,
                "terms": TERMS,
                "description_ko": DESCRIPTION_KO,
                "rules_ko": RULES_KO,
                "terms_ko": TERMS_KO,
                "phase": Competition.Phase.EVALUATION,
                "registration_opens_at": now - timedelta(days=7),
                "evaluation_opens_at": now - timedelta(days=1),
                "evaluation_closes_at": now + timedelta(days=30),
                "leaderboard_public_during_evaluation": True,
                "show_example_chats_to_teams": True,
                "participant_downloads": Competition.ParticipantDownloads.OWN_CHATS,
                # Every request looks for a person first, so two browsers started together (eva and evan) are
                # paired as humans, as the README promises; alone, an evaluator gets a bot after the wait.
                "control_chat_share": 1.0,
                "human_partner_wait_seconds": 10,
            },
        )
        for index, (team_name, bot_name, baseline) in enumerate(DEMO_BOTS):
            team, _ = Team.objects.get_or_create(name=team_name, defaults={"slug": team_name.lower().replace(" ", "-")})
            if team_name == "Demo Lab":
                TeamMembership.objects.get_or_create(
                    team=team, user=users["pat"], defaults={"role": TeamMembership.Role.OWNER}
                )
            bot, created = Bot.objects.get_or_create(
                competition=competition,
                name=bot_name,
                defaults={
                    "team": team,
                    "endpoint_url": f"http://{bot_host}:{8101 + index}/",
                    "is_baseline": baseline,
                },
            )
            if created:
                bot.versions.create(number=1, endpoint_url=bot.endpoint_url, note="demo")
        self.stdout.write(self.style.SUCCESS(f"Demo competition '{competition.slug}' ready."))

    def _user(self, username: str, **flags):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@demo.hulic.invalid", **flags}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user


def demo_bot_names() -> list[str]:
    return [name for _team, name, _baseline in DEMO_BOTS]
