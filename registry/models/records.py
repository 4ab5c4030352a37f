from __future__ import annotations

import functools

from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from centers.access import access_for
from centers.models import Center
from config.prepared_statements import model_from_row, prepared_cursor, select_list


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

    def visible_by_id(self, user, record_id: str, *, language: str = "") -> Record | None:
        """One record by id under visible_to's rule, with its centre and the current dictionary
        key (`current_dictionary_key`), in one constant statement: every form page and save
        reads it, and compiling the ORM query cost about four times the statement's own time.
        `language` (a translation code): the statement also reads which translation of the
        current version into it is the latest (`latest_translations`, {(version pk, language):
        translation pk or None}, for services.dictionary_translations), sparing a page in that
        language a statement of its own.
        tests/registry/test_record_read.py holds it to visible_to for every kind of person."""
        found = self._read_by_id(user, record_id, with_rows=False, language=language)
        return found[0] if found else None

    def visible_with_rows(
        self, user, record_id: str, *, language: str = ""
    ) -> tuple[Record, list[InstrumentData]] | None:
        """visible_by_id and the record's live instrument rows (highest instance first, as
        services.records.live_rows) in the same statement: a form save needs both, and each
        round trip costs both processes about as much CPU as the statement itself."""
        return self._read_by_id(user, record_id, with_rows=True, language=language)

    def _read_by_id(self, user, record_id: str, *, with_rows: bool, language: str):
        centers = access_for(user).readable_center_ids()
        with prepared_cursor(self.db) as cursor:
            cursor.execute(
                _by_id_sql(with_rows),
                [language or None, record_id, centers is None, sorted(centers or ())],
            )
            found = cursor.fetchall()
        if not found:
            return None
        first = found[0]
        split = len(Record._meta.concrete_fields)
        key_at = split + len(Center._meta.concrete_fields)
        record = model_from_row(Record, first[:split], self.db)
        record._state.fields_cache["center"] = model_from_row(Center, first[split:key_at], self.db)
        key = record.current_dictionary_key = first[key_at]
        record.latest_translations = {}
        if language and key:
            record.latest_translations[(int(key.split(":", 1)[0]), language)] = first[key_at + 1]
        rows = []
        for found_row in found if with_rows else ():
            if found_row[key_at + 2] is None:  # the LEFT JOIN's empty side: no rows
                continue
            row = model_from_row(InstrumentData, found_row[key_at + 2 :], self.db)
            row._state.fields_cache["record"] = record
            rows.append(row)
        return record, rows

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


@functools.cache
def _by_id_sql(with_rows: bool) -> str:
    """Built once from the models' own columns; the values are always parameters. With rows:
    one result row per live instrument row (the record's columns repeated), or one with the
    row's columns NULL for a record that has none. The first parameter is the translation
    language (NULL for none); both subqueries see the same snapshot, so the same version."""
    from .dictionary import CURRENT_ID_SQL, CURRENT_KEY_SQL, LATEST_TRANSLATION_SQL

    quote = connection.ops.quote_name
    translation = LATEST_TRANSLATION_SQL.format(version=f"({CURRENT_ID_SQL})", language="%s")
    columns = [
        select_list(Record, "r"),
        select_list(Center, "c"),
        f"({CURRENT_KEY_SQL})",
        f"({translation})",
    ]
    joins = f" JOIN {quote(Center._meta.db_table)} c ON c.id = r.center_id"
    order = ""
    if with_rows:
        columns.append(select_list(InstrumentData, "d"))
        joins += (
            f" LEFT JOIN {quote(InstrumentData._meta.db_table)} d"
            " ON d.record_id = r.id AND d.deleted_at IS NULL"
        )
        order = " ORDER BY d.instance DESC"
    return (
        f"SELECT {', '.join(columns)} FROM {quote(Record._meta.db_table)} r{joins}"
        " WHERE r.record_id = %s AND r.deleted_at IS NULL AND (%s OR r.center_id = ANY(%s))"
        f"{order}"
    )


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
