"""What an export contains: the options a person (or an API call) chose, as one value."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

DATE_MODES = ("keep", "remove", "shift", "days")
FILE_FORMATS = ("csv", "dictionary", "spss", "stata", "r")


@dataclass(frozen=True)
class ExportOptions:
    """``locked_only``: only locked records (the default for the dataset export); otherwise all
    records with a ``registry_lock_status`` column. ``dates`` applies to de-identified exports:
    keep (identified only), remove, shift (per-record offset) or days (from date_dx).
    ``language``: the labels (values, headers, dictionary, R and SPSS/Stata labels) in that
    translation of the dictionary; codes and variable names never change."""

    locked_only: bool = True
    raw_or_label: str = "raw"  # raw | label
    header: str = "raw"  # raw | label
    checkbox_label: bool = False
    data_access_group: bool = True
    deidentify: bool = False
    dates: str = "keep"
    fields: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    filter_logic: str = ""
    formats: tuple[str, ...] = FILE_FORMATS
    language: str = ""  # labels in a translation of the dictionary ('' = its own texts)
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.dates not in DATE_MODES:
            raise ValueError(f"dates must be one of {', '.join(DATE_MODES)}")
        if self.deidentify and self.dates == "keep":
            object.__setattr__(self, "dates", "shift")
        if not self.deidentify and self.dates != "keep":
            object.__setattr__(self, "dates", "keep")
        if self.raw_or_label not in ("raw", "label") or self.header not in ("raw", "label"):
            raise ValueError("raw_or_label and header take 'raw' or 'label'")

    @property
    def labels(self) -> bool:
        return self.raw_or_label == "label"

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        for key in ("fields", "forms", "records", "formats"):
            data[key] = list(data[key])
        return data


_DATE_WORDS = {
    "shift": "dates shifted per record",
    "days": "dates as days from diagnosis",
    "remove": "dates removed",
}
_FORMAT_WORDS = {
    "csv": "CSV",
    "dictionary": "data dictionary",
    "spss": "SPSS",
    "stata": "Stata",
    "r": "R script",
}


def describe_options(data: dict) -> list[str]:
    """The options of an export (as stored with its job) in words, for the export page."""
    words = ["Locked records only" if data.get("locked_only", True) else "All records"]
    if data.get("deidentify"):
        words.append(f"De-identified ({_DATE_WORDS.get(data.get('dates', ''), 'dates kept')})")
    else:
        words.append("Identified (names, dates and free text kept)")
    words.append("values as labels" if data.get("raw_or_label") == "label" else "values as codes")
    words.append(
        "headers as field labels" if data.get("header") == "label" else "headers as variable names"
    )
    formats = [_FORMAT_WORDS.get(f, f) for f in data.get("formats", [])]
    if formats:
        words.append("files: " + ", ".join(formats))
    return words
