from django.core.management.base import BaseCommand

from registry.models import DictionaryVersion


class Command(BaseCommand):
    help = "Print the current (or a given) data dictionary version as REDCap CSV."

    def add_arguments(self, parser):
        parser.add_argument("--version", type=int)

    def handle(self, *args, version=None, **options):
        qs = DictionaryVersion.objects.all()
        dv = qs.get(number=version) if version else qs.current()
        from registry.dictionary import dictionary_to_csv

        self.stdout.write(dictionary_to_csv(dv.dictionary), ending="")
