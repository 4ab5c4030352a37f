"""Record status dashboard, new record, record home page."""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from centers.access import access_for
from centers.models import Center, Role
from registry.display import field_label, finding_text, form_label
from registry.forms.filters import DashboardFilterForm
from registry.models import InstrumentData, Query, Record
from registry.quality import findings_for
from registry.services.dictionary_translations import dictionary_in
from registry.services.errors import RegistryError
from registry.services.locking import current_signature, signature_is_valid
from registry.services.records import create_record, get_record_for_user

from .common import dictionary_version, status_css

PAGE_SIZE = 50


def _readable_centers(user) -> list[Center]:
    ids = access_for(user).readable_center_ids()
    if ids is None:
        return list(Center.objects.all())
    return [m.center for m in access_for(user).memberships if m.center_id in ids]


def _cell(home: str, form: str, found: list[int], repeating: bool) -> str:
    """One status dot; plain string building, since a page has 400 of them."""
    css, text = status_css(min(found) if found else None)
    label = escape(f"{form}: {text}")
    count = f'<span class="small text-muted ms-1">{len(found)}</span>' if repeating else ""
    return (
        f'<td class="text-center"><a href="{escape(home)}{escape(form)}/1/" '
        f'title="{text}" aria-label="{label}"><span class="status-dot status-{css}">'
        f"</span></a>{count}</td>"
    )


@login_required
@require_GET
def dashboard(request):
    version = dictionary_version()
    forms_ = dictionary_in(version).forms
    repeating = set(version.repeating_instruments)
    centers = sorted(
        {c.pk: c for c in _readable_centers(request.user)}.values(), key=lambda c: c.code
    )
    filters = DashboardFilterForm(request.GET or None, centers=centers)
    records = Record.objects.visible_to(request.user).select_related("center")
    if filters.is_valid():
        if filters.cleaned_data["center"]:
            records = records.filter(center_id=filters.cleaned_data["center"])
        if filters.cleaned_data["lock"] == "locked":
            records = records.filter(is_locked=True)
        elif filters.cleaned_data["lock"] == "unlocked":
            records = records.filter(is_locked=False)
        if filters.cleaned_data["q"]:
            records = records.filter(record_id__icontains=filters.cleaned_data["q"].strip())
    # (center_id, sequence) is a unique index: a page is an index scan, not a sort of them all.
    page = Paginator(records.order_by("center_id", "sequence"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    statuses: dict[int, dict[str, list[int]]] = {}
    rows = InstrumentData.objects.filter(
        record_id__in=[r.pk for r in page.object_list], deleted_at__isnull=True
    ).values_list("record_id", "instrument", "status")
    for record_pk, instrument, status in rows:
        statuses.setdefault(record_pk, {}).setdefault(instrument, []).append(status)
    unresolved = dict(
        Query.objects.filter(record_id__in=[r.pk for r in page.object_list])
        .exclude(status=Query.Status.CLOSED)
        .values_list("record_id")
        .annotate(n=Count("pk"))
    )
    prefix = reverse("registry:dashboard")
    table = []
    for record in page.object_list:
        home = f"{prefix}{quote(record.record_id)}/"
        by_form = statuses.get(record.pk, {})
        cells = [
            _cell(home, form, by_form.get(form, []), form in repeating) for form, _label in forms_
        ]
        row_html = mark_safe("".join(cells))  # noqa: S308 - escaped in _cell
        table.append((record, home, row_html, unresolved.get(record.pk, 0)))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/dashboard.html",
        {
            "forms": forms_,
            "table": table,
            "page": page,
            "filters": filters,
            "editable_centers": access_for(request.user).editable_centers,
            "can_bulk_lock": access_for(request.user).has(Role.SITE_INVESTIGATOR),
            "querystring": query.urlencode(),
            "lock_icon": render_to_string("registry/_lock_icon.html"),
        },
    )


@login_required
@require_POST
def new_record(request):
    editable = {c.pk: c for c in access_for(request.user).editable_centers}
    if not editable:
        raise Http404("You cannot add records.")
    if len(editable) == 1:
        center = next(iter(editable.values()))
    else:
        try:
            center = editable[int(request.POST.get("center", ""))]
        except (KeyError, ValueError):
            messages.error(request, _("Choose the centre of the new record."))
            return redirect("registry:dashboard")
    try:
        record = create_record(user=request.user, center=center)
    except RegistryError as exc:
        messages.error(request, str(exc))
        return redirect("registry:dashboard")
    version = dictionary_version()
    first_form = version.dictionary.form_names[0]
    messages.success(
        request, _("Record %(record_id)s was created.") % {"record_id": record.record_id}
    )
    return redirect("registry:instrument", record.record_id, first_form, 1)


@login_required
@require_GET
def record_home(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    version = dictionary_version()
    repeating = set(version.repeating_instruments)
    rows: dict[str, list[InstrumentData]] = {}
    for row in record.instruments.filter(deleted_at__isnull=True).order_by("instance"):
        rows.setdefault(row.instrument, []).append(row)
    instruments = []
    for form, label in dictionary_in(version).forms:
        found = rows.get(form, [])
        instances = [
            {
                "instance": r.instance,
                "css": status_css(r.status)[0],
                "text": status_css(r.status)[1],
                "updated": r.updated_at,
            }
            for r in found
        ]
        status = found[0].status if found and form not in repeating else None
        instruments.append(
            {
                "form": form,
                "label": label,
                "repeating": form in repeating,
                "instances": instances,
                "css": status_css(status)[0],
                "text": status_css(status)[1],
                "next_instance": (max((r.instance for r in found), default=0) + 1),
            }
        )
    queries = list(record.queries.exclude(status=Query.Status.CLOSED))
    per_form = Counter(q.instrument for q in queries)
    for item in instruments:
        item["queries"] = per_form.get(item["form"], 0)
    signature = current_signature(record)
    acknowledged = {a.rule_key: a for a in record.acknowledgements.all()}
    order = request.user.date_format
    findings = [
        (f, acknowledged.get(f.rule_key), finding_text(f.message, version.dictionary, order))
        for f in findings_for(record, version)
    ]
    access = access_for(request.user)
    return render(
        request,
        "registry/record_home.html",
        {
            "record": record,
            "instruments": instruments,
            "signature": signature,
            "signature_valid": signature_is_valid(signature) if signature else None,
            "voided": record.signatures.filter(voided_at__isnull=False),
            "queries": [
                (
                    q,
                    field_label(version.dictionary, q.field),
                    form_label(version.dictionary, q.instrument),
                )
                for q in queries
            ],
            "findings": findings,
            "can_edit": access.can_edit_center(record.center_id),
            "can_lock": access.can_lock_center(record.center_id) and not record.is_locked,
            "can_unlock": access.is_data_manager and record.is_locked,
            "is_data_manager": access.is_data_manager,
            "can_raise_queries": access.can_raise_queries,
        },
    )
