"""Six centres, demo users, the GI-LMS dictionary and a SYNTHETIC cohort. Idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.services.demo import DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = "Load demo data (SYNTHETIC patients). Refused in production mode."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is refused in production mode (demo passwords).")
        summary = seed_demo()
        self.stdout.write(self.style.SUCCESS(summary))
        self.stdout.write("\nDemo log-ins (password for all: demo-password), SYNTHETIC data:")
        for username, role in DEMO_USERS():
            self.stdout.write(f"  {username:<22} {role}")
        self.stdout.write("\nOpen http://127.0.0.1:8000/ and log in.\n")
