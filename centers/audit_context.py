"""Who acts and why, handed to the database triggers for the current transaction (transaction-
local settings read by the audit triggers). The registry's services and the people admin use it."""

from __future__ import annotations

from django.db import connection


def set_actor(user=None, reason: str = "") -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('registry.actor_id', %s, true),"
            " set_config('registry.actor_name', %s, true),"
            " set_config('registry.reason', %s, true)",
            [
                str(user.pk) if user is not None and user.pk else "",
                user.full_name if user is not None and user.pk else "",
                reason or "",
            ],
        )
