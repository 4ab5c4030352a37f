from django.core.management.base import BaseCommand, CommandError

from registry.integrity import locked_without_signature, verify_audit_chain, verify_signatures


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
        unsigned = locked_without_signature()
        if unsigned:
            raise CommandError(f"locked record(s) without a valid signature: {', '.join(unsigned)}")
        self.stdout.write(
            self.style.SUCCESS(f"audit chain intact: {chain.checked} events; signatures valid")
        )
