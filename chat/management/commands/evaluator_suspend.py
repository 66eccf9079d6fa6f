from django.core.management.base import BaseCommand, CommandError

from chat.models import Evaluator
from chat.services import evaluator_suspend


class Command(BaseCommand):
    help = "Suspend an evaluator of a competition."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--reason", required=True)

    def handle(self, *args, slug, username, reason, **options):
        evaluator = Evaluator.objects.filter(competition__slug=slug, user__username=username).first()
        if evaluator is None:
            raise CommandError(f"No evaluator {username!r} in {slug!r}.")
        evaluator_suspend(evaluator=evaluator, reason=reason)
        self.stdout.write(f"Suspended {username}.")
