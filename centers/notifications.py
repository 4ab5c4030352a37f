"""E-mail notifications: written as outbox rows in the transaction of their event, sent by a
Celery task after commit (or in the person's daily digest), never when they chose none.

The e-mails name the record, form and field and link to the page; they do not carry the
query's text or any value (hospital mail is not the place for clinical data)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .mail import send_task_after_commit, send_task_now
from .models import EmailNotifications, Notification, User

logger = logging.getLogger(__name__)
SEND_TASK = "centers.send_notification"
RESEND_AFTER = timedelta(minutes=5)


def notify(*, users: Iterable[User], kind: str, template: str, context: dict) -> int:
    """Owe each person an e-mail rendered from `template` (``centers/email/<template>.txt``: the
    first line is the subject). Call inside the event's transaction. Returns how many."""
    count = 0
    for user in {u.pk: u for u in users}.values():
        if not user.is_active or not user.email:
            continue
        if user.email_notifications == EmailNotifications.OFF:
            continue
        # The person's language once they can choose one; until then the site's.
        with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
            text = render_to_string(
                f"centers/email/{template}.txt",
                {**context, "person": user, "site_url": settings.SITE_URL},
            ).strip()
        subject, _, body = text.partition("\n")
        note = Notification.objects.create(
            user=user, kind=kind, subject=subject.strip()[:200], body=body.strip()
        )
        if user.email_notifications == EmailNotifications.EACH:
            send_task_after_commit(SEND_TASK, [note.pk])
        count += 1
    return count


def send_notification(notification_id: int) -> bool:
    """Send one notification e-mail (once: the row is claimed under a lock)."""
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update(skip_locked=True)
            .select_related("user")
            .filter(pk=notification_id, sent_at__isnull=True)
            .first()
        )
        if note is None:
            return False
        send_mail(note.subject, note.body + "\n\n" + _footer(note.user), None, [note.user.email])
        note.sent_at = timezone.now()
        note.save(update_fields=["sent_at"])
    return True


def send_digests() -> int:
    """One e-mail per person on the daily digest with everything owed to them; returns how
    many e-mails were sent."""
    sent = 0
    people = User.objects.filter(
        email_notifications=EmailNotifications.DAILY,
        notifications__sent_at__isnull=True,
        is_active=True,
    ).distinct()
    for person in people:
        with transaction.atomic():
            notes = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(user=person, sent_at__isnull=True)
                .order_by("created_at")
            )
            if not notes or not person.email:
                continue
            with translation.override(getattr(person, "language", "") or settings.LANGUAGE_CODE):
                text = render_to_string(
                    "centers/email/digest.txt",
                    {"person": person, "notes": notes, "site_url": settings.SITE_URL},
                ).strip()
            subject, _, body = text.partition("\n")
            send_mail(subject.strip(), body.strip(), None, [person.email])
            Notification.objects.filter(pk__in=[n.pk for n in notes]).update(sent_at=timezone.now())
            sent += 1
    return sent


def _footer(person: User) -> str:
    with translation.override(getattr(person, "language", "") or settings.LANGUAGE_CODE):
        return render_to_string(
            "centers/email/_footer.txt", {"site_url": settings.SITE_URL}
        ).strip()


def sweep_notifications() -> int:
    """Resend what a broker outage held back: immediate notifications still unsent after a
    few minutes."""
    stale = Notification.objects.filter(
        sent_at__isnull=True,
        created_at__lt=timezone.now() - RESEND_AFTER,
        user__email_notifications=EmailNotifications.EACH,
    ).values_list("pk", flat=True)[:500]
    return sum(send_task_now(SEND_TASK, [pk]) for pk in stale)
