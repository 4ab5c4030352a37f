from __future__ import annotations

from django import forms

from centers.access import Access

from .options import FILE_FORMATS, ExportOptions

FORMAT_CHOICES = [
    ("csv", "CSV (flat, REDCap layout)"),
    ("dictionary", "Data dictionary CSV"),
    ("spss", "SPSS .sav"),
    ("stata", "Stata .dta"),
    ("r", "R script (labels)"),
]


class ExportForm(forms.Form):
    which = forms.ChoiceField(
        choices=[
            ("locked", "Locked records only"),
            ("all", "All records, with a lock-status column"),
        ],
        initial="locked",
        widget=forms.RadioSelect,
        label="Which records",
    )
    deidentify = forms.BooleanField(
        required=False,
        label="De-identified",
        help_text="Without names, identifiers and free text; the file name says "
        "'deidentified'. Unticked, the export is identified: handle it as patient data.",
    )
    dates = forms.ChoiceField(
        choices=[
            ("shift", "Shift each record's dates by a stable offset (0-364 days)"),
            ("days", "Replace dates by days from diagnosis"),
            ("remove", "Remove dates"),
        ],
        initial="shift",
        label="Dates (de-identified export)",
    )
    raw_or_label = forms.ChoiceField(
        choices=[("raw", "Codes (1, 2, ...)"), ("label", "Labels (Male, Female, ...)")],
        initial="raw",
        label="Values of choice fields",
    )
    header = forms.ChoiceField(
        choices=[("raw", "Variable names"), ("label", "Field labels")],
        initial="raw",
        label="Column headers",
    )
    checkbox_label = forms.BooleanField(
        required=False,
        label="Ticked checkboxes as their label",
        help_text="With values as labels: a ticked box shows its label, not 'Checked'.",
    )
    data_access_group = forms.BooleanField(
        required=False,
        initial=True,
        label="Add a centre column",
        help_text="redcap_data_access_group, as REDCap names it.",
    )
    formats = forms.MultipleChoiceField(
        choices=FORMAT_CHOICES,
        initial=list(FILE_FORMATS),
        widget=forms.CheckboxSelectMultiple,
        label="Files in the zip",
    )

    def __init__(self, *args, access: Access, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        if not self.may_include_unlocked(access):
            self.fields["which"].choices = [("locked", "Locked records only")]

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
        )
