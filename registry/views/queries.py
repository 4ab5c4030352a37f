"""Data-resolution queries: list, open on a field, answer (site), close (opener)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from centers.access import access_for
from registry.audit_display import describe_events
from registry.dictionary_text import dictionary_plain_text
from registry.display import field_label, form_label, value_shown
from registry.entry import entry_fields
from registry.forms.queries import OpenQueryForm, QueryMessageForm
from registry.models import AuditEvent, InstrumentData, Query, Record
from registry.services.errors import RegistryError
from registry.services.queries import query_answer, query_close, query_open
from registry.services.records import get_record_for_user

from .common import dictionary_version


def _visible_queries(user):
    return Query.objects.filter(record__in=Record.objects.visible_to(user))


def _query_field(user, query: Query) -> dict:
    """The field the query is about: its label, its value now and how it got there."""
    version = dictionary_version()
    dictionary = version.dictionary
    f = dictionary.field(query.field) if query.field in dictionary else None
    row = (
        InstrumentData.objects.filter(
            record=query.record,
            instrument=query.instrument,
            instance=query.instance,
            deleted_at__isnull=True,
        )
        .values_list("data", flat=True)
        .first()
    )
    missing = {str(c["code"]): str(c.get("label", c["code"])) for c in version.missing_codes}
    value = (row or {}).get(query.field)
    events = AuditEvent.objects.filter(
        record_id=query.record.record_id,
        instrument=query.instrument,
        instance=query.instance,
        field=query.field,
        action__in=("create", "update"),
    ).order_by("-seq")
    return {
        "field_label": field_label(dictionary, query.field),
        "form_label": form_label(dictionary, query.instrument),
        "current_value": value_shown(f, value, user.date_format, missing),
        "value_history": describe_events(
            events,
            dictionary=dictionary,
            date_order=user.date_format,
            missing_codes=version.missing_codes,
        ),
    }


@login_required
@require_GET
def query_list(request):
    queries = _visible_queries(request.user).select_related("record", "opened_by")
    status = request.GET.get("status", "")
    if status in Query.Status.values:
        queries = queries.filter(status=status)
    record = request.GET.get("record", "").strip()
    if record:
        queries = queries.filter(record__record_id=record)
    page = Paginator(queries.order_by("-opened_at"), 50).get_page(request.GET.get("page"))
    dictionary = dictionary_version().dictionary
    rows = [
        (q, form_label(dictionary, q.instrument), field_label(dictionary, q.field))
        for q in page.object_list
    ]
    return render(
        request,
        "registry/queries.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "record": record,
            "statuses": Query.Status.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def query_open_view(request, record_id: str):
    record = get_record_for_user(request.user, record_id)
    if not access_for(request.user).can_raise_queries:
        raise Forbidden(_("Only monitors and data managers open queries."))
    dictionary = dictionary_version().dictionary
    forms_by_field = {}
    choices = []
    for form_name, label in dictionary.forms:
        for f in entry_fields(dictionary, form_name):
            forms_by_field[f.name] = form_name
            choices.append((f.name, f"{label}: {dictionary_plain_text(f.label) or f.name}"))
    initial = {"field": request.GET.get("field", ""), "instance": request.GET.get("instance", 1)}
    form = OpenQueryForm(request.POST or None, initial=initial, field_choices=choices)
    if request.method == "POST" and form.is_valid():
        field = form.cleaned_data["field"]
        try:
            query_open(
                user=request.user,
                record=record,
                instrument=forms_by_field[field],
                instance=form.cleaned_data["instance"],
                field=field,
                text=form.cleaned_data["text"],
            )
        except RegistryError as exc:
            form.add_error(None, str(exc))
        else:
            label = field_label(dictionary, field)
            messages.success(
                request,
                _("A query was opened on %(field)s of %(record_id)s.")
                % {"field": label, "record_id": record.record_id},
            )
            return redirect(record.get_absolute_url())
    return render(
        request,
        "registry/query_open.html",
        {"record": record, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def query_detail(request, query_id: int):
    try:
        query = (
            _visible_queries(request.user).select_related("record", "opened_by").get(pk=query_id)
        )
    except Query.DoesNotExist:
        raise Http404("No such query") from None
    access = access_for(request.user)
    can_answer = access.can_edit_center(query.record.center_id)
    can_close = query.opened_by_id == request.user.pk
    form = QueryMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        try:
            if action == "answer" and can_answer:
                query_answer(user=request.user, query=query, text=form.cleaned_data["text"])
            elif action == "close" and can_close:
                query_close(user=request.user, query=query, text=form.cleaned_data["text"])
            else:
                raise Forbidden(_("You cannot do that with this query."))
        except RegistryError as exc:
            form.add_error("text", str(exc))
        else:
            label = field_label(dictionary_version().dictionary, query.field)
            done = (
                _("The query on %(field)s is answered.")
                if action == "answer"
                else _("The query on %(field)s is closed.")
            )
            messages.success(request, done % {"field": label})
            return redirect("registry:query", query.pk)
    return render(
        request,
        "registry/query_detail.html",
        {
            "query": query,
            **_query_field(request.user, query),
            "form": form,
            "messages_": query.messages.select_related("author"),
            "can_answer": can_answer and query.status != Query.Status.CLOSED,
            "can_close": can_close and query.status != Query.Status.CLOSED,
        },
        status=400 if form.errors else 200,
    )
