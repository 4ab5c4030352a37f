"""Django's changepassword, with the registry's rule: a password set for a person from the shell
is one-time (changed at their next log-in, no signature before), and the audit event says how
it was set (there is no logged-in editor to name)."""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.db import transaction

from centers.audit_context import set_actor
from centers.models import User


class Command(changepassword.Command):
    def handle(self, *args, **options):
        username = options["username"] or getpass.getuser()  # as Django's command chooses
        with transaction.atomic(using=options["database"]):
            set_actor(None, reason="password set with manage.py changepassword")
            result = super().handle(*args, **options)
            User.objects.using(options["database"]).filter(username=username).update(
                must_change_password=True
            )
        return result
