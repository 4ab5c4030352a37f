"""Locking with an electronic signature (one record or many), unlocking, acknowledging."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from centers.access import access_for
from registry.forms.locking import (
    AcknowledgeForm,
    BulkLockForm,
    FormLockForm,
    SignatureForm,
    UnlockForm,
)
from registry.models import InstrumentData, Record
from registry.quality import findings_for
from registry.services.errors import LockRefused, PermissionDenied, RegistryError
from registry.services.locking import (
    lock_blocker_list,
    lock_blockers,
    lock_instrument,
    lock_record,
    lock_records,
    unlock_instrument,
    unlock_record,
)
from registry.services.queries import finding_acknowledge
from registry.services.records import get_record_for_user

from .common import dictionary_version
from .lock_summary import blocker_links, signed_summary
from .warnings import acknowledge_in_place


@login_required
@require_http_methods(["GET", "POST"])
def lock(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    if not access_for(request.user).can_lock_center(record.center_id):
        raise Forbidden(_("Only the centre's site investigator can lock its records."))
    version = dictionary_version()
    form = SignatureForm(request.POST or None, signer=request.user)
    blockers: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            lock_record(
                user=request.user,
                record=record,
                password=form.cleaned_data["password"],
                code=form.cleaned_data.get("code", ""),
                meaning=form.cleaned_data["meaning"],
                dictionary_version=version,
                request=request,
            )
        except LockRefused as exc:
            form.add_error(None, str(exc))
            blockers = exc.blockers
            status = 409
        except RegistryError as exc:
            form.add_error("password", str(exc))
            status = 403
        else:
            messages.success(
                request,
                _("Record %(record_id)s is locked and signed.") % {"record_id": record.record_id},
            )
            return redirect(record.get_absolute_url())
    elif request.method == "POST":
        status = 400
    date_order = request.user.date_format
    links = [(b, "") for b in blockers]
    if not record.is_locked:
        links = blocker_links(record, version, lock_blocker_list(record, version), date_order)
        links = links or [(b, "") for b in blockers]
    acknowledged = {a.rule_key: a for a in record.acknowledgements.all()}
    findings = [(f, acknowledged.get(f.rule_key)) for f in findings_for(record, version)]
    return render(
        request,
        "registry/lock.html",
        {
            "record": record,
            "form": form,
            "blockers": [text for text, _url in links],
            "blocker_links": links,
            "findings": findings,
            "ack_form": AcknowledgeForm(),
            "summary": signed_summary(record, version, date_order),
        },
        status=status,
    )


@login_required
@require_POST
def instrument_lock(request, record_id: str, instrument: str, instance: int):
    """Lock (site investigator, password) or unlock (data manager, reason) one form instance."""
    record = get_record_for_user(request.user, record_id)
    row = get_object_or_404(
        InstrumentData.objects.select_related("record"),
        record=record,
        instrument=instrument,
        instance=instance,
        deleted_at__isnull=True,
    )
    unlocking = request.POST.get("action") == "unlock"
    form = (
        UnlockForm(request.POST) if unlocking else FormLockForm(request.POST, signer=request.user)
    )
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            if unlocking:
                unlock_instrument(user=request.user, row=row, reason=form.cleaned_data["reason"])
                messages.success(request, _("The form is unlocked."))
            else:
                lock_instrument(
                    user=request.user,
                    row=row,
                    password=form.cleaned_data["password"],
                    code=form.cleaned_data.get("code", ""),
                    request=request,
                )
                messages.success(request, _("The form is locked."))
        except RegistryError as exc:
            messages.error(request, str(exc))
    return redirect("registry:instrument", record.record_id, instrument, instance)


@login_required
@require_POST
def acknowledge(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    if request.htmx:
        return acknowledge_in_place(request, record)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason to acknowledge the finding."))
    else:
        try:
            finding_acknowledge(
                user=request.user,
                record=record,
                rule_key=form.cleaned_data["rule_key"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("The finding is acknowledged."))
        except RegistryError as exc:
            raise Forbidden(str(exc)) from None
    if access_for(request.user).can_lock_center(record.center_id):
        return redirect("registry:lock", record.record_id)
    return redirect(record.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def unlock(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    if not access_for(request.user).is_data_manager:
        raise Forbidden(_("Only a data manager can unlock a record."))
    form = UnlockForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                unlock_record(user=request.user, record=record, reason=form.cleaned_data["reason"])
            except RegistryError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(
                    request,
                    _("Record %(record_id)s is unlocked; its signature is void.")
                    % {"record_id": record.record_id},
                )
                return redirect(record.get_absolute_url())
        else:
            status = 400
    return render(request, "registry/unlock.html", {"record": record, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_lock(request):
    access = access_for(request.user)
    centers = [m.center_id for m in access.memberships if access.can_lock_center(m.center_id)]
    if not centers:
        raise Forbidden(_("Only site investigators lock records."))
    version = dictionary_version()
    candidates = (
        Record.objects.visible_to(request.user)
        .filter(center_id__in=centers, is_locked=False)
        .select_related("center")
    )
    lockable = [r for r in candidates if not lock_blockers(r, version)]
    by_id = {r.record_id: r for r in lockable}
    form = BulkLockForm(request.POST or None, record_ids=list(by_id), signer=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            chosen = [by_id[r] for r in form.cleaned_data["records"]]
            try:
                signatures = lock_records(
                    user=request.user,
                    records=chosen,
                    password=form.cleaned_data["password"],
                    code=form.cleaned_data.get("code", ""),
                    meaning=form.cleaned_data["meaning"],
                    dictionary_version=version,
                    request=request,
                )
            except PermissionDenied as exc:
                form.add_error("password", str(exc))
                status = 403
            except RegistryError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(n)s record locked, one signature each.",
                        "%(n)s records locked, one signature each.",
                        len(signatures),
                    )
                    % {"n": len(signatures)},
                )
                return redirect("registry:dashboard")
        else:
            status = 400
    return render(
        request,
        "registry/bulk_lock.html",
        {
            "form": form,
            "lockable": lockable,
            "not_ready": len(candidates) - len(lockable),
        },
        status=status,
    )
