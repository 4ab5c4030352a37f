from celery import shared_task

from . import outbox


@shared_task(name="registry.sweep_lock_outbox", ignore_result=True)
def sweep_lock_outbox() -> int:
    return outbox.send_pending()
