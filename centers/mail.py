"""Sending e-mail through Celery: a task sent by name once the transaction commits (so a
rolled-back change sends nothing, and a slow mail server never holds a request)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)
SEND_EMAIL_TASK = "centers.send_email"


def send_task_after_commit(name: str, args: list) -> None:
    """Send Celery task `name` after the current transaction commits (at once outside one).
    A broker failure is logged, never raised into the request that caused it."""
    transaction.on_commit(lambda: send_task_now(name, args), robust=True)


def send_task_now(name: str, args: list) -> bool:
    from config.celery import app

    try:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            app.loader.import_default_modules()
            app.tasks[name].apply(args=args, throw=True)
        else:
            app.send_task(name, args=args, retry=False)
    except Exception:
        logger.exception("could not send task %s", name)
        return False
    return True


def email_after_commit(*, subject: str, body: str, to: str) -> None:
    send_task_after_commit(SEND_EMAIL_TASK, [subject, body, to])
