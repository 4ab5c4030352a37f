from django.core.management.base import BaseCommand, CommandError

from registry.integrity import check_all


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and every signature's hash; non-zero on a break."

    def handle(self, *args, **options):
        report = check_all()
        if not report["ok"]:
            raise CommandError(report["problem"])
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain intact: {report['events_checked']} events; signatures valid"
            )
        )
