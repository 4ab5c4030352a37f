"""Build a dataset export (the same zip as the web page) from the command line."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from centers.models import User
from registry.exports.build import build_export
from registry.exports.options import DATE_MODES, FILE_FORMATS, ExportOptions


class Command(BaseCommand):
    help = "Export the locked dataset (or all records) as a zip, scoped to the user's access."

    def add_arguments(self, parser):
        parser.add_argument("username", help="who exports (scoping and audit)")
        parser.add_argument("directory", help="where the files and the zip are written")
        parser.add_argument(
            "--all-records",
            action="store_true",
            help="all records, with a registry_lock_status column",
        )
        parser.add_argument("--deidentify", action="store_true")
        parser.add_argument("--dates", choices=DATE_MODES, default="shift")
        parser.add_argument("--labels", action="store_true", help="labels instead of codes")
        parser.add_argument("--formats", default=",".join(FILE_FORMATS))

    def handle(self, *args, username, directory, **opts):
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"no active user named {username!r}") from exc
        options = ExportOptions(
            locked_only=not opts["all_records"],
            deidentify=opts["deidentify"],
            dates=opts["dates"] if opts["deidentify"] else "keep",
            raw_or_label="label" if opts["labels"] else "raw",
            formats=tuple(f for f in FILE_FORMATS if f in opts["formats"].split(",")),
        )
        result = build_export(user=user, options=options, directory=Path(directory))
        manifest = result.manifest
        self.stdout.write(
            f"{result.zip_path} ({manifest['records']} records, "
            f"{manifest['rows']} rows, dataset v{manifest['dataset_version']})"
        )
