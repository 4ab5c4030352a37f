from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from centers.access import access_for
from centers.models import Center


class FormStatus(models.IntegerChoices):
    INCOMPLETE = 0, _("Incomplete")
    UNVERIFIED = 1, _("Unverified")
    COMPLETE = 2, _("Complete")


class RecordQuerySet(models.QuerySet):
    def visible_to(self, user) -> RecordQuerySet:
        """The one place patient records are scoped to what a user may read."""
        centers = access_for(user).readable_center_ids()
        qs = self.filter(deleted_at__isnull=True)
        if centers is None:
            return qs
        return qs.filter(center_id__in=centers)

    def exportable_to(self, user, *, include_unlocked: bool = True) -> RecordQuerySet:
        """The one read rule for exports (web zip, API, anything that hands out rows in bulk):
        readable centres' locked records, plus unlocked ones only where the role may export
        them (access.unlocked_export_center_ids). include_unlocked=False: locked only."""
        qs = self.visible_to(user)
        unlocked = access_for(user).unlocked_export_center_ids() if include_unlocked else set()
        if unlocked is None:
            return qs
        return qs.filter(models.Q(is_locked=True) | models.Q(center_id__in=unlocked))


class Record(models.Model):
    """A patient. Its id carries the centre prefix: MIL-0001. Ids are never reused."""

    record_id = models.CharField(max_length=32, unique=True)
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="records")
    sequence = models.PositiveIntegerField()
    is_locked = models.BooleanField(default=False)
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    synthetic = models.BooleanField(default=False, help_text="Demo data, not a real patient.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["center__code", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["center", "sequence"], name="record_center_sequence")
        ]
        indexes = [models.Index(fields=["center", "is_locked"], name="record_center_locked")]

    def __str__(self) -> str:
        return self.record_id

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("registry:record", args=[self.record_id])


class RecordCounter(models.Model):
    """Last number handed out per centre; rows are locked while a new id is allocated."""

    center = models.OneToOneField(Center, on_delete=models.PROTECT, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.center_id}: {self.last_number}"


class InstrumentData(models.Model):
    """The answers of one instrument (form) instance of a record, as JSON."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="instruments")
    instrument = models.CharField(max_length=100)
    instance = models.PositiveIntegerField(default=1)
    data = models.JSONField(default=dict)
    status = models.SmallIntegerField(choices=FormStatus.choices, default=FormStatus.INCOMPLETE)
    ever_completed = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    dictionary_version = models.ForeignKey(
        "registry.DictionaryVersion", on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    is_locked = models.BooleanField(
        default=False, help_text="Instrument-level lock (REDCap's per-form lock)."
    )
    locked_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["record_id", "instrument", "instance"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "instrument", "instance"], name="instrument_instance_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id}/{self.instrument}#{self.instance}"


class Signature(models.Model):
    """An electronic signature applied when a record is locked (21 CFR 11.50)."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    content_sha256 = models.CharField(max_length=64)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(voided_at__isnull=True),
                name="one_valid_signature_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.signer_name}: {self.meaning} ({self.record})"


class LockOutbox(models.Model):
    """A lock or unlock, announced to analytics after commit (dataset_version = this id)."""

    dataset_version = models.BigAutoField(primary_key=True)
    action = models.CharField(max_length=16)
    record_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"dataset v{self.dataset_version} ({self.action})"
