"""The Codebook: a dictionary version as REDCap's codebook shows it, and what changed between two
versions. Dictionary text is data: labels, notes and choice labels go through the sanitiser
(registry.dictionary_text), logic is read aloud with the forms' own parser."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.shortcuts import render
from django.views.decorators.http import require_GET

from centers.access import access_for
from registry.dictionary import Dictionary, FieldDef, form_label
from registry.dictionary.codebook import diff_dictionaries, diff_projects
from registry.dictionary.validation_types import VALIDATION_TYPES
from registry.dictionary_text import dictionary_plain_text, render_dictionary_text
from registry.logic.words import logic_in_words
from registry.models import DictionaryVersion

TYPE_WORDS = {
    "text": "Text box",
    "notes": "Notes box (paragraph text)",
    "dropdown": "Drop-down list",
    "radio": "Radio buttons",
    "checkbox": "Checkboxes (several answers)",
    "yesno": "Yes / No",
    "truefalse": "True / False",
    "calc": "Calculated field",
    "descriptive": "Descriptive text (no data)",
    "slider": "Slider",
    "file": "File upload",
}


class CodebookForm(forms.Form):
    version = forms.TypedChoiceField(coerce=int, required=False, label="Dictionary version")
    compare = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Compare with version"
    )

    def __init__(self, *args, numbers: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(n, f"Version {n}") for n in numbers]
        self.fields["version"].choices = choices
        self.fields["compare"].choices = [("", "(no comparison)"), *choices]


@login_required
@require_GET
def codebook(request):
    if not access_for(request.user).memberships:
        raise Forbidden("The codebook is for people with a role in the registry.")
    versions = {v.number: v for v in DictionaryVersion.objects.order_by("-number")}
    numbers = list(versions)
    form = CodebookForm(request.GET or None, numbers=numbers)
    status, chosen, other = 200, (numbers[0] if numbers else None), None
    if request.GET:
        if form.is_valid():
            chosen = form.cleaned_data["version"] or chosen
            other = form.cleaned_data["compare"]
        else:
            status = 400
    version = versions.get(chosen)
    context: dict = {
        "form": form,
        "version": version,
        "current": bool(numbers) and chosen == numbers[0],
        "compare": other,
    }
    if version is not None:
        context["forms"] = _forms(version)
    if version is not None and other is not None and other != chosen:
        older, newer = sorted((versions[other], version), key=lambda v: v.number)
        context["diff"] = _diff(older, newer)
    return render(request, "registry/codebook.html", context, status=status)


def _forms(version: DictionaryVersion) -> list[dict]:
    dictionary = version.dictionary
    missing = {c["code"]: c.get("label", "") for c in version.missing_codes}
    repeating = set(version.repeating_instruments)
    numbers = {f.name: n for n, f in enumerate(dictionary.fields, start=1)}
    return [
        {
            "name": name,
            "label": label,
            "repeating": name in repeating,
            "fields": [
                _field(f, numbers[f.name], dictionary, missing) for f in dictionary.fields_of(name)
            ],
        }
        for name, label in dictionary.forms
    ]


def _field(f: FieldDef, number: int, dictionary: Dictionary, missing: dict) -> dict:
    vt = VALIDATION_TYPES.get(f.validation) if f.field_type == "text" else None
    return {
        "number": number,
        "name": f.name,
        "section_header": render_dictionary_text(f.section_header),
        "label": render_dictionary_text(f.label),
        "note": render_dictionary_text(f.note),
        "type": TYPE_WORDS.get(f.field_type, f.field_type),
        "field_type": f.field_type,
        "validation": (vt.label if vt else f.validation) if f.validation else "",
        "min": f.validation_min,
        "max": f.validation_max,
        "choices": [(c.code, render_dictionary_text(c.label)) for c in f.choices],
        "slider_labels": [dictionary_plain_text(t) for t in f.slider_labels if t],
        "calculation": f.calculation,
        "calculation_words": _words(f.calculation, dictionary, missing),
        "branching": f.branching_logic,
        "branching_words": _words(f.branching_logic, dictionary, missing),
        "identifier": f.identifier,
        "required": f.required,
        "annotation": f.annotation,
        "alignment": f.custom_alignment,
        "matrix_group": f.matrix_group,
    }


def _words(expression: str, dictionary: Dictionary, missing: dict) -> str:
    def label(name: str) -> str:
        if name not in dictionary:
            return name
        return dictionary_plain_text(dictionary.field(name).label) or name

    def choice(name: str, code: str) -> str | None:
        if name in dictionary:
            found = dictionary.field(name).choice_map.get(code)
            if found is not None:
                return dictionary_plain_text(found)
        return missing.get(code)

    return logic_in_words(expression, label=label, choice=choice)


def _diff(older: DictionaryVersion, newer: DictionaryVersion) -> dict:
    old, new = older.dictionary, newer.dictionary
    fields = diff_dictionaries(old, new)
    shown = []
    for d in fields:
        source = new if d.kind != "removed" else old
        label = dictionary_plain_text(source.field(d.name).label)
        shown.append({"diff": d, "label": label, "form": form_label(source.field(d.name).form)})
    return {
        "older": older.number,
        "newer": newer.number,
        "fields": shown,
        "added": sum(d.kind == "added" for d in fields),
        "removed": sum(d.kind == "removed" for d in fields),
        "changed": sum(d.kind == "changed" for d in fields),
        "project": diff_projects(older.project, newer.project),
    }
