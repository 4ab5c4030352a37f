"""Acknowledging a data-quality warning in place, beside its field on the form (htmx)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render

from registry.form_findings import form_warnings
from registry.forms.locking import AcknowledgeForm
from registry.models import Record
from registry.services.errors import RegistryError
from registry.services.queries import finding_acknowledge

from .common import dictionary_version


def acknowledge_in_place(request, record: Record) -> HttpResponse:
    """Answer with the warning's block, acknowledged or with the reason it was not."""
    version = dictionary_version()
    instrument = request.POST.get("instrument", "")
    if instrument not in version.dictionary.form_names:
        raise Http404("No such instrument")
    try:
        instance = int(request.POST.get("instance", ""))
    except ValueError:
        raise Http404("No such instance") from None
    if not 0 < instance < 2**31:
        raise Http404("No such instance")
    row = record.instruments.filter(
        instrument=instrument, instance=instance, deleted_at__isnull=True
    ).first()
    stored = row.data if row else {}
    key = request.POST.get("rule_key", "")

    def find():
        found = form_warnings(
            record, version, instrument, instance, stored, date_order=request.user.date_format
        )
        return next(((n, w) for n, ws in found.items() for w in ws if w.key == key), None)

    match = find()
    if match is None:
        raise Http404("No such warning")
    error = ""
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        error = "Give a reason to acknowledge the warning."
    else:
        try:
            finding_acknowledge(
                user=request.user, record=record, rule_key=key, reason=form.cleaned_data["reason"]
            )
        except RegistryError as exc:
            error = str(exc)
        else:
            match = find() or match
    name, warning = match
    return render(
        request,
        "registry/form/_field_warning.html",
        {
            "w": warning,
            "name": name,
            "error": error,
            "can_ack": not record.is_locked,
            "ack_url": request.path,
            "instrument": instrument,
            "instance": instance,
        },
    )
