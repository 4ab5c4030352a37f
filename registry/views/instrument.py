"""The instrument form: one instance of one CRF of one record."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from centers.access import access_for
from centers.two_factor import has_device
from registry.dictionary import FieldDef
from registry.dictionary_text import dictionary_plain_text, render_dictionary_text
from registry.display import field_label, form_label
from registry.form_findings import form_warnings, unacknowledged_warnings
from registry.forms.instrument import (
    REASON_FIELD,
    STATUS_FIELD,
    VERSION_FIELD,
    InstrumentForm,
    display_value,
)
from registry.forms.submission import InstrumentSubmission
from registry.models import AuditEvent, FormStatus, InstrumentData, Query, Record
from registry.services.dictionary_translations import (
    dictionary_and_missing_codes_in,
    translation_language,
)
from registry.services.errors import (
    EditConflict,
    PermissionDenied,
    ReasonRequired,
    RecordLocked,
)
from registry.services.records import (
    get_record_and_rows_for_user,
    merged_values,
    next_instance,
    save_instrument,
)

from .common import dictionary_version, status_css, unresolved_queries_by_form


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
    instance: int,
    can_raise: bool,
    open_queries: dict[str, int],
) -> dict[str, dict]:
    """Per field: the links of its tools menu (rendered by registry/form/_field_tools.html)."""
    queries = f"{reverse('registry:queries')}?record={quote(record.record_id)}"
    query_open = reverse("registry:query_open", args=[record.record_id])
    ack_url = reverse("registry:acknowledge", args=[record.record_id])
    return {
        f.name: {
            "history_url": reverse("registry:field_history", args=[record.record_id, f.name]),
            "ack_url": ack_url,
            "open_queries": open_queries.get(f.name, 0),
            "queries_url": queries,
            "query_url": f"{query_open}?field={quote(f.name)}&instance={instance}"
            if can_raise
            else "",
        }
        for f in fields
    }


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
        key = e.field or _("(form status)")
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


def _next_url(
    record: Record,
    forms_: list[str],
    instrument: str,
    action: str,
    repeating: set[str] = frozenset(),
) -> str:
    """Where Save & Next / Save & Exit go. A repeating form with no instance yet is asked
    about first ("Add a relapse?"), so Save & Next never creates an empty instance."""
    if action == "next":
        index = forms_.index(instrument)
        if index + 1 < len(forms_):
            following = forms_[index + 1]
            url = reverse("registry:instrument", args=[record.record_id, following, 1])
            if (
                following in repeating
                and not record.instruments.filter(
                    instrument=following, deleted_at__isnull=True
                ).exists()
            ):
                url += "?ask=1"
            return url
    if action in ("next", "exit"):
        return record.get_absolute_url()
    return ""


def _is_empty(form: InstrumentForm | InstrumentSubmission) -> bool:
    """Nothing typed (calculated fields aside): a new repeating instance is then not created."""
    calcs = {f.name for f in form.fields_def if f.field_type == "calc"}
    return all(
        v in ("", [], None) for k, v in form.cleaned_instrument.data.items() if k not in calcs
    )


@login_required
@require_http_methods(["GET", "POST"])
def instrument_form(request, record_id: str, instrument: str, instance: int):
    record, rows = get_record_and_rows_for_user(
        request.user, record_id, language=translation_language()
    )
    version = dictionary_version(record.current_dictionary_key)
    # The person's language; codes and logic unchanged.
    dictionary, missing_codes = dictionary_and_missing_codes_in(version, record=record)
    if instrument not in dictionary.form_names:
        raise Http404("No such instrument")
    repeating_forms = set(version.repeating_instruments)
    repeating = instrument in repeating_forms
    label = dict(dictionary.forms)[instrument]
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
        record,
        version,
        instrument,
        instance,
        row,
        context,
        readonly,
        access,
        date_order=request.user.date_format,
        dictionary=dictionary,
    )
    form_kwargs["missing_codes"] = missing_codes
    status, conflict = 200, None
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such record")
        # The whole form is built only where it is shown: when the submission has errors.
        form = InstrumentSubmission(request.POST, **form_kwargs)
        if not form.is_valid():
            form = InstrumentForm(request.POST, **form_kwargs)
        action = request.POST.get("action", "stay")
        following = _next_url(record, dictionary.form_names, instrument, action, repeating_forms)
        if form.is_valid() and row is None and repeating and _is_empty(form):
            messages.info(request, f"Nothing was entered, so no {label} #{instance} was created.")
            return redirect(following or record.get_absolute_url())
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
                _report_save(request, saved, form, dictionary)
                warned = following and unacknowledged_warnings(
                    record, version, instrument, instance, saved.data, request.user.date_format
                )
                if warned:
                    messages.warning(
                        request,
                        f"Saved, with {warned} data-quality warning(s) shown beside the fields: "
                        "check them, or acknowledge them with a reason, then continue.",
                    )
                    return redirect(f"{request.path}?saved={action}")
                return redirect(following or request.path)
        else:
            status = 400
    else:
        form = InstrumentForm(**form_kwargs)
    after_save = request.GET.get("saved", "")
    ask_add = (
        request.method == "GET"
        and repeating
        and row is None
        and request.GET.get("ask") == "1"
        and not any(r.instrument == instrument for r in rows)
    )
    return render(
        request,
        "registry/instrument.html",
        {
            "record": record,
            "instrument": instrument,
            "instance": instance,
            "label": label,
            "ask_add": ask_add,
            "skip_url": _next_url(
                record, dictionary.form_names, instrument, "next", repeating_forms
            )
            if ask_add
            else "",
            "continue_url": _next_url(
                record, dictionary.form_names, instrument, after_save, repeating_forms
            )
            if after_save in ("next", "exit")
            else "",
            "can_delete": bool(row) and can_edit and not readonly,
            "repeating": repeating,
            "row": row,
            "form": form,
            "readonly": readonly,
            "can_lock_form": access.can_lock_center(record.center_id),
            "signer_has_second_factor": access.can_lock_center(record.center_id)
            and has_device(request.user),
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
                # entry.js's question, in the person's language (%(names)s: the field names)
                "confirm_hide": _(
                    "This change hides %(names)s. Clear the value(s) entered there? "
                    "(The old values stay in the audit trail.)"
                ),
            },
            "form_names": _form_nav(dictionary.forms, rows),
            "form_queries": unresolved_queries_by_form(record),
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


def _form_kwargs(
    record,
    version,
    instrument,
    instance,
    row,
    context,
    readonly,
    access,
    *,
    date_order: str,
    dictionary=None,
) -> dict:
    dictionary = dictionary or version.dictionary  # the person's language, or the base texts
    fields = list(dictionary.fields_of(instrument))

    def tools() -> dict[str, dict]:  # only when the form is rendered
        open_queries: dict[str, int] = {}
        for field in (
            record.queries.filter(instrument=instrument, instance=instance)
            .exclude(status=Query.Status.CLOSED)
            .values_list("field", flat=True)
        ):
            open_queries[field] = open_queries.get(field, 0) + 1
        links = _tools(record, fields, instance, access.can_raise_queries, open_queries)
        if row is not None:
            can_ack = not record.is_locked and (
                access.can_edit_center(record.center_id) or access.is_data_manager
            )
            warnings = form_warnings(
                record, version, instrument, instance, row.data, date_order=date_order
            )
            for name, found in warnings.items():
                if name in links:
                    links[name].update(
                        warnings=found, can_ack=can_ack, instrument=instrument, instance=instance
                    )
        return links

    stored = row.data if row else _defaults(fields)
    initial = {STATUS_FIELD: row.status if row else 0, VERSION_FIELD: row.version if row else 0}
    return {
        "dictionary": dictionary,
        "instrument": instrument,
        "context": context,
        "stored": stored,
        "readonly": readonly,
        "ever_completed": bool(row and row.ever_completed),
        "initial": initial,
        "tools": tools,
        "date_order": date_order,
    }


def _report_save(request, saved: InstrumentData, form: InstrumentForm, dictionary) -> None:
    title = form_label(dictionary, saved.instrument)
    messages.success(
        request,
        _("Saved %(instrument)s #%(instance)s (version %(version)s).")
        % {"instrument": title, "instance": saved.instance, "version": saved.version},
    )
    cleaned = form.cleaned_instrument
    if cleaned.cleared:
        names = ", ".join(sorted(field_label(dictionary, n) for n in cleaned.cleared))
        messages.info(
            request,
            _(
                "Hidden by branching logic, so cleared: %(names)s "
                "(the old values stay in the audit trail)."
            )
            % {"names": names},
        )
