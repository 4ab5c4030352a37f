import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registry.dictionary import DictionaryInvalid
from registry.services.dictionary import import_dictionary
from registry.services.errors import DictionaryChangeRefused, DictionaryUnchanged


class Command(BaseCommand):
    help = "Import a REDCap data dictionary CSV as the next dictionary version (all-or-nothing)."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")
        parser.add_argument("--project", help="JSON with repeating_instruments and missing_codes")
        parser.add_argument(
            "--confirm-changes",
            action="store_true",
            help="accept changes that alter collected data (data manager)",
        )
        parser.add_argument("--note", default="")

    def handle(self, *args, csv_file, project, confirm_changes, note, **options):
        text = Path(csv_file).read_text(encoding="utf-8-sig")
        project_settings = json.loads(Path(project).read_text()) if project else None
        try:
            version = import_dictionary(
                csv_text=text, project=project_settings, confirm_changes=confirm_changes, note=note
            )
        except DictionaryInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"row {error.row}, column '{error.column}': {error.message}")
            raise CommandError(f"{len(exc.errors)} problem(s); nothing was imported") from exc
        except DictionaryChangeRefused as exc:
            for index, records in exc.affected.items():
                change = exc.changes[index]
                self.stderr.write(
                    f"{change.kind} {change.field}: {change.detail}; "
                    f"records: {', '.join(map(str, records))}"
                )
            raise CommandError(f"{exc} Re-run with --confirm-changes to accept.") from exc
        except DictionaryUnchanged as exc:
            self.stdout.write(self.style.WARNING(str(exc)))
            return
        self.stdout.write(self.style.SUCCESS(f"imported as dictionary version {version.number}"))
