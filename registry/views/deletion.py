"""Deleting a form's data, a data manager's record delete, rename and restore from the trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from centers.access import access_for
from registry.forms.deletion import ReasonForm, RenameForm
from registry.models import InstrumentData, Record
from registry.services.deletion import (
    deleted_events,
    instrument_delete,
    record_delete,
    record_rename,
    restore_deleted,
)
from registry.services.errors import RegistryError
from registry.services.records import get_record_for_user

from .common import dictionary_version


@login_required
@require_POST
def instrument_delete_view(request, record_id: str, instrument: str, instance: int):
    record = get_record_for_user(request.user, record_id, write=True)
    version = dictionary_version()
    forms_ = dict(version.dictionary.forms)
    if instrument not in forms_:
        raise Http404("No such instrument")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason to delete the form's data."))
        return redirect("registry:instrument", record.record_id, instrument, instance)
    try:
        instrument_delete(
            user=request.user,
            record=record,
            instrument=instrument,
            instance=instance,
            reason=form.cleaned_data["reason"],
        )
    except RegistryError as exc:
        messages.error(request, str(exc))
        return redirect("registry:instrument", record.record_id, instrument, instance)
    repeating = instrument in version.repeating_instruments
    name = f"{forms_[instrument]} #{instance}" if repeating else forms_[instrument]
    messages.success(
        request,
        _(
            "The data of %(form)s were deleted. A data manager can restore them from the "
            "audit trail."
        )
        % {"form": name},
    )
    return redirect(record.get_absolute_url())


def _data_manager(request) -> None:
    if not access_for(request.user).is_data_manager:
        raise Forbidden("Only a data manager can do this.")


@login_required
@require_http_methods(["GET", "POST"])
def record_delete_view(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    _data_manager(request)
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                record_delete(user=request.user, record=record, reason=form.cleaned_data["reason"])
            except RegistryError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(
                    request,
                    _(
                        "Record %(record)s was deleted; it can be restored from the deleted "
                        "data page."
                    )
                    % {"record": record.record_id},
                )
                return redirect("registry:dashboard")
        else:
            status = 400
    return render(
        request, "registry/record_delete.html", {"record": record, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_rename_view(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    _data_manager(request)
    form = RenameForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            old = record.record_id
            try:
                record = record_rename(
                    user=request.user,
                    record=record,
                    new_id=form.cleaned_data["new_id"],
                    reason=form.cleaned_data["reason"],
                )
            except RegistryError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(
                    request,
                    _("Record %(old)s is now %(new)s.") % {"old": old, "new": record.record_id},
                )
                return redirect(record.get_absolute_url())
        else:
            status = 400
    return render(
        request, "registry/record_rename.html", {"record": record, "form": form}, status=status
    )


@login_required
@require_GET
def deleted_list(request):
    _data_manager(request)
    page = Paginator(deleted_events(request.user).order_by("-seq"), 100).get_page(
        request.GET.get("page")
    )
    version = dictionary_version()
    labels = dict(version.dictionary.forms)
    repeating = set(version.repeating_instruments)
    events = list(page)
    records = {
        r.record_id: r for r in Record.objects.filter(record_id__in={e.record_id for e in events})
    }
    still_deleted = set(
        InstrumentData.objects.filter(
            record__record_id__in=records, deleted_at__isnull=False
        ).values_list("record__record_id", "instrument", "instance")
    )
    rows = []
    for event in events:
        record = records.get(event.record_id)
        if event.action == "record_delete":
            what = "The whole record"
            pending = record is not None and record.deleted_at is not None
        else:
            what = labels.get(event.instrument, event.instrument)
            if event.instrument in repeating:
                what = f"{what} #{event.instance}"
            pending = (event.record_id, event.instrument, event.instance) in still_deleted
        rows.append((event, what, pending))
    return render(request, "registry/deleted.html", {"page": page, "rows": rows})


@login_required
@require_POST
def restore_view(request, seq: int):
    _data_manager(request)
    event = get_object_or_404(deleted_events(request.user), seq=seq)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason to restore the deleted data."))
        return redirect("registry:deleted")
    try:
        record = restore_deleted(user=request.user, event=event, reason=form.cleaned_data["reason"])
    except RegistryError as exc:
        messages.error(request, str(exc))
        return redirect("registry:deleted")
    messages.success(
        request,
        _("Restored: the deleted data of %(record)s are back.") % {"record": record.record_id},
    )
    return redirect(record.get_absolute_url())
