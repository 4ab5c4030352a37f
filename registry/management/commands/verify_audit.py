from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry.audit_anchors import AnchorInvalid, parse_anchor, read_anchors
from registry.integrity import check_all


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain, every dictionary version's and signature's hash, "
        "and any anchors (chain heads kept outside the database); non-zero on a break. Prints "
        "the chain head to keep as the next anchor. Without an anchor, deleting the newest "
        "events or rewriting an event and re-computing every later hash cannot be detected."
    )
    # It reads the database only; it must run (nightly, from cron) whatever the project's config.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a chain head printed earlier; the trail must still hold it (repeatable)",
        )
        parser.add_argument(
            "--anchors",
            action="append",
            default=[],
            metavar="FILE",
            help="a file of anchors, one SEQ:HASH per line, # starts a comment",
        )

    def handle(self, *args, anchor, anchors, **options):
        try:
            kept = [parse_anchor(text) for text in anchor]
            for path in anchors:
                kept += read_anchors(Path(path))
        except (AnchorInvalid, OSError) as exc:
            raise CommandError(str(exc)) from exc
        report = check_all(kept)
        if not report["ok"]:
            raise CommandError(report["problem"])
        held = f"; {len(kept)} anchor(s) held" if kept else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain intact: {report['events_checked']} events; "
                f"{report['dictionary_versions_checked']} dictionary version(s) and signatures "
                f"valid{held}"
            )
        )
        self.stdout.write(f"chain head: {report['chain_head'] or 'none (empty trail)'}")
