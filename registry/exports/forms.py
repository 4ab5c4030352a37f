from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from centers.access import Access
from registry.services.dictionary_translations import translation_languages

from .options import FILE_FORMATS, ExportOptions

FORMAT_CHOICES = [
    ("csv", _("CSV (flat, REDCap layout)")),
    ("dictionary", _("Data dictionary CSV")),
    ("spss", "SPSS .sav"),
    ("stata", "Stata .dta"),
    ("r", _("R script (labels)")),
]


class ExportForm(forms.Form):
    which = forms.ChoiceField(
        choices=[
            ("locked", _("Locked records only")),
            ("all", _("All records, with a lock-status column")),
        ],
        initial="locked",
        widget=forms.RadioSelect,
        label=_("Which records"),
    )
    deidentify = forms.BooleanField(
        required=False,
        label=_("De-identified"),
        help_text=_(
            "Without names, identifiers and free text; the file name says "
            "'deidentified'. Unticked, the export is identified: handle it as patient data."
        ),
    )
    dates = forms.ChoiceField(
        choices=[
            ("shift", _("Shift each record's dates by a stable offset (0-364 days)")),
            ("days", _("Replace dates by days from diagnosis")),
            ("remove", _("Remove dates")),
        ],
        initial="shift",
        label=_("Dates (de-identified export)"),
    )
    raw_or_label = forms.ChoiceField(
        choices=[("raw", _("Codes (1, 2, ...)")), ("label", _("Labels (Male, Female, ...)"))],
        initial="raw",
        label=_("Values of choice fields"),
    )
    header = forms.ChoiceField(
        choices=[("raw", _("Variable names")), ("label", _("Field labels"))],
        initial="raw",
        label=_("Column headers"),
    )
    checkbox_label = forms.BooleanField(
        required=False,
        label=_("Ticked checkboxes as their label"),
        help_text=_("With values as labels: a ticked box shows its label, not 'Checked'."),
    )
    data_access_group = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Add a centre column"),
        help_text=_("redcap_data_access_group, as REDCap names it."),
    )
    language = forms.ChoiceField(
        required=False, label=_("Language of the labels"), help_text=_("Codes never change.")
    )
    formats = forms.MultipleChoiceField(
        choices=FORMAT_CHOICES,
        initial=list(FILE_FORMATS),
        widget=forms.CheckboxSelectMultiple,
        label=_("Files in the zip"),
    )

    def __init__(self, *args, access: Access, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        self.fields["language"].choices = [("", _("The dictionary's own (English)"))] + [
            (code, name) for code, name in translation_languages()
        ]
        if not self.may_include_unlocked(access):
            self.fields["which"].choices = [("locked", _("Locked records only"))]

    @staticmethod
    def may_include_unlocked(access: Access) -> bool:
        """Data managers and site staff; the PI and monitors get the locked dataset only."""
        return access.may_export_unlocked

    def clean_formats(self) -> list[str]:
        formats = self.cleaned_data["formats"]
        if "csv" not in formats:
            formats = ["csv", *formats]
        return formats

    def options(self) -> ExportOptions:
        data = self.cleaned_data
        return ExportOptions(
            locked_only=data["which"] == "locked",
            raw_or_label=data["raw_or_label"],
            header=data["header"],
            checkbox_label=data["checkbox_label"],
            data_access_group=data["data_access_group"],
            deidentify=data["deidentify"],
            dates=data["dates"] if data["deidentify"] else "keep",
            formats=tuple(f for f in FILE_FORMATS if f in data["formats"]),
            language=data.get("language") or "",
        )
