"""The instrument form: one instance of one CRF of one record."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from centers.access import access_for
from registry.dictionary import FieldDef
from registry.dictionary_text import dictionary_plain_text, render_dictionary_text
from registry.forms.instrument import (
    REASON_FIELD,
    STATUS_FIELD,
    VERSION_FIELD,
    InstrumentForm,
    display_value,
)
from registry.models import AuditEvent, FormStatus, InstrumentData, Query, Record
from registry.services.errors import (
    EditConflict,
    PermissionDenied,
    ReasonRequired,
    RecordLocked,
)
from registry.services.records import (
    get_record_for_user,
    merged_values,
    next_instance,
    save_instrument,
)

from .common import dictionary_version, status_css


def _defaults(fields: list[FieldDef]) -> dict:
    today = timezone.localdate().isoformat()
    values = {}
    for f in fields:
        if f.today_default and f.is_date:
            values[f.name] = today
        elif f.default is not None:
            values[f.name] = f.default
    return values


def _tools(
    record: Record,
    fields: list[FieldDef],
    instrument: str,
    instance: int,
    can_raise: bool,
    open_queries: dict[str, int],
) -> dict[str, str]:
    tools = {}
    for f in fields:
        url = reverse("registry:field_history", args=[record.record_id, f.name])
        html = format_html(
            '<button type="button" class="btn btn-sm btn-outline-secondary registry-history" '
            'hx-get="{}" hx-target="#history-body" title="History of {}" '
            'aria-label="History of {}">H</button>',
            url,
            f.name,
            dictionary_plain_text(f.label) or f.name,
        )
        if open_queries.get(f.name):
            html += format_html(
                '<a class="badge text-bg-danger" href="{}?record={}">{} open query</a>',
                reverse("registry:queries"),
                record.record_id,
                open_queries[f.name],
            )
        if can_raise:
            html += format_html(
                '<a class="btn btn-sm btn-outline-danger" href="{}?field={}&instance={}">Query</a>',
                reverse("registry:query_open", args=[record.record_id]),
                f.name,
                instance,
            )
        tools[f.name] = html
    return tools


def changes_since(
    record: Record,
    instrument: str,
    instance: int,
    started: int,
    dictionary,
    *,
    date_order: str = "dmy",
) -> list[dict]:
    """What others changed in this instance after the version the user started from."""
    events = AuditEvent.objects.filter(
        record_id=record.record_id,
        instrument=instrument,
        instance=instance,
        action__in=("create", "update", "form_status"),
        details__row_version__gt=started,
    ).order_by("seq")
    diff: dict[str, dict] = {}
    for e in events:
        key = e.field or "(form status)"
        entry = diff.setdefault(key, {"field": key, "old": e.old_value, "who": set()})
        entry["new"] = e.new_value
        entry["who"].add(e.actor_name)
        entry["when"] = e.occurred_at
        if e.field and e.field in dictionary:
            entry["label"] = render_dictionary_text(dictionary.field(e.field).label)
    shown = []
    for d in diff.values():
        f = dictionary.field(d["field"]) if d["field"] in dictionary else None
        shown.append(
            dict(
                d,
                who=", ".join(sorted(d["who"])),
                old_shown=_shown(f, d["old"], date_order),
                new_shown=_shown(f, d["new"], date_order),
            )
        )
    return shown


def _shown(f: FieldDef | None, value, date_order: str) -> str:
    """A stored value as a person reads it: choice labels beside codes, dates in their format."""
    if value is None or value == "" or value == []:
        return ""
    if f is None:
        return str(dict(FormStatus.choices).get(value, value))
    labels = {code: dictionary_plain_text(label) for code, label in f.choice_map.items()}
    if isinstance(value, list):
        return ", ".join(f"{v} ({labels[v]})" if v in labels else v for v in value)
    if value in labels:
        return f"{value} ({labels[value]})"
    return str(display_value(f, value, date_order))


def _next_url(record: Record, forms_: list[str], instrument: str, action: str) -> str:
    if action == "next":
        index = forms_.index(instrument)
        if index + 1 < len(forms_):
            return reverse("registry:instrument", args=[record.record_id, forms_[index + 1], 1])
    if action in ("next", "exit"):
        return record.get_absolute_url()
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def instrument_form(request, record_id: str, instrument: str, instance: int):
    record = get_record_for_user(request.user, record_id)
    version = dictionary_version(record.current_dictionary_key)
    dictionary = version.dictionary
    if instrument not in dictionary.form_names:
        raise Http404("No such instrument")
    repeating = instrument in version.repeating_instruments
    rows = list(record.instruments.filter(deleted_at__isnull=True).order_by("-instance"))
    row = next((r for r in rows if (r.instrument, r.instance) == (instrument, instance)), None)
    if row is None and (
        instance < 1
        or (not repeating and instance != 1)
        or instance > next_instance(record, instrument)
    ):
        raise Http404("No such instance")  # new instances are numbered without gaps
    access = access_for(request.user)
    can_edit = access.can_edit_center(record.center_id)
    readonly = record.is_locked or not can_edit or bool(row and row.is_locked)
    context = merged_values(rows, exclude=(instrument, instance))
    form_kwargs = _form_kwargs(
        record, version, instrument, instance, row, context, readonly, access.can_raise_queries
    )
    form_kwargs["date_order"] = request.user.date_format
    status, conflict = 200, None
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such record")
        form = InstrumentForm(request.POST, **form_kwargs)
        if form.is_valid():
            started = form.cleaned_data[VERSION_FIELD]
            try:
                saved = save_instrument(
                    user=request.user,
                    record=record,
                    instrument=instrument,
                    instance=instance,
                    data=form.cleaned_instrument.data,
                    status=form.cleaned_data[STATUS_FIELD],
                    expected_version=started,
                    dictionary_version=version,
                    reason=form.cleaned_data[REASON_FIELD],
                    known_row=row,
                )
            except EditConflict as exc:
                conflict = {
                    "message": str(exc),
                    "changes": changes_since(
                        record,
                        instrument,
                        instance,
                        started,
                        dictionary,
                        date_order=request.user.date_format,
                    ),
                }
                data = request.POST.copy()
                data[VERSION_FIELD] = str(exc.current.version if exc.current else 0)
                form_kwargs["ever_completed"] = bool(exc.current and exc.current.ever_completed)
                form = InstrumentForm(data, **form_kwargs)
                status = 409
            except ReasonRequired as exc:
                form_kwargs["ever_completed"] = True
                form = InstrumentForm(request.POST, **form_kwargs)
                form.is_valid()
                form.add_error(REASON_FIELD, str(exc))
                status = 400
            except (RecordLocked, PermissionDenied) as exc:
                messages.error(request, str(exc))
                return redirect(request.path)
            else:
                _report_save(request, saved, form)
                target = _next_url(
                    record, dictionary.form_names, instrument, request.POST.get("action", "stay")
                )
                return redirect(target or request.path)
        else:
            status = 400
    else:
        form = InstrumentForm(**form_kwargs)
    return render(
        request,
        "registry/instrument.html",
        {
            "record": record,
            "instrument": instrument,
            "instance": instance,
            "label": dict(dictionary.forms)[instrument],
            "repeating": repeating,
            "row": row,
            "form": form,
            "readonly": readonly,
            "can_lock_form": access.can_lock_center(record.center_id),
            "is_data_manager": access.is_data_manager,
            "conflict": conflict,
            "status_field": form[STATUS_FIELD],
            "version_field": form[VERSION_FIELD],
            "reason_field": form[REASON_FIELD],
            "show_reason": form.ever_completed,
            "logic_context": {
                "values": form_kwargs["context"],
                "missing_codes": version.missing_code_values,
                "today": date.today().isoformat(),  # noqa: DTZ011 - the coordinator's day
                "date_order": request.user.date_format,
            },
            "form_names": _form_nav(dictionary.forms, rows),
        },
        status=status,
    )


def _form_nav(forms_: list[tuple[str, str]], rows: list[InstrumentData]) -> list[tuple]:
    """The side menu: each form with its status dot (the lowest status of its instances)."""
    statuses: dict[str, list[int]] = {}
    for r in rows:
        statuses.setdefault(r.instrument, []).append(r.status)
    return [
        (name, label, *status_css(min(statuses[name]) if name in statuses else None))
        for name, label in forms_
    ]


def _form_kwargs(record, version, instrument, instance, row, context, readonly, can_raise) -> dict:
    dictionary = version.dictionary
    fields = list(dictionary.fields_of(instrument))

    def tools() -> dict[str, str]:  # only when the form is rendered
        open_queries: dict[str, int] = {}
        for field in (
            record.queries.filter(instrument=instrument, instance=instance)
            .exclude(status=Query.Status.CLOSED)
            .values_list("field", flat=True)
        ):
            open_queries[field] = open_queries.get(field, 0) + 1
        return _tools(record, fields, instrument, instance, can_raise, open_queries)

    stored = row.data if row else _defaults(fields)
    initial = {STATUS_FIELD: row.status if row else 0, VERSION_FIELD: row.version if row else 0}
    return {
        "dictionary": dictionary,
        "instrument": instrument,
        "context": context,
        "missing_codes": version.missing_codes,
        "stored": stored,
        "readonly": readonly,
        "ever_completed": bool(row and row.ever_completed),
        "initial": initial,
        "tools": tools,
    }


def _report_save(request, saved: InstrumentData, form: InstrumentForm) -> None:
    messages.success(
        request, f"Saved {saved.instrument} #{saved.instance} (version {saved.version})."
    )
    cleaned = form.cleaned_instrument
    if cleaned.cleared:
        names = ", ".join(sorted(cleaned.cleared))
        messages.info(
            request,
            f"Hidden by branching logic, so cleared: {names} "
            "(the old values stay in the audit trail).",
        )
    for name, warning in cleaned.warnings.items():
        messages.warning(request, f"{name}: {warning}")
