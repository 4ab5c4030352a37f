"""Django admin, scoped like every other view: querysets via visible_to, the audit trail fully
read-only, locked records read-only, and nothing can be deleted from here (no bulk delete)."""

from __future__ import annotations

from django.contrib import admin

from centers.access import access_for
from centers.admin import DataManagerAdmin
from registry.audit import record_event

from .models import AuditEvent, InstrumentData, Record, SavedReport, Signature


class NoDeleteAdmin(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Record)
class RecordAdmin(NoDeleteAdmin):
    list_display = ("record_id", "center", "is_locked", "synthetic", "created_at")
    list_filter = ("center", "is_locked")
    search_fields = ("record_id",)
    readonly_fields = [f.name for f in Record._meta.fields]

    def get_queryset(self, request):
        return Record.objects.visible_to(request.user).select_related("center")

    def has_add_permission(self, request) -> bool:
        return False  # ids are allocated by the create_record service

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and (
            obj.is_locked or not access_for(request.user).can_edit_center(obj.center_id)
        ):
            return False
        return super().has_change_permission(request, obj)


@admin.register(InstrumentData)
class InstrumentDataAdmin(NoDeleteAdmin):
    list_display = ("record", "instrument", "instance", "status", "version", "updated_at")
    list_filter = ("instrument", "status")
    search_fields = ("record__record_id",)
    readonly_fields = [f.name for f in InstrumentData._meta.fields]

    def get_queryset(self, request):
        return InstrumentData.objects.filter(
            record__in=Record.objects.visible_to(request.user)
        ).select_related("record")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Data change only through the instrument form (validation, versions, reasons).
        return False


@admin.register(Signature)
class SignatureAdmin(NoDeleteAdmin):
    list_display = ("record", "signer_name", "meaning", "signed_at", "voided_at")
    readonly_fields = [f.name for f in Signature._meta.fields]

    def get_queryset(self, request):
        return Signature.objects.filter(
            record__in=Record.objects.visible_to(request.user)
        ).select_related("record")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(NoDeleteAdmin):
    list_display = (
        "seq",
        "occurred_at",
        "action",
        "actor_name",
        "record_id",
        "instrument",
        "field",
    )
    list_filter = ("action",)
    search_fields = ("record_id", "actor_name", "field")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def get_queryset(self, request):
        return AuditEvent.objects.visible_to(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SavedReport)
class SavedReportAdmin(DataManagerAdmin):
    """Saved reports for content=report; their id is the API's report_id."""

    list_display = ("id", "title", "filter_logic", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        record_event(
            "report_saved",
            user=request.user,
            details={
                "report_id": obj.pk,
                "title": obj.title,
                "fields": obj.fields,
                "forms": obj.forms,
                "filter_logic": obj.filter_logic,
            },
        )
