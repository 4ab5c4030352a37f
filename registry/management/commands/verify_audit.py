from django.core.management.base import BaseCommand, CommandError

from registry.integrity import verify_audit_chain, verify_signatures


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and every signature's hash; non-zero on a break."

    def handle(self, *args, **options):
        chain = verify_audit_chain()
        if chain.broken_at is not None:
            raise CommandError(f"audit chain broken at event #{chain.broken_at}: {chain.problem}")
        bad = verify_signatures()
        if bad:
            first = bad[0]
            raise CommandError(
                f"signature #{first.pk} on record {first.record.record_id} does not match the "
                f"signed content ({len(bad)} mismatched signature(s))"
            )
        self.stdout.write(
            self.style.SUCCESS(f"audit chain intact: {chain.checked} events; signatures valid")
        )
