from django.core.management.base import BaseCommand

from registry.models import DictionaryVersion


class Command(BaseCommand):
    help = "Print the current (or a given) data dictionary version as REDCap CSV."

    def add_arguments(self, parser):
        parser.add_argument("--dictionary-version", type=int, dest="number")

    def handle(self, *args, number=None, **options):
        qs = DictionaryVersion.objects.all()
        dv = qs.get(number=number) if number else qs.current()
        from registry.dictionary import dictionary_to_csv

        self.stdout.write(dictionary_to_csv(dv.dictionary), ending="")
