from __future__ import annotations

from django.db import models

from centers.access import access_for


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> AuditEventQuerySet:
        centers = access_for(user).readable_center_ids()
        if centers is None:
            return self
        return self.filter(center_id__in=centers)


class AuditEvent(models.Model):
    """Append-only, hash-chained. Rows are written by database triggers and by the audit service;
    the database fills seq, occurred_at, actor (from the transaction's context) and the hashes,
    and rejects UPDATE, DELETE and TRUNCATE."""

    seq = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=40)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=300, blank=True)
    center_id = models.BigIntegerField(null=True, blank=True)
    record_id = models.CharField(max_length=32, blank=True, db_index=True)
    instrument = models.CharField(max_length=100, blank=True)
    instance = models.PositiveIntegerField(null=True, blank=True)
    field = models.CharField(max_length=100, blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    txid = models.BigIntegerField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["center_id", "occurred_at"], name="audit_center_time"),
            models.Index(fields=["action", "occurred_at"], name="audit_action_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.record_id}"
