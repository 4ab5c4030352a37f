from celery import shared_task

from . import outbox


@shared_task(name="registry.sweep_lock_outbox", ignore_result=True)
def sweep_lock_outbox() -> int:
    return outbox.send_pending()


# The export task lives with the exports; importing it here registers it with the worker.
from .exports import tasks as export_tasks  # noqa: E402, F401
