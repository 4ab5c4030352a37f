from django.core.management.base import BaseCommand, CommandError

from centers.models import User
from centers.tokens import issue_api_token


class Command(BaseCommand):
    help = "Create (or replace) a user's 32-character REDCap-style API token and print it."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"no active user named {username!r}") from exc
        self.stdout.write(issue_api_token(user=user))
