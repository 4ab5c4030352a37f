from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .records import Record


class DataQualityRule(models.Model):
    """A rule in REDCap logic syntax; a record is flagged where the logic is TRUE."""

    name = models.CharField(max_length=200)
    logic = models.TextField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class FindingAcknowledgement(models.Model):
    """A data-quality finding accepted as correct, with a reason, so it no longer blocks lock."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="acknowledgements")
    rule_key = models.CharField(max_length=100)
    reason = models.TextField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "rule_key"], name="ack_record_rule")
        ]

    def __str__(self) -> str:
        return f"{self.record}: {self.rule_key} acknowledged"


class Query(models.Model):
    """A data-resolution query on one field of a record (opened by a monitor or data manager)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="queries")
    instrument = models.CharField(max_length=100)
    instance = models.PositiveIntegerField(default=1)
    field = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"query on {self.record}.{self.field} ({self.status})"


class QueryMessage(models.Model):
    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"
