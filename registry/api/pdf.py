"""content=pdf: an instrument as a PDF, blank (no ``record``) or filled with one record's answers
(``record``, ``instrument``, ``repeat_instance``), or every instrument when ``instrument`` is not
given. Drawn with matplotlib (already a dependency, for the Kaplan-Meier figures): text only,
through Figure objects and no pyplot state, so concurrent requests do not share anything.

The lines come from ``instrument_lines``; drawing them is all ``render_pdf`` does."""

from __future__ import annotations

import io
import textwrap

import matplotlib as mpl
from django.http import HttpResponse
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from registry.dictionary.model import Dictionary, FieldDef
from registry.models import Record
from registry.services.dictionary import current_dictionary_version

from .params import Params
from .responses import ApiError

A4 = (8.27, 11.69)
LINES_PER_PAGE = 58
WIDTH = 95
BLANK_TEXT = "_" * 40
STATUSES = {0: "Incomplete", 1: "Unverified", 2: "Complete"}


def _answer_lines(field: FieldDef, value, filled: bool) -> list[str]:
    if field.field_type in ("dropdown", "radio", "yesno", "truefalse", "checkbox"):
        chosen = {str(v) for v in value} if isinstance(value, list) else {str(value or "")}
        box = "[{}]" if field.is_checkbox else "({})"
        choices = field.choices or ()
        if not choices and field.field_type in ("yesno", "truefalse"):
            codes = (
                (("1", "Yes"), ("0", "No"))
                if field.field_type == "yesno"
                else (
                    ("1", "True"),
                    ("0", "False"),
                )
            )
            return [f"    {box.format('x' if c in chosen else ' ')} {label}" for c, label in codes]
        return [f"    {box.format('x' if c.code in chosen else ' ')} {c.label}" for c in choices]
    if field.field_type == "descriptive":
        return []
    if filled and value not in (None, ""):
        return [f"    {line}" for line in textwrap.wrap(str(value), WIDTH - 4) or [""]]
    return [f"    {BLANK_TEXT}"]


def instrument_lines(
    dictionary: Dictionary, form: str, values: dict | None, *, heading: str, status: int | None
) -> list[str]:
    """The text of one instrument: heading, then each field's label and answer (or blanks)."""
    lines = [heading, "=" * min(len(heading), WIDTH), ""]
    for field in dictionary.fields_of(form):
        if field.section_header:
            lines += ["", *textwrap.wrap(field.section_header.upper(), WIDTH), ""]
        label = field.label or field.name
        lines += textwrap.wrap(f"{label}  [{field.name}]", WIDTH) or [field.name]
        value = (values or {}).get(field.name)
        lines += _answer_lines(field, value, values is not None)
        lines.append("")
    if values is not None:
        lines.append(f"Form status: {STATUSES.get(status, 'Incomplete')}")
    return lines


def render_pdf(documents: list[list[str]], title: str) -> bytes:
    """Each document starts on a new page; long ones run onto further pages."""
    out = io.BytesIO()
    with mpl.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}):
        with PdfPages(out, metadata={"Title": title, "Creator": "GI-LMS Registry"}) as pdf:
            for lines in documents:
                for start in range(0, max(len(lines), 1), LINES_PER_PAGE):
                    figure = Figure(figsize=A4)
                    for row, line in enumerate(lines[start : start + LINES_PER_PAGE]):
                        figure.text(
                            0.07,
                            0.95 - row * (0.9 / LINES_PER_PAGE),
                            line,
                            fontsize=8,
                            family="monospace",
                            va="top",
                            parse_math=False,
                        )
                    pdf.savefig(figure)
    return out.getvalue()


def export_pdf(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    version = current_dictionary_version()
    dictionary = version.dictionary
    form = params.get("instrument")
    if form and form not in dictionary.form_names:
        raise ApiError('The value of the parameter "instrument" is not valid')
    forms = [form] if form else dictionary.form_names
    labels = dict(dictionary.forms)
    records = _records(user, params)
    documents = []
    if not records:
        documents = [
            instrument_lines(dictionary, f, None, heading=labels[f], status=None) for f in forms
        ]
    for record in records:
        documents += _filled(record, dictionary, forms, labels, params)
    name = (form or "instruments") + (f"_{records[0].record_id}" if len(records) == 1 else "")
    response = HttpResponse(
        render_pdf(documents, title=name), content_type=f'application/pdf; name="{name}.pdf"'
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


def _records(user, params: Params) -> list[Record]:
    visible = Record.objects.visible_to(user)
    if params.flag("allRecords"):
        return list(visible.order_by("record_id"))
    record_id = params.get("record")
    if not record_id:
        return []
    record = visible.filter(record_id=record_id).first()
    if record is None:
        raise ApiError(f"The record '{record_id}' does not exist")
    return [record]


def _filled(record: Record, dictionary, forms, labels, params: Params) -> list[list[str]]:
    wanted = params.get("repeat_instance")
    if wanted and not wanted.isdigit():
        raise ApiError('The value of the parameter "repeat_instance" is not valid')
    rows = record.instruments.filter(deleted_at__isnull=True, instrument__in=forms)
    if wanted:
        rows = rows.filter(instance=int(wanted))
    by_form: dict[str, list] = {}
    for row in rows.order_by("instance"):
        by_form.setdefault(row.instrument, []).append(row)
    documents = []
    for f in forms:
        for row in by_form.get(f) or [None]:
            instance = f" #{row.instance}" if row is not None and row.instance > 1 else ""
            documents.append(
                instrument_lines(
                    dictionary,
                    f,
                    dict(row.data) if row is not None else {},
                    heading=f"{labels[f]}{instance} - record {record.record_id}",
                    status=row.status if row is not None else None,
                )
            )
    return documents
