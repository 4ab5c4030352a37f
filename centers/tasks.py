"""E-mail tasks: each loads by id and calls one service. A mail server error raises, and
Celery retries a few times with a growing wait; the sweep catches anything left."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail

from . import notifications

RETRY = {"autoretry_for": (OSError,), "retry_backoff": 30, "max_retries": 5}


@shared_task(name="centers.send_email", ignore_result=True, **RETRY)
def send_email(subject: str, body: str, to: str) -> None:
    send_mail(subject, body, None, [to])


@shared_task(name="centers.send_notification", ignore_result=True, **RETRY)
def send_notification(notification_id: int) -> bool:
    return notifications.send_notification(notification_id)


@shared_task(name="centers.send_notification_digests", ignore_result=True)
def send_notification_digests() -> int:
    return notifications.send_digests()


@shared_task(name="centers.sweep_notifications", ignore_result=True)
def sweep_notifications() -> int:
    return notifications.sweep_notifications()
